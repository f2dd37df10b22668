"""An import run twice, or stopped half-way, never doubles or half-writes anything."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from emdesk.domain.geocoding import GazetteerGeocoder
from emdesk.domain.orders import Order
from emdesk.domain.people import Subject
from emdesk.domain.users import Role, User
from emdesk.services.intake import ALREADY_IMPORTED, IntakeService

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "orders" / "valid"


@pytest.fixture
def intake(store, clock):
    user = store.put(User(username="monitor", display_name="M", role=Role.MONITORING_OPERATOR, region="Wales"))
    return IntakeService(store, user, clock, GazetteerGeocoder())


def records() -> list[dict]:
    return [json.loads(p.read_text())["intake"] for p in sorted(CORPUS.glob("*.json"))]


def write(tmp_path, name, items) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(items))
    return path


def counts(store) -> tuple[int, int, int]:
    return store.count(Order), store.count(Subject), store.outbox_count()


def test_importing_the_same_file_again_doubles_nothing(intake, store, tmp_path):
    path = write(tmp_path, "orders.json", records())
    first = intake.import_file(path)
    assert first.already_imported == 0 and first.accepted + first.drafts == len(records())
    after_first = counts(store)
    second = intake.import_file(path)
    assert counts(store) == after_first
    assert second.already_imported == len(records()) and second.accepted == second.drafts == 0
    assert all(r.outcome == ALREADY_IMPORTED for r in second.results)
    assert [r.order.id for r in second.results] == [r.order.id for r in first.results]
    assert "already imported" in second.as_text() and second.as_json()["summary"]["already_imported"] > 0


def test_a_person_already_held_is_matched_and_the_match_reported(intake, store, tmp_path):
    first = records()[0]
    intake.import_file(write(tmp_path, "one.json", [first]))
    people = store.count(Subject)
    another = json.loads(json.dumps(first))
    another["reference"] = first["reference"] + "-B"
    another["subject"]["given_name"] = "Someone"            # the held record stays as it is
    report = intake.import_file(write(tmp_path, "two.json", [another]))
    result = report.results[0]
    pnc = first["subject"]["identifiers"]["pnc"]
    assert result.person_match == f"pnc {pnc}" and store.count(Subject) == people
    assert store.get(Order, result.order.id).subject_id == result.subject.id
    assert store.get(Subject, result.subject.id).given_name == first["subject"]["given_name"]
    assert f"person already held: pnc {pnc}" in report.as_text()


def test_an_import_stopped_half_way_leaves_the_store_as_it_was(intake, store, tmp_path):
    path = write(tmp_path, "orders.json", records())
    before = counts(store)
    audit_before = len(store.audit_entries())

    def stop_after_three(done, read, total):
        assert 0 < read <= total
        if done == 3:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        intake.import_file(path, progress=stop_after_three)
    assert counts(store) == before and len(store.audit_entries()) == audit_before
    report = intake.import_file(path)                       # and it runs again as new
    assert report.already_imported == 0 and report.accepted > 3
