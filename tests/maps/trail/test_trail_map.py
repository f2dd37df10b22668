"""The trail map in a real QtWebEngine page, offline: the page draws the trail, zones and
markers; a live fix reaches it without a reload; replay moves the marker."""
from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone

import pytest

from emdesk.domain.orders import Order
from emdesk.services.ingest import IngestService
from emdesk.services.telemetry_port import StoreTelemetry
from emdesk.ui.maps.trail_map import TrailMap
from monitoring.watchworld import HOME, fix

DAY_START = datetime(2026, 12, 1, 7, tzinfo=timezone.utc)
DAY_END = DAY_START + timedelta(days=1)


def js(qtbot, tm: TrailMap, script: str):
    with qtbot.waitCallback(timeout=10_000) as callback:
        tm.view.run_js(f"JSON.stringify({script})", callback)
    return json.loads(callback.args[0])


def state(qtbot, tm: TrailMap) -> dict:
    return js(qtbot, tm, "emdesk.trail.state()")


def _order(store, ref):
    return next(o for o in store.find(Order) if o.reference == ref)


@pytest.fixture
def shown(qtbot, ctx, world):
    def show(ref, highlight=None, poll_ms=60_000):
        tm = TrailMap(ctx, poll_ms=poll_ms)
        qtbot.addWidget(tm)
        tm.resize(900, 600)
        tm.show()
        with qtbot.waitSignal(tm.loaded, timeout=30_000) as loaded:
            tm.show_order(_order(world, ref).id, DAY_START, DAY_END, highlight)
        assert loaded.args == [True]
        return tm
    return show


def test_the_page_loads_offline_with_the_trail_zones_and_markers(qtbot, shown):
    tm = shown("W-ZONE")
    s = state(qtbot, tm)
    assert s["drawn"] and s["fixes"] == len(tm.trail) == 51
    assert s["kept"] == len(tm.trail.kept) and s["line"] == s["kept"] < s["fixes"]
    assert s["doubtful"] == 1 and s["stops"] >= 1 and s["home"]
    assert s["marker"] == pytest.approx([tm.trail.lat[-1], tm.trail.lon[-1]])
    # Leaflet's own objects: the zone circle folium drew, the canvas the fixes are on.
    assert js(qtbot, tm, "document.querySelectorAll('path.emdesk-zone').length") == 1
    assert js(qtbot, tm, "document.querySelectorAll('canvas.leaflet-zoom-animated').length") >= 1
    assert js(qtbot, tm, "Object.keys(emdesk.markers)") == ["home"]
    # Nothing but local files: every script the page loaded is file:// or inline.
    sources = js(qtbot, tm, "Array.from(document.scripts).map(s => s.src).filter(s => s)")
    assert sources and all(src.startswith("file://") for src in sources)
    sheets = js(qtbot, tm, "Array.from(document.querySelectorAll('link[rel=stylesheet]')).map(l => l.href)")
    assert sheets and all(href.startswith("file://") for href in sheets)


def test_the_incident_stretch_is_highlighted(qtbot, shown, world):
    inc = next(i for i in world.find(__import__("emdesk.domain.monitoring", fromlist=["Incident"]).Incident)
               if i.condition == "curfew")
    tm = shown("W-CURFEW", highlight=(inc.started_at, inc.ended_at))
    s = state(qtbot, tm)
    assert s["stretches"] >= 1
    strong = js(qtbot, tm, "emdesk.lines.length")
    assert strong >= 1


def test_a_live_fix_reaches_the_page_without_a_reload(qtbot, shown, world):
    tm = shown("W-ZONE", poll_ms=200)
    before = state(qtbot, tm)
    js(qtbot, tm, "(window.__same_page = 42)")
    last = datetime.fromtimestamp(tm.last_ms / 1000, timezone.utc)
    IngestService(StoreTelemetry(world)).ingest(io.BytesIO(
        fix("GPS-ZONE", last + timedelta(minutes=1), lat=HOME[0] + 0.02, lon=HOME[1] - 0.01).encode()))
    qtbot.waitUntil(lambda: state(qtbot, tm)["fixes"] == before["fixes"] + 1, timeout=10_000)
    after = state(qtbot, tm)
    assert after["marker"] == pytest.approx([HOME[0] + 0.02, HOME[1] - 0.01])
    assert after["kept"] == before["kept"] + 1 and after["line"] == before["line"] + 1
    assert js(qtbot, tm, "window.__same_page") == 42          # the same page: not reloaded


def test_push_fixes_appends_and_ignores_what_the_page_has(qtbot, shown):
    from emdesk.domain.trails import Fix
    tm = shown("W-ZONE")
    n = state(qtbot, tm)["fixes"]
    t = tm.last_ms
    tm.push_fixes([Fix(t, 0.0, 0.0, 5.0), Fix(t + 1000, 52.5, -1.9, 40.0, True), Fix(t + 2000, 52.51, -1.91, 5.0)])
    qtbot.waitUntil(lambda: state(qtbot, tm)["fixes"] == n + 2, timeout=5_000)
    s = state(qtbot, tm)
    assert s["marker"] == pytest.approx([52.51, -1.91]) and s["last"] == t + 2000 and s["doubtful"] == 2


def test_replay_seek_moves_the_marker_between_fixes(qtbot, shown):
    tm = shown("W-ZONE")
    t0 = int(tm.trail.at[0])
    tm.seek(t0)
    qtbot.waitUntil(lambda: state(qtbot, tm)["t"] == t0, timeout=5_000)
    assert state(qtbot, tm)["marker"] == pytest.approx([tm.trail.lat[0], tm.trail.lon[0]])
    mid = t0 + 30_000                            # halfway between the first two fixes
    js(qtbot, tm, f"emdesk.trail.replay.seek({mid})")
    s = state(qtbot, tm)
    assert s["marker"][0] == pytest.approx((tm.trail.lat[0] + tm.trail.lat[1]) / 2)


def test_replay_plays_forward_at_speed_and_the_slider_follows(qtbot, shown):
    tm = shown("W-ZONE")
    t0 = int(tm.trail.at[0])
    tm.seek(t0)
    tm.speed.setCurrentIndex(3)                  # 600x: ten minutes of trail a second
    tm.play.setChecked(True)
    qtbot.waitUntil(lambda: state(qtbot, tm)["t"] > t0 + 5 * 60_000, timeout=5_000)
    s = state(qtbot, tm)
    assert s["playing"] and s["speed"] == 600
    assert s["marker"] != pytest.approx([tm.trail.lat[0], tm.trail.lon[0]])
    qtbot.waitUntil(lambda: tm.slider.value() > 60, timeout=5_000)
    tm.play.setChecked(False)
    assert not state(qtbot, tm)["playing"]


def test_follow_keeps_the_marker_in_view(qtbot, shown):
    tm = shown("W-CURFEW")
    tm.follow.setChecked(True)
    qtbot.waitUntil(lambda: state(qtbot, tm)["follow"], timeout=5_000)
    js(qtbot, tm, "(emdesk.map.setView([51.5, -0.1], 15, {animate: false}), true)")   # look at London
    js(qtbot, tm, f"emdesk.trail.replay.seek({int(tm.trail.at[0])})")
    assert js(qtbot, tm, "emdesk.map.getBounds().contains(emdesk.trail.state().marker)")


def test_the_window_choice_redraws_the_trail_over_that_window(qtbot, shown, world):
    from emdesk.domain.monitoring import Incident
    inc = next(i for i in world.find(Incident) if i.condition.startswith("zone:") and i.ended_at)
    tm = shown("W-ZONE", highlight=(inc.started_at, inc.ended_at))
    assert tm.window.currentIndex() == 0 and state(qtbot, tm)["fixes"] == 51
    # The second trail read on the same lane thread: the projection must survive it
    # (pyproj 3.7 on Qt's threads crashed here before the lane kept its thread state).
    with qtbot.waitSignal(tm.loaded, timeout=30_000):
        tm.window.setCurrentIndex(2)
        tm.window.activated.emit(2)
    s = state(qtbot, tm)
    assert tm.start == inc.started_at - timedelta(hours=1) and tm.end == inc.ended_at + timedelta(hours=1)
    assert tm.trail.start_ms == int(tm.start.timestamp() * 1000)
    assert s["fixes"] == len(tm.trail) > 0 and s["stretches"] >= 1
    with qtbot.waitSignal(tm.loaded, timeout=30_000):
        tm.window.setCurrentIndex(1)
        tm.window.activated.emit(1)
    assert tm.end - tm.start == timedelta(days=7) and tm.end == DAY_END
    assert state(qtbot, tm)["fixes"] == 51


@pytest.mark.parametrize(("utc", "shown_as"), [
    ("2026-12-01T14:05:00Z", "Tue, 1 Dec, 14:05:00 GMT"),
    ("2026-07-01T14:05:00Z", "Wed, 1 Jul, 15:05:00 BST"),      # summer: the UK clock is an hour on
    ("2026-03-29T00:59:59Z", "Sun, 29 Mar, 00:59:59 GMT"),     # the last second before the change
    ("2026-03-29T01:00:00Z", "Sun, 29 Mar, 02:00:00 BST"),
])
def test_times_on_the_page_are_uk_wall_clock(qtbot, shown, utc, shown_as):
    tm = shown("W-ZONE")
    assert js(qtbot, tm, f"emdesk.trail.when(Date.parse('{utc}'))") == shown_as


def test_hovering_a_fix_shows_its_time_and_a_doubtful_fix_its_accuracy(qtbot, shown):
    tm = shown("W-ZONE")
    i = int(tm.trail.kept[0])
    d = int([k for k in tm.trail.kept.tolist() if tm.trail.doubtful[k]][0])
    hover = ("(function (n) {{ var dot = emdesk.trail.layers.dots.getLayers()[n]; dot.fire('mouseover', {{}}, true);"
             " return dot.getTooltip().getContent(); }})({})")
    first = js(qtbot, tm, hover.format(0))
    assert first == js(qtbot, tm, f"emdesk.trail.when({int(tm.trail.at[i])})")
    doubtful = js(qtbot, tm, hover.format(tm.trail.kept.tolist().index(d)))
    assert "doubtful fix: accurate to 40 m" in doubtful


@pytest.mark.parametrize(("ms", "label"), [
    (5 * 60_000, "5 min"), (59 * 60_000, "59 min"), (65 * 60_000, "1 h 05"), (47 * 3_600_000, "47 h 00"),
    (104 * 3_600_000 + 52 * 60_000, "4 d 8 h"),
])
def test_dwell_labels(qtbot, shown, ms, label):
    tm = shown("W-ZONE")
    assert js(qtbot, tm, f"emdesk.trail.dwell({ms})") == label


def test_each_stop_has_its_dwell_label(qtbot, shown):
    tm = shown("W-CURFEW")
    s = state(qtbot, tm)
    assert s["stops"] == len(tm.trail.stops) == 2 and s["places"] == 2
    labels = js(qtbot, tm, "Array.from(document.querySelectorAll('.emdesk-stop-label div')).map(d => d.textContent)")
    assert sorted(labels) == sorted(["2 h 41", "4 h 17"])


def test_stops_at_one_place_share_a_label_with_their_count_and_total(qtbot):
    import numpy as np

    from emdesk.domain.trails import Stop
    from emdesk.services.trails import Trail
    from emdesk.ui.maps.trail_page import render_trail
    from emdesk.ui.maps.view import MapView

    at = np.arange(6, dtype=np.int64) * 3_600_000 + 1_764_547_200_000
    lat = np.array([52.48, 52.48, 52.50, 52.50, 52.4801, 52.4801])
    lon = np.full(6, -1.89)
    stops = (Stop(int(at[0]), int(at[1]), 52.48, -1.89, 0, 1), Stop(int(at[2]), int(at[3]), 52.50, -1.89, 2, 3),
             Stop(int(at[4]), int(at[5]), 52.4801, -1.89, 4, 5))      # 11 m from the first: the same place
    trail = Trail("o", "REF", int(at[0]), int(at[-1]), at, lat, lon, np.full(6, 5.0), np.zeros(6, bool),
                  np.arange(6), stops=stops)
    view = MapView()
    qtbot.addWidget(view)
    view.resize(600, 400)
    with qtbot.waitSignal(view.page_loaded, timeout=20_000):
        assert view.show_page(render_trail(trail, tiles=None, folder=view.folder))
    with qtbot.waitCallback(timeout=10_000) as cb:
        view.run_js("JSON.stringify(Array.from(document.querySelectorAll('.emdesk-stop-label div'))"
                    ".map(d => d.textContent))", cb)
    assert sorted(json.loads(cb.args[0])) == ["1 h 00", "2 stops, 2 h 00"]


def test_an_incident_still_going_is_highlighted_to_the_end_of_the_window(qtbot, shown):
    tm = shown("W-ZONE", highlight=(datetime(2026, 12, 1, 14, 20, tzinfo=timezone.utc), None))
    assert state(qtbot, tm)["stretches"] >= 1
    with qtbot.waitSignal(tm.loaded, timeout=30_000):
        tm.window.setCurrentIndex(2)
        tm.window.activated.emit(2)
    assert tm.end == DAY_END and tm.start == datetime(2026, 12, 1, 13, 20, tzinfo=timezone.utc)


def test_space_plays_only_while_the_map_has_the_focus(qtbot, shown):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLineEdit, QVBoxLayout, QWidget

    tm = shown("W-ZONE")
    window = QWidget()
    qtbot.addWidget(window)
    other = QLineEdit(window)
    layout = QVBoxLayout(window)
    layout.addWidget(other)
    tm.setParent(window)
    layout.addWidget(tm)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    other.setFocus()
    qtbot.keyClick(other, Qt.Key.Key_Space)
    assert not tm.play.isChecked() and other.text() == " "
    tm.slider.setFocus()
    qtbot.keyClick(tm.slider, Qt.Key.Key_Space)
    assert tm.play.isChecked()
