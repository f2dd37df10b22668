"""``emdesk orders import FILE [--db PATH] [--json]`` over the order corpus, JSON and CSV."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from emdesk.domain.orders import Order, OrderStatus
from emdesk.domain.validation.intake_record import flatten
from emdesk.store import Store

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "orders"
NOW = "2026-11-26T09:00:00Z"     # the corpus's dates are set against this day

# New orders only: variations need the existing order, which a fresh store lacks.
VALID = ["court_bail_youth_interpreter", "court_sentence_alcohol", "immigration_checkins",
         "post_release_licence_gps", "specials_tpim"]
INVALID = {"SUBJ-DOB-MISSING", "ADDR-POSTCODE-FORMAT", "CURFEW-WEEK-HOURS", "DOC-LICENCE-MISSING", "ZONE-EXCLUDES-HOME"}


def _intake(path: Path) -> dict:
    return json.loads(path.read_text())["intake"]


def _distinct(record, i: int):
    """The corpus cases are variations of one order of one person: made distinct here (their own
    reference and identifiers), as separate orders in one file are."""
    if isinstance(record, dict):
        if isinstance(record.get("reference"), str):
            record["reference"] = f"{record['reference']}-{i}"
        ids = (record.get("subject") or {}).get("identifiers") if isinstance(record.get("subject"), dict) else None
        if isinstance(ids, dict):
            forms = {"pnc": f"2019/{i:07d}A", "nomis": f"A{i:04d}BC", "delius_crn": f"X{i:06d}",
                     "home_office_ref": f"H{i:07d}", "prison_number": f"A{i:04d}BC", "cro": f"{i:06d}/19A"}
            for key, value in list(ids.items()):
                if isinstance(value, str) and value and key in forms:
                    ids[key] = forms[key]
    return record


@pytest.fixture
def batch():
    records = [_intake(CORPUS / "valid" / f"{name}.json") for name in VALID] + \
              [_intake(CORPUS / "invalid" / f"{code}.json") for code in sorted(INVALID)]
    return [_distinct(r, i) for i, r in enumerate(records)]


@pytest.fixture
def db(emdesk, tmp_path):
    path = tmp_path / "intake.db"
    emdesk("init", "--db", str(path), "--plain", password="admin-password", check=True)
    return path


def _run(emdesk, *args):
    import os
    os.environ["EMDESK_NOW"] = NOW
    try:
        return emdesk(*args)
    finally:
        del os.environ["EMDESK_NOW"]


def test_json_import_reports_every_problem_per_order_and_field_and_keeps_drafts(emdesk, tmp_path, db, batch):
    file = tmp_path / "orders.json"
    file.write_text(json.dumps({"orders": batch}))
    result = _run(emdesk, "orders", "import", str(file), "--db", str(db), "--json")
    assert result.returncode == 1, result.stderr          # some orders failed
    report = json.loads(result.stdout)
    assert report["summary"] == {"orders": len(batch), "accepted": len(VALID), "drafts": len(INVALID),
                                 "already_imported": 0}
    entries = report["orders"]            # in file order
    assert all(e["accepted"] and e["problems"] == [] for e in entries[:len(VALID)])
    assert not any(e["accepted"] for e in entries[len(VALID):])
    codes = {p["code"] for o in report["orders"] for p in o["problems"]}
    assert codes == INVALID
    for o in report["orders"]:
        for p in o["problems"]:
            assert p["field"] and p["message"] and o["source"].startswith("orders.json[")

    # Nothing is lost: every order is in the store, the invalid ones as drafts with their problems.
    store = Store.open(db)
    orders = store.find(Order)
    assert len(orders) == len(batch)
    drafts = [o for o in orders if o.status is OrderStatus.DRAFT]
    assert len(drafts) == len(INVALID) and all(o.problems for o in drafts)
    assert all(o.status is OrderStatus.SUBMITTED for o in orders if not o.problems)
    assert store.verify_audit().ok
    store.close()


def test_text_report_names_field_message_and_code(emdesk, tmp_path, db):
    file = tmp_path / "one.json"
    file.write_text(json.dumps([_intake(CORPUS / "invalid" / "SUBJ-DOB-MISSING.json")]))
    result = _run(emdesk, "orders", "import", str(file), "--db", str(db))
    assert result.returncode == 1
    assert "subject.date_of_birth" in result.stdout and "[SUBJ-DOB-MISSING]" in result.stdout
    assert "1 order(s): 0 accepted, 1 kept as drafts" in result.stdout


def test_csv_import_of_valid_orders_exits_zero(emdesk, tmp_path, db):
    rows = [flatten(_intake(CORPUS / "valid" / f"{name}.json")) for name in VALID]
    columns = sorted({c for r in rows for c in r})
    file = tmp_path / "orders.csv"
    with file.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    result = _run(emdesk, "orders", "import", str(file), "--db", str(db), "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["summary"]["accepted"] == len(VALID)
    assert report["orders"][0]["source"] == "orders.csv line 2"


def test_unreadable_file_is_refused_with_line_and_column(emdesk, tmp_path, db):
    file = tmp_path / "broken.json"
    file.write_text('[{"reference": "X",\n  "subject": {oops}}]')
    result = _run(emdesk, "orders", "import", str(file), "--db", str(db))
    assert result.returncode == 2
    assert "broken.json" in result.stderr and "line 2" in result.stderr


def test_an_address_nobody_can_place_is_a_warning_in_the_report_not_a_draft(emdesk, tmp_path, db):
    file = tmp_path / "orders.json"
    unplaced = _intake(CORPUS / "invalid" / "ADDR-NOT-LOCATED.json")
    rural = _intake(CORPUS / "valid" / "rural_district_not_in_gazetteer.json")
    file.write_text(json.dumps([unplaced, rural]))
    result = _run(emdesk, "orders", "import", str(file), "--db", str(db), "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    summary = report["summary"]
    assert (summary["orders"], summary["accepted"], summary["drafts"]) == (2, 2, 0)   # warnings make no drafts
    first, second = report["orders"]
    assert first["accepted"] and first["problems"] == [] and first["status"] == "submitted"
    assert [(w["code"], w["field"], w["severity"]) for w in first["warnings"]] == \
        [("ADDR-NOT-LOCATED", "subject.addresses[0]", "warning")]
    assert "confirm it on the map" in first["warnings"][0]["message"]
    assert second["accepted"] and second["problems"] == [] and second["warnings"] == []

    # The warning stays on the order, which is not a draft.
    store = Store.open(db)
    order = store.get(Order, first["order_id"])
    assert order.status is OrderStatus.SUBMITTED
    assert [(p.code, p.severity.value) for p in order.problems] == [("ADDR-NOT-LOCATED", "warning")]
    placed = store.get(Order, second["order_id"])
    assert placed.problems == ()
    store.close()

    other = tmp_path / "other.db"
    emdesk("init", "--db", str(other), "--plain", password="admin-password", check=True)
    text = _run(emdesk, "orders", "import", str(file), "--db", str(other))
    assert text.returncode == 0, text.stdout + text.stderr
    assert "! subject.addresses[0]:" in text.stdout and "[ADDR-NOT-LOCATED] (warning)" in text.stdout
