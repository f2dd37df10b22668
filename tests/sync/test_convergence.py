"""Property-based convergence: several desktops and one hub, random work, random faults.

A hypothesis state machine drives 3 to 5 desktop replicas (real SQLite stores, each with its
own sync client and its own clock, up to an hour wrong) against one in-process hub (the
real Starlette app over a SQLite hub store).  Users: three field officers, two monitoring
operators (two regions), a supervisor; two replicas may belong to the same user.

Rules: officers record visits; operators and the supervisor edit, reassign, move and
delete cases, and work alerts; device events are taken in at the hub (ids made by the device,
sometimes the same event twice) and reach desktops by the telemetry feed; everyone appends notes and tries things they may not do; deletes;
new cases; pushes and pulls separately and as ``sync_once``; a desktop killed after k rows
of a pulled page or after the hub answered a push but before the acknowledgement
committed; answers lost on the wire; old push batches sent again; one desktop's push
overtaking another's; clocks advancing and skewing; hub GC; desktops joining mid-run.

After the run, TWO QUIET ROUNDS (every replica syncs twice, no new edits), then:
  * outboxes are empty, and every replica holds exactly its scope, computed from the
    hub's rows by the scope rules (so nobody holds another officer's cases), with the
    hub's version of every row (so all replicas agree where their scopes overlap);
  * nothing applied twice: notes made on desktops are on the hub once (or were refused,
    and the refusal is kept), with the content they were made with; device events are on
    the hub once; a desktop holds only the hub's events of its scope (a supervisor all);
  * nothing deleted comes back: once the hub held a tombstone, the row is deleted or
    gone on the hub and on every replica, at every step and at the end;
  * the hub's row audiences equal what the scope rules give from its rows;
and at every edit and every push: a change is stamped after the version it replaced,
re-stamped (clock refused) or not, so a later edit never loses to what it overwrote.

The scripted tests at the end replay, readably, each bug the machine found.

Profiles (``EMDESK_CONVERGENCE_PROFILE``): ``ci`` (default, ~15 s), ``long``, ``thorough``;
``dev`` skips shrinking, sized by ``EMDESK_CONVERGENCE_EXAMPLES`` / ``EMDESK_CONVERGENCE_STEPS``.
"""
from __future__ import annotations

import functools
import os
import sqlite3
from datetime import timedelta

import pytest
from checklist_kit import finish_checklist
from convergekit import (
    LDN,
    NW,
    OFFICERS,
    DeterministicIds,
    Killed,
    Made,
    Office,
    Replica,
    Scratch,
    Wire,
    WorldClock,
    device_event_id,
    hub_deleted,
    hub_purged,
    hub_rows,
    make_hub,
    small_world,
)
from convergekit import check_converged as converged
from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

from emdesk.domain.devices import Device, DeviceKind, DeviceState
from emdesk.domain.monitoring import ALERT_ORDER, Alert, Note
from emdesk.domain.orders import Order, OrderStatus
from emdesk.domain.people import Subject
from emdesk.domain.users import Role
from emdesk.domain.visits import OutcomeCode, Visit, VisitKind, VisitStatus
from emdesk.services.checklists import ChecklistError
from emdesk.services.errors import AccessDenied
from emdesk.services.installs import InstallError, InstallService
from emdesk.services.removals import RemovalError, RemovalService
from emdesk.sync import protocol as p
from emdesk.sync.errors import HubUnreachable
from emdesk.sync.hub import create_app
from emdesk.sync.hub.telemetry import HubTelemetry

_COMMON = {"deadline": None, "database": None, "print_blob": True,
           "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much]}
# CI is deterministic (the same examples every run), so a red build always reproduces;
# the "long" and "thorough" profiles explore new ones.
settings.register_profile("ci", max_examples=40, stateful_step_count=30, derandomize=True, **_COMMON)
settings.register_profile("long", max_examples=300, stateful_step_count=40, **_COMMON)
settings.register_profile("thorough", max_examples=2000, stateful_step_count=60, **_COMMON)
settings.register_profile("dev", max_examples=int(os.environ.get("EMDESK_CONVERGENCE_EXAMPLES", "30")),
                          stateful_step_count=int(os.environ.get("EMDESK_CONVERGENCE_STEPS", "25")),
                          phases=[Phase.explicit, Phase.generate], **_COMMON)
PROFILE = os.environ.get("EMDESK_CONVERGENCE_PROFILE", "ci")

HOUR_MS = 3_600_000
SKEW = st.one_of(st.just(0), st.integers(-HOUR_MS, HOUR_MS), st.sampled_from([-HOUR_MS, HOUR_MS, 6 * 60_000, 3 * 60_000]))
BASE_USERS = ("officer.a", "monitor.nw", "supervisor")
EXTRA_USERS = ("officer.b", "officer.a", "officer.c", "monitor.ldn", "monitor.nw", "supervisor")
PICK = st.integers(0, 1_000)
REPLICA = st.integers(0, 4)
CASE_ROLES = (Role.MONITORING_OPERATOR, Role.SUPERVISOR)


def guarded(fn):
    """Keep ``healthy`` false while a step runs, so teardown only checks a run that got through."""
    @functools.wraps(fn)
    def step(self, **kw):
        self.healthy = False
        out = fn(self, **kw)
        self.healthy = True
        return out
    return step


class Convergence(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.scratch: Scratch | None = None
        self.replicas: list[Replica] = []
        self.healthy = True
        self.n = 0
        self.months_away = 0

    # -- set-up and tear-down ------------------------------------------------------------

    @initialize(extra=st.lists(st.sampled_from(EXTRA_USERS), max_size=2), skews=st.lists(SKEW, min_size=5, max_size=5))
    @guarded
    def setup(self, extra, skews):
        self.ids = DeterministicIds()
        self.scratch = Scratch()
        self.world = WorldClock()
        self.data = small_world(self.world.now())
        self.hub = make_hub(self.scratch.path / "hub.db", self.world)
        self.hub.load(self.data.user_pairs(), self.data.records)
        self.wire = Wire(create_app(self.hub))
        self.made = Made(device_events={f"TAG-{i}": 2 for i in range(5)})
        self.seeded = {(type(r).table, r.id) for r in self.data.records}
        self.ever_deleted: set[tuple[str, str]] = set()
        for username, skew in zip((*BASE_USERS, *extra), skews, strict=False):
            self._add(username, skew)

    def _add(self, username: str, skew: int, kill_after: int | None = None) -> Replica:
        rep = Replica(f"{username}#{len(self.replicas)}", self.data.users[username],
                      self.scratch.path / f"desk{len(self.replicas)}.db", self.world, self.wire, skew_ms=skew)
        self.replicas.append(rep)
        rep.client.register(rep.user.username, "pw", rep.name)
        if kill_after is not None:
            rep.kill_after_applying(kill_after)
            if rep.run_until_killed(rep.sync):
                event("killed while joining")
            else:
                self._disarm(rep)
        else:
            rep.sync()
        return rep

    def teardown(self):
        try:
            if self.healthy and self.replicas:
                for rep in self.replicas:
                    self._disarm(rep)
                for _ in range(2):                   # two quiet rounds
                    for rep in self.replicas:
                        self._note(rep.sync(), "quiet round")
                converged(self.hub, self.replicas, made=self.made, seeded=self.seeded,
                          ever_deleted=self.ever_deleted | hub_deleted(self.hub))
        finally:
            for rep in self.replicas:
                rep.close()
            if getattr(self, "wire", None):
                self.wire.close()
            if getattr(self, "hub", None):
                self.hub.storage.close()
            if self.scratch:
                self.scratch.cleanup()
            if getattr(self, "ids", None):
                self.ids.restore()

    # -- helpers ------------------------------------------------------------------------------

    def _rep(self, i: int, roles: tuple[Role, ...] | None = None) -> Replica | None:
        """The i-th replica (modulo), among those of the given roles; None if there are none."""
        reps = [r for r in self.replicas if roles is None or r.role in roles]
        return reps[i % len(reps)] if reps else None

    @staticmethod
    def _disarm(rep: Replica) -> None:
        for name in ("apply_remote_many", "apply_remote_rows", "ack_outbox"):
            rep.store.__dict__.pop(name, None)
        rep.line.fail = None
        rep.line.before_push = None

    def _put(self, rep: Replica, record):
        """A local edit, as the app makes it; its stamp must sort after the version it replaced
        (and still does when it is pushed, re-stamped or not)."""
        return rep.put(record, actor=rep.user.id)

    def _text(self, what: str, rep: Replica) -> str:
        self.n += 1
        return f"{what} {self.n} by {rep.name}"

    def _now(self, rep: Replica):
        return rep.store.clock.now()

    # -- invariants at every step -----------------------------------------------------------------

    @invariant()
    @guarded
    def tombstones_never_come_back_on_the_hub(self):
        if not self.replicas:
            return
        deleted = hub_deleted(self.hub)
        back = self.ever_deleted - deleted - hub_purged(self.hub)
        assert not back, f"deleted rows live again on the hub: {sorted(back)}"
        self.ever_deleted |= deleted

    # -- edits -----------------------------------------------------------------------------------

    @rule(r=REPLICA, pick=PICK, what=st.sampled_from(["notes", "complete", "fail", "reopen", "window"]))
    @guarded
    def record_visit(self, r, pick, what):
        rep = self._rep(r)
        visits = rep.live(Visit)
        if rep.role is Role.FIELD_OFFICER:
            visits = [v for v in visits if v.officer_id == rep.user.id]
        if not visits:
            return
        v = visits[pick % len(visits)]
        now = self._now(rep)
        change = {
            "notes": {"notes": self._text("visit note", rep)},
            "complete": {"status": VisitStatus.COMPLETED, "outcome": OutcomeCode.CHECKED_OK, "outcome_at": now},
            "fail": {"status": VisitStatus.FAILED, "outcome": OutcomeCode.NOT_AT_ADDRESS, "outcome_at": now},
            "reopen": {"status": VisitStatus.SCHEDULED, "outcome": None, "outcome_at": None},
            "window": {"window_start": now + timedelta(hours=pick % 48)},
        }[what]
        self._put(rep, v.evolve(**change))

    @rule(r=REPLICA, pick=PICK, what=st.sampled_from(["reference", "reassign", "reassign", "region", "relink", "status"]),
          officer=st.integers(0, len(OFFICERS)))
    @guarded
    def edit_order(self, r, pick, what, officer):
        rep = self._rep(r, CASE_ROLES)
        orders = rep.live(Order)
        if not orders:
            return
        o = orders[pick % len(orders)]
        if what == "reference":
            o = o.evolve(reference=self._text("REF", rep))
        elif what == "reassign":
            o = o.evolve(assigned_officer_id=self.data.users[OFFICERS[officer]].id if officer < len(OFFICERS) else None)
        elif what == "region":
            o = o.evolve(region=LDN if o.region == NW else NW)
        elif what == "relink":
            subjects = rep.live(Subject)
            o = o.evolve(subject_id=subjects[(pick // 7) % len(subjects)].id) if subjects else o
        else:
            o = o.evolve(status=list(OrderStatus)[pick % len(OrderStatus)])
        self._put(rep, o)

    @rule(r=REPLICA, pick=PICK)
    @guarded
    def edit_subject(self, r, pick):
        rep = self._rep(r, CASE_ROLES)
        subjects = rep.live(Subject) if rep else []
        if not subjects:
            return
        s = subjects[pick % len(subjects)]
        self._put(rep, s.evolve(phone=f"07{pick:09d}", risk_notes=self._text("risk", rep)))

    @rule(r=REPLICA, pick=PICK, to=st.sampled_from(ALERT_ORDER))
    @guarded
    def work_alert(self, r, pick, to):
        rep = self._rep(r, CASE_ROLES)
        alerts = rep.live(Alert) if rep else []
        if not alerts:
            return
        a = alerts[pick % len(alerts)]
        acked = to is not ALERT_ORDER[0]
        self._put(rep, a.evolve(status=to, acknowledged_by=rep.user.id if acked else None,
                                acknowledged_at=self._now(rep) if acked else None))

    @rule(r=REPLICA, pick=PICK, on_order=st.booleans())
    @guarded
    def add_note(self, r, pick, on_order):
        rep = self._rep(r)
        orders = rep.live(Order)
        if not orders:
            return
        o = orders[pick % len(orders)]
        note = Note(subject_id=o.subject_id, order_id=o.id if on_order else None, author_id=rep.user.id,
                    at=self._now(rep), text=self._text("note", rep))
        self._put(rep, note)
        self.made.notes[note.id] = {"text": note.text, "subject_id": note.subject_id, "order_id": note.order_id}

    @rule(pick=PICK, twice=st.booleans())
    @guarded
    def take_in_telemetry(self, pick, twice):
        """A device event taken in at the hub (ingest there), its id made by the device;
        sometimes delivered twice.  It reaches desktops through the telemetry feed."""
        devices = sorted((d for _, d in hub_rows(self.hub)["devices"].values() if d.get("order_id")),
                         key=lambda d: d["id"])
        if not devices:
            return
        d = devices[pick % len(devices)]
        n = self.made.device_events[d["serial"]] = self.made.device_events.get(d["serial"], 0) + 1
        at = int(self.world.now().timestamp() * 1000) + n
        row = (d["order_id"], d["serial"], at, "position", 53.4 + n / 1000, -2.2, None, None, None,
               device_event_id(d["serial"], n), at, 0)
        port = HubTelemetry(self.hub)
        assert port.append([row], []) == 1
        if twice:
            assert port.append([row], []) == 0
        self.made.telemetry[(d["serial"], at, "position")] = d["order_id"]

    @rule(r=REPLICA, pick=PICK, table=st.sampled_from(["visits", "notes", "alerts", "orders", "subjects", "devices"]))
    @guarded
    def delete(self, r, pick, table):
        rep = self._rep(r)
        cls = {"visits": Visit, "notes": Note, "alerts": Alert, "orders": Order, "subjects": Subject,
               "devices": Device}[table]
        rows = rep.live(cls)
        if rep.role is Role.FIELD_OFFICER:
            if table == "visits":
                rows = [v for v in rows if v.officer_id == rep.user.id]
            elif table != "notes":
                return
        if not rows:
            return
        self._put(rep, rows[pick % len(rows)].evolve(deleted=True))

    @rule(r=REPLICA, pick=PICK, what=st.sampled_from(["order", "subject", "device", "others_visit", "alert"]))
    @guarded
    def try_what_is_not_allowed(self, r, pick, what):
        """Edits the hub must refuse (and then send its own version back)."""
        rep = self._rep(r, (Role.FIELD_OFFICER,))
        if rep is None:
            return
        if what == "order" and rep.live(Order):
            o = rep.live(Order)[pick % len(rep.live(Order))]
            self._put(rep, o.evolve(reference=self._text("officer's ref", rep),
                                    assigned_officer_id=self.data.users["officer.c"].id))
        elif what == "subject" and rep.live(Subject):
            s = rep.live(Subject)[pick % len(rep.live(Subject))]
            self._put(rep, s.evolve(phone="not allowed"))
        elif what == "device" and rep.live(Device):
            d = rep.live(Device)[pick % len(rep.live(Device))]
            self._put(rep, d.evolve(firmware=self._text("fw", rep)))     # officers change kit only by field actions
        elif what == "others_visit":
            theirs = [v for v in rep.live(Visit) if v.officer_id != rep.user.id]
            if theirs:
                self._put(rep, theirs[pick % len(theirs)].evolve(notes=self._text("not mine", rep)))

    @rule(r=REPLICA, officer=st.integers(0, len(OFFICERS) - 1), region=st.sampled_from([NW, LDN]),
          with_visit=st.booleans())
    @guarded
    def open_a_case(self, r, officer, region, with_visit):
        rep = self._rep(r, CASE_ROLES)
        if rep is None:
            return
        now = self._now(rep)
        who = self.data.users[OFFICERS[officer]].id
        subject = Subject(given_name="New", family_name=self._text("Person", rep))
        order = Order(reference=self._text("NEW", rep), subject_id=subject.id, assigned_officer_id=who,
                      region=region, status=OrderStatus.ACTIVE)
        records = [subject, order]
        if with_visit:
            records.append(Visit(order_id=order.id, subject_id=subject.id, kind=VisitKind.INSTALL, officer_id=who,
                                 window_start=now + timedelta(days=1)))
        rep.store.put_many(records, actor=rep.user.id)

    @rule(r=REPLICA, pick=PICK)
    @guarded
    def officer_installs_offline(self, r, pick):
        """An officer fits the allocated kit at the door; the installation is one unit."""
        rep = self._rep(r, (Role.FIELD_OFFICER,))
        jobs = [v for v in rep.live(Visit, kind=VisitKind.INSTALL, status=VisitStatus.SCHEDULED)
                if v.officer_id == rep.user.id] if rep else []
        if not jobs:
            return
        visit = jobs[pick % len(jobs)]
        kit = {d.kind: d for d in rep.live(Device, order_id=visit.order_id) if d.state is DeviceState.ALLOCATED}
        tag = kit.get(DeviceKind.RF_TAG) or kit.get(DeviceKind.GPS_TAG)
        if tag is None:
            return
        hmu = kit.get(DeviceKind.HMU)
        try:
            finish_checklist(rep.store, rep.user, rep.store.clock, visit.id)
            InstallService(rep.store, rep.user, rep.store.clock).record_installation(
                visit.order_id, visit.id, tag.serial, hmu.serial if hmu else None, f"PAIR-{pick}",
                readings={"gps_ttff_s": 31})
            event("installed offline")
        except (InstallError, ChecklistError, AccessDenied):
            pass

    @rule(r=REPLICA, pick=PICK)
    @guarded
    def officer_removes_offline(self, r, pick):
        """An officer collects the kit of an ended order: some of it may not come back."""
        rep = self._rep(r, (Role.FIELD_OFFICER,))
        jobs = [v for v in rep.live(Visit, kind=VisitKind.REMOVAL, status=VisitStatus.SCHEDULED)
                if v.officer_id == rep.user.id] if rep else []
        if not jobs:
            return
        visit = jobs[pick % len(jobs)]
        service = RemovalService(rep.store, rep.user, rep.store.clock)
        try:
            fitted = service.fitted(visit.id)
            back = [d.serial for i, d in enumerate(fitted) if (pick >> i) & 1 or i == 0]
            left = {d.serial: "wearer absconded" for d in fitted if d.serial not in back}
            finish_checklist(rep.store, rep.user, rep.store.clock, visit.id,
                             conditions=dict.fromkeys(left, "not recovered"))
            service.record_removal(visit.id, back, reasons=left)
            event("removed offline")
        except (RemovalError, ChecklistError, AccessDenied):
            pass

    # -- sync, and what goes wrong with it -----------------------------------------------------------

    @staticmethod
    def _note(report, when: str = "sync") -> None:
        for what, happened in (("refused", report.refused), ("re-stamped", report.restamped),
                               ("evicted", report.evicted), ("rebuilt", report.rebuilt),
                               ("conflicts pulled", report.conflicts)):
            if happened:
                event(f"{when}: {what}")

    @rule(rs=st.lists(REPLICA, min_size=1, max_size=3))
    @guarded
    def sync(self, rs):
        for r in rs:
            self._note(self._rep(r).sync())

    @rule(r=REPLICA)
    @guarded
    def push_only(self, r):
        self._note(self._rep(r).push())

    @rule(r=REPLICA)
    @guarded
    def pull_only(self, r):
        self._note(self._rep(r).pull())

    @rule(r=REPLICA, k=st.integers(0, 6), whole_sync=st.booleans())
    @guarded
    def killed_while_applying_a_page(self, r, k, whole_sync):
        rep = self._rep(r)
        rep.kill_after_applying(k)
        if rep.run_until_killed(rep.sync if whole_sync else rep.pull):
            event("killed mid-page")
        else:
            self._disarm(rep)

    @rule(r=REPLICA)
    @guarded
    def killed_before_the_ack_commits(self, r):
        rep = self._rep(r)
        rep.kill_before_ack_commits()
        if rep.run_until_killed(rep.push):
            event("killed before the ack")
        else:
            self._disarm(rep)

    @rule(r=REPLICA, path=st.sampled_from(["/v1/push", "/v1/pull", "/v1/bootstrap"]),
          phase=st.sampled_from(["before", "after"]))
    @guarded
    def connection_drops(self, r, path, phase):
        rep = self._rep(r)
        rep.line.fail = lambda p_, ph: p_ == path and ph == phase
        try:
            rep.sync()
        except HubUnreachable:
            pass
        finally:
            rep.line.fail = None

    @rule(r=REPLICA, which=PICK)
    @guarded
    def an_old_push_arrives_again(self, r, which):
        rep = self._rep(r)
        if not rep.line.pushes:
            return
        sent = rep.line.pushes[which % len(rep.line.pushes)]
        again = rep.client._post("/v1/push", sent.request, p.PushResponse)
        event("old batch re-sent")
        assert again.results == sent.response.results, "a re-sent batch got a different answer"

    @rule(a=REPLICA, b=REPLICA)
    @guarded
    def one_push_overtakes_another(self, a, b):
        """A's batch is read from its outbox, then B's push reaches the hub first."""
        first, second = self._rep(a), self._rep(b)
        if first is second:
            return
        first.line.before_push = second.push
        try:
            first.push()
        finally:
            if first.line.before_push is None:
                event("push overtaken")
            first.line.before_push = None

    @rule(r=REPLICA)
    @guarded
    def app_restarts(self, r):
        self._rep(r).restart()

    @rule(minutes=st.integers(0, 240))
    @guarded
    def time_passes(self, minutes):
        self.world.advance(timedelta(minutes=minutes, milliseconds=7))

    @rule(r=REPLICA, skew=SKEW)
    @guarded
    def clock_is_reset(self, r, skew):
        self._rep(r).clock.skew_ms = skew

    @rule(everyone_first=st.booleans())
    @guarded
    def hub_collects_garbage(self, everyone_first):
        if everyone_first:                       # a normal day: every desktop synced, twice
            for _ in range(2):
                for rep in self.replicas:
                    self._note(rep.sync())
        if self.hub.gc()["tombstones_purged"]:
            event("gc purged tombstones")

    @rule(r=REPLICA)
    @guarded
    def a_desktop_is_away_for_a_month(self, r):
        """Everyone else works on; GC runs; the absent desktop falls behind the horizon."""
        if self.months_away >= 2:                # op ids are remembered 90 days; stay well inside
            return
        away = self._rep(r)
        self.months_away += 1
        self.world.advance(timedelta(days=31))
        for _ in range(2):
            for rep in self.replicas:
                if rep is not away:
                    self._note(rep.sync())
        self.hub.gc()

    @rule(username=st.sampled_from(EXTRA_USERS), skew=SKEW, kill=st.one_of(st.none(), st.integers(0, 20)))
    @guarded
    def a_desktop_joins(self, username, skew, kill):
        if len(self.replicas) < 5:
            self._add(username, skew, kill_after=kill)


Convergence.TestCase.settings = settings.get_profile(PROFILE)
TestConvergence = Convergence.TestCase


# -- scripted scenarios, to read when the property fails ----------------------------------------------


@pytest.fixture
def office(tmp_path):
    o = Office(tmp_path)
    yield o
    o.close()


def test_a_scripted_day_converges(office):
    """Officer A has unsent work on a case when the centre gives it to officer B; A's laptop
    runs an hour slow, is killed half-way through applying a page, and re-sends a batch the
    hub had already applied; the centre (its clock ten minutes fast) deletes an alert and opens
    a new case; GC runs."""
    world, hub, made = office.world, office.hub, Made()
    a, b = office.desk("officer.a", skew_ms=-HOUR_MS), office.desk("officer.b")
    centre, boss = office.desk("monitor.nw"), office.desk("supervisor")
    a_id, b_id = office.user_id("officer.a"), office.user_id("officer.b")
    case = next(o for o in a.live(Order) if o.reference.startswith("REF-")
                and o.subject_id not in {x.subject_id for x in b.live(Order)})
    visit = a.live(Visit, order_id=case.id)[0]

    # A works offline: she finishes the visit and writes a case note.
    a.put(visit.evolve(notes="dog in the garden", status=VisitStatus.COMPLETED, outcome=OutcomeCode.CHECKED_OK,
                       outcome_at=a.store.clock.now()))
    note = a.put(Note(subject_id=case.subject_id, order_id=case.id, author_id=a_id, at=world.now(),
                      text="spoke to the neighbour"))
    made.notes[note.id] = {"text": note.text, "subject_id": note.subject_id, "order_id": case.id}
    # The centre's clock jumps ten minutes ahead; it gives the case to B, deletes an alert, opens a case.
    world.advance(timedelta(minutes=3))
    centre.clock.skew_ms = 10 * 60_000
    centre.put(centre.store.get(Order, case.id).evolve(assigned_officer_id=b_id))
    alert = centre.live(Alert, order_id=case.id)[0]
    centre.put(alert.evolve(deleted=True))
    subject = Subject(given_name="New", family_name="Case")
    centre.store.put_many([subject, Order(reference="NEW-1", subject_id=subject.id, assigned_officer_id=a_id,
                                          region=NW, status=OrderStatus.ACTIVE)])
    report = centre.sync()
    assert report.restamped and not report.refused, report.summary()
    # A syncs: pushes first (the visit is accepted: it was booked to her; the case note is
    # refused, the case being B's now, and kept with its reason), then is killed after one
    # row of the first pulled page.
    a.kill_after_applying(1)
    assert a.run_until_killed(a.sync)
    assert a.store.outbox_count() == 0
    assert [r["row_id"] for r in a.client.refusals()] == [note.id]
    assert a.client.cursor() < hub.head() and not a.fk_problems()     # whole pages only
    # A batch A already sent arrives again: same answer, nothing changes.
    head, sent = hub.head(), a.line.pushes[0]
    assert a.client._post("/v1/push", sent.request, p.PushResponse).results == sent.response.results
    assert hub.head() == head
    office.quiet_rounds(1)
    assert a.store.get(Order, case.id) is None                          # the case left A's desktop
    assert b.store.get(Visit, visit.id).notes == "dog in the garden"
    assert a.store.get(Order, centre.live(Order, reference="NEW-1")[0].id) is not None
    hub.gc()
    office.quiet_rounds()
    office.check(made, {("alerts", alert.id)})
    assert boss.store.get(Alert, alert.id) is None


def test_a_case_opened_at_the_centre_reaches_the_hub_whatever_the_batch_size(office):
    """Regression: the person was judged alone (audience: supervisors only) and refused, the
    order accepted without its person, and every replica then failed to apply the feed
    (orders.subject_id) for good.  Now a person goes with the orders naming them, is judged
    with them, and an order whose person is not on the hub is refused."""
    centre = office.desk("monitor.nw", push_batch=2)
    a, boss = office.desk("officer.a"), office.desk("supervisor")
    cases = []
    for i in range(3):
        s = Subject(given_name="New", family_name=f"Case {i}")
        cases.append((s, Order(reference=f"NEW-{i}", subject_id=s.id, assigned_officer_id=office.user_id("officer.a"),
                               region=NW, status=OrderStatus.ACTIVE)))
    centre.store.put_many([s for s, _ in cases] + [o for _, o in cases])     # people first, then orders
    report = centre.sync()
    assert report.pushed == 6 and not report.refused, report.summary()
    office.quiet_rounds()
    for s, o in cases:
        assert a.store.get(Order, o.id) is not None and boss.store.get(Subject, s.id) is not None
    office.check()


def test_an_order_whose_person_the_hub_refused_does_not_wedge_the_desktop(office):
    centre = office.desk("monitor.nw")
    office.desk("supervisor")
    s = Subject(given_name="Far", family_name="Away")
    # A London case: neither the person nor the order is the North West centre's to make.
    centre.store.put_many([s, Order(reference="LDN-X", subject_id=s.id, region=LDN, status=OrderStatus.ACTIVE)])
    report = centre.sync()
    assert len(report.refused) == 2
    assert centre.store.get(Subject, s.id) is None and not centre.fk_problems()
    office.quiet_rounds()
    office.check()


def test_an_order_made_while_its_person_was_being_refused_does_not_wedge_the_desktop(office):
    """Regression: the person is refused on the push; the user adds an order for them before
    the pull (sync runs on a worker thread); the pull's eviction of the person then failed the
    page (orders.subject_id), on every retry.  The person leaves with the order made here."""
    centre = office.desk("monitor.nw")
    s = Subject(given_name="Walk", family_name="In")
    centre.put(s)
    centre.push()                                          # alone, the person is no region's: refused
    centre.put(Order(reference="WALK-IN", subject_id=s.id, region=NW, status=OrderStatus.ACTIVE))
    centre.pull()
    assert centre.store.get(Subject, s.id) is None and not centre.fk_problems()
    centre.sync()                                          # the order follows: refused, its person is not there
    assert {r["table"] for r in centre.client.refusals()} == {"subjects", "orders"}   # kept, with the payloads
    office.quiet_rounds()
    office.check()


def test_a_bootstrap_outlived_by_its_snapshot_does_not_wedge_the_desktop(office):
    """Regression: a bootstrap sends people as the hub holds them when the page is fetched,
    but the feed replayed from its snapshot can carry an older version of an order naming a
    person who has since left the desktop's scope; that page then failed its foreign-key
    check on every retry.  Such an order waits for its later version; nothing blocks."""
    boss = office.desk("supervisor")
    centre = office.desk("monitor.nw", join=False, bootstrap_limit=6, pull_limit=1)
    centre.client.register("monitor.nw", "pw")
    asked = {"n": 0}

    def after_the_first_page(path, phase):
        if path == "/v1/bootstrap" and phase == "before":
            asked["n"] += 1
            return asked["n"] > 1
        return False
    centre.line.fail = after_the_first_page
    with pytest.raises(HubUnreachable):
        centre.sync()                                # the users only; people and orders still to come
    # Meanwhile: an order is edited (its person named), then moved to another person, so its
    # first person leaves the North West's scope.
    orders = boss.live(Order, region=NW)
    alone = next(o for o in orders if [x.subject_id for x in orders].count(o.subject_id) == 1)
    other = next(o for o in orders if o.subject_id != alone.subject_id)
    boss.put(alone.evolve(reference="EDITED"))
    boss.sync()
    boss.put(boss.store.get(Order, alone.id).evolve(subject_id=other.subject_id))
    boss.sync()
    centre.line.fail = None
    centre.sync()                                    # the rest of the load, then the feed one change a page
    assert centre.store.get(Order, alone.id).subject_id == other.subject_id
    assert centre.store.get(Subject, alone.subject_id) is None
    office.quiet_rounds()
    office.check()


def test_an_edit_after_a_restart_sorts_after_what_was_pulled(office):
    """Regression: pulled stamps moved the clock in memory only, so after a restart a new
    edit could be stamped below the version it replaced, and lose to it on the hub."""
    centre = office.desk("monitor.nw")
    boss = office.desk("supervisor")
    visit = centre.live(Visit)[0]
    centre.clock.skew_ms = 4 * 60_000                     # four minutes fast: the hub accepts it
    centre.put(visit.evolve(notes="from the centre"))
    centre.sync()
    boss.sync()
    boss.restart()                                        # the app is closed and opened again
    boss.put(boss.store.get(Visit, visit.id).evolve(notes="the supervisor's correction"))
    office.quiet_rounds()
    assert hub_rows(office.hub)["visits"][visit.id][1]["notes"] == "the supervisor's correction"
    office.check()


def test_a_re_stamped_edit_still_wins_over_what_it_replaced(office):
    """Regression: re-stamping after a clock refusal rewound the clock below versions other
    desktops had stamped a few minutes ahead (which the hub accepts), so an edit made after
    reading them lost to them."""
    centre, boss = office.desk("monitor.nw"), office.desk("supervisor")
    visit = centre.live(Visit)[0]
    centre.clock.skew_ms = 3 * 60_000
    centre.put(visit.evolve(notes="from the centre"))
    centre.sync()
    boss.sync()
    office.world.advance(timedelta(seconds=30))
    boss.clock.skew_ms = 10 * 60_000                      # the supervisor's clock jumps: refused, re-stamped
    boss.put(boss.store.get(Visit, visit.id).evolve(notes="correction, after reading the centre's"))
    assert boss.sync().restamped == 1
    office.quiet_rounds()
    assert hub_rows(office.hub)["visits"][visit.id][1]["notes"] == "correction, after reading the centre's"
    office.check()


def test_one_clock_refusal_re_stamps_every_op_too_far_ahead(office):
    """Regression: only the refused batch was re-stamped, so each later batch was refused in
    turn and after three the sync failed ("check the date and time") on a corrected clock."""
    centre = office.desk("monitor.nw", push_batch=4)
    order = centre.live(Order)[0]
    centre.clock.skew_ms = HOUR_MS
    made = Made()
    for i in range(13):
        n = centre.put(Note(subject_id=order.subject_id, order_id=order.id, at=office.world.now(), text=f"n{i}"))
        made.notes[n.id] = {"text": n.text}
    report = centre.sync()
    assert report.pushed == 13 and report.restamped == 13
    office.quiet_rounds()
    office.check(made)


def test_a_deleted_case_keeps_its_audience_through_gc(office):
    """Regression: GC purged an order's tombstone while its person, visits, notes and kit
    still hung on it, leaving their audiences stale: officers kept the rest of a deleted case
    for good, and a later edit of one row moved only that row."""
    a, centre, boss = office.desk("officer.a"), office.desk("monitor.nw"), office.desk("supervisor")
    mine = {o.subject_id for o in a.live(Order)}
    order = next(o for o in a.live(Order) if [x.subject_id for x in boss.live(Order)].count(o.subject_id) == 1)
    boss.put(order.evolve(deleted=True))
    office.quiet_rounds(3)
    assert office.hub.gc()["tombstones_purged"] == 0
    visit = centre.live(Visit, order_id=order.id)[0]
    centre.put(visit.evolve(notes="after the case was deleted"))
    office.quiet_rounds()
    assert order.subject_id in mine
    office.check(ever_deleted={("orders", order.id)})


def test_killed_is_what_a_kill_looks_like(office):
    """The harness itself: a kill mid-page leaves the store as it was before the page."""
    rep = office.desk("supervisor", join=False, bootstrap_limit=10)
    rep.client.register("supervisor", "pw")
    rep.kill_after_applying(13)
    with pytest.raises((Killed, sqlite3.ProgrammingError)):
        rep.sync()
    rep.restart()
    assert rep.store.sync_value("bootstrap_done") == "10"
    rep.sync()
    assert rep.client.cursor() == office.hub.head()
