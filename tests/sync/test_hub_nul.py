"""A NUL character (U+0000) from a hostile or broken desktop, on both hub storages.

No id, name or stamp holds one, and PostgreSQL's text cannot: before, a NUL in an op id, a
record id or a referenced id failed the whole push inside the database (a 500 that the
desktop would retry for ever), and SQLite kept such ids.  Now a request naming one is a 400
that says where, and a record holding one is refused alone, naming its field; the rest of
the push is applied and the hub goes on serving."""
from __future__ import annotations

import msgspec
import pytest
from synckit import MONITOR, NOW, OFFICER, SUPERVISOR
from test_hub_hostile import op, push

from emdesk.domain.ids import new_id
from emdesk.domain.monitoring import Note
from emdesk.domain.orders import Order
from emdesk.domain.people import Subject
from emdesk.store.migrations import LATEST
from emdesk.sync import protocol as p
from emdesk.sync.errors import HubRefused


def _case(officer) -> Order:
    return next(o for o in officer.store.find(Order, order_by="id") if o.assigned_officer_id == officer.user.id)


def _note(boss, case: Order, **fields) -> Note:
    return Note(id=new_id(), subject_id=case.subject_id, order_id=case.id, author_id=boss.user.id, at=NOW,
                text="spoke to the wearer", created_at=NOW, updated_at=NOW).evolve(**fields)


def _held(kit, table: str, rid: str) -> bool:
    with kit.hub.storage.read("all") as tx:
        return tx.one("SELECT 1 FROM hub_rows WHERE tbl = ? AND id = ?", [table, rid]) is not None


@pytest.mark.parametrize("field, where", [
    ("op_id", "ops[1].op_id"),
    ("table", "ops[1].table"),
    ("row_id", "ops[1].row_id"),
    ("action_id", "ops[1].action_id"),
    ("changed", "ops[1].changed[0]"),
])
def test_a_push_naming_a_nul_anywhere_but_a_payload_is_a_400_that_says_where(kit, field, where):
    boss, officer = kit.desk(SUPERVISOR), kit.desk(OFFICER)
    case = _case(officer)
    good, bad = op(boss, _note(boss, case)), op(boss, _note(boss, case))
    value = ["text\x00"] if field == "changed" else getattr(bad, field) + "\x00"
    bad = msgspec.structs.replace(bad, **{field: value})
    with pytest.raises(HubRefused, match=rf"{where.replace('[', '.').replace(']', '.')} contains a NUL"):
        push(boss, good, bad)
    assert not _held(kit, "notes", good.row_id)          # the request as a whole: nothing of it kept
    assert boss.sync().pushed == 0 and officer.sync().refused == []      # and the hub serves on


@pytest.mark.parametrize("field", ["subject_id", "order_id", "author_id", "text"])
def test_a_record_holding_a_nul_is_refused_alone_naming_its_field(kit, field):
    boss, officer = kit.desk(SUPERVISOR), kit.desk(OFFICER)
    case = _case(officer)
    good = _note(boss, case)
    bad = _note(boss, case)
    bad = bad.evolve(**{field: getattr(bad, field)[:5] + "\x00" + getattr(bad, field)[5:]})
    bad_op = op(boss, bad)
    results = push(boss, op(boss, good), bad_op)
    assert results[0].status == "applied"
    assert results[1].status == "refused"
    assert f"notes: {field} contains a NUL character (U+0000)" in results[1].reason
    assert _held(kit, "notes", good.id) and not _held(kit, "notes", bad.id)
    assert officer.sync().pulled >= 1


def test_a_case_opened_with_a_nul_in_its_region_is_refused_and_its_person_with_it(kit):
    monitor = kit.desk(MONITOR)
    order = monitor.store.find(Order, order_by="id")[0]
    person = monitor.store.get(Subject, order.subject_id)
    new_person = person.evolve(id=new_id())
    new_case = order.evolve(id=new_id(), subject_id=new_person.id, region=order.region + "\x00")
    results = push(monitor, op(monitor, new_person), op(monitor, new_case))
    assert [r.status for r in results] == ["refused", "refused"]
    assert "orders: region contains a NUL character" in results[1].reason
    assert not _held(kit, "subjects", new_person.id) and not _held(kit, "orders", new_case.id)


def test_a_sign_in_or_a_page_naming_a_nul_is_a_400(kit):
    answer = kit.http.post("/v1/token", content=msgspec.json.encode(p.TokenRequest(
        device_id="d1", username="sup\x00ervisor", password="x", schema_version=LATEST)),
        headers={"X-Emdesk-Schema": str(LATEST)})
    assert answer.status_code == 400 and "username contains a NUL" in answer.json()["message"]
    desk = kit.desk(MONITOR)
    with pytest.raises(HubRefused, match="after_id contains a NUL"):
        desk.client._post("/v1/bootstrap", p.BootstrapRequest(
            schema_version=LATEST, device_id=desk.store.desktop_id, snapshot=0, after_table="orders",
            after_id="a\x00", limit=10, protocol=2), p.BootstrapResponse)
    answer = kit.http.get("/v1/telemetry/snapshot?order=a%00b", headers={
        "Authorization": f"Bearer {desk.client._access()}", "X-Emdesk-Schema": str(LATEST)})
    assert answer.status_code == 400 and "'order' contains a NUL" in answer.json()["message"]
    assert desk.sync().rebuilt is False
