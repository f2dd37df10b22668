"""Helpers for the convergence tests: a small world, skewed clocks, replicas that can be
killed mid-sync, a wire whose requests can be lost, held back or re-sent, and the checks
that replicas and the hub agree.

Everything is in-process: the hub is the real Starlette app over a SQLite hub store,
driven through ``httpx.ASGITransport`` from one blocking portal; every replica is a real
desktop ``Store`` (a SQLite file) with its own ``SyncClient`` and its own httpx client.
"""
from __future__ import annotations

import json

import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import anyio.from_thread
import httpx
import msgspec
from synckit import FAST_HASHER, NOW

from emdesk.domain.devices import Device, DeviceKind, DeviceState
from emdesk.domain.monitoring import Alert, EventKind, Note, TelemetryEvent
from emdesk.domain.orders import Order, OrderStatus
from emdesk.domain.people import Subject
from emdesk.domain.users import Role, User
from emdesk.domain.visits import Visit, VisitKind
from emdesk.store import Store
from emdesk.store.tables import BY_TABLE
from emdesk.store.telemetry import COLUMNS as TELEMETRY_COLUMNS
from emdesk.sync import protocol as p
from emdesk.sync.client import SyncClient, SyncReport
from emdesk.sync.hub import Hub, SQLiteHubStorage, create_app
from emdesk.sync.ordering import CONFLICTS, TABLE_ORDER
from emdesk.sync.scope import ALL, FINISHED_VISIT, principal_of

HUB_URL = "http://hub.test"
NW, LDN = "North West", "London"
PASSWORD = "pw"
REPLICA_TABLES = tuple(t for t in TABLE_ORDER if t != CONFLICTS)


# -- clocks ------------------------------------------------------------------------------


class WorldClock:
    """The true time; the hub reads it directly, every desktop through its own skew."""

    def __init__(self, at: datetime = NOW):
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> None:
        self.at += delta


class SkewedClock:
    """A desktop's wall clock: the true time plus its own error (which can change)."""

    def __init__(self, world: WorldClock, skew_ms: int = 0):
        self.world, self.skew_ms = world, skew_ms

    def now(self) -> datetime:
        return self.world.now() + timedelta(milliseconds=self.skew_ms)


# -- the world -----------------------------------------------------------------------------


def _stamped(record, at: datetime):
    return record.evolve(created_at=at, updated_at=at)


@dataclass
class World:
    users: dict[str, User]                       # username -> user
    records: list                                # everything but users, in load order

    def user_pairs(self) -> list[tuple[User, str]]:
        return [(u, PASSWORD) for u in self.users.values()]


OFFICERS = ("officer.a", "officer.b", "officer.c")


def small_world(at: datetime = NOW) -> World:
    """Three field officers, two monitoring operators (two regions), a supervisor; five
    cases over four people (one person on two cases held by different officers), each
    with a device, an open visit, an alert, notes and telemetry, and one cover visit
    (officer A booked on officer B's case)."""
    def mk(username: str, role: Role, region: str) -> User:
        return _stamped(User(username=username, display_name=username.title(), role=role, region=region), at)
    users = {u.username: u for u in (
        mk("officer.a", Role.FIELD_OFFICER, NW), mk("officer.b", Role.FIELD_OFFICER, NW),
        mk("officer.c", Role.FIELD_OFFICER, LDN), mk("monitor.nw", Role.MONITORING_OPERATOR, NW),
        mk("monitor.ldn", Role.MONITORING_OPERATOR, LDN), mk("supervisor", Role.SUPERVISOR, ""))}
    a, b, c = (users[n].id for n in OFFICERS)
    subjects = [_stamped(Subject(given_name=f"Person{i}", family_name="Test", phone=f"0700{i}"), at)
                for i in range(4)]
    plan = [(0, a, NW), (0, b, NW), (1, a, NW), (2, b, NW), (3, c, LDN)]
    records: list = list(subjects)
    orders = []
    for i, (si, officer, region) in enumerate(plan):
        order = _stamped(Order(reference=f"REF-{i}", subject_id=subjects[si].id, assigned_officer_id=officer,
                               region=region, status=OrderStatus.ACTIVE), at)
        orders.append(order)
    records += orders
    for i, order in enumerate(orders):
        records.append(_stamped(Device(kind=DeviceKind.GPS_TAG, serial=f"TAG-{i}", state=DeviceState.INSTALLED,
                                       region=order.region, order_id=order.id, subject_id=order.subject_id), at))
    for i, order in enumerate(orders):
        records.append(_stamped(Visit(order_id=order.id, subject_id=order.subject_id, kind=VisitKind.CHECK,
                                      officer_id=order.assigned_officer_id, window_start=at + timedelta(hours=i)), at))
    records.append(_stamped(Visit(order_id=orders[3].id, subject_id=orders[3].subject_id, kind=VisitKind.REPAIR,
                                  officer_id=a, window_start=at + timedelta(hours=9)), at))        # cover
    # Field work to come: for each officer a new case waiting for its kit (submitted, a tag and
    # a home unit allocated, an install visit) and an ended one whose kit is to be collected.
    for n, (who, region) in enumerate(((a, NW), (b, NW), (c, LDN))):
        person = _stamped(Subject(given_name=f"Fitting{n}", family_name="Test", phone=f"0711{n}"), at)
        records.insert(len(subjects), person)
        waiting = _stamped(Order(reference=f"INSTALL-{n}", subject_id=person.id, assigned_officer_id=who,
                                 region=region, status=OrderStatus.SUBMITTED), at)
        ended = _stamped(Order(reference=f"ENDED-{n}", subject_id=person.id, assigned_officer_id=who,
                               region=region, status=OrderStatus.ENDED), at)
        orders += [waiting, ended]
        records += [waiting, ended]
        for kind, serial, state, order in ((DeviceKind.RF_TAG, f"RF-{n}", DeviceState.ALLOCATED, waiting),
                                           (DeviceKind.HMU, f"HMU-{n}", DeviceState.ALLOCATED, waiting),
                                           (DeviceKind.RF_TAG, f"OLD-RF-{n}", DeviceState.AWAITING_COLLECTION, ended),
                                           (DeviceKind.HMU, f"OLD-HMU-{n}", DeviceState.AWAITING_COLLECTION, ended)):
            records.append(_stamped(Device(kind=kind, serial=serial, state=state, region=region, order_id=order.id,
                                           subject_id=person.id), at))
        records.append(_stamped(Visit(order_id=waiting.id, subject_id=person.id, kind=VisitKind.INSTALL,
                                      officer_id=who, window_start=at + timedelta(hours=2)), at))
        records.append(_stamped(Visit(order_id=ended.id, subject_id=person.id, kind=VisitKind.REMOVAL,
                                      officer_id=who, window_start=at + timedelta(hours=3)), at))
    for order in orders:
        records.append(_stamped(Note(subject_id=order.subject_id, order_id=order.id, at=at, text="case opened"), at))
    for s in subjects:
        records.append(_stamped(Note(subject_id=s.id, at=at, text="person noted"), at))
    for i, order in enumerate(orders[:5]):
        for n in range(2):
            records.append(_stamped(TelemetryEvent(id=device_event_id(f"TAG-{i}", n), device_serial=f"TAG-{i}",
                                                   order_id=order.id, at=at + timedelta(seconds=n),
                                                   kind=EventKind.CHECKIN), at))
    for i, order in enumerate(orders[:5]):
        records.append(_stamped(Alert(order_id=order.id, subject_id=order.subject_id, kind=EventKind.STRAP_TAMPER,
                                      raised_at=at), at))
    return World(users, records)


def device_event_id(serial: str, n: int) -> str:
    """An event id as a device makes it: the same event always has the same id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"emdesk-device:{serial}:{n}"))


# -- reproducible ids ------------------------------------------------------------------------


class DeterministicIds:
    """Record and desktop ids (UUIDv7) from a counting clock and a seeded generator while
    active, so that one run of the state machine replays exactly: ids order the rows the
    rules pick from, and a desktop id breaks ties between HLC stamps."""

    def __init__(self, seed: int = 0, start_ms: int = int(NOW.timestamp() * 1000)):
        import random
        from types import SimpleNamespace

        import emdesk.domain.ids as ids
        self._ids, self._saved = ids, (ids.time, ids.secrets)
        rng, ms = random.Random(seed), [start_ms]

        def time_ns() -> int:
            ms[0] += 1
            return ms[0] * 1_000_000
        ids.time = SimpleNamespace(time_ns=time_ns)
        ids.secrets = SimpleNamespace(randbits=rng.getrandbits)

    def restore(self) -> None:
        self._ids.time, self._ids.secrets = self._saved


# -- the wire --------------------------------------------------------------------------------


class Killed(Exception):
    """The desktop process died here (simulated)."""


class Wire:
    """One in-process hub app reached from many desktops, each through its own ``Line``."""

    def __init__(self, app):
        self._portal_cm = anyio.from_thread.start_blocking_portal()
        self.portal = self._portal_cm.__enter__()
        self.inner = httpx.ASGITransport(app=app)

    def deliver(self, request: httpx.Request) -> httpx.Response:
        async def go():
            response = await self.inner.handle_async_request(request)
            body = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=body)
        return self.portal.call(go)

    def close(self) -> None:
        self._portal_cm.__exit__(None, None, None)


@dataclass
class Sent:
    """A push that reached the hub and was answered: kept so it can be sent again."""

    request: p.PushRequest
    response: p.PushResponse


class Line(httpx.BaseTransport):
    """A desktop's connection: it can drop a request before or after the hub saw it, run
    something just before a push is delivered (another desktop overtaking it), and it
    records every answered push."""

    def __init__(self, wire: Wire):
        self.wire = wire
        self.fail: Callable[[str, str], bool] | None = None     # (path, "before"|"after") -> drop?
        self.before_push: Callable[[], None] | None = None      # one-shot
        self.pushes: list[Sent] = []
        # outbox seq -> what that edit replaced: a stamp pulled from the hub, or ("op", seq) for an
        # earlier edit of this desktop still unsent then (its stamp may change when re-stamped)
        self.replaced: dict[int, str | tuple[str, int]] = {}
        self.sent_stamps: dict[int, str] = {}   # outbox seq -> the stamp it reached the hub with

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if self.fail and self.fail(path, "before"):
            raise httpx.ConnectError("simulated: network down", request=request)
        if path == "/v1/push" and self.before_push is not None:
            hook, self.before_push = self.before_push, None
            hook()
        request.read()
        if path == "/v1/push":
            ops = p.decode(request.content, p.PushRequest).ops
            here = {op.device_seq: op.hlc for op in ops}
            for op in ops:
                # Causality survives re-stamping: an edit still sorts after what it replaced.
                before = self.replaced.get(op.device_seq, "")
                if isinstance(before, tuple):
                    before = here.get(before[1]) or self.sent_stamps.get(before[1], "")
                assert op.hlc > before, f"{op.table} {op.row_id}: pushed stamp {op.hlc} is not after {before}"
        response = self.wire.deliver(request)
        if path == "/v1/push" and response.status_code == 200:
            sent = Sent(p.decode(request.content, p.PushRequest), p.decode(response.content, p.PushResponse))
            self.pushes.append(sent)
            self.sent_stamps.update({op.device_seq: op.hlc for op in sent.request.ops})
        if self.fail and self.fail(path, "after"):
            raise httpx.ReadError("simulated: connection lost before the answer arrived", request=request)
        return response


# -- replicas -------------------------------------------------------------------------------------


class Replica:
    """One desktop: a store file, a skewed clock, a sync client, a line to the hub."""

    def __init__(self, name: str, user: User, path: Path, world_clock: WorldClock, wire: Wire, *, skew_ms: int = 0,
                 push_batch: int = 4, pull_limit: int = 5, bootstrap_limit: int = 7):
        self.name, self.user, self.path = name, user, path
        self.clock = SkewedClock(world_clock, skew_ms)
        self.line = Line(wire)
        self.http = httpx.Client(transport=self.line, base_url=HUB_URL)
        self.client_kw = {"push_batch": push_batch, "pull_limit": pull_limit, "bootstrap_limit": bootstrap_limit}
        self.store, _ = Store.create(path, plain=True, clock=self.clock)
        self.client = SyncClient(self.store, HUB_URL, http=self.http, **self.client_kw)
        self.restarts = 0
        self.dead = False

    @property
    def role(self) -> Role:
        return self.user.role

    @property
    def principal(self) -> str:
        return principal_of(self.user.role, self.user.id, self.user.region)

    def put(self, record, *, actor: str = "system"):
        """A local edit as the app makes it, remembering which version it replaced."""
        before = self.store.get(type(record), record.id, include_deleted=True)
        unsent = None
        if before is not None:
            with self.store.reading() as db:
                unsent = db.execute("SELECT max(seq) FROM outbox WHERE row_id = ? AND hlc = ?",
                                    [record.id, before.hlc]).fetchone()[0]
        after = self.store.put(record, actor=actor)
        if before is not None:
            assert after.hlc > before.hlc, f"{self.name}: edit stamped {after.hlc}, not after {before.hlc}"
            with self.store.reading() as db:
                seq = db.execute("SELECT max(seq) FROM outbox WHERE row_id = ?", [record.id]).fetchone()[0]
            self.line.replaced[seq] = ("op", unsent) if unsent is not None else before.hlc
        return after

    def join(self) -> SyncReport:
        self.client.register(self.user.username, PASSWORD, self.name)
        return self.client.sync_once()

    # -- a process that dies, and comes back -----------------------------------------------

    def restart(self) -> None:
        """The app starts again on the same file (after a kill, or a normal quit)."""
        try:
            self.store.close()
        except sqlite3.ProgrammingError:
            pass
        self.store = Store.open(self.path, clock=self.clock)
        self.dead = False
        self.client = SyncClient(self.store, HUB_URL, http=self.http, **self.client_kw)
        self.restarts += 1

    def _die(self):
        # Closing the connection in the middle of a transaction discards it, as a kill would.
        self.dead = True
        self.store.db.conn.close()
        raise Killed(self.name)

    def kill_after_applying(self, k: int) -> None:
        """Die after applying ``k`` pulled (or bootstrap) rows, inside the page's transaction."""
        store, original, count = self.store, self.store.apply_remote_many, [0]

        def apply_remote_many(table, payloads):
            payloads = list(payloads)
            if count[0] + len(payloads) > k:
                original(table, payloads[:k - count[0]])
                self._die()
            count[0] += len(payloads)
            return original(table, payloads)
        store.apply_remote_many = apply_remote_many
        original_rows = store.apply_remote_rows

        def apply_remote_rows(table, columns, rows_json, top_hlc):
            # Bootstrap pages (protocol 2): a table's rows in one insert; die after part of them.
            rows = json.loads(rows_json)
            if count[0] + len(rows) > k:
                original_rows(table, columns, json.dumps(rows[:k - count[0]]), top_hlc)
                self._die()
            count[0] += len(rows)
            return original_rows(table, columns, rows_json, top_hlc)
        store.apply_remote_rows = apply_remote_rows

    def kill_before_ack_commits(self) -> None:
        """Die after the hub answered a push, inside the transaction that drops the acked ops."""
        store, original = self.store, self.store.ack_outbox

        def ack_outbox(op_ids):
            with store.transaction():
                original(op_ids)
                self._die()
        store.ack_outbox = ack_outbox

    def run_until_killed(self, action: Callable[[], object]) -> bool:
        """Run ``action``; if the replica died on the way, restart it.  Returns whether it died."""
        self.dead = False
        try:
            action()
        except Exception:
            # What surfaces may be the store failing on its closed connection while unwinding.
            if not self.dead:
                raise
            self.restart()
            return True
        return False

    # -- one step of sync at a time ----------------------------------------------------------

    def push(self) -> SyncReport:
        report = SyncReport()
        with self.client._lock:
            self.client._push(report, lambda *a: None)
        return report

    def pull(self) -> SyncReport:
        report = SyncReport()
        with self.client._lock:
            if self.client.cursor() is None:
                report.bootstrapped += self.client._bootstrap(lambda *a: None)
            self.client._pull(report, lambda *a: None)
        return report

    def sync(self) -> SyncReport:
        return self.client.sync_once()

    def close(self) -> None:
        try:
            self.store.close()
        except sqlite3.ProgrammingError:
            pass
        self.http.close()

    # -- reading the replica --------------------------------------------------------------------

    def rows(self, table: str) -> dict[str, tuple[bool, dict]]:
        """id -> (deleted, record as plain data) for every row of a table."""
        cls = BY_TABLE[table]
        with self.store.reading() as db:
            found = db.execute(f"SELECT id, deleted, data FROM {table}").fetchall()
        return {rid: (bool(deleted), msgspec.to_builtins(msgspec.json.decode(data, type=cls)))
                for rid, deleted, data in found}

    def live(self, cls, **where):
        return self.store.find(cls, where=where or None, order_by="id")

    def refused_ids(self) -> set[tuple[str, str]]:
        return {(r["table"], r["row_id"]) for r in self.client.refusals()}

    def fk_problems(self) -> list:
        with self.store.reading() as db:
            return db.execute("PRAGMA foreign_key_check").fetchall()


# -- the hub side ------------------------------------------------------------------------------------


def hub_rows(hub: Hub) -> dict[str, dict[str, tuple[bool, dict]]]:
    """table -> id -> (deleted, record as plain data), for every replicated table."""
    out: dict[str, dict[str, tuple[bool, dict]]] = {t: {} for t in REPLICA_TABLES}
    with hub.storage.read("all") as tx:
        for tbl, rid, deleted, data in tx.all("SELECT tbl, id, deleted, data FROM hub_rows WHERE tbl <> ?",
                                              [CONFLICTS]):
            record = msgspec.json.decode(data, type=BY_TABLE[tbl])
            out[tbl][rid] = (bool(deleted), msgspec.to_builtins(record))
    return out


def hub_audience(hub: Hub, principal: str) -> set[tuple[str, str]]:
    with hub.storage.read("all") as tx:
        if principal == ALL:        # holds every row (never stored as an audience)
            return {(t, r) for t, r in tx.all("SELECT tbl, id FROM hub_rows WHERE tbl <> ?", [CONFLICTS])}
        return {(t, r) for t, r in tx.all("SELECT tbl, row_id FROM row_audience WHERE principal IN (?, '*') "
                                           "AND tbl <> ?", [principal, CONFLICTS])}


def hub_purged(hub: Hub) -> set[tuple[str, str]]:
    with hub.storage.read("all") as tx:
        return {(t, i) for t, i in tx.all("SELECT tbl, id FROM purged")}


def hub_deleted(hub: Hub) -> set[tuple[str, str]]:
    with hub.storage.read("all") as tx:
        return {(t, i) for t, i in tx.all("SELECT tbl, id FROM hub_rows WHERE deleted = 1")}


def make_hub(path: Path, clock) -> Hub:
    """A hub over a SQLite file; tombstones may be collected as soon as every desktop has
    synced past them (no 30-day wait), so GC happens inside a test run."""
    return Hub(SQLiteHubStorage(path, pool_size=4), clock=clock, hasher=FAST_HASHER, tombstone_days=0)


# -- what a role may hold, computed from the hub's rows (independently of row_audience) ---------------


def expected_scope(role: Role, user: User, rows: dict[str, dict[str, tuple[bool, dict]]]) -> set[tuple[str, str]]:
    """Every (table, id) this user's desktop should hold, live or tombstoned, per the scope rules."""
    orders = rows["orders"]
    if role in (Role.SUPERVISOR, Role.ADMIN):
        return {(t, i) for t in REPLICA_TABLES for i in rows[t]}

    def case_ok(order_id):
        o = orders.get(order_id)
        if o is None:
            return False
        data = o[1]
        if role is Role.FIELD_OFFICER:
            return data["assigned_officer_id"] == user.id
        return data["region"] == user.region

    my_orders = {i for i in orders if case_ok(i)}
    my_subjects = {orders[i][1]["subject_id"] for i in my_orders}

    def holds(d):          # a field officer holds an open visit: booked to her or in its crew
        return (role is Role.FIELD_OFFICER and d["status"] not in FINISHED_VISIT
                and user.id in (d["officer_id"], *(d.get("crew") or ())))

    # Cases she visits (an open, live visit of hers on them): what the door needs of them.
    held_visits = {i for i, (gone, d) in rows["visits"].items() if not gone and holds(d)}
    door_orders = my_orders | {o for o in (rows["visits"][i][1]["order_id"] for i in held_visits) if o in orders}
    door_subjects = {orders[i][1]["subject_id"] for i in door_orders}
    out = {("users", i) for i in rows["users"]}
    out |= {("orders", i) for i in door_orders}
    out |= {("subjects", i) for i in rows["subjects"] if i in door_subjects}
    for i, (_, d) in rows["visits"].items():
        if d["order_id"] in my_orders or holds(d):
            out.add(("visits", i))
    for i, (_, d) in rows["notes"].items():
        if (d["order_id"] in my_orders) or (not d["order_id"] and d["subject_id"] in my_subjects):
            out.add(("notes", i))
    out |= {("devices", i) for i, (_, d) in rows["devices"].items() if d["order_id"] in door_orders}
    # A visit's checklist ticks go where its case goes, and to the officers holding the visit.
    out |= {("checklist_ticks", i) for i, (_, d) in rows["checklist_ticks"].items()
            if d["order_id"] in my_orders or d["visit_id"] in held_visits}
    if role is Role.MONITORING_OPERATOR:
        for t in ("alerts", "incidents", "breach_packs", "outcomes"):
            out |= {(t, i) for i, (_, d) in rows[t].items() if d.get("order_id") in my_orders}
    return out


# -- a scratch directory -----------------------------------------------------------------------------


class Scratch:
    def __init__(self, prefix: str = "emdesk-converge-"):
        self.path = Path(tempfile.mkdtemp(prefix=prefix))

    def cleanup(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


@dataclass
class Made:
    """What the test made on desktops, to check that nothing was lost or doubled."""

    notes: dict[str, dict] = field(default_factory=dict)        # id -> content fields
    telemetry: dict[tuple[str, int, str], str] = field(default_factory=dict)   # (device, at, kind) -> order id
    device_events: dict[str, int] = field(default_factory=dict)  # serial -> next event number


# -- the convergence checks ------------------------------------------------------------------------------


def check_converged(hub: Hub, replicas: list[Replica], *, made: Made, seeded: set[tuple[str, str]],
                    ever_deleted: set[tuple[str, str]]) -> None:
    """After quiet rounds: every replica holds exactly its scope with the hub's version of each
    row; nothing made was lost or doubled; nothing deleted came back."""
    rows = hub_rows(hub)
    purged = hub_purged(hub)
    on_hub = {(t, i) for t in rows for i in rows[t]}
    problems: list[str] = []

    # The hub itself: no order without its subject; tombstones stay dead.
    for oid, (deleted, data) in rows["orders"].items():
        if data["subject_id"] and data["subject_id"] not in rows["subjects"]:
            problems.append(f"hub: order {oid} refers to a subject the hub does not have")
    for key in ever_deleted:
        if key in on_hub and not rows[key[0]][key[1]][0]:
            problems.append(f"hub: deleted {key} is live again")

    # Notes made on desktops: once each on the hub (or refused, and the refusal kept), as made;
    # nothing on the hub that nobody made.
    refused = set().union(*(r.refused_ids() for r in replicas)) if replicas else set()
    for table, mine in (("notes", made.notes),):
        for rid, content in mine.items():
            if rid in rows[table]:
                got = rows[table][rid][1]
                diff = {k: (v, got.get(k)) for k, v in content.items() if got.get(k) != v}
                if diff:
                    problems.append(f"hub: {table} {rid} differs from what was made: {diff}")
            elif (table, rid) not in refused:
                problems.append(f"hub: {table} {rid} was made on a desktop, never refused, and is not on the hub")
        strays = {i for i in rows[table] if i not in mine and (table, i) not in seeded}
        if strays:
            problems.append(f"hub: {table} nobody made: {sorted(strays)}")
    with hub.storage.read("all") as tx:
        dup = tx.all("SELECT op_id FROM applied_ops GROUP BY op_id HAVING count(*) > 1")
        if dup:
            problems.append(f"hub: op ids applied twice: {dup}")

    problems += field_work_whole(rows)
    problems += events_converged(hub, replicas, made, rows)

    held: dict[str, dict[str, dict[str, tuple[bool, dict]]]] = {}
    for rep in replicas:
        name = rep.name
        if rep.store.outbox_count():
            problems.append(f"{name}: {rep.store.outbox_count()} ops still in the outbox")
        if rep.fk_problems():
            problems.append(f"{name}: foreign key problems {rep.fk_problems()}")
        mine = held[name] = {t: rep.rows(t) for t in REPLICA_TABLES}
        keys = {(t, i) for t in mine for i in mine[t]}
        live = {(t, i) for t, i in keys if not mine[t][i][0]}
        scope = expected_scope(rep.role, rep.user, rows)
        hub_live_scope = {(t, i) for t, i in scope if not rows[t][i][0]}
        audience = hub_audience(hub, rep.principal)
        if scope != audience:
            problems.append(f"{name}: hub audience differs from the scope rules: extra "
                            f"{sorted(audience - scope)[:5]}, missing {sorted(scope - audience)[:5]}")
        if live - hub_live_scope:
            problems.append(f"{name}: holds live rows outside its scope: {sorted(live - hub_live_scope)[:8]}")
        if hub_live_scope - live:
            problems.append(f"{name}: misses rows of its scope: {sorted(hub_live_scope - live)[:8]}")
        outside = {k for k in keys - live if k not in scope and k not in purged}
        if outside:
            problems.append(f"{name}: holds tombstones outside its scope: {sorted(outside)[:8]}")
        for t, i in sorted(keys):
            deleted, data = mine[t][i]
            if (t, i) in ever_deleted and not deleted:
                problems.append(f"{name}: deleted {(t, i)} is live again")
            if i in rows[t]:
                if rows[t][i] != (deleted, data):
                    hub_data = rows[t][i][1]
                    diff = {k: (v, hub_data.get(k)) for k, v in data.items() if hub_data.get(k) != v}
                    problems.append(f"{name}: {t} {i} differs from the hub: {diff}")
            elif not deleted:
                problems.append(f"{name}: {t} {i} is live here but not on the hub")
        if rep.role in (Role.SUPERVISOR, Role.ADMIN):
            with rep.store.reading() as db:
                local = {r[0] for r in db.execute("SELECT id FROM conflicts")}
            with hub.storage.read("all") as tx:
                central = {r[0] for r in tx.all("SELECT id FROM hub_rows WHERE tbl = ?", [CONFLICTS])}
            if local != central:
                problems.append(f"{name}: conflicts differ from the hub's ({len(local)} vs {len(central)})")

    # Pairwise, where scopes overlap (implied by the above; said directly).
    names = list(held)
    for x in range(len(names)):
        for y in range(x + 1, len(names)):
            a, b = held[names[x]], held[names[y]]
            for t in REPLICA_TABLES:
                for i in a[t].keys() & b[t].keys():
                    if a[t][i] != b[t][i]:
                        problems.append(f"{names[x]} and {names[y]} disagree on {t} {i}")
    assert not problems, "not converged:\n  " + "\n  ".join(problems[:40])


def hub_events(hub: Hub) -> dict[tuple[str, int, str], tuple]:
    """(device, at, kind) -> the whole event row, as the hub holds it."""
    with hub.storage.read("all") as tx:
        found = tx.all(f"SELECT {', '.join(TELEMETRY_COLUMNS)} FROM hub_device_events")
    return {(r[1], r[2], r[3]): tuple(r) for r in found}


def events_converged(hub: Hub, replicas: list, made: Made, rows: dict) -> list[str]:
    """Device events taken in at the hub (some twice) are there once each; every desktop holds
    only events the hub holds, as the hub holds them, of orders in its scope (the monitoring
    centre of the order's region, supervisors; officers and technicians none); a supervisor
    (whose scope never changes) holds every one."""
    problems = []
    central = hub_events(hub)
    with hub.storage.read("all") as tx:
        twice = tx.all("SELECT device, at, kind FROM hub_device_events GROUP BY device, at, kind HAVING count(*) > 1")
    if twice:
        problems.append(f"hub: device events stored twice: {twice[:5]}")
    for key, order_id in made.telemetry.items():
        if central.get(key, (None,))[0] != order_id:
            problems.append(f"hub: device event {key} taken in for {order_id} is not there as taken in")
    regions = {oid: d.get("region") for oid, (_, d) in rows["orders"].items()}   # tombstones: still held
    for rep in replicas:
        with rep.store.reading() as db:
            local = {(r[1], r[2], r[3]): tuple(r) for r in db.execute(
                f"SELECT {', '.join(TELEMETRY_COLUMNS)} FROM device_events_named").fetchall()}
        wrong = [k for k, row in local.items() if central.get(k) != row]
        if wrong:
            problems.append(f"{rep.name}: device events the hub does not hold so: {sorted(wrong)[:5]}")
        if rep.role in (Role.SUPERVISOR, Role.ADMIN):
            allowed = set(regions)
        elif rep.role is Role.MONITORING_OPERATOR:
            allowed = {oid for oid, region in regions.items() if region == rep.user.region}
        else:
            allowed = set()
        outside = sorted({row[0] for row in local.values()} - allowed)
        if outside:
            problems.append(f"{rep.name}: holds device events of orders outside its scope: {outside[:5]}")
        if rep.role in (Role.SUPERVISOR, Role.ADMIN):
            missing = set(central) - set(local)
            if missing:
                problems.append(f"{rep.name}: misses device events: {sorted(missing)[:5]}")
    return problems


def field_work_whole(rows: dict[str, dict[str, tuple[bool, dict]]]) -> list[str]:
    """Installations and removals on the hub are whole: a visit recorded as installed has its
    order listing the serials and the devices fitted on that order (or since taken off it by a
    removal); a removal's recovered devices are off the order."""
    problems = []
    by_serial = {d["serial"]: d for _, d in rows["devices"].values()}
    for vid, (deleted, v) in rows["visits"].items():
        if deleted or v["status"] != "completed":
            continue
        if v["outcome"] == "installed":
            order = rows["orders"].get(v["order_id"], (False, {}))[1]
            missing = set(v["device_serials"]) - set(order.get("device_serials") or ())
            if missing:
                problems.append(f"hub: installation {vid} is not on its order: {sorted(missing)}")
            for serial in v["device_serials"]:
                d = by_serial.get(serial, {})
                if d.get("state") == "allocated" or (d.get("state") == "installed" and d.get("order_id") != v["order_id"]):
                    problems.append(f"hub: installation {vid} left {serial} {d.get('state')} on {d.get('order_id')}")
        elif v["outcome"] in ("removed", "equipment_not_recovered"):
            for serial in v["device_serials"]:
                d = by_serial.get(serial, {})
                if d.get("order_id") == v["order_id"]:
                    problems.append(f"hub: removal {vid} left {serial} on its order")
    return problems


# -- a small office, for scripted scenarios -------------------------------------------------------------


class Office:
    """The small world on a hub, and desktops joined to it; ``close()`` when done."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.world = WorldClock()
        self.data = small_world(self.world.now())
        self.hub = make_hub(tmp / "hub.db", self.world)
        self.hub.load(self.data.user_pairs(), self.data.records)
        self.wire = Wire(create_app(self.hub))
        self.replicas: list[Replica] = []
        self.seeded = {(type(r).table, r.id) for r in self.data.records}

    def desk(self, username: str, *, skew_ms: int = 0, join: bool = True, **kw) -> Replica:
        rep = Replica(f"{username}#{len(self.replicas)}", self.data.users[username],
                      self.tmp / f"desk{len(self.replicas)}.db", self.world, self.wire, skew_ms=skew_ms, **kw)
        self.replicas.append(rep)
        if join:
            rep.join()
        return rep

    def user_id(self, username: str) -> str:
        return self.data.users[username].id

    def quiet_rounds(self, n: int = 2) -> None:
        for _ in range(n):
            for rep in self.replicas:
                rep.sync()

    def check(self, made: Made | None = None, ever_deleted: set[tuple[str, str]] = frozenset()) -> None:
        check_converged(self.hub, self.replicas, made=made or Made(), seeded=self.seeded,
                        ever_deleted=set(ever_deleted) | hub_deleted(self.hub))

    def close(self) -> None:
        for rep in self.replicas:
            rep.close()
        self.wire.close()
        self.hub.storage.close()
