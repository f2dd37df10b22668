"""Session-wide test setup: Qt offscreen, no developer settings, fresh stores."""
from __future__ import annotations

import os
import sys

# Before any Qt import: tests never need a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox --disable-gpu")

try:
    # QtWebEngine (the maps) must be loaded before pytest-qt makes the QApplication.
    import PySide6.QtWebEngineWidgets  # noqa: E402,F401
except ImportError:      # a hub-only install: no Qt at all
    pass

from datetime import datetime, timezone  # noqa: E402

import pytest  # noqa: E402

from emdesk.domain.clock import FixedClock  # noqa: E402

# Shared test kits beside this file (checklist_kit) are importable from every test folder.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checklist_kit import finish_checklist  # noqa: E402

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """The developer's own settings and data directory are never read or written."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))


@pytest.fixture
def clock():
    return FixedClock(NOW)


@pytest.fixture
def store(tmp_path, clock):
    from emdesk.store import Store

    s, _ = Store.create(tmp_path / "test.db", plain=True, clock=clock)
    yield s
    s.close()


@pytest.fixture(scope="session")
def demo_source():
    """``emdesk.app.demo_world_source`` made once a session for each (seed, subjects, now):
    making it (a world and its planned day) takes seconds, and its users and records are
    frozen, so the tests that each load it into a fresh hub share one copy."""
    from functools import cache

    from emdesk.app import demo_world_source
    return cache(demo_world_source)


@pytest.fixture(name="finish_checklist")
def _finish_checklist():
    return finish_checklist


_EXIT: dict = {"status": None}     # set when the session finishes


def pytest_sessionfinish(session, exitstatus):
    """Pending deletions done and cycles collected while the application lives."""
    _EXIT["status"] = int(exitstatus)
    try:
        from PySide6.QtCore import QCoreApplication, QEvent
        from PySide6.QtWidgets import QApplication
    except ImportError:
        return
    app = QApplication.instance()
    if app is None:
        return
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    from emdesk.ui.gui_gc import stop_collecting
    stop_collecting(app)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """End the test process here, with pytest's own exit status, once every report is out.
    Left to the interpreter's finalisation, PySide6 frees the last Qt wrappers after Qt has
    gone (thousands of widgets made by the UI tests), and a refcount error in its bindings
    aborts a run whose tests all passed.  The application itself quits through Qt
    (``emdesk.ui.qt_app``: pending deletions, then a collection while Qt lives)."""
    if "PySide6.QtCore" not in sys.modules or _EXIT["status"] is None:
        return          # no Qt, or no session finished: pytest ends as it would
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_EXIT["status"])
