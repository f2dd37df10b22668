"""Triage on the fleet simulator's labelled demo day.

Builds the demo world (300 subjects, seed 2026) for a fixed day, simulates that day's
violation period with ``hardware.fleet`` (its labels are the ground truth), ingests it as
``emdesk ingest`` does with the clock at the period's end, and scores the incidents:
recall of true violations (goal 100%), human reviews per true violation beside the naive
one-alert-one-review baseline (goal at most 1.5), technical episodes closed by the engine.

    python -m benchmarks --only triage
"""
from __future__ import annotations

import os
import tempfile
import time
from collections import Counter
from datetime import date, datetime, timezone
from pathlib import Path

DAY = date(2026, 12, 1)
SEED = 2026


def run_day(tmp: Path, *, subjects: int = 300, seed: int = SEED, day: date = DAY, wearers: int | None = None):
    """(triage, ingest report, labels): the whole pipeline in ``tmp``."""
    from emdesk.domain.clock import LONDON
    from emdesk.services.demo import build_demo
    from hardware.fleet import run
    from hardware.triage import ingest_and_score

    made = datetime.combine(day, datetime.min.time().replace(hour=8), tzinfo=LONDON).astimezone(timezone.utc)
    store, _ = build_demo(tmp / "demo.db", seed=seed, now=made, subjects=subjects, plan_seconds=0.5)
    store.close()
    run(str(tmp / "demo.db"), day, str(tmp / "day"), seed=seed, wearers=wearers, pace="max")
    return ingest_and_score(tmp / "demo.db", tmp / "day", day)


def main() -> None:
    subjects = int(os.environ.get("EMDESK_BENCH_SUBJECTS", "300"))
    with tempfile.TemporaryDirectory(prefix="emdesk-triage-") as tmp:
        started = time.perf_counter()
        triage, report, labels = run_day(Path(tmp), subjects=subjects)
        seconds = time.perf_counter() - started
    kinds = Counter((l.truth, l.kind) for l in labels)
    print(f"demo day {DAY} (seed {SEED}, {subjects} subjects): {report.events:,} events, "
          f"{sum(kinds[k] for k in kinds if k[0] == 'violation')} scripted violations, "
          f"{sum(kinds[k] for k in kinds if k[0] == 'noise')} noise episodes; whole run {seconds:.0f} s")
    for line in triage.lines():
        print("  " + line)
    print(f"  incidents by status: {dict(triage.by_status)}")
    for truth in ("violation", "noise"):
        print(f"  {truth}: " + ", ".join(f"{k} {n}" for (t, k), n in sorted(kinds.items()) if t == truth))
    for label in triage.missed:
        print(f"  MISSED {label.kind} {label.order_reference} {label.start:%H:%M}-{label.end:%H:%M}")
    for label, still in triage.noise_open:
        print(f"  NOISE LEFT OPEN {label.kind} {label.order_reference}: {', '.join(still)}")
