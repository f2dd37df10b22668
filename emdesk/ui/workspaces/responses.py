"""Breaches: the responsible agency's inbox of issued breach packs, and its response.

An agency account (police, probation, Home Office) sees the packs issued to its agency in
its region, soonest 5-day deadline first; a pack with no outcome 5 days after its issue is
highlighted (national guidance: chase it).  Choosing one shows page 1 of the pack (the
decision summary; the PDF opens from a button where the pack service is wired), and:

- police: the RADU steps as buttons, each showing when it was recorded; only the next step
  can be taken; Decide asks for the outcome; Update closes the response;
- probation and the Home Office: Record outcome… with the codes their agency may record;
- monitoring staff (if given this screen): the prompts of their regions, and an outcome
  reported by phone (the notes say who reported it).

Everything the screen shows comes from ``ctx.responses``; loading, recording and opening
the PDF run on the session's store lane, never on the GUI thread.
"""
from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSplitter, QTextBrowser, QVBoxLayout, QWidget

from emdesk.domain.monitoring import RaduStep
from emdesk.domain.responses import RADU, STEP_LABELS
from emdesk.services.responses import InboxRow

from ..formatting import fmt_time, fmt_when, plural
from ..style import set_prop
from ..table_view import make_table
from ..tasks import TaskError, runner_for
from .base import Workspace
from .responses_detail import columns, summary_html
from .responses_outcome import ask_outcome

STEP_HINTS = {
    RaduStep.RECEIVE: "Receive: the pack has reached the force and someone owns it",
    RaduStep.ASSESS: "Assess: the risk and the evidence have been looked at",
    RaduStep.DECIDE: "Decide: record the decision (the outcome)",
    RaduStep.UPDATE: "Update: the centre and the order's holders have been told; closes the response",
}


class ResponsesWorkspace(Workspace):
    """Signals: ``recorded(pack_id, what)`` after a step or outcome is saved (then it reloads);
    ``record_failed(text)`` when the service refused, the words also shown on screen;
    ``summary_shown(pack_id)`` once page 1 of the selected pack is on screen; ``pdf_opened(path)``
    once the pack's PDF is written and handed to the viewer."""

    key = "responses"
    title = "Breaches"

    recorded = Signal(str, str)
    record_failed = Signal(str)
    summary_shown = Signal(str)
    pdf_opened = Signal(str)

    # Replaced in tests: (parent, row, by_phone) -> (code, notes), or None if cancelled.
    ask = staticmethod(ask_outcome)
    # Replaced in tests: hands a written PDF to the system's viewer.
    show_file = staticmethod(lambda path: QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))))

    def __init__(self, ctx, parent=None):
        super().__init__(ctx, parent)
        self.tasks = runner_for(ctx)
        self.agency = ctx.responses.is_agency
        self.pending: str | None = None          # the pack a write is in flight for
        self._what, self._done_text = "", ""
        self.shown_pack: str | None = None       # whose page 1 is shown (or being fetched)
        self.last_message = ""
        national = ctx.user.role.value == "home_office" or not ctx.user.region
        self.table = make_table(columns(agency_column=not self.agency or national), self, name="responsesTable",
                                sort_column=None)
        self.table.view.setAccessibleName("Breach packs issued")
        self.add_search(self.table, "Filter by reference…")

        self.prompt_banner = QLabel("", objectName="promptBanner")
        self.prompt_banner.setWordWrap(True)
        set_prop(self.prompt_banner, "tone", "bad")
        self.prompt_banner.setVisible(False)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.prompt_banner)
        left_layout.addWidget(self.table.view, 1)

        self.summary = QTextBrowser(objectName="packSummary")
        self.summary.setAccessibleName("The pack's decision summary")
        self.summary.setOpenLinks(False)
        self.summary.setPlaceholderText("Choose a pack to read its decision summary (page 1). Packs appear here "
                                        "when the monitoring centre issues them to you.")
        self.pdf_button = QPushButton("Open the PDF", objectName="openPdf")
        self.pdf_button.setAccessibleName("Open the breach pack's PDF")
        self.pdf_button.clicked.connect(self.open_pdf)
        self.pdf_button.setVisible(self._pdf_service() is not None)

        self.step_buttons: dict[RaduStep, QPushButton] = {}
        steps_row = QHBoxLayout()
        for step in RADU:
            button = QPushButton(STEP_LABELS[step], objectName=f"radu-{step.value}")
            button.setToolTip(STEP_HINTS[step])
            button.setAccessibleDescription(STEP_HINTS[step])
            button.clicked.connect(lambda _=False, s=step: self.record_step(s))
            self.step_buttons[step] = button
            steps_row.addWidget(button)
        self.outcome_button = QPushButton("Record outcome…" if self.agency else "Record outcome reported by phone…",
                                          objectName="recordOutcome")
        self.outcome_button.clicked.connect(self.record_outcome)
        steps_row.addWidget(self.outcome_button)
        steps_row.addStretch(1)
        self.status_text = QLabel("", objectName="responsesStatus")
        self.status_text.setWordWrap(True)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(8, 0, 0, 0)
        self.detail_title = QLabel("", objectName="detailsTitle")
        right_layout.addWidget(self.detail_title)
        right_layout.addWidget(self.summary, 1)
        right_layout.addWidget(self.pdf_button, 0, Qt.AlignmentFlag.AlignLeft)
        right_layout.addLayout(steps_row)
        right_layout.addWidget(self.status_text)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([800, 540])       # the whole inbox row on a laptop screen, page 1 beside it
        self.body.addWidget(split, 1)

        self.table.view.selectionModel().selectionChanged.connect(self._selected)
        for signal in (self.table.proxy.rowsInserted, self.table.proxy.rowsRemoved, self.table.proxy.modelReset,
                       self.table.proxy.layoutChanged, self.table.proxy.dataChanged):
            signal.connect(self._update)
        self._update()

    def _pdf_service(self):
        packs = getattr(self.ctx, "packs", None)
        return packs if packs is not None and hasattr(packs, "pdf") else None

    # -- the load ---------------------------------------------------------------------

    def request(self):
        responses = self.ctx.responses
        return lambda: responses.inbox()

    def show_data(self, rows: list[InboxRow]) -> None:
        self.table.set_rows(rows)
        whose = "issued to your agency" if self.agency else "issued from your regions"
        self.subtitle_label.setText(f"Breach packs {whose}; an outcome is due within 5 days of the breach")
        if self.table.selected_row() is None and rows:
            self.select_pack(rows[0].pack_id)
        self._update()

    def select_pack(self, pack_id: str) -> bool:
        for i in range(self.table.proxy.rowCount()):
            if self.table.proxy.row_at(i).pack_id == pack_id:
                self.table.view.selectRow(i)
                return True
        return False

    def selected(self) -> InboxRow | None:
        return self.table.selected_row()

    # -- page 1 -----------------------------------------------------------------------

    def _selected(self, *args) -> None:
        row = self.selected()
        self._update()
        if row is None or row.pack_id == self.shown_pack:
            return
        self.shown_pack, self.last_message = row.pack_id, ""
        self._update()
        self.summary.setPlainText("Loading the pack…")
        self.tasks.run(self.ctx.responses.document, row.pack_id, name="read breach pack",
                       on_done=self._document, on_error=self._document_failed)

    @Slot(object)
    def _document(self, doc) -> None:
        if doc.pack_id != self.shown_pack:
            return                  # the user has moved on
        self.summary.setHtml(summary_html(doc))
        self.summary_shown.emit(doc.pack_id)

    @Slot(object)
    def _document_failed(self, error: TaskError) -> None:
        self.summary.setPlainText(f"The pack could not be shown. {error.sentence}")

    def open_pdf(self) -> None:
        row, packs = self.selected(), self._pdf_service()
        if row is None or packs is None:
            return
        self._say(f"Opening the PDF of {row.reference}…")
        self.tasks.run(_write_pdf, packs, row.version_id, f"{row.reference}-v{row.version}", name="open pack PDF",
                       on_done=self._pdf_ready, on_error=self._failed_quietly)

    @Slot(object)
    def _pdf_ready(self, path: Path) -> None:
        self.show_file(path)
        self.last_message = f"Opened {path.name}."
        self._say(self.last_message, "good")
        self.pdf_opened.emit(str(path))

    @Slot(object)
    def _failed_quietly(self, error: TaskError) -> None:
        self.last_message = f"The PDF could not be opened. {error.sentence}"
        self._say(self.last_message, "bad")

    # -- responding -------------------------------------------------------------------

    def _update(self, *args) -> None:
        rows = self.table.model.rows()
        prompts = [r for r in rows if r.prompt]
        self.count_label.setText(plural(len(rows), "pack"))
        self.prompt_banner.setText(
            f"{plural(len(prompts), 'breach', 'breaches')} with no outcome 5 days or more after the pack was issued: "
            + ", ".join(r.reference for r in prompts[:6]) + ("…" if len(prompts) > 6 else ""))
        self.prompt_banner.setVisible(bool(prompts))
        row = self.selected()
        busy = self.pending is not None
        self.detail_title.setText(f"{row.reference} v{row.version} · {row.state}" if row else "Choose a pack")
        radu = row is not None and row.radu
        for step, button in self.step_buttons.items():
            button.setVisible(radu)
            at = row.step_at(step) if row is not None else None
            label = STEP_LABELS[step] + ("…" if step is RaduStep.DECIDE and row is not None and row.code is None else "")
            # Done steps show their time (the day in the tooltip): the row stays narrow on a laptop.
            button.setText(f"✓ {STEP_LABELS[step]} {fmt_time(at)}" if at else label)
            button.setToolTip(f"{STEP_LABELS[step]} recorded {fmt_when(at)}" if at else STEP_HINTS[step])
            button.setEnabled(self.agency and not busy and row is not None and row.next_step is step)
        may_decide = row is not None and row.code is None and not busy
        self.outcome_button.setVisible(row is not None and (not self.agency or not row.radu))
        self.outcome_button.setEnabled(may_decide)
        self.pdf_button.setEnabled(row is not None)
        if not self.last_message and not busy:
            if row is None:
                self._say("Nothing issued to you yet." if not rows else "Choose a pack.")
            elif row.closed:
                self._say("This response is closed.")
            elif radu and self.agency:
                self._say(f"Next: {STEP_LABELS[row.next_step]}." if row.next_step else "")
            else:
                self._say("Record the outcome when it is decided.")

    def _say(self, text: str, tone: str = "muted") -> None:
        self.status_text.setText(text)
        set_prop(self.status_text, "tone", tone)

    def record_step(self, step: RaduStep) -> None:
        row = self.selected()
        if row is None or self.pending is not None or not self.step_buttons[step].isEnabled():
            return
        code, note = None, ""
        if step is RaduStep.DECIDE and row.code is None:
            answer = self.ask(self, row, False)
            if answer is None:
                return
            code, note = answer
        self._start(row, step.value, f"{STEP_LABELS[step]} recorded")
        self.tasks.run(self.ctx.responses.record_step, row.pack_id, step, note, code=code,
                       name=f"record {step.value}", on_done=self._recorded, on_error=self._failed)

    def record_outcome(self) -> None:
        row = self.selected()
        if row is None or self.pending is not None or not self.outcome_button.isEnabled():
            return
        answer = self.ask(self, row, not self.agency)
        if answer is None:
            return
        code, notes = answer
        self._start(row, code.value, "Outcome recorded")
        self.tasks.run(self.ctx.responses.record_outcome, row.pack_id, code, notes, name="record outcome",
                       on_done=self._recorded, on_error=self._failed)

    def _start(self, row: InboxRow, what: str, done: str) -> None:
        self.pending, self._what = row.pack_id, what
        self._done_text = f"{done} for {row.reference}."
        self.last_message = ""
        self._say("Saving…")
        self._update()

    @Slot(object)
    def _recorded(self, _outcome) -> None:
        if self.pending is None:
            return
        pack_id, self.pending = self.pending, None
        self.last_message = self._done_text
        self._say(self.last_message, "good")
        self.recorded.emit(pack_id, self._what)
        self.refresh()

    @Slot(object)
    def _failed(self, error: TaskError) -> None:
        if self.pending is None:
            return
        self.pending = None
        self.last_message = f"Not recorded. {error.sentence}"
        self._say(self.last_message, "bad")
        self._update()
        self.record_failed.emit(self.last_message)
        self.refresh()          # most refusals mean the list was stale (recorded elsewhere, synced)


# Packs name people: the copies opened in the system's viewer go when the app does, so no
# unencrypted copy outlives the session on a laptop whose store is encrypted.
_OPENED: list[Path] = []


@atexit.register
def _forget_opened() -> None:
    while _OPENED:
        shutil.rmtree(_OPENED.pop(), ignore_errors=True)


def _write_pdf(packs, version_id: str, stem: str) -> Path:
    """The pack's PDF in a private temporary folder (removed at exit), for the system's viewer."""
    data = packs.pdf(version_id)
    folder = Path(tempfile.mkdtemp(prefix="emdesk-pack-"))
    _OPENED.append(folder)
    path = folder / f"{''.join(c if c.isalnum() or c in '-_.' else '_' for c in stem)}.pdf"
    path.write_bytes(data)
    return path
