"""Alerts into incidents: one continuous violation is one incident.

Hits of one condition that overlap or follow within ``merge_gap_s`` join; a comms gap or
no-fix stretch that follows a dying battery belongs to the battery's incident; technical
hits make technical incidents, which close themselves when the engine is sure.
Excused time (a reasonable excuse, an authorised absence) is taken off the total.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .hits import Hit, Span
from .watch import Settings

AUTO_CLOSE_CONFIDENCE = 0.8      # technical and at least this sure: closed by the engine
# Conditions whose hits are about the kit, so their incidents follow the hits' technical flag.
_KIT = {"comms", "location"}


@dataclass
class Draft:
    """An incident as the engine sees it, before it meets the store."""

    condition: str
    hits: list[Hit] = field(default_factory=list)

    @property
    def start_ms(self) -> int:
        return min(h.start_ms for h in self.hits)

    @property
    def end_ms(self) -> int | None:
        ends = [h.end_ms for h in self.hits]
        return None if any(e is None for e in ends) else max(ends)

    @property
    def codes(self) -> list[str]:
        seen: list[str] = []
        for h in sorted(self.hits, key=lambda h: (h.start_ms, h.code)):
            if h.code not in seen:
                seen.append(h.code)
        return seen

    @property
    def technical(self) -> bool:
        return all(h.technical for h in self.hits)

    @property
    def certain(self) -> bool:
        return any(h.certain for h in self.hits)

    @property
    def confidence(self) -> float:
        """Technical: how sure the engine is it was the kit; else how sure it was the wearer."""
        if self.technical:
            return min(h.confidence for h in self.hits)
        return max(h.confidence for h in self.hits if not h.technical)

    @property
    def depth_m(self) -> float:
        return max(h.depth_m for h in self.hits)

    @property
    def auto_close(self) -> bool:
        return self.technical and self.confidence >= AUTO_CLOSE_CONFIDENCE

    def seconds(self, until_ms: int) -> float:
        """Real elapsed seconds (ms are UTC, so a clock change adds or takes its hour)."""
        end = self.end_ms if self.end_ms is not None else until_ms
        return max(0.0, (end - self.start_ms) / 1000)

    def detail(self) -> str:
        return "; ".join(dict.fromkeys(h.detail for h in sorted(self.hits, key=lambda h: h.start_ms) if h.detail))


def _joins(draft: Draft, hit: Hit, gap_ms: int) -> bool:
    end = draft.end_ms
    return end is None or hit.start_ms <= end + gap_ms


def merge(hits: list[Hit], settings: Settings | None = None) -> list[Draft]:
    """Group hits into incidents, in start order."""
    gap_ms = (settings or Settings()).merge_gap_s * 1000
    drafts: list[Draft] = []
    open_by_key: dict[tuple[str, bool], Draft] = {}
    battery_dead: list[Draft] = []
    for hit in sorted(hits, key=lambda h: (h.start_ms, h.code)):
        if hit.code in ("COMMS-GAP", "NO-FIX") and _after_dead_battery(battery_dead, hit, gap_ms):
            continue
        # Technical and genuine evidence of one condition stay apart: a wild fix must not
        # drag a real zone entry into an auto-closed incident, nor the reverse.
        key = (hit.condition, hit.technical and hit.condition not in _KIT)
        draft = open_by_key.get(key)
        if draft is not None and _joins(draft, hit, gap_ms):
            draft.hits.append(hit)
        else:
            draft = Draft(hit.condition, [hit])
            drafts.append(draft)
            open_by_key[key] = draft
        if hit.code == "AL23":
            battery_dead.append(draft)
    return drafts


def _after_dead_battery(dead: list[Draft], hit: Hit, gap_ms: int) -> bool:
    """Silence after the battery died is the battery's incident, not a comms fault."""
    for draft in dead:
        start = draft.start_ms
        if start - gap_ms <= hit.start_ms:
            draft.hits.append(Hit(hit.code, hit.start_ms, hit.end_ms, condition=draft.condition,
                                  technical=False, confidence=hit.confidence, detail=hit.detail))
            return True
    return False


@dataclass(frozen=True)
class Excused:
    """A stretch an operator accepted (reasonable excuse or authorised absence)."""

    start_ms: int
    end_ms: int


def excused_seconds(start_ms: int, end_ms: int, excuses: list[Excused]) -> float:
    """How much of [start, end) the excuses cover (overlaps counted once)."""
    spans = sorted((max(start_ms, e.start_ms), min(end_ms, e.end_ms)) for e in excuses)
    total, reach = 0, start_ms
    for s, e in spans:
        s = max(s, reach)
        if e > s:
            total += e - s
            reach = e
    return total / 1000


def accumulated_seconds(drafts: list[tuple[int, int | None, list[Excused]]], span: Span) -> float:
    """Time in violation over the period: each genuine incident's stretch inside
    [span.start, span.end) (open ones up to the clock), less excused time; overlapping
    incidents count once."""
    until = min(span.end_ms, span.now_ms)
    pieces: list[tuple[int, int]] = []
    excuses: list[Excused] = []
    for start, end, excused in drafts:
        s, e = max(start, span.start_ms), min(end if end is not None else until, until)
        if e > s:
            pieces.append((s, e))
        excuses += excused
    pieces.sort()
    total = 0.0
    merged: list[tuple[int, int]] = []
    for s, e in pieces:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    for s, e in merged:
        total += (e - s) / 1000 - excused_seconds(s, e, excuses)
    return max(0.0, total)
