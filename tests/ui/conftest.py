"""UI test fixtures: private settings, the app's look, no service work left running."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QSettings

import threading

from emdesk.ui.qt_app import apply_look
from qt_hygiene import no_work_left


@pytest.fixture(autouse=True)
def private_settings(tmp_path):
    """Window geometry and last tab go to a temporary folder, never the developer's."""
    folder = tmp_path / "settings"
    for fmt in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(folder))
    yield folder


@pytest.fixture(autouse=True)
def styled_app(qapp):
    apply_look(qapp)
    return qapp


@pytest.fixture(autouse=True)
def gui_thread_gc(qapp):
    """As in the app: cycles are collected on the GUI thread, never on a worker (a Qt object
    freed there crashes the run); the automatic collector is back for the next test."""
    import gc

    from emdesk.ui.gui_gc import GuiThreadCollector
    gc.collect()
    collector = GuiThreadCollector(qapp)
    yield collector
    collector.stop()
    collector.deleteLater()


@pytest.fixture(autouse=True)
def widgets_deleted(qapp):
    """Widgets pytest-qt closed are deleted now, not at exit: a QtWebEngine page still
    alive when the process ends crashes it (after every test has passed)."""
    yield
    qapp.processEvents()          # what finished work posted reaches its widgets first
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture(autouse=True)
def no_work_left_behind(qapp):
    """Every task runner (each lane's pool, the device thread) and every thread a test
    started is finished when it ends: none may leak into the next test."""
    before = set(threading.enumerate())
    yield
    no_work_left(qapp, before)


# The demo day: 08:00 in London, when the officers' visits for the day are all ahead.
DEMO_NOW = datetime(2026, 11, 26, 8, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory):
    """The seeded demo world in a real SQLite file, built once for the UI tests, with the
    fleet's telemetry fed in as the live demo does (yesterday and this morning to 09:40),
    so the monitoring screens have real incidents, and yesterday's casework acted out as the
    live demo does (the worst breaches escalated, packs issued, some answered)."""
    from datetime import timedelta

    from emdesk.app.live_demo import catch_up
    from emdesk.services.demo import build_demo

    store, world = build_demo(tmp_path_factory.mktemp("demo") / "demo.db", seed=2026, now=DEMO_NOW,
                              subjects=120)
    clock = store.clock
    catch_up(store, DEMO_NOW + timedelta(minutes=100))
    store.clock = clock           # the tests' own clocks stay in charge
    yield store, world
    store.close()


@pytest.fixture(scope="session")
def demo_users(demo_store):
    """One account per role; the field officer is one with visits booked on the demo day."""
    from emdesk.domain.clock import FixedClock
    from emdesk.domain.users import Role
    from emdesk.services.cases import CaseService

    store, world = demo_store
    by_role: dict = {}
    for account, _password in world.users:
        if account.role is Role.FIELD_OFFICER and not CaseService(store, account, FixedClock(DEMO_NOW)).visits():
            continue
        by_role.setdefault(account.role, account)
    assert set(by_role) == set(Role), f"demo world lacks a usable account for {set(Role) - set(by_role)}"
    return by_role


@pytest.fixture
def ctx_for(demo_store, demo_users):
    """The real services over the demo store, signed in as the demo account for a role."""
    from emdesk.domain.clock import FixedClock
    from emdesk.domain.geocoding import GazetteerGeocoder
    from emdesk.services.context import AppContext

    store, _ = demo_store
    return lambda role: AppContext.for_user(store, demo_users[role], FixedClock(DEMO_NOW), GazetteerGeocoder())


@pytest.fixture
def operator_ctx(store, clock):
    """The real services over a fresh SQLite store, signed in as a monitoring operator."""
    from emdesk.domain.geocoding import GazetteerGeocoder
    from emdesk.domain.users import Role, User
    from emdesk.services.context import AppContext

    user = store.put(User(username="monitor", display_name="Mo Nitor", role=Role.MONITORING_OPERATOR,
                          region="Yorkshire and the Humber"))
    return AppContext.for_user(store, user, clock, GazetteerGeocoder())
