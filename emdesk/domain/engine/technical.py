"""Second opinions: a hit that one rule raised, read beside the rest of the evidence.

A rule sees one kind of evidence; whether the kit or the wearer caused something often
shows only beside the others.  Each function here returns the hits it was given, with
``technical``/``confidence`` revised and the reason added to the detail.
"""
from __future__ import annotations

from dataclasses import replace

from .hits import Hit

POWER_CUT_MAX_MS = 30 * 60_000      # mains back within this: a supply cut, not the wearer
GAP_RESTORED_MAX_MS = 2 * 3600_000  # contact back within this, with its backlog: a coverage gap


def _minutes(ms: int) -> int:
    return int(round(ms / 60_000))


def explain(hits: list[Hit]) -> list[Hit]:
    genuine_wearer = [h for h in hits if not h.technical and h.condition not in ("home_unit", "comms", "location")]
    out = []
    for h in hits:
        if h.code == "AL04" and h.end_ms is not None and h.end_ms - h.start_ms <= POWER_CUT_MAX_MS \
                and not _overlaps_any(h, genuine_wearer):
            h = replace(h, technical=True, confidence=0.85,
                        detail=f"{h.detail}; power back after {_minutes(h.end_ms - h.start_ms)} min with the wearer "
                               "at home: a supply cut, not the wearer".lstrip("; "))
        elif h.code in ("COMMS-GAP", "NO-FIX") and h.end_ms is not None \
                and h.end_ms - h.start_ms <= GAP_RESTORED_MAX_MS and not _overlaps_any(h, genuine_wearer):
            h = replace(h, technical=True, confidence=max(h.confidence, 0.85),
                        detail=f"{h.detail}; contact back after {_minutes(h.end_ms - h.start_ms)} min and nothing "
                               "else wrong: a coverage gap".lstrip("; "))
        elif h.code == "AL21" and not any(o.code == "AL23" for o in hits):
            h = replace(h, technical=True, confidence=0.9,
                        detail=f"{h.detail}; the wearer is prompted to charge: a notice, not a breach unless the "
                               "battery dies (AL23)".lstrip("; "))
        out.append(h)
    return out


def _overlaps_any(hit: Hit, others: list[Hit]) -> bool:
    end = hit.end_ms if hit.end_ms is not None else 2**62
    return any(o.start_ms <= end and (o.end_ms is None or o.end_ms >= hit.start_ms) for o in others)
