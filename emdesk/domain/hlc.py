"""Hybrid logical clock stamps: ordering edits across desktops whose clocks disagree.

A stamp is ``<ms since epoch, 13 digits>-<counter, 4 hex>-<node>``; comparing the
strings orders the stamps.  The physical part never goes backwards on one node,
even when the wall clock does.
"""
from __future__ import annotations

from dataclasses import dataclass

MAX_COUNTER = 0xFFFF


@dataclass(frozen=True, slots=True)
class Stamp:
    ms: int
    counter: int
    node: str

    def __str__(self) -> str:
        return f"{self.ms:013d}-{self.counter:04x}-{self.node}"

    @classmethod
    def parse(cls, text: str) -> "Stamp":
        try:
            ms, counter, node = text.split("-", 2)
            return cls(int(ms), int(counter, 16), node)
        except ValueError:
            raise ValueError(f"not an HLC stamp: {text!r} (expected MS-COUNTER-NODE)") from None


def tick(last: Stamp | None, now_ms: int, node: str) -> Stamp:
    """The stamp for a local event."""
    if last is None or now_ms > last.ms:
        return Stamp(now_ms, 0, node)
    if last.counter >= MAX_COUNTER:
        return Stamp(last.ms + 1, 0, node)
    return Stamp(last.ms, last.counter + 1, node)


def receive(last: Stamp | None, remote: Stamp, now_ms: int, node: str) -> Stamp:
    """The stamp after seeing a remote one, so later local edits sort after it."""
    top = max(now_ms, remote.ms, last.ms if last else 0)
    counters = [c for ms, c in ((remote.ms, remote.counter), (last.ms, last.counter) if last else (-1, -1)) if ms == top]
    if not counters:
        return Stamp(top, 0, node)
    nxt = max(counters) + 1
    return Stamp(top + 1, 0, node) if nxt > MAX_COUNTER else Stamp(top, nxt, node)
