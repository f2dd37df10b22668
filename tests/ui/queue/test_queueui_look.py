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


def _unnamed(root) -> list[str]:
    """Inputs with no accessible name of their own, or no label pointing at them."""
    from PySide6.QtWidgets import QComboBox, QDateTimeEdit, QLabel, QLineEdit, QPlainTextEdit, QWidget
    buddies = {id(label.buddy()) for label in root.findChildren(QLabel) if label.buddy() is not None}
    inputs = [w for w in root.findChildren(QWidget) if isinstance(w, (QLineEdit, QComboBox, QPlainTextEdit,
                                                                       QDateTimeEdit))
              and not isinstance(w.parent(), (QComboBox, QDateTimeEdit))]
    assert inputs, "no inputs found: the check proves nothing"
    return [w.objectName() for w in inputs if not w.accessibleName() or id(w) not in buddies]


def test_every_input_of_the_panel_and_its_dialogs_is_named_and_labelled(qtbot, operator_ctx):
    from emdesk.ui.queue.dialogs import ExcuseDialog, NoteDialog, ReasonDialog
    item = make_items(1)[0]
    operator_ctx.queue = None
    panel = QueuePanel(operator_ctx)
    qtbot.addWidget(panel)
    for root in (panel, ReasonDialog("Escalate", item, panel, warning="sure?"), NoteDialog(item, panel),
                 ExcuseDialog(item, NOW, panel)):
        assert _unnamed(root) == [], type(root).__name__


def test_a_role_without_the_queue_is_told_so(qtbot, operator_ctx):
    operator_ctx.queue = None
    panel = QueuePanel(operator_ctx)
    qtbot.addWidget(panel)
    panel.show()
    assert "does not work incidents" in panel.last_error and not panel.poll_timer.isActive()
    assert not any(a.isEnabled() for a in panel.triage_actions.values())
