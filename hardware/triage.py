"""Score the engine against the fleet simulator's ground truth (``labels.jsonl``).

- recall: true violations that became an incident a person will review (open, not closed
  by the engine as technical), overlapping the label in time with a code that fits it;
- reviews per true violation: incidents left for a person, over true violations, beside
  the naive baseline where every alert is one review;
- technical episodes auto-closed: noise episodes whose incidents (if any) the engine
  closed itself as technical.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from emdesk.domain.monitoring import Alert, Incident, IncidentStatus

# Which codes answer each kind of scripted violation.
EXPECTED: dict[str, set[str]] = {
    "late_return": {"AL08", "AL09"},
    "left_during_curfew": {"AL10"},
    "absent_whole_curfew": {"AL12"},
    "out_at_curfew_end": {"AL11", "AL10"},
    "exclusion_brief": {"ZONE-EXCLUSION-ENTRY"},
    "exclusion_long": {"ZONE-EXCLUSION-ENTRY"},
    "inclusion_exit": {"ZONE-INCLUSION-EXIT"},
    "strap_tamper": {"TAMPER-STRAP"},
    "battery_died": {"AL23"},
    "hmu_moved": {"AL05"},
    "hmu_unplugged": {"AL04"},
    "drinking": {"ALCOHOL"},
    "checkin_missed": {"CHECKIN-MISSED"},
    "proximity": {"PROXIMITY"},
}
SLACK = timedelta(minutes=15)       # a label and its incident may differ by a fix or a grace period


@dataclass
class Label:
    order_reference: str
    kind: str
    truth: str
    start: datetime
    end: datetime


@dataclass
class Triage:
    violations: int = 0
    found: int = 0
    reviews: int = 0
    alerts: int = 0
    noise: int = 0
    noise_closed: int = 0
    missed: list[Label] = field(default_factory=list)
    noise_open: list[tuple[Label, list[str]]] = field(default_factory=list)
    by_status: Counter = field(default_factory=Counter)

    @property
    def recall(self) -> float:
        return self.found / self.violations if self.violations else 1.0

    @property
    def reviews_per_violation(self) -> float:
        return self.reviews / self.violations if self.violations else 0.0

    @property
    def naive_per_violation(self) -> float:
        return self.alerts / self.violations if self.violations else 0.0

    def lines(self) -> list[str]:
        return [
            f"true violations {self.violations}: found {self.found} (recall {self.recall:.0%})",
            f"reviews per true violation {self.reviews_per_violation:.2f} "
            f"(naive one-alert-one-review: {self.naive_per_violation:.2f}; {self.reviews} reviews, "
            f"{self.alerts} alerts)",
            f"technical episodes {self.noise}: auto-closed or never raised {self.noise_closed}",
        ]


def read_labels(path: Path) -> list[Label]:
    out = []
    with open(path) as f:
        for raw in f:
            d = json.loads(raw)
            out.append(Label(d["order_reference"], d["kind"], d["truth"], _at(d["start"]), _at(d["end"])))
    return out


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _overlaps(i: Incident, label: Label, until: datetime) -> bool:
    end = i.ended_at or until
    return i.started_at <= label.end + SLACK and end >= label.start - SLACK


def ingest_and_score(store_path: Path, day_dir: Path, day) -> tuple[Triage, object, list[Label]]:
    """Ingest a simulated day (``day_dir`` as the fleet wrote it) into the store with the clock
    at the end of its violation period, as ``emdesk ingest`` would, and score the incidents
    against its labels.  Returns (triage, the ingest report, the labels)."""
    from emdesk.domain.clock import FixedClock
    from emdesk.domain.engine.events import instant
    from emdesk.domain.engine.periods import period_bounds
    from emdesk.services.ingest import IngestService
    from emdesk.services.telemetry_port import StoreTelemetry
    from emdesk.store import Store

    until = instant(period_bounds(day)[1])
    store = Store.open(store_path, clock=FixedClock(until))
    try:
        with open(Path(day_dir) / "telemetry.jsonl", "rb") as f:
            report = IngestService(StoreTelemetry(store)).ingest(f)
        labels = read_labels(Path(day_dir) / "labels.jsonl")
        return score(labels, store.find(Incident), store.find(Alert), until), report, labels
    finally:
        store.close()


def score(labels: list[Label], incidents: list[Incident], alerts: list[Alert], until: datetime) -> Triage:
    t = Triage()
    by_ref: dict[str, list[Incident]] = {}
    for i in incidents:
        by_ref.setdefault(i.reference, []).append(i)
        t.by_status[i.status.value] += 1
    t.reviews = sum(1 for i in incidents if i.status is not IncidentStatus.AUTO_CLOSED)
    t.alerts = len(alerts)
    for label in labels:
        near = [i for i in by_ref.get(label.order_reference, []) if _overlaps(i, label, until)]
        if label.truth == "violation":
            t.violations += 1
            want = EXPECTED.get(label.kind, set())
            if any(set(i.codes) & want and i.status is not IncidentStatus.AUTO_CLOSED for i in near):
                t.found += 1
            else:
                t.missed.append(label)
        else:
            t.noise += 1
            still = [f"{'+'.join(i.codes)} {i.status.value}" for i in near
                     if i.status is not IncidentStatus.AUTO_CLOSED and i.technical]
            if still:
                t.noise_open.append((label, still))
            else:
                t.noise_closed += 1
    return t
