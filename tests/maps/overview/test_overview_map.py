"""The overview map in a real QtWebEngine page: offline, every wearer where the store puts
them with their status, clusters coloured by the worst inside, clicks and live updates."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from emdesk.domain.clock import FixedClock
from emdesk.domain.geocoding import GazetteerGeocoder
from emdesk.services.context import AppContext
from emdesk.ui import qt_app  # noqa: F401  (the tiles' scheme, before the QApplication)
from emdesk.ui.maps.overview import OverviewMap

from .fleetworld import CASES, NOW, USERS, build


def js(qtbot, view, script: str):
    with qtbot.waitCallback(timeout=10_000) as callback:
        view.run_js(f"JSON.stringify({script})", callback)
    return json.loads(callback.args[0])


@pytest.fixture
def world(tmp_path):
    store, orders = build(tmp_path / "fleet.db")
    yield store, orders
    store.close()


@pytest.fixture
def overview(qtbot, world, session):
    store, _ = world
    ctx = AppContext.for_user(store, USERS["supervisor"], FixedClock(NOW), GazetteerGeocoder())
    session(ctx)
    widget = OverviewMap(ctx)
    qtbot.addWidget(widget)
    widget.resize(900, 640)
    with qtbot.waitSignal(widget.refreshed, timeout=30_000):
        widget.show()
    qtbot.waitUntil(lambda: js(qtbot, widget.map, "!!(window.emdesk && emdesk.overview)"), timeout=5_000)
    return widget


def expected_statuses(world):
    store, orders = world
    shown = {c.reference: c.status for c in CASES if c.status}
    shown.update({ref: "silent" for ref in orders if ref.startswith("T-")})     # a day without contact
    return {orders[ref].id: status for ref, status in shown.items()}


def test_every_wearer_is_on_the_page_with_their_status_and_nothing_came_from_the_network(qtbot, world, overview):
    assert js(qtbot, overview.map, "emdesk.overview.statuses()") == expected_statuses(world)
    remote = js(qtbot, overview.map, "performance.getEntriesByType('resource').map(function (e) { return e.name; })"
                                     ".filter(function (n) { return n.indexOf('file:') !== 0; })")
    assert remote == []
    assert "1 in violation" in overview.summary.text() and "wearers" in overview.summary.text()


@pytest.mark.parametrize("reference", ["F-OK", "F-VIOLATION", "F-TECHNICAL", "F-SILENT", "F-BATTERY"])
def test_close_in_each_marker_is_drawn_in_its_status_colour_class(qtbot, world, overview, reference):
    _, orders = world
    case = next(c for c in CASES if c.reference == reference)
    key = json.dumps(orders[reference].id)
    js(qtbot, overview.map, f"(emdesk.map.setView(emdesk.markers[{key}].getLatLng(), 18, {{animate: false}}), 1)")
    pin = f"(function () {{ var e = emdesk.markers[{key}].getElement(); var d = e && e.querySelector('.emdesk-wearer'); return d ? d.className : ''; }})()"
    qtbot.waitUntil(lambda: js(qtbot, overview.map, pin) != "", timeout=5_000)
    assert js(qtbot, overview.map, pin) == f"emdesk-wearer {case.status}"
    tip = js(qtbot, overview.map, f"emdesk.markers[{key}].getTooltip().getContent()")
    assert reference in tip and "Last contact" in tip


def test_a_cluster_takes_the_colour_of_the_worst_status_inside(qtbot, overview):
    js(qtbot, overview.map, "(emdesk.map.setView([52.49, -1.9], 9, {animate: false}), 1)")
    clusters = "Array.from(document.querySelectorAll('.emdesk-cluster')).map(function (e) { return e.className; })"
    qtbot.waitUntil(lambda: js(qtbot, overview.map, clusters) != [], timeout=5_000)
    shown = js(qtbot, overview.map, clusters)
    assert any("violation" in c.split() for c in shown), shown


def test_clicking_a_wearer_names_their_order(qtbot, world, overview):
    _, orders = world
    key = json.dumps(orders["F-SILENT"].id)
    with qtbot.waitSignal(overview.wearer_clicked, timeout=5_000) as clicked:
        js(qtbot, overview.map, f"(emdesk.markers[{key}].fire('click'), 1)")
    assert clicked.args == [orders["F-SILENT"].id]


def test_a_live_refresh_moves_and_recolours_markers_without_reloading_the_page(qtbot, world, overview):
    store, orders = world
    from .fleetworld import _incident, _row

    ok = orders["F-OK"]
    store.telemetry.append([_row(ok, "GPS-F-OK", NOW - timedelta(minutes=1), lat=52.4, lon=-2.0, hdop=1.0)], [])
    from emdesk.domain.people import Subject
    store.put(_incident(ok, store.get(Subject, ok.subject_id), "open"))
    js(qtbot, overview.map, "(window.emdeskSentinel = 42)")
    overview.timer.setInterval(100)            # the live tick, sooner than every 10 s
    with qtbot.waitSignal(overview.refreshed, timeout=10_000):
        pass
    key = json.dumps(ok.id)
    assert js(qtbot, overview.map, f"[emdesk.markers[{key}].getLatLng().lat, emdesk.markers[{key}].getLatLng().lng, "
                                   f"emdesk.markers[{key}].options.status, window.emdeskSentinel]") == [52.4, -2.0, "violation", 42]
    assert overview.map.page_path is not None and "2 in violation" in overview.summary.text()


def test_roles_without_case_lists_see_why_there_is_no_map(qtbot, world, session):
    store, _ = world
    ctx = AppContext.for_user(store, USERS["officer"], FixedClock(NOW), GazetteerGeocoder())
    session(ctx)
    widget = OverviewMap(ctx)
    qtbot.addWidget(widget)
    widget.show()
    assert widget.map.showing_message and "not available" in widget.map.message.text()



@pytest.mark.parametrize("name", ["</script><script>window.hacked = 1</script>", "O'Brien `${x}` \\ \"q\"",
                                  "<b>bold</b> & co"])
def test_names_reach_the_tooltip_as_text_never_as_markup_or_script(name):
    import html

    from emdesk.services.fleet_map import WearerPosition
    from emdesk.ui.maps.overview_layer import overview_layer, tooltip_html
    from emdesk.ui.maps.page import MapBuilder

    p = WearerPosition(order_id="o1", reference="R-1", name=name, region="West Midlands", lat=52.5, lon=-1.9,
                       at=NOW, status="ok", last_contact=NOW)
    tip = tooltip_html(p)
    assert html.escape(name) in tip
    page = MapBuilder().add(overview_layer([p])).render()
    assert "<script>window.hacked" not in page and "<b>bold" not in page


def test_live_refreshes_run_only_while_the_map_is_visible(qtbot, overview):
    from emdesk.ui.maps.overview import LIVE_MS

    assert overview.timer.isActive() and overview.timer.interval() == LIVE_MS
    overview.hide()
    assert not overview.timer.isActive()
    overview.show()
    assert overview.timer.isActive()
