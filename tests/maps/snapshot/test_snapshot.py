"""The pack's map picture: the trail page drawn headless in a real QtWebEngine, grabbed as
a PNG, from the GUI thread with no event loop running (the CLI) and from a worker thread
(the pack built on the store lane), and None when the GUI thread cannot draw in time."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from PySide6.QtGui import QColor, QImage

from emdesk.domain.clock import FixedClock
from emdesk.domain.monitoring import Incident
from emdesk.domain.orders import Order
from emdesk.domain.users import Role, User
from emdesk.services.errors import AccessDenied
from emdesk.ui import palette
from emdesk.ui.maps.snapshot import SIZE, map_image_for
from monitoring.watchworld import NOW

DAY_START = datetime(2026, 12, 1, 7, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Request:
    """The shape of ``emdesk.services.pack_map.MapRequest``."""
    order_id: str
    start: datetime
    end: datetime
    highlight_start: datetime | None = None
    highlight_end: datetime | None = None


@pytest.fixture
def supervisor(world):
    return world.put(User(username="sup", display_name="Sup", role=Role.SUPERVISOR, region="Wales"))


def _request(world, ref: str, start=DAY_START, end=DAY_START + timedelta(days=1), highlight=True) -> Request:
    """The order's day, its first incident's stretch the violation to stand out."""
    order = next(o for o in world.find(Order) if o.reference == ref)
    incident = min(world.find(Incident, where={"order_id": order.id}), key=lambda i: i.started_at)
    if not highlight:
        return Request(order.id, start, end)
    return Request(order.id, start, end, incident.started_at, incident.ended_at)


def _pixels_like(image: QImage, colour: QColor, *, opacity: float, tolerance: int = 40) -> int:
    """Pixels within ``tolerance`` of ``colour`` drawn at ``opacity`` over Leaflet's grey."""
    grey = 0xdd
    want = [round(opacity * c + (1 - opacity) * grey) for c in (colour.red(), colour.green(), colour.blue())]
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    raw = bytes(image.constBits())
    stride, count = image.bytesPerLine(), 0
    for y in range(0, image.height(), 2):
        row = raw[y * stride:y * stride + image.width() * 3]
        for x in range(0, len(row), 6):
            if all(abs(row[x + k] - want[k]) <= tolerance for k in range(3)):
                count += 1
    return count


def _decoded(png: bytes | None) -> QImage:
    assert png is not None and png[:8] == b"\x89PNG\r\n\x1a\n"
    image = QImage.fromData(png, "PNG")
    assert not image.isNull() and (image.width(), image.height()) == SIZE
    return image


@pytest.mark.parametrize(("ref", "colour", "opacity", "tolerance", "at_least"), [
    # The walk through the victim's street: a long purple trail ...
    ("W-ZONE", "map-trail", 0.85, 40, 100),
    # ... the exclusion zone's fill, and the violation stretch drawn over it.
    ("W-ZONE", "zone-exclusion", 0.2, 12, 1000),
    ("W-ZONE", "bad", 0.9, 30, 20),
    # Home late: the whole evening's trail is the curfew violation's stretch.
    ("W-CURFEW", "bad", 0.9, 40, 50),
])
def test_drawn_on_the_gui_thread_with_no_event_loop_running(qapp, world, supervisor, ref, colour, opacity,
                                                            tolerance, at_least):
    image_of = map_image_for(world, supervisor, FixedClock(NOW))
    image = _decoded(image_of(_request(world, ref)))
    assert _pixels_like(image, palette.colour(colour), opacity=opacity, tolerance=tolerance) >= at_least


def test_a_window_with_no_fixes_still_gives_a_picture_without_a_trail(qapp, world, supervisor):
    early = datetime(2026, 11, 21, 7, tzinfo=timezone.utc)
    req = _request(world, "W-ZONE", start=early, end=early + timedelta(hours=6), highlight=False)
    image = _decoded(map_image_for(world, supervisor, FixedClock(NOW))(req))
    assert _pixels_like(image, palette.colour("map-trail"), opacity=0.85) == 0


def test_drawn_from_a_worker_thread_while_the_gui_thread_runs_its_loop(qtbot, world, supervisor):
    image_of = map_image_for(world, supervisor, FixedClock(NOW))
    out: dict = {}
    worker = threading.Thread(target=lambda: out.setdefault("png", image_of(_request(world, "W-ZONE"))))
    worker.start()
    qtbot.waitUntil(lambda: "png" in out, timeout=15_000)
    worker.join()
    assert _pixels_like(_decoded(out["png"]), palette.colour("map-trail"), opacity=0.85) >= 100


def test_a_gui_thread_too_busy_to_draw_gives_none_in_time(qtbot, world, supervisor):
    image_of = map_image_for(world, supervisor, FixedClock(NOW), timeout_s=1.0)
    out: dict = {}
    started = time.monotonic()
    worker = threading.Thread(target=lambda: out.setdefault("png", image_of(_request(world, "W-ZONE"))))
    worker.start()
    worker.join(10)                   # the GUI thread blocks here: it never turns its loop
    assert out == {"png": None} and time.monotonic() - started < 5
    qtbot.wait(50)                    # the posted work comes late, finds nobody waiting, and ends


def test_a_role_that_may_not_see_trails_is_refused_at_once(world):
    officer = world.put(User(username="fo", display_name="Fo", role=Role.FIELD_OFFICER, region="West Midlands"))
    with pytest.raises(AccessDenied):
        map_image_for(world, officer, FixedClock(NOW))
