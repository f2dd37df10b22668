"""Field work reaches the centre whole: an installation or a removal recorded offline by an
officer is one unit, which the hub takes entirely or refuses entirely -- on both hub storages."""
from __future__ import annotations

import msgspec
import pytest
from checklist_kit import finish_checklist
from synckit import NOW, SUPERVISOR, hub_row

from emdesk.domain import hlc
from emdesk.domain.checklists import ChecklistTick
from emdesk.domain.devices import Device, DeviceState
from emdesk.domain.monitoring import Note
from emdesk.domain.orders import Order, OrderStatus, ResponsibleOfficer, transition
from emdesk.domain.visits import OutcomeCode, Visit, VisitKind, VisitStatus
from emdesk.services.installs import InstallService
from emdesk.services.removals import RemovalService
from emdesk.store.migrations import LATEST
from emdesk.sync import protocol as p
from emdesk.sync.errors import HubUnreachable

LEWISHAM, LONDON_CENTRE = "officer.lewisham", "monitor.london"


def install_job(desk):
    """The officer's scheduled install visit on a submitted order, with its allocated kit."""
    for visit in desk.store.find(Visit, order_by="id"):
        order = desk.store.get(Order, visit.order_id)
        if (visit.kind is VisitKind.INSTALL and visit.status is VisitStatus.SCHEDULED
                and visit.officer_id == desk.user.id and order.status is OrderStatus.SUBMITTED):
            kit = desk.store.find(Device, where={"order_id": order.id}, order_by="serial")
            tag = next(d for d in kit if d.kind.worn)
            hmu = next((d for d in kit if not d.kind.worn), None)
            return visit, order, tag, hmu
    raise AssertionError("the demo world has no submitted install for this officer")


def install_offline(kit, desk):
    """The officer fits the kit at the door with no network: recorded on her laptop only."""
    visit, order, tag, hmu = install_job(desk)
    kit.http.fail = lambda path, phase: True
    with pytest.raises(HubUnreachable):
        desk.sync()
    kit.http.fail = None
    finish_checklist(desk.store, desk.user, desk.store.clock, visit.id)
    InstallService(desk.store, desk.user, desk.store.clock).record_installation(
        order.id, visit.id, tag.serial, hmu.serial if hmu else None, "PAIR-1", readings={"gps_ttff_s": 31})
    return visit, order, [tag] + ([hmu] if hmu else [])


def test_an_offline_installation_reaches_the_centre_whole(kit):
    officer, centre = kit.desk(LEWISHAM), kit.desk(LONDON_CENTRE)
    visit, order, devices = install_offline(kit, officer)
    serials = tuple(d.serial for d in devices)
    # The centre edits the same order meanwhile (a field the installation does not touch).
    mine = centre.store.get(Order, order.id)
    centre.store.put(mine.evolve(responsible_officer=ResponsibleOfficer(name="New PO", organisation="Probation")))
    assert not centre.sync().refused
    report = officer.sync()
    assert not report.refused, report.refused
    held = hub_row(kit, "orders", order.id)
    assert held["status"] == "active" and tuple(held["device_serials"]) == serials
    assert held["responsible_officer"]["name"] == "New PO"                      # both edits survive
    assert [h["to_status"] for h in held["history"]][-1] == "active"
    assert hub_row(kit, "visits", visit.id)["outcome"] == "installed"
    assert {hub_row(kit, "devices", d.id)["state"] for d in devices} == {"installed"}
    centre.sync()
    seen = centre.store.get(Order, order.id)
    assert seen.status is OrderStatus.ACTIVE and seen.device_serials == serials
    assert seen.responsible_officer.name == "New PO"
    officer.sync()
    assert officer.store.get(Order, order.id) == seen                           # one version everywhere


def test_an_installation_on_an_order_revoked_meanwhile_is_refused_whole(kit):
    officer, centre = kit.desk(LEWISHAM), kit.desk(LONDON_CENTRE)
    visit, order, devices = install_offline(kit, officer)
    held = centre.store.get(Order, order.id)
    centre.store.put(transition(held, OrderStatus.REVOKED, at=NOW, by=centre.user.id, reason="bail withdrawn"))
    centre.sync()
    before = {d.id: hub_row(kit, "devices", d.id) for d in devices}
    report = officer.sync()
    # The whole installation is refused; the checklist ticked before it is kept (what was done at the door).
    ticks = len(officer.store.find(ChecklistTick, where={"visit_id": visit.id}))
    assert len(report.refused) == officer_ops(report) - ticks and len(report.refused) >= 3 and ticks >= 7
    assert {r.table for r in report.refused} == {"visits", "orders", "devices"}
    assert len(hub_rows_of(kit, "checklist_ticks", visit.id)) == ticks
    assert all("revoked" in r.reason and "refused as a whole" in r.reason for r in report.refused)
    assert hub_row(kit, "visits", visit.id)["status"] == "scheduled"
    assert {d: hub_row(kit, "devices", d) for d in before} == before
    assert hub_row(kit, "orders", order.id)["status"] == "revoked"
    # The laptop converges on the hub's versions, and keeps the refusal with its reason.
    officer.sync()
    assert officer.store.get(Visit, visit.id).status is VisitStatus.SCHEDULED
    assert officer.store.get(Order, order.id).status is OrderStatus.REVOKED
    assert {d.state for d in officer.store.get_many(Device, [d.id for d in devices]).values()} == {
        DeviceState.ALLOCATED}
    assert any("revoked" in r["reason"] for r in officer.client.refusals())


def hub_rows_of(kit, table: str, visit_id: str) -> list[dict]:
    with kit.hub.storage.read("all") as tx:
        rows = [msgspec.json.decode(r[0]) for r in tx.all("SELECT data FROM hub_rows WHERE tbl = ?", [table])]
    return [r for r in rows if r.get("visit_id") == visit_id]


def officer_ops(report) -> int:
    return len(report.refused) + report.pushed


def push(desk, ops):
    return desk.client._post("/v1/push", p.PushRequest(schema_version=LATEST, device_id=desk.store.desktop_id,
                                                       ops=ops), p.PushResponse).results


def op_for(desk, record, *, changed=None, action="", action_id="", n=[0]):
    n[0] += 1
    stamp = str(hlc.Stamp(int(desk.store.clock.now().timestamp() * 1000), n[0] % 60000, "forger"))
    record = record.evolve(hlc=stamp, origin=desk.store.desktop_id)
    return p.Op(op_id=f"crafted-{n[0]}-{record.id}", device_seq=n[0], table=type(record).table, row_id=record.id,
                kind="upsert", hlc=stamp, payload=msgspec.json.encode(record).decode(), changed=changed,
                action=action, action_id=action_id)


def test_an_installation_may_change_only_what_an_installation_changes(kit):
    officer = kit.desk(LEWISHAM)
    visit, order, tag, hmu = install_job(officer)
    now = officer.store.clock.now()
    done = visit.evolve(status=VisitStatus.COMPLETED, outcome=OutcomeCode.INSTALLED, outcome_at=now,
                        device_serials=(tag.serial, hmu.serial))
    fitted = [d.evolve(state=DeviceState.INSTALLED, paired_with=o.serial) for d, o in ((tag, hmu), (hmu, tag))]
    active = transition(order, OrderStatus.ACTIVE, at=now, by=officer.user.id).evolve(
        device_serials=(tag.serial, hmu.serial))
    honest = ["status", "history", "device_serials"]
    # 1. The installation smuggles a change to the curfew's order reference: refused whole.
    smuggled = active.evolve(reference="MINE-NOW")
    ops = [op_for(officer, smuggled, changed=honest + ["reference"], action="installation", action_id="a1"),
           *(op_for(officer, d, changed=["state", "paired_with"], action="installation", action_id="a1")
             for d in fitted),
           op_for(officer, done, changed=["status", "outcome", "outcome_at", "device_serials"],
                  action="installation", action_id="a1")]
    results = push(officer, ops)
    assert {r.status for r in results} == {"refused"}
    assert all("reference" in r.reason and "refused as a whole" in r.reason for r in results)
    # 2. The visit alone, marked installed without its devices and order: refused.
    alone = push(officer, [op_for(officer, done, changed=["status", "outcome", "outcome_at", "device_serials"])])
    assert alone[0].status == "refused" and "one unit" in alone[0].reason
    # 3. A device of another order in the installation: refused whole.
    elsewhere = next(d for d in kit.world.devices if d.order_id and d.order_id != order.id
                     and d.state is DeviceState.ALLOCATED)
    stolen = elsewhere.evolve(state=DeviceState.INSTALLED, order_id=order.id, subject_id=order.subject_id)
    results = push(officer, [op_for(officer, active, changed=honest, action="installation", action_id="a2"),
                             op_for(officer, stolen, changed=["state", "order_id", "subject_id"],
                                    action="installation", action_id="a2"),
                             op_for(officer, done.evolve(device_serials=(stolen.serial,)),
                                    changed=["status", "outcome", "outcome_at", "device_serials"],
                                    action="installation", action_id="a2")])
    assert {r.status for r in results} == {"refused"}
    assert hub_row(kit, "orders", order.id)["status"] == "submitted"
    assert hub_row(kit, "devices", elsewhere.id)["order_id"] == elsewhere.order_id
    assert hub_row(kit, "visits", visit.id)["status"] == "scheduled"
    # 4. An installation that deletes the order on the way: refused whole.
    gone = op_for(officer, active.evolve(deleted=True), changed=honest, action="installation", action_id="a4")
    results = push(officer, [gone, *(op_for(officer, d, changed=["state", "paired_with"], action="installation",
                                            action_id="a4") for d in fitted),
                             op_for(officer, done, changed=["status", "outcome", "outcome_at", "device_serials"],
                                    action="installation", action_id="a4")])
    assert {r.status for r in results} == {"refused"} and "does not delete" in results[0].reason
    assert not hub_row(kit, "orders", order.id)["deleted"]
    # 5. The honest installation, pushed the same way, is taken whole.
    results = push(officer, [op_for(officer, active, changed=honest, action="installation", action_id="a3"),
                             *(op_for(officer, d, changed=["state", "paired_with"], action="installation",
                                      action_id="a3") for d in fitted),
                             op_for(officer, done, changed=["status", "outcome", "outcome_at", "device_serials"],
                                    action="installation", action_id="a3")])
    assert {r.status for r in results} == {"applied"}, [r.reason for r in results]
    assert hub_row(kit, "orders", order.id)["status"] == "active"


def test_an_action_is_never_split_across_push_batches(kit):
    officer = kit.desk(LEWISHAM, push_batch=2)
    _, order, _, _ = install_job(officer)
    for i in range(3):                          # unrelated work queued before it
        officer.store.put(Note(subject_id=order.subject_id, order_id=order.id, author_id=officer.user.id,
                               at=NOW, text=f"note {i}"))
    visit, order, devices = install_offline(kit, officer)
    seen: list[int] = []
    original = officer.client._post

    def counting(path, body, answer_type, **kw):
        if path == "/v1/push":
            seen.append(len({op.action_id for op in body.ops if op.action_id}))
            assert all(sum(1 for op in body.ops if op.action_id == a) == len(devices) + 2
                       for a in {op.action_id for op in body.ops if op.action_id})
        return original(path, body, answer_type, **kw)
    officer.client._post = counting
    report = officer.sync()
    assert not report.refused, report.refused
    assert sum(seen) == 1 and len(seen) >= 2
    assert hub_row(kit, "orders", order.id)["status"] == "active"


def test_an_offline_removal_reaches_the_centre_whole(kit):
    officer, boss = kit.desk(LEWISHAM), kit.desk(SUPERVISOR)
    visit = next(v for v in officer.store.find(Visit, order_by="id")
                 if v.kind is VisitKind.REMOVAL and v.status is VisitStatus.SCHEDULED)
    service = RemovalService(officer.store, officer.user, officer.store.clock)
    fitted = service.fitted(visit.id)
    assert len(fitted) == 2
    finish_checklist(officer.store, officer.user, officer.store.clock, visit.id,
                     conditions={fitted[1].serial: "not recovered"})
    record = service.record_removal(visit.id, [fitted[0].serial], reasons={fitted[1].serial: "wearer absconded"})
    assert record.not_recovered == (fitted[1].serial,)
    report = officer.sync()
    assert not report.refused, report.refused
    assert hub_row(kit, "visits", visit.id)["outcome"] == "equipment_not_recovered"
    back, lost = (hub_row(kit, "devices", d.id) for d in fitted)
    assert back["state"] == "recovered" and back["order_id"] is None and lost["state"] == "lost"
    boss.sync()
    assert boss.store.get(Device, fitted[0].id).state is DeviceState.RECOVERED
    # Kit back in the depot's hands leaves the officer's laptop.
    officer.sync()
    assert officer.store.get(Device, fitted[0].id) is None


def test_a_removal_of_kit_a_technician_took_in_meanwhile_is_refused_whole(kit):
    officer, tech = kit.desk(LEWISHAM), kit.desk("tech.london")
    visit = next(v for v in officer.store.find(Visit, order_by="id")
                 if v.kind is VisitKind.REMOVAL and v.status is VisitStatus.SCHEDULED)
    service = RemovalService(officer.store, officer.user, officer.store.clock)
    fitted = service.fitted(visit.id)
    finish_checklist(officer.store, officer.user, officer.store.clock, visit.id)
    service.record_removal(visit.id, [d.serial for d in fitted])
    # The wearer posted one device back; the depot checked it in before the officer synced.
    returned = tech.store.get(Device, fitted[1].id)
    tech.store.put(returned.evolve(state=DeviceState.RECOVERED, order_id=None, subject_id=None))
    assert not tech.sync().refused
    report = officer.sync()
    assert report.refused and all("refused as a whole" in r.reason for r in report.refused)
    assert hub_row(kit, "visits", visit.id)["status"] == "scheduled"
    assert hub_row(kit, "devices", fitted[0].id)["state"] == "awaiting_collection"
