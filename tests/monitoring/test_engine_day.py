"""The engine on a labelled simulated day: no true violation missed, the noise closed by
the engine, far fewer reviews than alerts (the triage benchmark's pipeline, smaller)."""
from __future__ import annotations

import pytest

from benchmarks.triage import run_day
from hardware.triage import EXPECTED


@pytest.fixture(scope="module")
def day(tmp_path_factory):
    return run_day(tmp_path_factory.mktemp("day"), subjects=160)


def test_every_true_violation_becomes_an_incident_for_a_person(day):
    triage, report, labels = day
    assert report.rejected == 0 and report.events > 10_000
    assert triage.violations >= 10
    assert [(m.kind, m.order_reference) for m in triage.missed] == []
    assert triage.recall == 1.0


def test_technical_noise_is_closed_by_the_engine_and_reviews_stay_near_one_per_violation(day):
    triage, _, labels = day
    assert triage.noise >= 5
    assert [(label.kind, still) for label, still in triage.noise_open] == []
    assert triage.reviews_per_violation <= 1.5
    assert triage.naive_per_violation > triage.reviews_per_violation


def test_the_labels_speak_only_of_kinds_the_scorer_knows(day):
    _, _, labels = day
    assert {l.kind for l in labels if l.truth == "violation"} <= set(EXPECTED)
