"""The agencies' Breaches workspace on a real store: a police officer works a pack through
RADU (Receive, Assess, Decide with its outcome, Update) and sees only her force's packs."""
from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from response_kit import NOW, agency_users, make_pack

from emdesk.domain.geocoding import GazetteerGeocoder
from emdesk.domain.monitoring import BreachOutcome, BreachOutcomeCode as C, RaduStep
from emdesk.domain.orders import Responder
from emdesk.domain.responses import codes_for
from emdesk.services.context import AppContext
from emdesk.services.responses import InboxRow, ResponseService, outcome_id
from emdesk.ui.workspaces import ResponsesWorkspace, workspaces_for
from emdesk.ui.workspaces.responses_outcome import OutcomeDialog

NW, YK = "North West", "Yorkshire and the Humber"


@pytest.fixture
def people(store):
    users = agency_users()
    store.put_many(users.values())
    store.put_many([
        make_pack(pack_id="BP-OLD", responder="police", region=NW, sent_at=NOW - timedelta(days=6),
                  breach_at=NOW - timedelta(days=8), reference="MAN-0042", incident_id="i1"),
        make_pack(pack_id="BP-NEW", responder="police", region=NW, sent_at=NOW - timedelta(hours=3),
                  breach_at=NOW - timedelta(days=1), reference="MAN-0077", incident_id="i2", special=True,
                  name="Siân Ellis-Jones"),
        make_pack(pack_id="BP-YORK", responder="police", region=YK, sent_at=NOW - timedelta(days=1),
                  breach_at=NOW - timedelta(days=2), reference="LDS-0009", incident_id="i3"),
        make_pack(pack_id="BP-PROB", responder="probation", region=NW, sent_at=NOW - timedelta(days=1),
                  breach_at=NOW - timedelta(days=2), reference="MAN-0101", incident_id="i4"),
        make_pack(pack_id="BP-DRAFT", responder="police", region=NW, sent_at=None,
                  breach_at=NOW - timedelta(days=1), reference="MAN-0500", incident_id="i5"),
    ])
    return users


def open_workspace(qtbot, store, clock, user) -> ResponsesWorkspace:
    ctx = AppContext.for_user(store, user, clock, GazetteerGeocoder())
    ws = ResponsesWorkspace(ctx)
    qtbot.addWidget(ws)
    ws.resize(1300, 640)
    ws.show()
    with qtbot.waitSignal(ws.loaded, timeout=10_000):
        ws.refresh()
    return ws


def listed(ws) -> list[str]:
    return [ws.table.proxy.row_at(i).reference for i in range(ws.table.proxy.rowCount())]


def cell(ws, row: int, header: str):
    col = [c.header for c in ws.table.model.columns].index(header)
    return ws.table.proxy.index(row, col)


@pytest.mark.parametrize(("username", "expected"), [
    ("police.northwest", ["MAN-0042", "MAN-0077"]),
    ("police.yorkshire", ["LDS-0009"]),
    ("probation.northwest", ["MAN-0101"]),
    ("homeoffice", []),
])
def test_an_agency_sees_only_its_own_issued_packs_by_deadline(qtbot, store, clock, people, username, expected):
    ws = open_workspace(qtbot, store, clock, people[username])
    assert listed(ws) == expected and ws.last_error == ""


def test_agency_accounts_get_the_breaches_workspace_and_nothing_else(people):
    for name in ("police.northwest", "probation.northwest", "homeoffice"):
        assert workspaces_for(people[name]) == [ResponsesWorkspace]
    # The centre follows up the packs it issued, right after its queue.
    from emdesk.ui.workspaces.monitoring import MonitoringWorkspace
    assert workspaces_for(people["monitor.northwest"])[:2] == [MonitoringWorkspace, ResponsesWorkspace]


def test_a_police_officer_records_receive_assess_decide_and_update(qtbot, store, clock, people):
    me = people["police.northwest"]
    ws = open_workspace(qtbot, store, clock, me)
    # The 5-day prompt is highlighted: the old pack first, tinted, and named in the banner.
    assert listed(ws) == ["MAN-0042", "MAN-0077"]
    assert cell(ws, 0, "5-day prompt").data() == "⚠ Mon 23 Nov 09:00"
    assert cell(ws, 1, "5-day prompt").data() == "Mon 30 Nov 09:00"
    assert cell(ws, 0, "Pack").data(Qt.ItemDataRole.BackgroundRole) is not None
    assert cell(ws, 1, "Pack").data(Qt.ItemDataRole.BackgroundRole) is None
    assert ws.prompt_banner.isVisible() and "MAN-0042" in ws.prompt_banner.text()
    # Page 1 of the selected pack is shown, from the pack's own document.
    assert ws.select_pack("BP-OLD")
    qtbot.waitUntil(lambda: "left home during curfew" in ws.summary.toPlainText(), timeout=10_000)
    assert "Dafydd Llŷr" in ws.summary.toPlainText()
    buttons = ws.step_buttons
    assert [b.isEnabled() for b in buttons.values()] == [True, False, False, False]
    assert not ws.outcome_button.isVisible()        # the police decide through RADU

    chosen = []

    def decide(parent, row, by_phone):
        chosen.append((row.pack_id, [c.value for c in codes_for(row.responder)], by_phone))
        return C.ARREST, "Arrest tonight"
    ws.ask = decide
    times = {}
    for step in (RaduStep.RECEIVE, RaduStep.ASSESS, RaduStep.DECIDE, RaduStep.UPDATE):
        clock.advance(timedelta(minutes=15))
        times[step] = clock.now()
        with qtbot.waitSignal(ws.recorded, timeout=10_000) as done:
            qtbot.mouseClick(buttons[step], Qt.MouseButton.LeftButton)
        assert done.args == ["BP-OLD", step.value if step is not RaduStep.DECIDE else "decide"]
        qtbot.waitUntil(lambda s=step: ws.selected() is not None and ws.selected().step_at(s) is not None,
                        timeout=10_000)
        # Each done step shows its time; only the next one can be taken.
        assert buttons[step].text().startswith(f"✓ {step.value.capitalize()} ")
        assert not buttons[step].isEnabled()
    assert chosen == [("BP-OLD", ["bail_same_conditions", "bail_amended", "remand", "arrest", "no_further_action"],
                       False)]
    out = store.get(BreachOutcome, outcome_id("BP-OLD"))
    assert [(s.step, s.at, s.by) for s in out.steps] == [(s, times[s], me.id) for s in RaduStep]
    assert (out.code, out.decided_by) == (C.ARREST, me.id)
    assert out.steps[2].note == "Arrest tonight"
    qtbot.waitUntil(lambda: not ws.prompt_banner.isVisible(), timeout=10_000)
    assert ws.selected().closed and not any(b.isEnabled() for b in buttons.values())
    assert cell(ws, [r.pack_id for r in ws.table.model.rows()].index("BP-OLD"), "Response").data() == "Arrest"


def test_probation_records_an_outcome_with_its_own_codes(qtbot, store, clock, people):
    ws = open_workspace(qtbot, store, clock, people["probation.northwest"])
    assert ws.select_pack("BP-PROB")
    assert ws.outcome_button.isVisible() and ws.outcome_button.isEnabled()
    assert not any(b.isVisible() for b in ws.step_buttons.values())
    dialog = OutcomeDialog(ws.selected(), by_phone=False, parent=ws)
    qtbot.addWidget(dialog)
    assert [b.text() for b in dialog.buttons.values()] == [
        "Engage with the wearer", "Adjust the conditions", "Formal warning", "Recall to prison", "Return to court",
        "No further action"]
    assert dialog.problem_text() == "Choose the outcome."
    ws.ask = lambda parent, row, by_phone: (C.FORMAL_WARNING, "Seen at the office")
    with qtbot.waitSignal(ws.recorded, timeout=10_000):
        qtbot.mouseClick(ws.outcome_button, Qt.MouseButton.LeftButton)
    assert store.get(BreachOutcome, outcome_id("BP-PROB")).code is C.FORMAL_WARNING
    qtbot.waitUntil(lambda: ws.selected() is not None and ws.selected().closed, timeout=10_000)
    assert not ws.outcome_button.isEnabled()


def test_a_phone_outcome_needs_who_reported_it(qtbot, people):
    row = InboxRow(pack_id="BP-1", version_id="v", version=1, reference="R-1", region=NW,
                   responder=Responder.POLICE, template="bail",
                   special=False, breach_at=NOW, notified_at=NOW, first_sent_at=NOW, sent_at=NOW, issued_to="",
                   notification_due=NOW, pack_due=NOW, prompt_at=NOW, code=None, decided_at=None, decided_by="",
                   notes="", steps=(), next_step=RaduStep.RECEIVE, closed=False, prompt=False)
    dialog = OutcomeDialog(row, by_phone=True)
    qtbot.addWidget(dialog)
    dialog.choose(C.REMAND)
    assert dialog.problem_text() == "Say who reported the outcome by phone (name, agency, number)."
    dialog.notes.setPlainText("PC Patel, GMP, 0161 496 0000")
    assert dialog.problem_text() is None and dialog.answer() == (C.REMAND, "PC Patel, GMP, 0161 496 0000")


def test_a_refused_step_is_shown_and_nothing_is_written(qtbot, store, clock, people):
    ws = open_workspace(qtbot, store, clock, people["police.northwest"])
    assert ws.select_pack("BP-NEW")
    # Recorded elsewhere meanwhile (another desk, synced): this screen is stale.
    ResponseService(store, people["police.northwest"], clock).record_step("BP-NEW", RaduStep.RECEIVE)
    with qtbot.waitSignal(ws.record_failed, timeout=10_000) as failed:
        qtbot.mouseClick(ws.step_buttons[RaduStep.RECEIVE], Qt.MouseButton.LeftButton)
    assert "Receive was recorded already" in failed.args[0]
    assert "Receive was recorded already" in ws.status_text.text()
    qtbot.waitUntil(lambda: ws.step_buttons[RaduStep.ASSESS].isEnabled(), timeout=10_000)


def test_the_pack_pdf_opens_from_the_issued_version(qtbot, store, clock, people):
    ws = open_workspace(qtbot, store, clock, people["police.northwest"])
    assert ws.ctx.packs is not None and ws.pdf_button.isVisible()
    assert ws.select_pack("BP-NEW")
    shown = []
    ws.show_file = shown.append
    with qtbot.waitSignal(ws.pdf_opened, timeout=30_000) as opened:
        qtbot.mouseClick(ws.pdf_button, Qt.MouseButton.LeftButton)
    path = shown[0]
    assert str(path) == opened.args[0] and path.name == "MAN-0077-v1.pdf"
    assert path.read_bytes().startswith(b"%PDF") and ws.ctx.packs.pdf("BP-NEW-v1") == path.read_bytes()
    assert ws.status_text.text() == "Opened MAN-0077-v1.pdf."
    # The viewer's copy names a person: it goes when the app does.
    from emdesk.ui.workspaces import responses as module
    module._forget_opened()
    assert not path.exists() and not path.parent.exists()
