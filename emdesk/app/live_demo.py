"""The demo's moving fleet: the fleet simulator's days fed live into the demo store.

The simulator (hardware.fleet) makes the day's telemetry; the services layer's
``LiveFeed`` feeds it through ingest.  Only this wiring knows both.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

from emdesk.domain.clock import local_date
from emdesk.services.live_feed import FeedDay, FeedProgress, LiveFeed, feed_until
from emdesk.store import Store

DAYS_AHEAD = 7          # a demo left running goes on into the next days, up to this many


def fleet_days(path: str | Path, day: date, *, seed: int = 2026, wearers: int | None = None,
               days: int = DAYS_AHEAD) -> Iterator[FeedDay]:
    """The simulated violation periods from ``day`` on, one at a time, made when asked for."""
    import hardware.fleet as fleet
    for n in range(days):
        simulated = fleet.simulate(path, day + timedelta(days=n), seed=seed, wearers=wearers)
        yield FeedDay(simulated.period.start_ms, simulated.period.end_ms, simulated.telemetry)


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
    day = demo_day(start)
    feed = LiveFeed((path, key), lambda: fleet_days(path, day, seed=seed, wearers=wearers), start=start,
                    pace=pace, batch_s=batch_s)
    return feed.start()


def catch_up(store: Store, until: datetime, *, seed: int = 2026, wearers: int | None = None) -> FeedProgress:
    """The demo fleet's telemetry up to ``until`` into ``store`` now (synchronously), its
    clock left at ``until``: a fixed point for screenshots."""
    path, _ = store.opening()
    return feed_until(store, fleet_days(path, demo_day(until), seed=seed, wearers=wearers, days=1), until)


__all__ = ["catch_up", "demo_day", "fleet_days", "start_live_demo"]
