"""What the position rules share: whose fixes, how sure each one is, and stretches of them.

A fix's state (inside a zone, near the protected person) holds from that fix until the
next one says otherwise, so a stretch of fixes is a span of real time that can be cut
by the hours a condition applies.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from emdesk.domain.geography import to_bng

from . import events
from .hits import Span
from .watch import Watch

# Far enough either side of any real instant to stand for "no bound".
NEVER_BEFORE = -(2**62)
NEVER_AFTER = 2**62
ALWAYS: tuple[tuple[int, int], ...] = ((NEVER_BEFORE, NEVER_AFTER),)

# A fix that came without its HDOP is taken as the worst one still believed (hdop 5).
_UNKNOWN_HDOP = 5.0


def accuracy_m(hdop: np.ndarray) -> np.ndarray:
    """A fix's accuracy radius in metres: 5 m per unit of HDOP, never under 5 m.

    Consumer GNSS is good to roughly 5 m under open sky (HDOP 1) and degrades about in
    proportion to HDOP; the floor keeps an optimistic HDOP from claiming better.
    """
    h = np.where(np.isfinite(hdop), hdop, _UNKNOWN_HDOP)
    return np.maximum(5.0, h * 5.0)


def wearer_fix_rows(watch: Watch, ev: events.EventBatch, good: np.ndarray, now_ms: int) -> np.ndarray:
    """Row indices of the believable positions from the wearer's own devices, up to now."""
    wearer = np.array([not d.protected for d in watch.devices] + [False], bool)
    dev = np.where((ev.device >= 0) & (ev.device < len(watch.devices)), ev.device, len(watch.devices))
    rows = ((ev.kind == events.POSITION) & np.asarray(good, bool) & wearer[dev]
            & np.isfinite(ev.lat) & np.isfinite(ev.lon) & (ev.at <= now_ms))
    return np.flatnonzero(rows)


def protected_fix_rows(watch: Watch, ev: events.EventBatch, now_ms: int) -> np.ndarray:
    """Row indices of positions from the protected person's phone, up to now."""
    protected = np.array([d.protected for d in watch.devices] + [False], bool)
    dev = np.where((ev.device >= 0) & (ev.device < len(watch.devices)), ev.device, len(watch.devices))
    rows = ((ev.kind == events.POSITION) & protected[dev]
            & np.isfinite(ev.lat) & np.isfinite(ev.lon) & (ev.at <= now_ms))
    return np.flatnonzero(rows)


def grid(ev: events.EventBatch, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eastings and northings (metres, British National Grid) of these rows, in one call."""
    if rows.size == 0:
        return np.zeros(0), np.zeros(0)
    x, y = to_bng(ev.lat[rows], ev.lon[rows])
    return np.asarray(x, float), np.asarray(y, float)


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and (exclusive) ends of the runs of True in a boolean array."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


@dataclass(frozen=True)
class Stretch:
    """Part of a run of violating fixes that falls in the hours the condition applies."""

    start_ms: int
    end_ms: int | None         # None: still going at the end of the evidence
    first: int                 # fix indices (into the rule's own arrays) that cover it
    stop: int
    certain: bool              # some fix was past the boundary by more than its margin
    depth_m: float             # the deepest any of those fixes went
    lone: bool                 # one fix, with fixes on the right side before and after


def stretches(at: np.ndarray, violating: np.ndarray, depth: np.ndarray, margin: np.ndarray,
              active: tuple[tuple[int, int], ...], span: Span) -> Iterator[Stretch]:
    """The stretches of violating fixes, cut to the active intervals, starting in the span.

    ``depth`` is how far each fix is past the boundary (metres, positive = violating) and
    ``margin`` how far it must be to be sure.  A stretch ends at the first fix on the right
    side or at the end of an active interval, whichever comes first; a stretch that started
    before the span was raised when its own span was evaluated, and is not raised again.
    """
    n = at.shape[0]
    if n == 0 or not active:
        return
    lo = np.array([a for a, _ in active], np.int64)
    hi = np.array([b for _, b in active], np.int64)
    until = min(span.end_ms, span.now_ms)
    starts, ends = runs(violating)
    for i, j in zip(starts.tolist(), ends.tolist()):
        t0 = int(at[i])
        t1 = int(at[j]) if j < n else NEVER_AFTER
        # Active intervals overlapping [t0, t1).
        k_lo = int(np.searchsorted(hi, t0, side="right"))
        k_hi = int(np.searchsorted(lo, t1, side="left"))
        for k in range(k_lo, k_hi):
            s, e = max(t0, int(lo[k])), min(t1, int(hi[k]))
            if s >= e or not (span.start_ms <= s < until):
                continue
            first = max(i, int(np.searchsorted(at, s, side="right")) - 1)
            stop = max(first + 1, min(j, int(np.searchsorted(at, e, side="left"))))
            yield Stretch(
                start_ms=s, end_ms=e if e <= span.now_ms else None, first=first, stop=stop,
                certain=bool(np.any(depth[first:stop] > margin[first:stop])),
                depth_m=float(np.max(depth[first:stop])),
                lone=(j - i == 1 and 0 < i and j < n))


def minutes(start_ms: int, end_ms: int | None) -> str:
    """How long, in words: "40 s", "12 min", "2 h 05 min", or "still going"."""
    if end_ms is None:
        return "still going at the last evidence"
    if end_ms - start_ms < events.MINUTE_MS:
        return f"{max(0, end_ms - start_ms) // 1000} s"
    total = round((end_ms - start_ms) / events.MINUTE_MS)
    return f"{total} min" if total < 60 else f"{total // 60} h {total % 60:02d} min"
