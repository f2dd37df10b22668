"""From the queue to an issued breach pack, in the real desktop widgets.

An operator escalates an incident, presses P on it: the pack is built on the store lane
(the bar moving with the service's progress, the map drawn headless from that lane), page
1 is shown, and Issue records the version as sent to the order's contact.  Amend needs a
reason and keeps the old version; Issue needs a recipient; both say which field.
"""
from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from emdesk.domain.monitoring import BreachPack, BreachPackStatus
from emdesk.services.pack_json import parse_document
from emdesk.domain.deadlines import Urgency
from emdesk.domain.monitoring import PackTemplate
from emdesk.domain.orders import Responder
from emdesk.ui.packs import PackDialog, due_words
from emdesk.ui.queue.columns import KEYS, PackSent, deadline_text, deadline_urgency

from packui_kit import demo_desk, desk, world_store  # noqa: F401  (fixtures; no conftest: its name would clash)


def _escalate(panel, store, which=lambda it: it.condition == "curfew" and it.status == "open"):
    """Escalate an incident through the service, as E does, and wait for its row to say so."""
    row = next(r for r in range(panel.model.rowCount()) if which(panel.model.item_at(r)))
    item = panel.model.item_at(row)
    panel.incidents.escalate(item.id, "out all night; no answer to calls")
    panel.poll()
    panel.qtbot.waitUntil(lambda: panel.model.item(item.id).status == "escalated", timeout=10_000)
    panel.select_incident(item.id)
    return panel.model.item(item.id)


def _press_p(qtbot, panel) -> PackDialog:
    panel.activateWindow()            # back from a dialog closed before
    qtbot.waitUntil(panel.isActiveWindow, timeout=5_000)
    panel.view.setFocus()
    with qtbot.waitSignal(panel.pack_opened, timeout=5_000) as opened:
        qtbot.keyClick(panel.view, Qt.Key.Key_P)
    dialog = opened.args[0]
    qtbot.waitUntil(lambda: dialog.pack is not None and dialog.preview.image is not None and not dialog.busy,
                    timeout=60_000)
    return dialog


def _ink(image: QImage) -> float:
    """The share of the page that is not white paper (sampled)."""
    image = image.convertToFormat(QImage.Format.Format_Grayscale8)
    raw, stride = bytes(image.constBits()), image.bytesPerLine()
    seen = dark = 0
    for y in range(0, image.height(), 3):
        for x in range(0, image.width(), 3):
            seen += 1
            dark += raw[y * stride + x] < 200
    return dark / seen


@pytest.fixture
def escalated(desk, qtbot):
    panel, store, operator, clock = desk
    panel.qtbot = qtbot
    return panel, store, operator, clock, _escalate(panel, store)


def test_p_builds_the_pack_shows_page_one_and_issue_records_it_sent(qtbot, escalated):
    panel, store, operator, clock, item = escalated
    progress = []
    with qtbot.waitSignal(panel.pack_opened, timeout=5_000) as opened:
        qtbot.keyClick(panel.view, Qt.Key.Key_P)
    dialog = opened.args[0]
    dialog.progress.valueChanged.connect(progress.append)
    with qtbot.waitSignal(dialog.shown, timeout=60_000):
        pass
    assert dialog.isVisible() and dialog.last_error == ""
    pack = dialog.pack
    assert pack.incident_id == item.id and pack.version == 1 and pack.status is BreachPackStatus.DRAFT
    assert len(set(progress)) >= 3 and max(progress) == 100          # the bar moved with the service
    # Page 1 is the decision summary, drawn: real ink on the paper, not a blank page.
    assert dialog.preview.image.width() >= 480 and 0.01 < _ink(dialog.preview.image) < 0.6
    # The map came from the store lane through the GUI thread: a real PNG in the document.
    doc = parse_document(store.get(BreachPack, pack.id).document.encode())
    assert doc.map is not None and base64.b64decode(doc.map.png_base64)[:4] == b"\x89PNG", doc.map.note
    # The order's contact is filled in; the operator issues to it.
    assert dialog.recipient.text() and dialog.issue_button.isEnabled()
    recipient = dialog.recipient.text()
    with qtbot.waitSignal(dialog.issued, timeout=20_000):
        qtbot.mouseClick(dialog.issue_button, Qt.MouseButton.LeftButton)
    stored = store.get(BreachPack, pack.id)
    assert stored.status is BreachPackStatus.SENT and stored.sent_at == clock.now()
    assert stored.issued_to == recipient and stored.issued_by == operator.id
    assert not dialog.issue_button.isEnabled() and "issued" in dialog.issue_button.text().lower()
    assert dialog.table.view.model().rowCount() == 1
    # The queue's clock for that incident stops: the pack went.
    column = KEYS.index("deadline")
    qtbot.waitUntil(lambda: panel.model.index(panel.model.row_of(item.id), column).data() == "pack sent",
                    timeout=10_000)


def test_opening_the_pack_again_shows_the_same_version_not_a_copy(qtbot, escalated):
    panel, store, *_ = escalated
    first = _press_p(qtbot, panel)
    pack_id = first.pack.pack_id
    first.close()
    qtbot.waitUntil(lambda: panel.pack_desk.dialog is None, timeout=5_000)
    again = _press_p(qtbot, panel)
    assert again.pack.pack_id == pack_id and again.pack.version == 1
    assert len(store.find(BreachPack)) == 1


@pytest.mark.parametrize(("field", "fill", "button", "says"), [
    ("reason", "", "amend_button", "Reason for amending: required"),
    ("recipient", "", "issue_button", "Issue to: required"),
    ("recipient", "   ", "issue_button", "Issue to: required"),
])
def test_a_missing_field_is_named_and_nothing_is_written(qtbot, escalated, field, fill, button, says):
    panel, store, *_ = escalated
    dialog = _press_p(qtbot, panel)
    before = [(p.id, p.status, p.sent_at) for p in store.find(BreachPack)]
    getattr(dialog, field).setText(fill)
    qtbot.mouseClick(getattr(dialog, button), Qt.MouseButton.LeftButton)
    assert dialog.last_error.startswith(says)
    assert getattr(dialog, field).hasFocus() or not dialog.isActiveWindow()
    qtbot.wait(100)
    assert [(p.id, p.status, p.sent_at) for p in store.find(BreachPack)] == before


def test_amend_makes_a_new_version_and_keeps_the_old_superseded(qtbot, escalated):
    panel, store, *_ = escalated
    dialog = _press_p(qtbot, panel)
    v1 = dialog.pack
    qtbot.keyClicks(dialog.reason, "the wearer's phone call at 23:10 was left out")
    with qtbot.waitSignal(dialog.amended, timeout=60_000) as amended:
        qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)        # Enter in the reason amends, never issues
    v2 = amended.args[0]
    assert (v2.pack_id, v2.version, v2.amends) == (v1.pack_id, 2, v1.id)
    assert v2.amend_reason == "the wearer's phone call at 23:10 was left out"
    assert store.get(BreachPack, v1.id).status is BreachPackStatus.SUPERSEDED
    assert all(p.sent_at is None for p in store.find(BreachPack))
    assert dialog.table.view.model().rowCount() == 2 and dialog.reason.text() == ""
    assert dialog.selected_version().id == v2.id and dialog.issue_button.text() == "&Issue v2"
    # The old version stays readable, and cannot be issued.
    view = dialog.table.view
    view.selectRow(1)
    qtbot.waitUntil(lambda: dialog.shown_version == v1.id, timeout=60_000)
    assert not dialog.issue_button.isEnabled() and "superseded" in dialog.issue_button.text().lower()


def test_save_writes_the_pdf_and_json_of_the_selected_version(qtbot, escalated, tmp_path):
    panel, store, *_ = escalated
    dialog = _press_p(qtbot, panel)
    with qtbot.waitSignal(dialog.saved, timeout=20_000) as saved:
        dialog.save_to(tmp_path / "out")
    pdf, json_path = saved.args[0]
    assert pdf.name == "W-CURFEW-pack-v1.pdf" and json_path.name == "W-CURFEW-pack-v1.json"
    assert pdf.read_bytes()[:5] == b"%PDF-" and str(pdf) in dialog.saved_label.text()


@pytest.mark.parametrize("status", ["open", "acknowledged", "auto_closed"])
def test_p_does_nothing_on_an_incident_not_escalated(qtbot, desk, status):
    panel, store, *_ = desk
    row = next(r for r in range(panel.model.rowCount()) if panel.model.item_at(r).status == status) \
        if status != "acknowledged" else None
    if row is None:
        item = next(panel.model.item_at(r) for r in range(panel.model.rowCount())
                    if panel.model.item_at(r).status == "open")
        panel.incidents.acknowledge(item.id)
        panel.poll()
        qtbot.waitUntil(lambda: panel.model.item(item.id).status == "acknowledged", timeout=10_000)
        row = panel.model.row_of(item.id)
    panel.select_row(row)
    assert not panel.pack_desk.action.isEnabled()
    qtbot.keyClick(panel.view, Qt.Key.Key_P)
    qtbot.wait(50)
    assert panel.pack_desk.dialog is None and store.find(BreachPack) == []


def test_the_context_menu_offers_build_pack_on_an_escalated_incident(qtbot, escalated):
    panel, *_rest, item = escalated
    rect = panel.view.visualRect(panel.model.index(panel.model.row_of(item.id), 0))
    panel.pack_desk.context_menu(rect.center())
    menu = panel.pack_desk.menu
    labels = [a.text() for a in menu.actions() if not a.isSeparator()]
    assert "Build &pack…" in labels and panel.pack_desk.action.isEnabled()
    menu.close()


def test_the_deadline_column_counts_down_without_a_reset(qtbot, escalated):
    panel, store, operator, clock, item = escalated
    resets = []
    panel.model.modelReset.connect(lambda: resets.append(1))
    index = lambda: panel.model.index(panel.model.row_of(item.id), KEYS.index("deadline"))  # noqa: E731
    due = item.pack_by
    for left, text in [(timedelta(hours=3, minutes=12), "pack due in 3h 12m"),
                       (timedelta(minutes=-25), "pack overdue 25m")]:
        clock.at = due - left
        panel.tick()
        assert index().data() == text
    assert resets == []


NOW = datetime(2026, 12, 2, 12, tzinfo=timezone.utc)
DUE = datetime(2026, 12, 3, 12, tzinfo=timezone.utc)


# (sent, now, what the dialog's deadline line says, its urgency)
DUE_WORDS = [
    (None, DUE - timedelta(hours=24), "Pack due by Thu 03 Dec 12:00: in 1d 0h", Urgency.OK),
    (None, DUE - timedelta(hours=3, minutes=12), "Pack due by Thu 03 Dec 12:00: in 3h 12m", Urgency.AMBER),
    (None, DUE + timedelta(minutes=25), "Pack due by Thu 03 Dec 12:00: overdue 25m", Urgency.RED),
    (DUE - timedelta(hours=2), DUE, "Issued Thu 03 Dec 10:00, within the deadline", None),
    (DUE + timedelta(hours=1, minutes=5), DUE + timedelta(hours=2), "Issued Thu 03 Dec 13:05, 1h 05m after the deadline",
     None),
]


@pytest.mark.parametrize(("sent", "now", "words", "level"), DUE_WORDS)
def test_the_dialog_says_where_the_pack_stands_against_its_deadline(sent, now, words, level):
    pack = BreachPack(incident_id="i", order_id="o", responder=Responder.POLICE, template=PackTemplate.BAIL,
                      notification_due=DUE - timedelta(hours=26), pack_due=DUE, sent_at=sent)
    assert due_words(pack, now) == (words, level)


# (sent at, relative to the pack's deadline) -> the queue's deadline cell
SENT = [(timedelta(hours=-2), "pack sent"), (timedelta(0), "pack sent"), (timedelta(minutes=1), "pack sent late")]


@pytest.mark.parametrize(("when", "text"), SENT)
def test_the_queue_says_a_pack_went_and_whether_in_time(escalated, when, text):
    item = escalated[-1]
    sent = PackSent(item.pack_by + when, "PC Jones, Police", 1, item.pack_by)
    assert deadline_text(item, item.pack_by + timedelta(days=1), sent) == text
    assert deadline_urgency(item, item.pack_by + timedelta(days=1), sent) is None
