"""Intake keeps every order: valid ones submitted, invalid ones drafted with their problems."""
from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from emdesk.domain.geocoding import GazetteerGeocoder
from emdesk.domain.orders import Order, OrderStatus
from emdesk.domain.users import Role, User
from emdesk.domain.validation.intake_record import parse_intake
from emdesk.services.errors import AccessDenied
from emdesk.services.intake import IntakeService

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "orders"


def _parsed(path: Path):
    return parse_intake(json.loads(path.read_text())["intake"])


@pytest.fixture
def intake(store, clock):
    user = store.put(User(username="monitor", display_name="M", role=Role.MONITORING_OPERATOR, region="Wales"))
    return IntakeService(store, user, clock, GazetteerGeocoder())


def test_valid_order_is_submitted_located_and_given_a_region(intake, store):
    p = _parsed(CORPUS / "valid" / "court_bail_youth_interpreter.json")
    unlocated = p.subject.evolve(addresses=tuple(msgspec.structs.replace(a, lat=None, lon=None) for a in p.subject.addresses))
    result = intake.submit(p.order, unlocated)
    assert result.accepted and result.order.status is OrderStatus.SUBMITTED
    assert result.subject.primary_address.located          # placed by the gazetteer geocoder
    assert result.order.region == "Yorkshire and the Humber"
    assert store.get(Order, result.order.id).history[-1].to_status is OrderStatus.SUBMITTED


def test_invalid_order_is_kept_as_a_draft_with_its_problems(intake, store):
    p = _parsed(CORPUS / "invalid" / "SUBJ-DOB-MISSING.json")
    result = intake.submit(p.order, p.subject)
    assert not result.accepted
    saved = store.get(Order, result.order.id)
    assert saved.status is OrderStatus.DRAFT
    assert [x.code for x in saved.problems] == ["SUBJ-DOB-MISSING"]


def test_check_is_side_effect_free(intake, store):
    p = _parsed(CORPUS / "invalid" / "ADDR-POSTCODE-FORMAT.json")
    before = store.outbox_count()
    assert [x.code for x in intake.check(p.order, p.subject)] == ["ADDR-POSTCODE-FORMAT"]
    assert store.count(Order) == 0 and store.outbox_count() == before


def test_a_variation_is_recorded_on_the_order_it_varies(intake, store, clock):
    for entry in json.loads((CORPUS / "existing.json").read_text()):
        e = parse_intake(entry["intake"])
        store.put(e.subject)
        store.put(e.order.evolve(id=entry["id"], status=OrderStatus(entry["status"])))
    p = _parsed(CORPUS / "valid" / "variation_of_active_order.json")
    result = intake.submit(p.order, p.subject)
    assert result.accepted, result.problems
    varied = store.get(Order, p.order.varies_order_id)
    assert varied.variations and varied.variations[-1].changes == p.order.variation.changes


def test_roles_without_order_entry_are_refused(store, clock):
    tech = store.put(User(username="tech", display_name="T", role=Role.TECHNICIAN))
    p = _parsed(CORPUS / "valid" / "court_bail_youth_interpreter.json")
    with pytest.raises(AccessDenied):
        IntakeService(store, tech, clock, GazetteerGeocoder()).submit(p.order, p.subject)


@pytest.mark.parametrize(("path", "accepted", "errors", "warnings"), [
    ("invalid/ADDR-NOT-LOCATED.json", True, [], ["ADDR-NOT-LOCATED"]),
    ("valid/rural_district_not_in_gazetteer.json", True, [], []),
    ("invalid/ADDR-TOWN-MISSING.json", False, ["ADDR-TOWN-MISSING"], []),
    ("invalid/ORD-BAIL-UNDER-12.json", False, ["ORD-BAIL-UNDER-12"], []),
])
def test_warnings_go_with_the_order_without_making_it_a_draft(intake, store, path, accepted, errors, warnings):
    p = _parsed(CORPUS / path)
    result = intake.submit(p.order, p.subject)
    assert result.accepted is accepted
    assert [x.code for x in result.problems] == errors
    assert [x.code for x in result.warnings] == warnings
    saved = store.get(Order, result.order.id)
    assert saved.status is (OrderStatus.SUBMITTED if accepted else OrderStatus.DRAFT)
    assert [x.code for x in saved.problems] == errors + warnings
