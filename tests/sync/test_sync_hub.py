"""The hub end to end, through real clients, against both storages (SQLite and PostgreSQL)."""
from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest
from synckit import (
    MONITOR,
    NOW,
    OFFICER,
    OTHER_OFFICER,
    SUPERVISOR,
    assert_converged,
    hub_row,
    own_open_visit,
)

from emdesk.domain import hlc
from emdesk.domain.clock import FixedClock
from emdesk.domain.devices import Device
from emdesk.domain.monitoring import Alert, AlertStatus, EventKind, Note
from emdesk.domain.orders import Order
from emdesk.domain.visits import OutcomeCode, Visit, VisitStatus
from emdesk.store.migrations import LATEST
from emdesk.sync import protocol as p
from emdesk.sync.client import SyncClient
from emdesk.sync.errors import HubRefused, HubUnreachable, UpgradeRequired

# -- push -----------------------------------------------------------------------------


def test_a_resent_batch_changes_nothing_and_gets_the_same_answer(kit):
    desk = kit.desk(OFFICER)
    visit = own_open_visit(desk, desk.user.id)
    desk.store.put(visit.evolve(notes="gate code 1234"))
    rows = desk.store.outbox_batch(100, ["visits"])
    ops = [p.Op(op_id=r["op_id"], device_seq=r["seq"], table=r["table_name"], row_id=r["row_id"], kind=r["op"],
                hlc=r["hlc"], payload=r["payload"]) for r in rows]
    request = p.PushRequest(schema_version=LATEST, device_id=desk.store.desktop_id, ops=ops)
    first = desk.client._post("/v1/push", request, p.PushResponse)
    head = kit.hub.head()
    second = desk.client._post("/v1/push", request, p.PushResponse)
    assert first.results == second.results and first.results[0].status == "applied"
    assert kit.hub.head() == head                  # nothing appended the second time
    # The client never saw an answer (connection lost after the hub applied it): the
    # outbox keeps the op; the next round resends it and only then drops it.
    desk.store.put(desk.store.get(Visit, visit.id).evolve(notes="gate code 4321"))
    kit.http.fail = lambda path, phase: path == "/v1/push" and phase == "after"
    with pytest.raises(HubUnreachable):
        desk.sync()
    assert desk.store.outbox_count() == 2
    kit.http.fail = None
    report = desk.sync()
    assert report.pushed == 2 and desk.store.outbox_count() == 0
    assert hub_row(kit, "visits", visit.id)["notes"] == "gate code 4321"


def test_an_officer_cannot_edit_another_officers_visit(kit):
    desk = kit.desk(OFFICER)
    other = kit.user(OTHER_OFFICER)[0]
    theirs = next(v for v in kit.world.visits if v.officer_id == other.id)
    before = hub_row(kit, "visits", theirs.id)
    stamp = str(hlc.Stamp(kit.hub.now_ms(), 9, "x"))
    forged = msgspec.json.encode(theirs.evolve(notes="changed by someone else", hlc=stamp)).decode()
    op = p.Op(op_id="forged-1", device_seq=1, table="visits", row_id=theirs.id, kind="upsert", hlc=stamp,
              payload=forged)
    answer = desk.client._post("/v1/push", p.PushRequest(schema_version=LATEST, device_id=desk.store.desktop_id,
                                                         ops=[op]), p.PushResponse)
    assert answer.results[0].status == "refused"
    assert "another officer" in answer.results[0].reason or "caseload" in answer.results[0].reason
    assert hub_row(kit, "visits", theirs.id) == before


# -- pull ---------------------------------------------------------------------------------


def test_pull_pages_by_hub_sequence_and_resumes_from_the_cursor(kit):
    boss = kit.desk(SUPERVISOR, pull_limit=7)
    monitor = kit.desk(MONITOR)
    order = monitor.store.find(Order, order_by="id")[0]
    for i in range(30):
        monitor.store.put(Note(subject_id=order.subject_id, order_id=order.id, author_id=monitor.user.id,
                               at=NOW, text=f"call {i}"))
    monitor.sync()
    seen = []
    pages = {"n": 0}

    def drop_after_three(path, phase):
        if path == "/v1/pull" and phase == "before":
            pages["n"] += 1
            return pages["n"] > 3
        return False
    kit.http.fail = drop_after_three
    with pytest.raises(HubUnreachable):
        boss.sync(progress=lambda stage, done, total: seen.append((stage, done, total)))
    assert [s for s in seen if s[0] == "pull"][-1][1] == 21
    cursor = boss.client.cursor()
    assert 0 < cursor < kit.hub.head()
    texts = {n.text for n in boss.store.find(Note) if n.text.startswith("call ")}
    assert len(texts) == 21                    # three whole pages, nothing of the fourth
    kit.http.fail = None
    report = boss.sync()
    assert report.pulled == 9 and boss.client.cursor() == kit.hub.head()
    assert len({n.text for n in boss.store.find(Note) if n.text.startswith("call ")}) == 30
    assert_converged(kit, boss, monitor)


def test_bootstrap_resumes_page_by_page_from_its_snapshot(kit):
    boss = kit.desk(SUPERVISOR, join=False, bootstrap_limit=40)
    boss.client.register(SUPERVISOR, boss.password)
    pages = {"n": 0}

    def stop_after_five(path, phase):
        if path == "/v1/bootstrap" and phase == "before":
            pages["n"] += 1
            return pages["n"] > 5
        return False
    kit.http.fail = stop_after_five
    with pytest.raises(HubUnreachable):
        boss.sync()
    assert boss.client.cursor() is None
    assert boss.store.sync_value("bootstrap_snapshot") and boss.store.sync_value("bootstrap_done") == "200"
    assert sum(boss.counts().values()) == 200
    # The world moves on while the desktop is away: an order edited, a note added.
    kit.http.fail = None
    monitor = kit.desk(MONITOR)
    order = monitor.store.find(Order, order_by="id")[0]
    monitor.store.put(order.evolve(reference="VARIED-1"))
    monitor.store.put(Note(subject_id=order.subject_id, order_id=order.id, at=NOW, text="varied"))
    monitor.sync()
    kit.reopen(boss, bootstrap_limit=40)                 # the app restarted
    boss.sync()
    assert boss.store.get(Order, order.id).reference == "VARIED-1"
    assert any(n.text == "varied" for n in boss.store.find(Note))
    assert boss.client.cursor() == kit.hub.head()
    assert_converged(kit, boss)


@pytest.mark.parametrize("username", ["supervisor", "monitor.london", "tech.leeds", "officer.leeds", "admin"])
def test_each_role_receives_exactly_its_scope(kit, username):
    desk = kit.desk(username)
    assert_converged(kit, desk)
    if desk.user.role.value == "monitoring_operator":
        assert {o.region for o in desk.store.find(Order)} == {desk.user.region}
    if desk.user.role.value == "field_officer":
        # Her own cases, and a colleague's only where she holds an open visit (cover, crew).
        me = desk.user.id
        visiting = {v.order_id for v in desk.store.find(Visit) if v.status.value in ("scheduled", "in_progress")
                    and me in (v.officer_id, *v.crew)}
        assert me in {o.assigned_officer_id for o in desk.store.find(Order)}
        assert {o.id for o in desk.store.find(Order) if o.assigned_officer_id != me} <= visiting
    if desk.user.role.value == "technician":
        assert desk.counts().keys() <= {"users", "devices"}


# -- clocks -------------------------------------------------------------------------------


def test_stamps_from_a_fast_clock_are_refused_then_restamped(kit):
    fast = FixedClock(NOW)
    desk = kit.desk(OFFICER, clock=fast)
    fast.advance(timedelta(minutes=10))              # the laptop's clock runs ten minutes fast
    visit = own_open_visit(desk, desk.user.id)
    desk.store.put(visit.evolve(notes="dog in garden"))
    stamped = hlc.Stamp.parse(desk.store.get(Visit, visit.id).hlc)
    assert stamped.ms > kit.hub.now_ms() + 5 * 60_000
    old_op = desk.store.outbox()[0]["op_id"]
    report = desk.sync()
    assert report.restamped == 1 and report.pushed == 1
    on_hub = hub_row(kit, "visits", visit.id)
    assert on_hub["notes"] == "dog in garden"
    assert hlc.Stamp.parse(on_hub["hlc"]).ms <= kit.hub.now_ms() + 60_000
    with kit.hub.storage.read("all") as tx:                           # a new op id was sent
        assert tx.one("SELECT 1 FROM applied_ops WHERE op_id = ?", [old_op]) is None
    assert abs(desk.store.clock.now() - NOW) < timedelta(seconds=5)      # offset to the hub kept
    desk.store.put(desk.store.get(Visit, visit.id).evolve(notes="no dog"))
    assert hlc.Stamp.parse(desk.store.get(Visit, visit.id).hlc).ms < kit.hub.now_ms() + 60_000


# -- merge rules, end to end -----------------------------------------------------------------


def test_notes_are_append_only(kit):
    officer, monitor = kit.desk(OFFICER), kit.desk(MONITOR)
    order = officer.store.find(Order, order_by="id")[0]
    mine = officer.store.put(Note(subject_id=order.subject_id, order_id=order.id, at=NOW, text="from the door"))
    monitor.store.put(Note(subject_id=order.subject_id, order_id=order.id, at=NOW, text="from the centre"))
    officer.sync(), monitor.sync(), officer.sync()
    for desk in (officer, monitor):
        texts = [n.text for n in desk.store.find(Note, where={"order_id": order.id})]
        assert "from the door" in texts and "from the centre" in texts
    # A second copy of the same note (another op id) never overwrites the first.
    copy = msgspec.json.encode(mine.evolve(text="rewritten", hlc=str(hlc.Stamp(kit.hub.now_ms(), 1, "z")))).decode()
    answer = officer.client._post("/v1/push", p.PushRequest(schema_version=LATEST, device_id=officer.store.desktop_id, ops=[
        p.Op(op_id="dup", device_seq=99, table="notes", row_id=mine.id, kind="upsert", hlc=msgspec.json.decode(copy)["hlc"],
             payload=copy)]), p.PushResponse)
    assert answer.results[0].status == "duplicate"
    assert hub_row(kit, "notes", mine.id)["text"] == "from the door"


def test_visit_fields_merge_last_writer_wins_and_losers_reach_supervisors(kit):
    officer_clock, monitor_clock = FixedClock(NOW), FixedClock(NOW)
    officer = kit.desk(OFFICER, clock=officer_clock)
    monitor = kit.desk(MONITOR, clock=monitor_clock)
    boss = kit.desk(SUPERVISOR)
    visit = own_open_visit(officer, officer.user.id)
    officer_clock.advance(timedelta(minutes=1))
    monitor_clock.advance(timedelta(minutes=2))
    # Both offline: the officer records the outcome and a note; the centre (later) another outcome.
    officer.store.put(officer.store.get(Visit, visit.id).evolve(outcome=OutcomeCode.NOT_AT_ADDRESS,
                                                                notes="no answer, card left"))
    monitor.store.put(monitor.store.get(Visit, visit.id).evolve(outcome=OutcomeCode.REFUSED))
    assert officer.sync().pushed == 1
    assert monitor.sync().pushed == 1
    officer.sync(), boss.sync()
    for desk in (officer, monitor, boss):
        merged = desk.store.get(Visit, visit.id)
        assert merged.outcome is OutcomeCode.REFUSED             # newer stamp won the field
        assert merged.notes == "no answer, card left"             # a different field survived
    conflicts = boss.store.conflicts()
    assert [(c["table_name"], c["row_id"], c["field"], c["losing_value"]) for c in conflicts] == [
        ("visits", visit.id, "outcome", '"not_at_address"')]
    assert officer.store.conflicts() == []                     # officers do not receive them


def test_alert_status_moves_forward_only_and_the_first_acknowledgement_wins(kit):
    monitor, boss = kit.desk(MONITOR), kit.desk(SUPERVISOR)
    order = monitor.store.find(Order, order_by="id")[0]
    alert = monitor.store.put(Alert(order_id=order.id, subject_id=order.subject_id, kind=EventKind.STRAP_TAMPER,
                                    raised_at=NOW))
    monitor.sync(), boss.sync()
    boss.store.put(boss.store.get(Alert, alert.id).evolve(status=AlertStatus.ACKNOWLEDGED,
                                                          acknowledged_by=boss.user.id, acknowledged_at=NOW))
    monitor.store.put(monitor.store.get(Alert, alert.id).evolve(status=AlertStatus.ACKNOWLEDGED,
                                                                acknowledged_by=monitor.user.id, acknowledged_at=NOW))
    boss.sync()
    assert monitor.sync().pushed == 1
    assert monitor.store.get(Alert, alert.id).acknowledged_by == boss.user.id
    monitor.store.put(monitor.store.get(Alert, alert.id).evolve(status=AlertStatus.IN_REVIEW))
    monitor.sync()
    boss.store.put(boss.store.get(Alert, alert.id).evolve(status=AlertStatus.NEW))     # a step back
    boss.sync(), monitor.sync()
    for desk in (monitor, boss):
        final = desk.store.get(Alert, alert.id)
        assert final.status is AlertStatus.IN_REVIEW and final.acknowledged_by == boss.user.id
    assert {c["field"] for c in boss.store.conflicts()} == {"acknowledged_by", "status"}


def test_a_field_officer_cannot_vary_an_order_and_her_copy_is_restored(kit):
    desk = kit.desk(OFFICER)
    order = desk.store.find(Order, order_by="id")[0]
    desk.store.put(order.evolve(reference="MY-OWN-REF"))
    invented = desk.store.put(Order(subject_id=order.subject_id, reference="NEW-ORDER", region=order.region,
                                    assigned_officer_id=desk.user.id))
    report = desk.sync()
    reasons = {r.row_id: r.reason for r in report.refused}
    assert reasons[order.id] == "orders: orders are kept by the monitoring centre: ask them to vary the order"
    assert invented.id in reasons
    assert desk.store.get(Order, order.id).reference == order.reference       # restored to the hub's version
    assert desk.store.get(Order, invented.id) is None                          # the refused new row is gone
    kept = {r["row_id"]: r for r in desk.client.refusals()}
    assert msgspec.json.decode(kept[order.id]["payload"])["reference"] == "MY-OWN-REF"   # not lost
    assert desk.store.outbox_count() == 0
    assert_converged(kit, desk)


# -- deletes ----------------------------------------------------------------------------------


def test_a_deleted_visit_is_not_brought_back_by_a_late_edit(kit):
    officer, monitor = kit.desk(OFFICER), kit.desk(MONITOR)
    visit = own_open_visit(officer, officer.user.id)
    monitor.store.tombstone(Visit, visit.id)
    monitor.sync()
    officer.store.clock.advance(timedelta(minutes=5))     # a later edit, made offline
    officer.store.put(officer.store.get(Visit, visit.id).evolve(notes="still here?"))
    report = officer.sync()
    assert report.pushed == 1
    assert officer.store.get(Visit, visit.id) is None
    assert hub_row(kit, "visits", visit.id)["deleted"] is True
    monitor.sync()
    assert monitor.store.get(Visit, visit.id) is None
    assert_converged(kit, officer, monitor)


def test_a_desktop_behind_the_gc_horizon_rebuilds_instead_of_resurrecting(kit):
    stale, monitor = kit.desk(OFFICER), kit.desk(MONITOR)
    visit = own_open_visit(stale, stale.user.id)
    other = next(v for v in stale.store.find(Visit) if v.id != visit.id)
    monitor.store.tombstone(Visit, visit.id)
    monitor.sync()
    # Tombstones stay while an active device has not synced past them.
    kit.clock.advance(timedelta(days=1))
    assert kit.hub.gc()["tombstones_purged"] == 0
    stale.store.put(stale.store.get(Visit, other.id).evolve(notes="offline edit"))
    stale.store.put(stale.store.get(Visit, visit.id).evolve(notes="edit to a deleted visit"))
    kit.clock.advance(timedelta(days=40))                 # the stale laptop stays in a drawer
    monitor.sync()
    report = kit.hub.gc()
    assert report["tombstones_purged"] >= 1 and report["horizon"] > 0
    assert hub_row(kit, "visits", visit.id) is None
    result = stale.sync()
    assert result.rebuilt
    assert [r.row_id for r in result.refused] == [visit.id]
    assert "deleted on the hub" in result.refused[0].reason
    assert stale.store.get(Visit, visit.id) is None and hub_row(kit, "visits", visit.id) is None
    assert stale.store.get(Visit, other.id).notes == "offline edit"          # her other work went through
    assert_converged(kit, stale, monitor)


# -- versions and accounts ----------------------------------------------------------------------


def test_older_clients_are_told_to_upgrade_and_the_previous_version_is_served(kit):
    desk = kit.desk(OFFICER)
    old = SyncClient(desk.store, "http://hub.test", http=kit.http, schema_version=LATEST - 2)
    with pytest.raises(UpgradeRequired) as caught:
        old.sync_once()
    assert "Install the latest emdesk" in caught.value.message
    raw = kit.http.post("/v1/pull", content=b"{}", headers={"X-Emdesk-Schema": str(LATEST - 2)})
    assert raw.status_code == 426 and raw.json()["error"] == "upgrade_required"
    previous = SyncClient(desk.store, "http://hub.test", http=kit.http, schema_version=LATEST - 1)
    assert previous.sync_once().cursor == kit.hub.head()


def test_tokens_passwords_refresh_and_revocation(kit):
    desk = kit.desk(OFFICER, join=False)
    with pytest.raises(HubRefused, match="wrong password"):
        desk.client.register(OFFICER, "not-the-password")
    desk.client.register(OFFICER, desk.password)
    assert kit.http.post("/v1/pull", content=b"{}").status_code == 400
    bad = kit.http.post("/v1/pull", content=p.encode(p.PullRequest(schema_version=LATEST, device_id="x", cursor=0)))
    assert bad.status_code == 401
    desk.sync()
    kit.clock.advance(timedelta(hours=2))          # the access token expired: renewed by the refresh token
    desk.client._token_deadline = float("inf")
    assert desk.sync().cursor == kit.hub.head()
    assert kit.hub.revoke_device(desk.store.desktop_id)
    with pytest.raises(HubRefused, match="revoked"):
        desk.sync()


# -- scope: reassignment -------------------------------------------------------------------------


def test_a_reassigned_case_leaves_the_old_officer_whole_and_reaches_the_new_one_whole(kit):
    monitor = kit.desk(MONITOR)
    losing = kit.desk(OFFICER, pull_limit=1)           # one change per page: every page must hold the FKs
    gaining = kit.desk(OTHER_OFFICER, pull_limit=1)
    subject_id = next(o.subject_id for o in losing.store.find(Order, order_by="id")
                      if losing.store.find(Visit, where={"order_id": o.id}))
    orders = monitor.store.find(Order, where={"subject_id": subject_id})
    case_rows = {("subjects", subject_id), *(("orders", o.id) for o in orders)}
    for o in orders:
        monitor.store.put(o.evolve(assigned_officer_id=gaining.user.id))
        for v in monitor.store.find(Visit, where={"order_id": o.id}):
            case_rows.add(("visits", v.id))
            if v.status in (VisitStatus.SCHEDULED, VisitStatus.IN_PROGRESS):
                monitor.store.put(v.evolve(officer_id=gaining.user.id))      # re-booked too
        case_rows |= {("notes", n.id) for n in monitor.store.find(Note, where={"order_id": o.id})}
        case_rows |= {("devices", d.id) for d in monitor.store.find(Device, where={"order_id": o.id})}
    assert any(t == "notes" for t, _ in case_rows) and any(t == "devices" for t, _ in case_rows)
    monitor.sync()
    lost = losing.sync()
    assert lost.evicted >= len(case_rows)
    gained = gaining.sync()
    assert gained.pulled >= len(case_rows)
    for table, row_id in case_rows:
        cls = losing.store.record_class(table)
        assert losing.store.get(cls, row_id, include_deleted=True) is None, (table, row_id)
        assert gaining.store.get(cls, row_id) is not None, (table, row_id)
    assert_converged(kit, losing, gaining, monitor)
