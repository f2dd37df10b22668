"""The supervisor's Management workspace over the real service on the small world of
``tests/mi/world.py``: tiles show the figures (red over tolerance), a click lists the cases
behind one with its weekly chart, filters move everything, CSV export writes the file."""
from __future__ import annotations

import csv
import io

import pytest
from PySide6.QtCore import Qt

from emdesk.domain.clock import FixedClock
from emdesk.domain.geocoding import GazetteerGeocoder
from emdesk.domain.users import Role
from emdesk.services.context import AppContext
from emdesk.ui.workspaces import ManagementWorkspace, workspaces_for
from emdesk.ui.workspaces.management import _qdate
from mi.world import FROM, NOW, TO, WALES, build


@pytest.fixture
def ws(qtbot, store):
    sup = build(store)
    ctx = AppContext.for_user(store, sup, FixedClock(NOW), GazetteerGeocoder())
    ws = ManagementWorkspace(ctx)
    qtbot.addWidget(ws)
    ws.resize(1350, 688)          # a 1366x768 laptop, less the window's frame and tabs
    ws.show()
    with qtbot.waitSignal(ws.loaded, timeout=20_000):
        ws.refresh()
    with qtbot.waitSignal(ws.loaded, timeout=20_000):
        ws.from_edit.setDate(_qdate(FROM))
    with qtbot.waitSignal(ws.loaded, timeout=20_000):
        ws.to_edit.setDate(_qdate(TO))
    return ws


def shown(ws):
    proxy = ws.cases.proxy
    return [(proxy.row_at(i).id, proxy.row_at(i).part) for i in range(proxy.rowCount())]


# key: (big value, a piece of the line under it, red) -- the values of tests/mi/test_figures.py
TILES = {
    "unmonitored_share": ("40%", "2 of 5 · tolerance 15%", True),
    "visits_outstanding": ("2", "tolerance 400", False),
    "time_to_pack": ("25.3 h", "average over 3", False),
    "breaches_responded": ("50%", "2 of 4", False),
    "alerts_per_pack": ("1.7", "5 alerts, 3 packs", False),
    "time_unmonitored": ("18.5 days", "average over 2", False),
}


def test_tiles_show_each_figure_and_red_over_tolerance(ws, tmp_path):
    assert ws.subtitle_label.text() == "All regions · 01 Nov 2026 to 15 Nov 2026 (UK days)"
    for key, (big, small, red) in TILES.items():
        tile = ws.tiles.tiles[key]
        assert tile.value.text() == big and small in tile.note.text(), key
        assert bool(tile.property("alert")) is red, key
    assert [b.text() for b in ws.tiles.outcomes.lines.values()] == ["50% engage", "50% recall"]
    # A laptop's screen holds it: nothing forces the workspace wider than 1350.
    assert ws.minimumSizeHint().width() <= 1350
    ws.grab().save(str(tmp_path / "management.png"))


def test_a_click_lists_the_cases_behind_a_figure_and_charts_it(ws, qtbot):
    with qtbot.waitSignal(ws.cases_loaded, timeout=20_000):
        qtbot.mouseClick(ws.tiles.tiles["unmonitored"], Qt.MouseButton.LeftButton)
    assert shown(ws) == [("O3", "never_fitted"), ("O4", "silent")]
    assert "2 cases behind the figure" in ws.cases_title.text()
    # Weekly points from Sunday 11-01: 0, then 2 and 2 (see tests/mi/test_filters.py).
    assert [v for _, v in ws.chart.points] == [0, 2, 2]
    assert ws.chart.chart().title() == "Unmonitored active orders"
    with qtbot.waitSignal(ws.cases_loaded, timeout=20_000):
        ws.tiles.outcomes.lines["outcome:recall"].click()
    assert shown(ws) == [("I1", "")]


def test_the_region_filter_moves_the_tiles(ws, qtbot):
    with qtbot.waitSignal(ws.loaded, timeout=20_000):
        ws.region_box.setCurrentText(WALES)
    assert ws.tiles.tiles["unmonitored_share"].value.text() == "0%"
    assert not ws.tiles.tiles["unmonitored_share"].property("alert")
    assert ws.tiles.tiles["time_to_pack"].value.text() == "24.0 h"


def test_csv_export_writes_the_figures_and_the_cases(ws, qtbot, tmp_path):
    ws.ask_path = lambda name: str(tmp_path / name)
    with qtbot.waitSignal(ws.exported, timeout=20_000) as saved:
        qtbot.mouseClick(ws.export_button, Qt.MouseButton.LeftButton)
    rows = {r["key"]: r for r in csv.DictReader(io.StringIO(open(saved.args[0], encoding="utf-8").read()))}
    assert saved.args[0].endswith("emdesk-figures-2026-11-01-2026-11-15.csv")
    assert (rows["unmonitored_share"]["value"], rows["unmonitored_share"]["beyond"]) == ("0.4", "yes")
    with qtbot.waitSignal(ws.cases_loaded, timeout=20_000):
        ws.open_figure("time_to_pack")
    with qtbot.waitSignal(ws.exported, timeout=20_000) as saved:
        qtbot.mouseClick(ws.export_cases_button, Qt.MouseButton.LeftButton)
    cases = list(csv.DictReader(open(saved.args[0], encoding="utf-8")))
    assert {(r["id"], r["hours"]) for r in cases} == {("I1", "22.00"), ("I5", "24.00"), ("I2", "30.00")}


def test_only_supervisors_get_the_workspace(store):
    from emdesk.domain.users import User
    for role in Role:
        user = User(username=role.value, display_name=role.value, role=role)
        assert (ManagementWorkspace in workspaces_for(user)) is (role is Role.SUPERVISOR), role
