"""The live queue over a real store: flat rows with the cohort, name and deadlines joined in,
scoped by role, and a cursor that returns only what changed (however it was written)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from emdesk.domain.clock import FixedClock
from emdesk.domain.deadlines import deadlines
from emdesk.domain.monitoring import Incident, IncidentStatus
from emdesk.domain.orders import Cohort, Order, OrderStatus
from emdesk.domain.people import Subject
from emdesk.domain.users import Permission, Role, User
from emdesk.services.errors import AccessDenied, ServiceError
from emdesk.services.incidents import IncidentService
from emdesk.services.queue import IncidentQueue
from emdesk.store import Store, migrations
from emdesk.store.connection import connect
from emdesk.store.store import encode, replica_row

UTC = timezone.utc
NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)
PERIOD = datetime(2026, 12, 1, 7, tzinfo=UTC)       # 07:00 London (winter)


def operator(region: str) -> User:
    return User(username=f"op-{region}", display_name="Op", role=Role.MONITORING_OPERATOR, region=region)


SUPERVISOR = User(username="sup", display_name="Sup", role=Role.SUPERVISOR, region="Wales")


def people_and_orders(region: str, n: int, cohort=Cohort.COURT_BAIL):
    subjects = [Subject(given_name=f"Ann{k}", family_name=region.split()[0]) for k in range(n)]
    orders = [Order(reference=f"{region[:2].upper()}-{k}", subject_id=s.id, cohort=cohort, status=OrderStatus.ACTIVE,
                    region=region) for k, s in enumerate(subjects)]
    return subjects, orders


def incident(order: Order, k: int = 0, **fields) -> Incident:
    start = PERIOD + timedelta(hours=12, minutes=k)
    return Incident(order_id=order.id, subject_id=order.subject_id, reference=order.reference, region=order.region,
                    condition="curfew", codes=("AL08", "AL09"), period_start=PERIOD, started_at=start,
                    ended_at=start + timedelta(minutes=46), seconds=2760.0, priority=60 + k,
                    reasons=("out past curfew start (AL08, AL09)", "lasted 46 min (+15)"), **fields)


@pytest.fixture
def store(tmp_path):
    store, _ = Store.create(tmp_path / "q.db", plain=True, clock=FixedClock(NOW))
    yield store
    store.close()


@pytest.fixture
def world(store):
    """Two orders in the West Midlands (three incidents), one in Wales (one)."""
    wm_people, wm_orders = people_and_orders("West Midlands", 2)
    wa_people, wa_orders = people_and_orders("Wales", 1, Cohort.IMMIGRATION)
    with store.transaction():
        store.put_many([*wm_people, *wa_people])
        store.put_many([*wm_orders, *wa_orders])
        store.put_many([incident(wm_orders[0], 0), incident(wm_orders[0], 1, technical=True,
                                                                status=IncidentStatus.AUTO_CLOSED),
                        incident(wm_orders[1], 2), incident(wa_orders[0], 3)])
    return store


def test_a_snapshot_row_carries_the_incident_the_cohort_the_name_and_the_deadlines(world):
    batch = IncidentQueue(world, SUPERVISOR, world.clock).snapshot()
    assert len(batch.items) == 4 and batch.removed == () and int(batch.cursor) > 0
    for item in batch.items:
        inc = world.get(Incident, item.id)
        order = world.get(Order, inc.order_id)
        person = world.get(Subject, inc.subject_id)
        due = deadlines(inc.period_start)
        assert (item.order_id, item.subject_id, item.reference, item.region) == (
            inc.order_id, inc.subject_id, inc.reference, inc.region)
        assert (item.subject_name, item.cohort) == (person.full_name, order.cohort.value)
        assert (item.condition, item.codes, item.reasons, item.status, item.priority, item.technical) == (
            inc.condition, inc.codes, inc.reasons, inc.status.value, inc.priority, inc.technical)
        assert (item.started_at, item.ended_at, item.seconds, item.period_start) == (
            inc.started_at, inc.ended_at, inc.seconds, inc.period_start)
        assert (item.notify_by, item.pack_by) == (due.notify_by, due.pack_by) == (
            datetime(2026, 12, 2, 10, tzinfo=UTC), datetime(2026, 12, 3, 12, tzinfo=UTC))
        assert item.updated.isdigit() and int(item.updated) <= int(batch.cursor)


@pytest.mark.parametrize(("user", "regions"), [
    (operator("West Midlands"), {"West Midlands"}),
    (operator("Wales"), {"Wales"}),
    (operator("Nowhere"), set()),
    (SUPERVISOR, {"West Midlands", "Wales"}),
])
def test_operators_see_their_region_supervisors_all(world, user, regions):
    items = IncidentQueue(world, user, world.clock).snapshot().items
    assert {i.region for i in items} == regions
    assert len(items) == sum(1 for i in world.find(Incident) if i.region in regions)


@pytest.mark.parametrize("role", [Role.FIELD_OFFICER, Role.TECHNICIAN, Role.ADMIN])
def test_roles_that_do_not_work_alerts_are_refused(world, role):
    with pytest.raises(AccessDenied, match="do not work the incident queue"):
        IncidentQueue(world, User(username="x", display_name="X", role=role), world.clock)


class NoNames(User, frozen=True, kw_only=True):
    """An account that works alerts but may not see personal details (no such role today)."""

    def can(self, permission: Permission) -> bool:
        return permission is not Permission.VIEW_PERSONAL_DETAILS and super().can(permission)


def test_names_are_blank_for_a_user_who_may_not_see_personal_details(world):
    user = NoNames(username="n", display_name="N", role=Role.SUPERVISOR)
    queue = IncidentQueue(world, user, world.clock)
    assert [i.subject_name for i in queue.snapshot().items] == [""] * 4
    first = world.find(Incident)[0]
    IncidentService(world, SUPERVISOR, world.clock).acknowledge(first.id)
    assert [i.subject_name for i in queue.changes("").items] == [""] * 4


def test_nothing_changed_means_an_empty_batch_and_the_same_cursor(world):
    queue = IncidentQueue(world, SUPERVISOR, world.clock)
    batch = queue.snapshot()
    again = queue.changes(batch.cursor)
    assert (again.items, again.removed, again.cursor) == ([], (), batch.cursor)


def test_an_operators_action_comes_back_as_the_one_changed_row(world):
    wm = operator("West Midlands")
    queue = IncidentQueue(world, wm, world.clock)
    batch = queue.snapshot()
    target = next(i for i in batch.items if i.status == "open")
    IncidentService(world, wm, world.clock).acknowledge(target.id)
    changed = queue.changes(batch.cursor)
    assert [(i.id, i.status) for i in changed.items] == [(target.id, "acknowledged")]
    assert changed.removed == () and int(changed.cursor) > int(batch.cursor)
    assert queue.changes(changed.cursor).items == []


def test_a_tombstoned_incident_is_reported_removed(world):
    queue = IncidentQueue(world, SUPERVISOR, world.clock)
    batch = queue.snapshot()
    gone = batch.items[0].id
    world.tombstone(Incident, gone)
    changed = queue.changes(batch.cursor)
    assert (changed.items, changed.removed) == ([], (gone,))
    assert gone not in {i.id for i in queue.snapshot().items}


def test_an_incident_moved_to_another_region_leaves_one_queue_and_joins_the_other(world):
    wm, wales = (IncidentQueue(world, operator(r), world.clock) for r in ("West Midlands", "Wales"))
    marks = wm.snapshot().cursor, wales.snapshot().cursor
    moved = next(i for i in world.find(Incident) if i.region == "West Midlands")
    world.put(moved.evolve(region="Wales"))
    assert (wm.changes(marks[0]).items, wm.changes(marks[0]).removed) == ([], (moved.id,))
    assert [i.id for i in wales.changes(marks[1]).items] == [moved.id]


def test_rows_pulled_by_sync_and_evictions_move_the_cursor(world):
    """Sync writes with change capture off and the hub's (older) stamps: the queue still
    hears of every row, and of rows evicted from this desktop."""
    queue = IncidentQueue(world, SUPERVISOR, world.clock)
    batch = queue.snapshot()
    order = world.find(Order, where={"region": "Wales"})[0]
    # A version stamped long before anything this desktop wrote.
    then = NOW - timedelta(days=3)
    pulled = incident(order, 9).evolve(created_at=then, updated_at=then, origin="other-desk",
                                       hlc=f"{int(then.timestamp() * 1000):013d}-0000-other")
    outbox = world.outbox_count()
    with world.applying_remote():
        world.apply_remote_many("incidents", [encode(pulled)])
    assert world.outbox_count() == outbox                 # not a local edit
    changed = queue.changes(batch.cursor)
    assert [i.id for i in changed.items] == [pulled.id] and changed.items[0].subject_name == "Ann0 Wales"
    # The hub's next version of a row this desktop holds (sync's upsert).
    revised = pulled.evolve(status=IncidentStatus.ESCALATED, hlc=pulled.hlc.replace("-0000-", "-0001-"))
    with world.applying_remote():
        world.apply_remote_many("incidents", [encode(revised)])
    upserted = queue.changes(changed.cursor)
    assert [(i.id, i.status) for i in upserted.items] == [(pulled.id, "escalated")]
    changed = upserted
    evicted = batch.items[0].id
    with world.applying_remote():
        world.evict("incidents", evicted)
    after = queue.changes(changed.cursor)
    assert (after.items, after.removed) == ([], (evicted,))
    # Ready-made rows from a bootstrap page (apply_remote_rows) are heard too.
    page = incident(order, 10).evolve(created_at=NOW, updated_at=NOW, origin="hub", hlc=pulled.hlc)
    columns, values = replica_row(page)
    with world.applying_remote():
        world.apply_remote_rows("incidents", columns, json.dumps([values]), page.hlc)
    paged = queue.changes(after.cursor)
    assert [i.id for i in paged.items] == [page.id]
    columns, values = replica_row(page.evolve(priority=99, hlc=page.hlc.replace("-0000-", "-0002-")))
    with world.applying_remote():
        world.apply_remote_rows("incidents", columns, json.dumps([values]), values[columns.index("hlc")])
    assert [(i.id, i.priority) for i in queue.changes(paged.cursor).items] == [(page.id, 99)]


def test_a_change_of_cohort_or_name_comes_back_on_the_orders_incidents(world):
    queue = IncidentQueue(world, SUPERVISOR, world.clock)
    batch = queue.snapshot()
    order = world.find(Order, where={"region": "Wales"})[0]
    world.put(order.evolve(cohort=Cohort.POST_RELEASE))
    changed = queue.changes(batch.cursor)
    assert [(i.order_id, i.cohort) for i in changed.items] == [(order.id, Cohort.POST_RELEASE.value)]
    person = world.get(Subject, order.subject_id)
    world.put(person.evolve(family_name="Jones"))
    renamed = queue.changes(changed.cursor)
    assert [i.subject_name for i in renamed.items] == ["Ann0 Jones"]
    world.put(world.get(Subject, person.id).evolve(phone="0121 496 0000"))
    assert queue.changes(renamed.cursor).items == []      # other edits to the person: no queue change


@pytest.mark.parametrize("cursor", ["abc", "-1", "1.5", "12x"])
def test_a_cursor_the_queue_did_not_give_is_refused(world, cursor):
    with pytest.raises(ServiceError, match="^cursor: "):
        IncidentQueue(world, SUPERVISOR, world.clock).changes(cursor)


def test_a_cursor_from_beyond_this_store_is_refused(world):
    queue = IncidentQueue(world, SUPERVISOR, world.clock)
    ahead = str(int(queue.snapshot().cursor) + 1)
    with pytest.raises(ServiceError, match="^cursor: .* take a new snapshot"):
        queue.changes(ahead)


def test_an_empty_cursor_means_everything(world):
    queue = IncidentQueue(world, SUPERVISOR, world.clock)
    assert {i.id for i in queue.changes("").items} == {i.id for i in queue.snapshot().items}


def test_a_version_six_store_fills_the_queue_when_it_upgrades(tmp_path):
    path = tmp_path / "v6.db"
    (tmp_path / "v6.db.keys").write_text(json.dumps({"format": 1, "plain": True, "slots": {}}))
    db = connect(path, None)
    assert migrations.migrate(db, up_to=6) == [1, 2, 3, 4, 5, 6]
    people, orders = people_and_orders("Wales", 1)
    made = [incident(orders[0], 0), incident(orders[0], 1).evolve(deleted=True)]
    for table, record in (("subjects", people[0]), ("orders", orders[0]), *(("incidents", r) for r in made)):
        record = record.evolve(created_at=NOW, updated_at=NOW, origin="old-desk")
        columns, values = replica_row(record)
        db.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(values))})", values)
    db.conn.close()
    store = Store.open(path, clock=FixedClock(NOW))
    try:
        items = IncidentQueue(store, SUPERVISOR, store.clock).snapshot().items
        assert [(i.id, i.subject_name, i.cohort) for i in items] == [(made[0].id, "Ann0 Wales", "court_bail")]
    finally:
        store.close()


@pytest.mark.parametrize(("role", "works"), [
    (Role.MONITORING_OPERATOR, True), (Role.SUPERVISOR, True), (Role.FIELD_OFFICER, False),
    (Role.TECHNICIAN, False), (Role.ADMIN, False),
])
def test_the_session_has_a_queue_and_triage_only_for_alert_work(world, role, works):
    from emdesk.domain.geocoding import GazetteerGeocoder
    from emdesk.services.context import AppContext

    user = world.put(User(username=f"u-{role.value}", display_name="U", role=role, region="West Midlands"))
    ctx = AppContext.for_user(world, user, world.clock, GazetteerGeocoder())
    assert (ctx.queue is not None, ctx.incidents is not None) == (works, works)
    if works:
        assert {i.region for i in ctx.queue.snapshot().items} <= {"West Midlands", "Wales"}


def test_an_order_and_person_pulled_after_their_incident_fill_in_its_row(store):
    people, orders = people_and_orders("Wales", 1, Cohort.SPECIALS)
    queue = IncidentQueue(store, SUPERVISOR, store.clock)
    early = incident(orders[0]).evolve(created_at=NOW, updated_at=NOW, origin="hub", hlc=f"{10**12:013d}-0000-hub")
    with store.applying_remote():
        store.apply_remote_many("incidents", [encode(early)])
    first = queue.snapshot()
    assert [(i.cohort, i.subject_name) for i in first.items] == [("", "")]
    with store.applying_remote():
        for table, record in (("subjects", people[0]), ("orders", orders[0])):
            store.apply_remote_many(table, [encode(record.evolve(created_at=NOW, updated_at=NOW, origin="hub",
                                                                 hlc=f"{10**12 + 1:013d}-0000-hub"))])
    assert [(i.id, i.cohort, i.subject_name) for i in queue.changes(first.cursor).items] == [
        (early.id, orders[0].cohort.value, "Ann0 Wales")]
