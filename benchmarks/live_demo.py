"""How soon a new user of ``emdesk demo`` sees incidents: the live feed from a cold start.

Builds the demo world (300 subjects, seed 2026) as ``emdesk demo`` does, made at 08:00 of
a fixed day, then starts the live feed at 09:40 that day, as the app starts it: the fleet
simulator makes yesterday's period and today's in a low-priority process, the feed
catches both up to 09:40 at once, then runs at 60x.  It reports the time from the start
to the first incidents in the store and to the feed running live, and what 20 seconds of
60x adds.  The baseline, in the same run: the same days written to a file and read by
``emdesk ingest`` (no live feed), which a user would otherwise run by hand; the goal is the
issue's: a new user sees the queue move within a minute.

    python -m benchmarks --only live_demo
"""
from __future__ import annotations

import io
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

DAY = date(2026, 12, 1)
SEED = 2026


def _demo(folder: Path):
    from emdesk.services.demo import build_demo
    made = datetime(DAY.year, DAY.month, DAY.day, 8, tzinfo=timezone.utc)
    store, _ = build_demo(folder / "demo.db", seed=SEED, now=made, subjects=300, plan_seconds=0.5)
    return store, made


def main() -> None:
    from emdesk.app.live_demo import DAYS_BEFORE, fleet_days, start_live_demo
    from emdesk.domain.clock import FixedClock
    from emdesk.services.ingest import IngestService
    from emdesk.services.live_feed import CATCH_UP_LINES, encode
    from emdesk.services.telemetry_port import StoreTelemetry

    with tempfile.TemporaryDirectory(prefix="emdesk-live-") as tmp:
        (Path(tmp) / "a").mkdir()
        store, made = _demo(Path(tmp) / "a")
        start = made + timedelta(minutes=100)
        began = time.monotonic()
        feed = start_live_demo(store, seed=SEED, pace=60.0, start=start)
        first = live = None
        try:
            while time.monotonic() - began < 180 and live is None:
                p = feed.progress
                assert p.phase != "failed", p.error
                if p.incidents and first is None:
                    first = time.monotonic() - began
                if p.phase == "live":
                    live = time.monotonic() - began
                time.sleep(0.05)
            at_live = feed.progress
            time.sleep(20)
            later = feed.progress
        finally:
            feed.stop()
            store.close()
        print(f"live feed from a cold start (300 subjects, started at 09:40 of {DAY}):")
        print(f"  first incidents after {first:.1f} s; live after {live:.1f} s with {at_live.events:,} events "
              f"and {at_live.incidents} incidents (yesterday's period whole and this morning to 09:40)")
        print(f"  20 s later at 60x: simulated {later.sim_time:%H:%M}, +{later.events - at_live.events:,} events, "
              f"+{later.incidents - at_live.incidents} incidents")

        # Baseline: the same two days as one file through `emdesk ingest`'s service.
        (Path(tmp) / "b").mkdir()
        store, _ = _demo(Path(tmp) / "b")
        path = store.opening()[0]
        began = time.monotonic()
        lines = [line for d in fleet_days(path, DAY - timedelta(days=DAYS_BEFORE), seed=SEED, days=DAYS_BEFORE + 1)
                 for at, line in d.telemetry if at <= int(start.timestamp() * 1000)]
        body = b"\n".join(encode(line) for line in lines)
        made_s = time.monotonic() - began
        store.clock = FixedClock(start)       # judged as at the same moment as the feed's start
        report = IngestService(StoreTelemetry(store)).ingest(io.BytesIO(body))
        total = time.monotonic() - began
        store.close()
        print(f"  baseline: simulate the days in this process ({made_s:.1f} s) then ingest them as one file: "
              f"{total:.1f} s to {report.evaluation.incidents} incidents")
        print(f"  ratio: the feed's first incidents take {first / total:.2f}x the baseline's time (its simulation "
              f"runs in a low-priority process of its own and its catch-up commits every "
              f"{CATCH_UP_LINES:,} lines, so the window and a stop stay prompt); goal: within a minute")


if __name__ == "__main__":
    main()
