"""The one source of randomness and time for the demo world.

Every record id, timestamp and choice comes through here, in a fixed order, so a seed
reproduces the world byte for byte; the wall clock is never read.
"""
from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import TypeVar

from emdesk.domain.clock import at_local, local_date, utc
from emdesk.domain.ids import new_id

T = TypeVar("T")

# Ofcom keeps these number ranges for drama and demos: they never ring a real person.
# Big cities have their own; everywhere else uses the national drama range.
_DRAMA_MOBILE = "07700 900{:03d}"
_DRAMA_LANDLINE_ELSEWHERE = "01632 960{:03d}"
_DRAMA_LANDLINE = {
    "Leeds": "0113 496 0{:03d}", "Bradford": "0113 496 0{:03d}", "Sheffield": "0114 496 0{:03d}",
    "Nottingham": "0115 496 0{:03d}", "Bristol": "0117 496 0{:03d}", "Reading": "0118 496 0{:03d}",
    "Birmingham": "0121 496 0{:03d}", "Liverpool": "0151 496 0{:03d}", "Manchester": "0161 496 0{:03d}",
    "Salford": "0161 496 0{:03d}", "Newcastle upon Tyne": "0191 498 0{:03d}", "Gateshead": "0191 498 0{:03d}",
    "Sunderland": "0191 498 0{:03d}", "Cardiff": "029 2018 0{:03d}", "London": "020 7946 0{:03d}",
}


class Gen:
    def __init__(self, seed: int, now: datetime):
        self.rng = random.Random(seed)
        self.now = utc(now).replace(microsecond=0)
        self.today: date = local_date(self.now)
        self._credit: dict[str, float] = {}

    # -- ids and instants --------------------------------------------------

    def id_at(self, at: datetime) -> str:
        return new_id(ms=int(at.timestamp() * 1000), rng=self.rng)

    def between(self, start: datetime, end: datetime) -> datetime:
        """An instant in [start, end], to the minute."""
        span = max(0, int((end - start).total_seconds() // 60))
        return (start + timedelta(minutes=self.rng.randint(0, span))).replace(second=0, microsecond=0)

    def hours_ago(self, low: float, high: float) -> datetime:
        return self.between(self.now - timedelta(hours=high), self.now - timedelta(hours=low))

    def days_ago(self, low: float, high: float) -> datetime:
        return self.hours_ago(low * 24, high * 24)

    def at_local(self, day: date, hour: int, minute: int = 0) -> datetime:
        return at_local(day, time(hour, minute))

    # -- choices -----------------------------------------------------------

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def quota(self, key: str, share: float) -> bool:
        """True for ``share`` of the calls under ``key``, spread evenly.

        Error diffusion rather than a coin per call: a world of a few dozen ended orders
        still shows the NAO's 60% collection rate, not whatever the coins gave.
        """
        credit = self._credit.get(key, self.rng.random()) + share
        hit = credit >= 1
        self._credit[key] = credit - 1 if hit else credit
        return hit

    def pick(self, items: Sequence[T]) -> T:
        return items[self.rng.randrange(len(items))]

    def weighted(self, pairs: Sequence[tuple[T, float]]) -> T:
        items = [p[0] for p in pairs]
        return self.rng.choices(items, weights=[p[1] for p in pairs])[0]

    def sha256(self) -> str:
        return f"{self.rng.getrandbits(256):064x}"

    def mobile(self) -> str:
        return _DRAMA_MOBILE.format(self.rng.randrange(1000))

    def landline(self, town: str, region: str = "") -> str:
        place = "London" if region == "London" else town
        return _DRAMA_LANDLINE.get(place, _DRAMA_LANDLINE_ELSEWHERE).format(self.rng.randrange(1000))
