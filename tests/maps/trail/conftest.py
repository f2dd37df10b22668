"""Trail map fixtures: a small watched world with real telemetry ingested, and the Qt
hygiene the UI tests keep (no work left running, widgets deleted before exit)."""
from __future__ import annotations

import io
import threading
from datetime import datetime, timedelta, timezone

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QSettings

from emdesk.domain.users import Role, User
from emdesk.services.ingest import IngestService
from emdesk.services.telemetry_port import StoreTelemetry
from monitoring.watchworld import HOME, NOW, build, evening, fix
from qt_hygiene import no_work_left

ZONE_CENTRE = (HOME[0] + 0.0064, HOME[1] + 0.0104)


def zone_walk() -> list[str]:
    """W-ZONE walks from home through the victim's street and out the far side, a fix a
    minute from 14:00 on 1 Dec, with a doubtful fix halfway there; then 10 minutes at the
    far end (a stop)."""
    start = datetime(2026, 12, 1, 14, tzinfo=timezone.utc)
    lines = []
    steps = 40
    for i in range(steps + 1):
        f = i / 30                               # 30 steps reach the zone's centre
        lines.append(fix("GPS-ZONE", start + timedelta(minutes=i), lat=HOME[0] + 0.0064 * f,
                         lon=HOME[1] + 0.0104 * f, hdop=8.0 if i == 12 else 1.0))
    end = HOME[0] + 0.0064 * steps / 30, HOME[1] + 0.0104 * steps / 30
    for k in range(1, 11):
        lines.append(fix("GPS-ZONE", start + timedelta(minutes=steps + k), lat=end[0], lon=end[1]))
    return lines


@pytest.fixture
def world(tmp_path):
    store = build(tmp_path / "w.db")
    IngestService(StoreTelemetry(store)).ingest(io.BytesIO("\n".join(evening(47) + zone_walk()).encode()))
    yield store
    store.close()


@pytest.fixture
def users(world):
    return {
        "operator": world.put(User(username="op", display_name="Op", role=Role.MONITORING_OPERATOR,
                                   region="West Midlands")),
        "elsewhere": world.put(User(username="op2", display_name="Op Two", role=Role.MONITORING_OPERATOR,
                                    region="Wales")),
        "supervisor": world.put(User(username="sup", display_name="Sup", role=Role.SUPERVISOR, region="Wales")),
        "officer": world.put(User(username="fo", display_name="Fo", role=Role.FIELD_OFFICER,
                                  region="West Midlands")),
    }


@pytest.fixture
def ctx(world, users):
    from emdesk.domain.clock import FixedClock
    from emdesk.domain.geocoding import GazetteerGeocoder
    from emdesk.services.context import AppContext

    return AppContext.for_user(world, users["operator"], FixedClock(NOW), GazetteerGeocoder())


@pytest.fixture(autouse=True)
def private_settings(tmp_path):
    for fmt in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp_path / "settings"))


@pytest.fixture(autouse=True)
def qt_hygiene(qapp):
    """Widgets closed are deleted now (a QtWebEngine page alive at exit crashes it) and
    every task runner is finished when a test ends."""
    before = set(threading.enumerate())
    yield
    qapp.processEvents()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    no_work_left(qapp, before)
