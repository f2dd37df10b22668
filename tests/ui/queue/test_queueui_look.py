"""The queue as it looks: 200 incidents grabbed offscreen, the deadline clocks in colour."""
from __future__ import annotations

from emdesk.services.incidents import IncidentService
from emdesk.ui import palette
from emdesk.ui.queue.panel import QueuePanel

from queueui_kit import NOW, ListQueue, make_items


def test_the_panel_shows_the_clocks_amber_and_red_and_every_column(qtbot, operator_ctx, tmp_path):
    operator_ctx.queue = ListQueue(make_items(200, seed=5))
    operator_ctx.incidents = IncidentService(operator_ctx._store, operator_ctx.user, operator_ctx.clock)
    operator_ctx.clock.at = NOW
    panel = QueuePanel(operator_ctx)
    qtbot.addWidget(panel)
    panel.resize(1326, 560)
    with qtbot.waitSignal(panel.loaded, timeout=10_000):
        panel.show()
    image = panel.grab().toImage()
    assert image.save(str(tmp_path / "queue.png"))
    seen = {image.pixelColor(x, y).name() for x in range(0, image.width(), 3) for y in range(0, image.height(), 3)}
    assert {palette.colour("warn-chip").name(), palette.colour("bad-chip").name()} <= seen
    header = panel.view.horizontalHeader()
    assert all(header.sectionViewportPosition(c) < panel.view.viewport().width() for c in range(header.count()))
    assert panel.count_label.text() == "133 of 200 incidents"
