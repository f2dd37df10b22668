"""The demo's casework on yesterday's breaches: real packs, real responses, figures with data."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from emdesk.app.live_demo import catch_up
from emdesk.domain import mi
from emdesk.domain.clock import FixedClock
from emdesk.domain.monitoring import BreachOutcome, BreachPack, Incident, IncidentStatus, RaduStep
from emdesk.domain.orders import Responder
from emdesk.domain.users import AGENCY_OF, Role, User
from emdesk.services.demo import build_demo
from emdesk.services.demo_casework import act_out_casework, yesterdays_breaches
from emdesk.services.mi import ManagementService
from emdesk.services.pack_files import verify_file
from emdesk.services.packs import PackService
from emdesk.services.responses import ResponseService

MADE = datetime(2026, 11, 26, 8, tzinfo=timezone.utc)
NOW = MADE + timedelta(minutes=100)            # 09:40, as the demo's screenshots and UI tests


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A small demo world caught up to 09:40 without casework, then the casework acted out once."""
    store, _ = build_demo(tmp_path_factory.mktemp("casework") / "demo.db", seed=2026, now=MADE, subjects=60,
                          plan_seconds=0)
    catch_up(store, NOW, casework=False)
    waiting = yesterdays_breaches(store, NOW)
    report = act_out_casework(store, NOW)
    yield store, report, waiting
    store.close()


def _users(store) -> dict[str, User]:
    return {u.id: u for u in store.find(User)}


def test_the_worst_of_yesterdays_breaches_are_escalated_packed_and_issued_in_time(demo):
    store, report, waiting = demo
    packs = store.find(BreachPack)
    assert report.issued == len(packs) == report.escalated >= 1
    assert len(packs) < len(waiting)                 # about a third: not every breach
    users = _users(store)
    for pack in packs:
        incident = store.get(Incident, pack.incident_id)
        assert incident.status is IncidentStatus.ESCALATED and not incident.technical
        escalated = next(c for c in incident.history if c.status is IncidentStatus.ESCALATED)
        assert incident.started_at < escalated.at < pack.built_at < pack.sent_at < NOW <= pack.pack_due
        assert pack.notified_at == escalated.at <= pack.notification_due
        issuer = users[pack.issued_by]
        assert issuer.role in (Role.MONITORING_OPERATOR, Role.SUPERVISOR)
        assert issuer.role is Role.SUPERVISOR or issuer.region == pack.region


def test_the_agency_accounts_answer_about_half_in_their_own_names(demo):
    store, report, _ = demo
    packs = {p.pack_id: p for p in store.find(BreachPack)}
    outcomes = store.find(BreachOutcome)
    assert 1 <= report.responded == sum(1 for o in outcomes if o.code is not None) < len(packs)
    users = _users(store)
    for outcome in outcomes:
        pack = packs[outcome.pack_id]
        for who in [outcome.decided_by, *(s.by for s in outcome.steps)]:
            if who:
                agent = users[who]
                assert AGENCY_OF[agent.role] == pack.responder.value
                assert agent.role is Role.HOME_OFFICE or agent.region == pack.region
        if outcome.decided_at is not None:
            assert pack.sent_at < outcome.decided_at < NOW
        if pack.responder is Responder.POLICE:
            assert [s.step for s in outcome.steps] == list(RaduStep)[:len(outcome.steps)]
    # Each agency account's inbox lists the packs issued to its agency in its region.
    for agent in users.values():
        if agent.role in AGENCY_OF:
            mine = {p.pack_id for p in packs.values() if AGENCY_OF[agent.role] == p.responder.value
                    and (agent.role is Role.HOME_OFFICE or agent.region == p.region)}
            assert {r.pack_id for r in ResponseService(store, agent, FixedClock(NOW)).inbox()} == mine


def test_the_audit_says_each_act_happened_at_its_moment(demo):
    store, _, _ = demo
    entries = [e for e in store.audit_entries() if e.action in ("escalate", "pack_build", "pack_issue", "outcome")
               or e.action.startswith("radu_")]
    issued = {p.id: p.sent_at for p in store.find(BreachPack)}
    assert {e.action for e in entries} >= {"escalate", "pack_build", "pack_issue"}
    times = [datetime.fromisoformat(e.at) for e in entries]
    assert times == sorted(times)                      # acted out in the order it happened
    for e in entries:
        assert datetime.fromisoformat(e.at) < NOW
        if e.action == "pack_issue":
            assert datetime.fromisoformat(e.at) == issued[e.entity_id]


@pytest.mark.parametrize("key", [mi.TIME_TO_PACK, mi.RESPONDED, mi.RESPONSE_TIME])
def test_the_breach_figures_have_data(demo, key):
    store, _, _ = demo
    supervisor = next(u for u in store.find(User) if u.role is Role.SUPERVISOR)
    service = ManagementService(store, supervisor, FixedClock(NOW))
    figure = service.figure(key, NOW.date() - timedelta(days=1), NOW.date())
    assert figure.value is not None and figure.value > 0, figure


def test_every_pack_written_verifies(demo, tmp_path):
    store, _, _ = demo
    supervisor = next(u for u in store.find(User) if u.role is Role.SUPERVISOR)
    packs = PackService(store, supervisor, FixedClock(NOW))
    for pack in store.find(BreachPack):
        for path in packs.write(pack.id, tmp_path / pack.pack_id):
            verdict = verify_file(path)
            assert verdict.ok, verdict.problems


def test_a_second_call_does_nothing(demo):
    store, _, _ = demo
    before = (len(store.find(BreachPack)), len(store.find(BreachOutcome)), store.audit_head())
    again = act_out_casework(store, NOW)
    assert again.skipped and again.issued == 0
    assert (len(store.find(BreachPack)), len(store.find(BreachOutcome)), store.audit_head()) == before


def test_the_live_feed_acts_it_out_once_caught_up_before_going_live(demo, tmp_path):
    import shutil
    import sqlite3
    import time

    from emdesk.domain.engine.periods import period_bounds, period_day
    from emdesk.services.live_feed import FeedDay, LiveFeed

    store, _, _ = demo
    path = tmp_path / "copy.db"
    with sqlite3.connect(store.opening()[0]) as src, sqlite3.connect(path) as dst:
        src.backup(dst)             # the write-ahead log's pages too
    shutil.copy(f"{store.opening()[0]}.keys", f"{path}.keys")
    start, end = period_bounds(period_day(NOW))
    seen = []
    feed = LiveFeed((path, None), lambda: [FeedDay(start, end, [])], start=NOW, pace=60,
                    caught_up=lambda db, at: seen.append((at, db.count(BreachPack), feed.progress.phase)))
    feed.start()
    try:
        deadline = time.monotonic() + 30
        while feed.progress.phase != "live" and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        feed.stop()
    assert seen == [(NOW, len(store.find(BreachPack)), "catching up")]
