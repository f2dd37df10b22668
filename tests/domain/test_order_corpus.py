"""The order corpus: real-looking orders that must pass, and one order per broken rule.

Each invalid file is named for the one code it must produce, and nothing else; every
rule in RULES has one.  "Now" is fixed so that the corpus dates stay in the future.
"""
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from emdesk.domain.orders import Cohort, OrderStatus
from emdesk.domain.validation import FORMAT_CODES, RULES, ValidationContext, parse_intake, validate

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)
CORPUS = Path(__file__).parents[1] / "corpus" / "orders"
VALID = sorted((CORPUS / "valid").glob("*.json"))
INVALID = sorted((CORPUS / "invalid").glob("*.json"))


def _existing_orders():
    orders = {}
    for entry in json.loads((CORPUS / "existing.json").read_text()):
        parsed = parse_intake(entry["intake"])
        assert not parsed.problems, parsed.problems
        orders[entry["id"]] = parsed.order.evolve(id=entry["id"], status=OrderStatus(entry["status"]))
    return orders


EXISTING = _existing_orders()


def problems_of(path: Path):
    entry = json.loads(path.read_text())
    assert entry["why"].strip(), f"{path.name} should say why it is in the corpus"
    parsed = parse_intake(entry["intake"])
    return parsed, parsed.problems + validate(parsed.order, parsed.subject, ValidationContext(now=NOW, find_order=EXISTING.get))


def test_the_corpus_knows_an_active_order():
    assert any(o.status is OrderStatus.ACTIVE for o in EXISTING.values())


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_valid_orders_are_never_rejected(path):
    _, problems = problems_of(path)
    assert problems == [], "\n".join(map(str, problems))


def test_valid_orders_cover_every_cohort_and_condition():
    cohorts, conditions = set(), set()
    for path in VALID:
        parsed, _ = problems_of(path)
        cohorts.add(parsed.order.cohort)
        conditions.update(parsed.order.conditions.kinds())
    assert len(VALID) >= 8
    assert cohorts == set(Cohort)
    assert conditions == {"curfew", "zones", "location", "alcohol", "checkins"}


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_each_invalid_order_breaks_only_its_rule(path):
    code = path.stem
    assert code in RULES or code in FORMAT_CODES, f"{path.name} is not named for a rule code"
    _, problems = problems_of(path)
    assert problems, f"{path.name} should produce {code}"
    assert {p.code for p in problems} == {code}, "\n".join(map(str, problems))


def test_every_rule_has_a_corpus_order():
    covered = {p.stem for p in INVALID}
    assert set(RULES) - covered == set()


# Rules written from the Ministry of Justice's order service and from statute (issue 8):
# each corpus case says where the rule comes from.
CITED = {
    "ADDR-TOWN-MISSING": "order service", "SUBJ-PHONE-INVALID": "order service",
    "ZONE-DATES-ORDER": "order service", "COND-ALCOHOL-MODE-MISSING": "order service",
    "ORD-APPOINTMENT-PURPOSE-MISSING": "order service",
    "ORD-COMMUNITY-UNDER-18": "Sentencing Act 2020 s.202", "ORD-BAIL-UNDER-12": "Bail Act 1976 s.3AA",
}


@pytest.mark.parametrize(("code", "source"), CITED.items())
def test_rules_from_the_order_service_and_statute_cite_their_source(code, source):
    entry = json.loads((CORPUS / "invalid" / f"{code}.json").read_text())
    assert source in entry["source"]


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_only_an_address_nobody_can_place_is_a_warning(path):
    _, problems = problems_of(path)
    warning = path.stem == "ADDR-NOT-LOCATED"
    assert all(p.blocking is not warning for p in problems), "\n".join(map(str, problems))
