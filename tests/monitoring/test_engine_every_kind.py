"""Every kind of scripted violation and noise, forced on a wearer whose order allows it, on
one simulated day: the engine finds every violation and closes every noise episode itself."""
from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from emdesk.domain.clock import LONDON
from emdesk.services.demo import build_demo
from hardware.fleet import (NOISE, VIOLATIONS, EpisodeError, load_wearers, simulate, simulate_wearer, violation_period,
                            write_day)
from hardware.triage import ingest_and_score

DAY = date(2026, 12, 1)
SEED = 7


def _cast(store_path: Path) -> dict[str, str]:
    """Order reference -> the episode kind forced on it: every kind some wearer can have,
    each on its own wearer."""
    period = violation_period(DAY)
    wearers = load_wearers(str(store_path), period)
    cast: dict[str, str] = {}
    for kind in (*VIOLATIONS, *NOISE):
        for w in wearers:
            if w.reference in cast:
                continue
            try:
                simulate_wearer(w, period, SEED, **({"violation": kind} if kind in VIOLATIONS else {"noise": kind}))
            except EpisodeError:
                continue
            cast[w.reference] = kind
            break
    return cast


@pytest.fixture(scope="module")
def day(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("kinds")
    made = datetime.combine(DAY, datetime.min.time().replace(hour=8), tzinfo=LONDON).astimezone(timezone.utc)
    store, _ = build_demo(tmp / "demo.db", seed=2026, now=made, subjects=200, plan_seconds=0.5)
    store.close()
    cast = _cast(tmp / "demo.db")
    write_day(simulate(str(tmp / "demo.db"), DAY, seed=SEED, force=cast), str(tmp / "day"))
    triage, report, labels = ingest_and_score(tmp / "demo.db", tmp / "day", DAY)
    return cast, triage, report, labels


def test_most_kinds_have_a_wearer_to_play_them(day):
    cast, *_ = day
    played = set(cast.values())
    assert len(played & set(VIOLATIONS)) >= 10 and len(played & set(NOISE)) >= 6, sorted(played)


def test_no_violation_of_any_kind_is_missed(day):
    _, triage, report, labels = day
    assert report.rejected == 0
    assert [(m.kind, m.order_reference) for m in triage.missed] == []


def test_every_noise_episode_is_closed_by_the_engine_or_never_raised(day):
    _, triage, _, _ = day
    assert [(label.kind, still) for label, still in triage.noise_open] == []
    assert triage.reviews_per_violation <= 1.5


def test_the_labels_are_json_lines_as_documented(day):
    *_, labels = day
    assert all(l.start <= l.end for l in labels)
    json.dumps([l.kind for l in labels])
