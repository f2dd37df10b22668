"""Globally unique, time-sortable record ids (UUIDv7, RFC 9562).

Ids are made on whichever desktop creates a record, offline, so they must never
collide and must sort by creation time for paging during sync.  ``new_id`` takes an
optional clock and random source so the demo world is reproducible from its seed.
"""
from __future__ import annotations

import hashlib
import random
import secrets
import time
import uuid


def new_id(*, ms: int | None = None, rng: random.Random | None = None) -> str:
    """A UUIDv7 string; pass ``ms`` and ``rng`` for deterministic ids."""
    if ms is None:
        ms = time.time_ns() // 1_000_000
    rand = rng.getrandbits(74) if rng is not None else secrets.randbits(74)
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76                      # version 7
    value |= (rand >> 62) << 64             # 12 bits rand_a
    value |= 0b10 << 62                     # RFC 4122 variant
    value |= rand & ((1 << 62) - 1)         # 62 bits rand_b
    return str(uuid.UUID(int=value))


def id_time_ms(record_id: str) -> int:
    """Milliseconds since the epoch encoded in a UUIDv7."""
    return uuid.UUID(record_id).int >> 80


def derived_id(*parts: str, ms: int) -> str:
    """A UUIDv7 made from ``parts``: the same parts and ``ms`` give the same id anywhere.

    For records that more than one desktop may make for the same reason (a visit made from
    an order event): both make one id, so sync keeps one record, never two.
    """
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return new_id(ms=ms, rng=random.Random(int.from_bytes(digest, "big")))
