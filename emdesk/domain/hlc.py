"""Hybrid logical clock stamps: ordering edits across desktops whose clocks disagree.

A stamp is ``<ms since epoch, 13 ASCII digits>-<counter, 4 lowercase hex>-<node>``.
The physical part never goes backwards on one node, even when the wall clock does.

Stamps arrive from other desktops, so they are parsed strictly (fixed width, ASCII only:
Python's ``int()`` would also take fullwidth digits, a sign, spaces or underscores) and
compared as numbers (``key``), never as text: a crafted stamp that merely parses must not
sort after every honest one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

MAX_COUNTER = 0xFFFF
_FORM = re.compile(r"([0-9]{13})-([0-9a-f]{4})-([0-9A-Za-z_.:-]{1,64})")


@dataclass(frozen=True, slots=True)
class Stamp:
    ms: int
    counter: int
    node: str

    def __str__(self) -> str:
        return f"{self.ms:013d}-{self.counter:04x}-{self.node}"

    @classmethod
    def parse(cls, text: str) -> "Stamp":
        found = _FORM.fullmatch(text) if isinstance(text, str) else None
        if found is None:
            shown = text if not isinstance(text, str) or len(text) <= 80 else text[:80] + "..."
            raise ValueError(f"not an HLC stamp: {shown!r} (expected 13 digits, '-', 4 lowercase hex digits, "
                             "'-', a node name of letters, digits and _.:-)")
        return cls(int(found[1]), int(found[2], 16), found[3])

    def key(self) -> tuple[int, int, str]:
        return (self.ms, self.counter, self.node)


def key(text: str) -> tuple[int, int, str]:
    """The order of a stamp (strictly parsed): compare these, never the strings."""
    return Stamp.parse(text).key()


def later(a: str, b: str) -> str:
    """The later of two stamps."""
    return a if key(a) >= key(b) else b


def is_valid(text: str) -> bool:
    return isinstance(text, str) and _FORM.fullmatch(text) is not None


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
