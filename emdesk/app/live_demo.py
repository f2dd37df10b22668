"""The demo's moving fleet: the fleet simulator's days fed live into the demo store.

The simulator (hardware.fleet) makes the day's telemetry; the services layer's
``LiveFeed`` feeds it through ingest.  Only this wiring knows both.
"""
from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path

from emdesk.domain.clock import local_date
from emdesk.services.demo_casework import act_out_casework
from emdesk.services.live_feed import FeedDay, FeedProgress, LiveFeed, encode, feed_until
from emdesk.store import Store

DAYS_AHEAD = 7          # a demo left running goes on into the next days, up to this many
# The queue opens on yesterday's incidents too (caught up at once): their notifications are
# due at 10:00 this morning, so a new user sees deadline clocks that mean something; the
# worst of them were escalated, packed and some answered overnight (demo_casework).
DAYS_BEFORE = 1


def fleet_days(path: str | Path, day: date, *, seed: int = 2026, wearers: int | None = None,
               days: int = DAYS_AHEAD, apart: bool = False) -> Iterator[FeedDay]:
    """The simulated violation periods from ``day`` on, one at a time, made when asked for;
    ``apart``: in a process of their own, so the simulation never competes with the
    window for this one's interpreter."""
    if not apart:
        for n in range(days):
            yield _simulated(path, day + timedelta(days=n), seed, wearers, encoded=False)
        return
    context = multiprocessing.get_context("spawn")     # never fork a process that holds Qt or threads
    with ProcessPoolExecutor(1, mp_context=context, initializer=_in_the_background) as pool:
        for n in range(days):
            yield pool.submit(_simulated, str(path), day + timedelta(days=n), seed, wearers, encoded=True).result()


def _in_the_background() -> None:
    """The desktop comes first: the simulation takes what CPU it leaves."""
    try:
        os.nice(10)
    except (AttributeError, OSError):       # not on this platform, or not allowed: run as is
        pass


def _simulated(path: str | Path, day: date, seed: int, wearers: int | None, *, encoded: bool) -> FeedDay:
    import hardware.fleet as fleet
    simulated = fleet.simulate(path, day, seed=seed, wearers=wearers)
    telemetry = simulated.telemetry
    if encoded:
        # Bytes cross between processes far faster than dicts, and ingest takes bytes.
        telemetry = [(at, encode(line)) for at, line in telemetry]
    return FeedDay(simulated.period.start_ms, simulated.period.end_ms, telemetry)


def demo_day(now: datetime) -> date:
    """The violation period the demo shows: the one under way at ``now`` (it starts at 07:00)."""
    from hardware.fleet import violation_period
    today = local_date(now)
    return today if now >= violation_period(today).start else today - timedelta(days=1)


def start_live_demo(store: Store, *, seed: int, pace: float, start: datetime, wearers: int | None = None,
                    batch_s: float = 0.5) -> LiveFeed:
    """A running feed of the demo fleet into ``store``'s file (on a connection of its own),
    caught up to ``start`` then moving at ``pace``; stop it when the app quits."""
    path, key = store.opening()
    day = demo_day(start) - timedelta(days=DAYS_BEFORE)
    feed = LiveFeed((path, key), lambda: fleet_days(path, day, seed=seed, wearers=wearers, apart=True,
                                                    days=DAYS_BEFORE + DAYS_AHEAD), start=start,
                    pace=pace, batch_s=batch_s, caught_up=lambda db, now: act_out_casework(db, now, seed=seed))
    return feed.start()


def catch_up(store: Store, until: datetime, *, seed: int = 2026, wearers: int | None = None,
             casework: bool = True) -> FeedProgress:
    """The demo fleet's telemetry up to ``until`` into ``store`` now (synchronously), its
    clock left at ``until``: a fixed point for screenshots; with ``casework``, yesterday's
    breaches escalated, packed and answered as the live demo does."""
    path, _ = store.opening()
    day = demo_day(until) - timedelta(days=DAYS_BEFORE)
    progress = feed_until(store, fleet_days(path, day, seed=seed, wearers=wearers, days=DAYS_BEFORE + 1), until)
    if casework:
        act_out_casework(store, until, seed=seed)
    return progress


__all__ = ["catch_up", "demo_day", "fleet_days", "start_live_demo"]
