"""The live demo: a simulated fleet fed through the gateway's ingest path on a thread of its own."""
from __future__ import annotations

import shutil
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

import hardware.fleet as fleet
from emdesk.app.live_demo import catch_up, demo_day, fleet_days
from emdesk.cli import _parser
from emdesk.domain.clock import LONDON
from emdesk.domain.engine.events import instant, ms
from emdesk.domain.monitoring import Incident
from emdesk.services.demo import build_demo
from emdesk.services.live_feed import FeedDay, LiveFeed, LiveFeedError, SimClock, encode, feed_until, parse_pace
from emdesk.store import Store, StoreError

MADE = datetime(2026, 12, 1, 8, tzinfo=timezone.utc)        # the demo world as at 08:00 (UK = UTC in winter)
DAY = MADE.date()
SUBJECTS = 40


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A small demo store (closed, to be copied) and its fleet's day, with two violations
    scripted early enough for any test to see them."""
    path = tmp_path_factory.mktemp("live") / "demo.db"
    store, _ = build_demo(path, seed=2026, now=MADE, subjects=SUBJECTS, plan_seconds=0)
    store.close()
    wearers = fleet.load_wearers(path, fleet.violation_period(DAY))
    day = fleet.simulate(path, DAY, seed=2026, force={w.reference: "strap_tamper" for w in wearers[:2]})
    return path, FeedDay(day.period.start_ms, day.period.end_ms, day.telemetry)


@pytest.fixture
def store_path(world, tmp_path):
    path = tmp_path / "demo.db"
    for suffix in ("", ".keys"):
        shutil.copy(f"{world[0]}{suffix}", f"{path}{suffix}")
    return path


def _ids_until(day: FeedDay, until_ms: int) -> set[str]:
    return {line["id"] for at, line in day.telemetry if at <= until_ms}


def _wait(feed: LiveFeed, phase: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while feed.progress.phase != phase:
        assert feed.progress.phase != "failed", feed.progress.error
        assert time.monotonic() < deadline, f"still {feed.progress.phase!r}, waiting for {phase!r}"
        time.sleep(0.02)


def test_a_whole_day_fed_fast_lands_every_event_once_and_raises_incidents(world, store_path):
    _, day = world
    store = Store.open(store_path)
    before = store.telemetry.count()
    feed = LiveFeed(store.opening(), lambda: [day], start=instant(day.start_ms + 2 * 3600_000), pace=36_000,
                    batch_s=0.05).start()
    try:
        assert feed.join(120), feed.progress
    finally:
        feed.stop()
    got = feed.progress
    assert (got.phase, got.error, got.rejected) == ("finished", None, 0)
    assert got.events == len(_ids_until(day, day.end_ms)) == store.telemetry.count() - before
    assert got.duplicates == len(day.telemetry) - got.events       # the simulator's resends, taken once
    incidents = store.find(Incident)
    assert got.incidents == len(incidents) > 0
    assert {"tamper"} <= {i.condition for i in incidents}
    assert feed.clock.now_ms() >= day.end_ms - 60_000               # the clock went on to the day's end
    store.close()


def test_catching_up_takes_the_morning_at_once_then_the_clock_runs_at_the_pace(world, store_path):
    _, day = world
    start = day.start_ms + 3 * 3600_000
    feed = LiveFeed((store_path, None), lambda: [day], start=instant(start), pace=60, batch_s=0.1).start()
    try:
        _wait(feed, "live")
        caught = feed.progress.events
        wall0, sim0 = time.monotonic(), feed.clock.now_ms()
        time.sleep(1.0)
        rate = (feed.clock.now_ms() - sim0) / (time.monotonic() - wall0) / 1000
        assert feed.stop()
    finally:
        feed.stop()
    assert caught >= len(_ids_until(day, start)) - 5           # at most a few resends among them
    assert 55 <= rate <= 65                                      # a simulated minute a second
    assert feed.status_text().startswith("Live demo stopped at 10:0")


def test_stop_is_prompt_and_a_restarted_feed_stores_nothing_twice(world, store_path):
    _, day = world
    first = LiveFeed((store_path, None), lambda: [day], start=instant(day.start_ms + 3600_000), pace=7200,
                     batch_s=0.05).start()
    _wait(first, "live")
    time.sleep(0.5)
    began = time.monotonic()
    assert first.stop(timeout=1.0)
    assert time.monotonic() - began < 1.0
    stopped_at = first.progress.sim_ms
    # Started again from where it stopped: everything up to there is delivered again.
    second = LiveFeed((store_path, None), lambda: [day], start=instant(stopped_at), pace=0.001, batch_s=0.05).start()
    _wait(second, "live")
    assert second.stop()
    store = Store.open(store_path)
    assert second.progress.duplicates >= first.progress.events > 0
    assert first.progress.events + second.progress.events == len(_ids_until(day, stopped_at))
    assert store.count(Incident) == first.progress.incidents + second.progress.incidents
    store.close()


@pytest.mark.parametrize("after_s", [0.0, 0.3, 0.8, 1.5])
def test_stop_while_catching_up_is_prompt_and_leaves_whole_batches(world, store_path, after_s):
    """Whenever it comes: storing the day's lines, judging them, or sweeping."""
    _, day = world
    store = Store.open(store_path)
    before = store.telemetry.count()
    feed = LiveFeed(store.opening(), lambda: [day], start=instant(day.end_ms), pace=60).start()
    _wait(feed, "catching up")
    time.sleep(after_s)
    began = time.monotonic()
    assert feed.stop(timeout=1.0)
    assert time.monotonic() - began < 1.0
    assert feed.progress.phase in ("stopped", "finished") and feed.error is None   # one day: done once caught up
    assert store.telemetry.count() - before == feed.progress.events      # each batch in or out whole
    store.close()


def test_days_are_made_on_the_feeds_thread_not_the_callers(world, store_path):
    _, day = world
    made_on, release = [], threading.Event()

    def slow():
        made_on.append(threading.current_thread().name)
        release.wait(5)
        yield day

    began = time.monotonic()
    feed = LiveFeed((store_path, None), slow, start=instant(day.start_ms), pace=60).start()
    assert time.monotonic() - began < 0.5
    assert feed.status_text() == "Live demo: simulating the fleet…"
    release.set()
    _wait(feed, "live")
    assert feed.status_text() == "Live demo: 07:00 (60x)"
    assert feed.stop()
    assert made_on and made_on[0] != threading.current_thread().name


def _failing_source():
    raise ValueError("the simulator broke")
    yield


ERRORS = [
    # (store path, source, what the error says)
    (None, _failing_source, "the simulator broke"),
    ("missing.db", None, "no store there"),
]


@pytest.mark.parametrize(("path", "source", "words"), ERRORS)
def test_an_error_on_the_feeds_thread_is_reported_not_swallowed(world, store_path, tmp_path, path, source, words):
    _, day = world
    seen = []
    feed = LiveFeed((tmp_path / path if path else store_path, None), source or (lambda: [day]),
                    start=instant(day.start_ms), pace=60, on_error=seen.append).start()
    assert feed.join(30)
    assert feed.progress.phase == "failed" and words in feed.progress.error
    assert seen == [feed.error] and words in str(feed.error)
    assert feed.status_text() == f"Live demo stopped: {feed.progress.error}"
    with pytest.raises(LiveFeedError, match=words):
        feed.check()
    assert isinstance(feed.error, (ValueError, StoreError))


def test_feed_until_is_a_fixed_point_with_the_clock_left_there(world, store_path):
    _, day = world
    store = Store.open(store_path)
    before = store.telemetry.count()
    until = instant(day.start_ms + 4 * 3600_000)
    got = feed_until(store, [day], until)
    assert store.clock.now() == until
    assert got.events == len(_ids_until(day, ms(until))) == store.telemetry.count() - before
    assert got.incidents == store.count(Incident) > 0
    again = feed_until(store, [day], until)
    assert (again.events, again.incidents) == (0, 0)          # the same point twice changes nothing
    store.close()


def test_sim_clock_holds_and_runs_at_its_pace():
    wall = [100.0]
    clock = SimClock(MADE, 60, wall=lambda: wall[0])
    wall[0] += 10
    assert clock.now() == MADE                                 # held until run
    clock.run()
    wall[0] += 10
    assert clock.now() == MADE + timedelta(minutes=10)
    clock.hold()
    wall[0] += 10
    assert clock.now() == MADE + timedelta(minutes=10)
    clock.hold(ms(MADE))
    assert clock.now() == MADE


PACES = [("60x", 60.0), ("realtime", 1.0), ("600x", 600.0), ("120", 120.0), ("2.5x", 2.5), (" 60X ", 60.0)]


@pytest.mark.parametrize(("text", "pace"), PACES)
def test_a_pace_is_read(text, pace):
    assert parse_pace(text) == pace


@pytest.mark.parametrize("text", ["fast", "0", "-3x", "", "x", "1e9"])
def test_a_pace_that_is_no_speed_is_refused_with_what_to_give(text):
    with pytest.raises(ValueError, match="give realtime, 60x, 600x"):
        parse_pace(text)


CLI = [
    # (arguments, pace, live)
    (["demo"], 60.0, True),
    (["demo", "--pace", "600x"], 600.0, True),
    (["demo", "--pace", "realtime"], 1.0, True),
    (["demo", "--no-live"], 60.0, False),
    (["demo", "--no-live", "--pace", "30"], 30.0, False),
]


@pytest.mark.parametrize(("argv", "pace", "live"), CLI)
def test_the_demo_command_takes_pace_and_no_live(argv, pace, live):
    args = _parser().parse_args(argv)
    assert (args.pace, args.live) == (pace, live)


def test_a_bad_pace_on_the_command_line_is_refused(capsys):
    with pytest.raises(SystemExit) as exit_:
        _parser().parse_args(["demo", "--pace", "fast"])
    assert exit_.value.code == 2
    assert "pace 'fast'" in capsys.readouterr().err


def test_the_app_writes_to_the_store_while_the_feed_does(world, store_path):
    """The desktop's own connection beside the feed's: WAL and the busy timeout, no "database is locked"."""
    _, day = world
    app = Store.open(store_path)
    feed = LiveFeed((store_path, None), lambda: [day], start=instant(day.start_ms + 6 * 3600_000), pace=3600,
                    batch_s=0.05).start()
    writes = 0
    try:
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline and feed.progress.phase != "failed":
            with app.transaction():
                app.set_meta("live_demo_test", str(writes))
            app.count(Incident)
            writes += 1
        assert feed.progress.phase in ("catching up", "live"), feed.progress
    finally:
        assert feed.stop()
    assert feed.error is None and writes > 10 and feed.progress.events > 0
    app.close()


def test_the_feed_goes_on_into_the_next_day(world, store_path):
    path, first = world
    second = next(fleet_days(path, DAY + timedelta(days=1), seed=2026))
    store = Store.open(store_path)
    before = store.telemetry.count()
    feed = LiveFeed(store.opening(), lambda: iter([first, second]), start=instant(first.end_ms - 3 * 3600_000),
                    pace=36_000, batch_s=0.05).start()
    try:
        assert feed.join(120), feed.progress
    finally:
        feed.stop()
    assert (feed.progress.phase, feed.progress.error) == ("finished", None)
    ids = _ids_until(first, first.end_ms) | _ids_until(second, second.end_ms)
    assert feed.progress.events == len(ids) == store.telemetry.count() - before
    assert feed.clock.now_ms() >= second.end_ms - 60_000
    store.close()


def test_a_start_in_a_later_day_catches_up_every_day_before_it_at_once(world, store_path):
    """The demo starts on yesterday's period: all of it, and today's morning, go in before
    the clock runs; the clock then runs from the start, not from the first day's end."""
    path, first = world
    second = next(fleet_days(path, DAY + timedelta(days=1), seed=2026))
    start = second.start_ms + 2 * 3600_000
    feed = LiveFeed((store_path, None), lambda: iter([first, second]), start=instant(start), pace=1,
                    batch_s=0.05).start()
    try:
        _wait(feed, "live")
        caught = feed.progress.events
        at = feed.clock.now_ms()
    finally:
        feed.stop()
    ids = _ids_until(first, start) | _ids_until(second, start)
    assert len(ids) - 5 <= caught <= len(ids)              # at most a few resends among them
    assert start <= at < start + 60_000


def test_days_made_in_a_process_of_their_own_are_the_same_lines(world):
    path, _ = world
    here = next(fleet_days(path, DAY, seed=2026, wearers=5))
    apart = next(fleet_days(path, DAY, seed=2026, wearers=5, apart=True))
    assert (apart.start_ms, apart.end_ms) == (here.start_ms, here.end_ms)
    assert apart.telemetry == [(at, encode(line)) for at, line in here.telemetry]


DEMO_DAYS = [
    # (London wall time, the violation period the demo shows)
    (datetime(2026, 12, 3, 6, 59), datetime(2026, 12, 2).date()),
    (datetime(2026, 12, 3, 7, 0), datetime(2026, 12, 3).date()),
    (datetime(2026, 12, 3, 23, 30), datetime(2026, 12, 3).date()),
    (datetime(2026, 7, 3, 7, 30), datetime(2026, 7, 3).date()),      # summer time: 06:30 UTC
    (datetime(2026, 7, 3, 6, 30), datetime(2026, 7, 2).date()),
]


@pytest.mark.parametrize(("wall", "day"), DEMO_DAYS)
def test_the_demo_shows_the_period_under_way(wall, day):
    assert demo_day(wall.replace(tzinfo=LONDON)) == day


def test_catch_up_brings_the_demo_store_to_a_fixed_point(store_path):
    store = Store.open(store_path)
    until = MADE + timedelta(hours=2)
    got = catch_up(store, until, seed=2026)
    assert store.clock.now() == until and got.phase == "finished" and got.events > 0
    assert store.count(Incident) == got.incidents
    store.close()


def test_a_session_signed_in_beside_the_feed_runs_on_its_clock_and_sees_its_status(world, store_path):
    from emdesk.app.wiring import sign_in_callable
    from emdesk.domain.users import Role, User
    _, day = world
    feed = LiveFeed((store_path, None), lambda: [day], start=instant(day.start_ms + 3600_000), pace=60)
    store = Store.open(store_path)
    operator = store.find(User, where={"role": Role.MONITORING_OPERATOR}, order_by="username")[0]
    store.close()
    ctx = sign_in_callable(store_path, feed.clock, feed)(operator.username, f"demo-{operator.username}")
    try:
        assert ctx.live_feed is feed and ctx.clock is feed.clock
        assert ctx.clock.now() == instant(day.start_ms + 3600_000)
        assert ctx.live_feed.status_text() == "Live demo: simulating the fleet…"
    finally:
        ctx.close()
