"""``PackDialog``: build a breach pack from escalated incidents, look at its first page, issue it.

Opening the dialog builds the pack on the session's STORE lane (a repeated build returns
the latest version unchanged, so opening it again never makes a copy), the bar fed by
the service's progress.  Then page 1 (the decision summary) is shown as the agency will
read it, beside the pack's versions.  Issue records the version as sent to the agency
contact (from the order; editable); Amend makes a new version with the reason and keeps
the old one; Save writes the PDF and the JSON to a folder.  Every service call runs on
the STORE lane; a refusal is shown under the buttons, naming the field to fix.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Sequence

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QHBoxLayout, QLabel, QLineEdit, QProgressBar,
                               QSplitter, QVBoxLayout, QWidget)

from emdesk.domain.deadlines import PACK, Urgency, urgency
from emdesk.domain.monitoring import BreachPack
from emdesk.services.pack_summary import contact_line

from ..formatting import fmt_when
from ..queue.columns import span
from ..tasks import STORE, Task, TaskError, runner_for
from .preview import PagePreview, PdfError
from .side import REASON_FIELD, RECIPIENT_FIELD, PackSide
from .versions import status_words

TICK_MS = 30_000


def due_words(pack: BreachPack, now: datetime) -> tuple[str, Urgency | None]:
    """Where the pack stands against its deadline, in words, and how urgent that is."""
    if pack.sent_at is not None:
        late = (pack.sent_at - pack.pack_due).total_seconds()
        when = f"Issued {fmt_when(pack.sent_at)}"
        return (f"{when}, {span(late)} after the deadline" if late > 0 else f"{when}, within the deadline"), None
    left = (pack.pack_due - now).total_seconds()
    due = f"Pack due by {fmt_when(pack.pack_due)}"
    level = urgency(pack.pack_due, now, PACK)
    return (f"{due}: in {span(left)}" if left > 0 else f"{due}: overdue {span(left)}"), level


def load_version(packs, pack: BreachPack) -> tuple[BreachPack, list[BreachPack], bytes, str, str]:
    """On the store lane: the version, all versions, its PDF, the default recipient and
    the heading (who, which order, to which agency)."""
    doc = packs.document(pack.id)
    template = "bail: the police decide (RADU)" if doc.template == "bail" else "non-bail"
    heading = (f"Breach pack {pack.pack_id} · {doc.subject.name} · order {pack.reference} · "
               f"to {doc.agency.name} ({template})")
    return pack, packs.versions(pack.pack_id), packs.pdf(pack.id), contact_line(doc.agency), heading


def _label(text: str, name: str, *, bold: bool = False, selectable: bool = False) -> QLabel:
    label = QLabel(text, objectName=name)
    label.setWordWrap(True)
    if bold:
        font = label.font()
        font.setBold(True)
        label.setFont(font)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _side_by_side(parent: QWidget, page: QWidget, side: QWidget) -> QSplitter:
    """Page 1 on the left, a little wider than the versions and actions on the right."""
    splitter = QSplitter(Qt.Orientation.Horizontal, parent)
    splitter.addWidget(page)
    splitter.addWidget(side)
    splitter.setStretchFactor(0, 3)
    splitter.setStretchFactor(1, 2)
    splitter.setSizes([600, 560])
    return splitter


class DeadlineLabel(QLabel):
    """Where the pack stands against its deadline, a little larger than the text around it."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("", parent, objectName="packDeadline")
        font = self.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.setFont(font)

    def show_for(self, pack: BreachPack, now: datetime) -> None:
        text, level = due_words(pack, now)
        notified = f" · agency told {fmt_when(pack.notified_at)}" if pack.notified_at else ""
        self.setText(text + notified)
        # Red once overdue, bold red within the last hours (amber's warning), plain otherwise.
        self.setProperty("tone", {Urgency.RED: "bad", Urgency.AMBER: "heading-bad"}.get(level, ""))
        self.style().unpolish(self)
        self.style().polish(self)


class PackDialog(QDialog):
    built = Signal(object)       # the BreachPack version the build gave
    issued = Signal(object)      # the BreachPack version as issued
    amended = Signal(object)     # the new BreachPack version
    saved = Signal(object)       # (pdf path, json path)
    shown = Signal()             # a version's first page is on screen
    failed = Signal(str)         # the sentence shown

    def __init__(self, ctx, incident_ids: Sequence[str], parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("packDialog")
        self.setWindowTitle("Breach pack")
        self.ctx = ctx
        self.packs = getattr(ctx, "packs", None)
        self.incident_ids = tuple(incident_ids)
        self.pack: BreachPack | None = None            # the latest version
        self.versions: list[BreachPack] = []
        self.recipient_default = ""
        self._pdfs: dict[str, bytes] = {}               # version id -> its PDF (deterministic)
        self.shown_version: str | None = None
        self.busy_task: Task | None = None

        self.heading = _label("Building the breach pack…", "packHeading", bold=True)
        self.deadline = DeadlineLabel(self)
        self.progress = QProgressBar(objectName="packProgress")
        self.progress.setRange(0, 100)
        self.progress.setAccessibleName("Building the pack")
        self.progress_text = QLabel("", objectName="statusText")
        self.error = _label("", "errorText", selectable=True)
        self.error.setVisible(False)

        self.preview = PagePreview(self)
        self.side = PackSide(self)
        self.side.version_chosen.connect(self._show_selected)
        self.side.issue_button.clicked.connect(self.issue)
        self.side.amend_button.clicked.connect(self.amend)
        self.side.reason.returnPressed.connect(self.amend)
        self.side.save_button.clicked.connect(self._choose_folder)
        # The side's parts, by the names the flows below (and the tests) use.
        self.table, self.recipient, self.issue_button = self.side.table, self.side.recipient, self.side.issue_button
        self.reason, self.amend_button, self.save_button = self.side.reason, self.side.amend_button, self.side.save_button
        self.saved_label = self.side.saved_label

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.StandardButton.Close).setAutoDefault(False)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.progress_text, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.deadline)
        layout.addLayout(progress_row)
        layout.addWidget(self.error)
        layout.addWidget(_side_by_side(self, self.preview, self.side), 1)
        layout.addWidget(self.buttons)
        self.resize(1180, 760)

        self.tick_timer = QTimer(self, interval=TICK_MS)
        self.tick_timer.timeout.connect(self._tick)
        self._update_buttons()
        if self.packs is None:
            self._show_error("Your account does not build breach packs; ask a monitoring operator or supervisor.")
        elif not self.incident_ids:
            self._show_error("No incident chosen: select an escalated incident in the queue and press P.")
        else:
            QTimer.singleShot(0, self.build)

    # -- what tests and the queue reach for ------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.busy_task is not None

    @property
    def last_error(self) -> str:
        return self.error.text() if self.error.isVisible() else ""

    def selected_version(self) -> BreachPack | None:
        return self.side.selected_version()

    # -- building ------------------------------------------------------------------------
    def build(self) -> None:
        """Build (or find) the pack of the incidents and show its latest version."""
        packs, ids = self.packs, self.incident_ids

        def work(progress):
            pack = packs.build(ids, progress=lambda pct, text: progress(pct, 100, text))
            progress(100, 100, "Drawing the first page…")
            return load_version(packs, pack)

        self._start(work, "Building the pack…", self._on_built)

    @Slot(object)
    def _on_built(self, result) -> None:
        self._idle()
        self._show_loaded(*result)
        self.built.emit(self.pack)

    def _show_loaded(self, pack: BreachPack, versions: list[BreachPack], pdf: bytes, recipient: str,
                     heading: str) -> None:
        self.pack = pack
        self._pdfs[pack.id] = pdf
        self.recipient_default = recipient
        if not self.recipient.text().strip() or self.recipient.text() == self.recipient_default:
            self.recipient.setText(recipient)
        self._set_versions(versions, select=pack.id)
        self.heading.setText(heading)
        self.setWindowTitle(f"Breach pack {pack.reference} v{pack.version}")
        self._tick()
        self.tick_timer.start()

    def _set_versions(self, versions: list[BreachPack], *, select: str | None) -> None:
        self.versions = sorted(versions, key=lambda v: v.version)
        if self.versions:
            self.pack = self.versions[-1]
        self.side.set_versions(self.versions, select=select)
        self._show_selected()

    # -- the selected version ------------------------------------------------------------
    @Slot()
    def _show_selected(self) -> None:
        version = self.selected_version()
        self._update_buttons()
        if version is None or version.id == self.shown_version:
            return
        pdf = self._pdfs.get(version.id)
        if pdf is not None:
            self._show_pdf(version, pdf)
            return
        if self.busy:
            return                     # shown when the work under way is done (``_idle``)
        packs = self.packs
        self._start(lambda: (version, packs.pdf(version.id)), f"Reading v{version.version}…", self._on_pdf)

    @Slot(object)
    def _on_pdf(self, result) -> None:
        self._idle()
        version, pdf = result
        self._pdfs[version.id] = pdf
        if (selected := self.selected_version()) is not None and selected.id == version.id:
            self._show_pdf(version, pdf)

    def _show_pdf(self, version: BreachPack, pdf: bytes) -> None:
        try:
            self.preview.show_pdf(pdf)
        except PdfError as exc:
            self.preview.show_text(str(exc))
            self._show_error(f"Preview of v{version.version}: {exc}")
            return
        self.shown_version = version.id
        self.progress_text.setText(f"v{version.version} ({status_words(version).lower()}): page 1 of "
                                   f"{self.preview.pages}, the decision summary; Save to read every page")
        self.shown.emit()

    # -- issuing, amending, saving -----------------------------------------------------------
    def issue(self) -> None:
        """Issue the selected version to the recipient in the field."""
        version = self.selected_version()
        to = self.recipient.text().strip()
        if version is None or self.busy:
            return
        if not to:
            self._field_problem(self.recipient, f"{RECIPIENT_FIELD}: required; give the agency contact the pack "
                                                "goes to (the order's contact is filled in when there is one)")
            return
        packs = self.packs
        # The order's contact unchanged is the service's own default: it records it as it knows it.
        chosen = None if to == self.recipient_default else to

        def work():
            issued = packs.issue(version.id, chosen)
            return issued, packs.versions(issued.pack_id)

        self._start(work, f"Issuing v{version.version} to {to}…", self._on_issued)

    @Slot(object)
    def _on_issued(self, result) -> None:
        self._idle()
        issued, versions = result
        self._set_versions(versions, select=issued.id)
        self._tick()
        self.progress_text.setText(f"v{issued.version} issued to {issued.issued_to} at {fmt_when(issued.sent_at)}.")
        self.issued.emit(issued)

    def amend(self) -> None:
        """A new version with the reason; the old one is kept, marked superseded."""
        reason = self.reason.text().strip()
        if self.pack is None or self.busy:
            return
        if not reason:
            self._field_problem(self.reason, f"{REASON_FIELD}: required; say what changed and why (it is kept "
                                             "with the pack and shown to the agency)")
            return
        packs, pack_id = self.packs, self.pack.pack_id

        def work(progress):
            pack = packs.amend(pack_id, reason, progress=lambda pct, text: progress(pct, 100, text))
            return load_version(packs, pack)

        self._start(work, "Amending the pack…", self._on_amended)

    @Slot(object)
    def _on_amended(self, result) -> None:
        self._idle()
        self.reason.clear()
        self._show_loaded(*result)
        self.amended.emit(self.pack)

    @Slot()
    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Save the pack's PDF and JSON in")
        if folder:
            self.save_to(Path(folder))

    def save_to(self, folder: Path) -> None:
        """Write the selected version's PDF and JSON into ``folder``."""
        version = self.selected_version()
        if version is None or self.busy:
            return
        packs = self.packs
        self._start(lambda: packs.write(version.id, folder), f"Saving v{version.version}…", self._on_saved)

    @Slot(object)
    def _on_saved(self, paths) -> None:
        self._idle()
        pdf, json_path = paths
        self.saved_label.setText(f"Saved:\n{pdf}\n{json_path}")
        self.progress_text.setText("Saved the PDF and the JSON.")
        self.saved.emit((pdf, json_path))

    # -- running on the store lane -------------------------------------------------------------
    def _start(self, work, text: str, on_done) -> None:
        self.clear_error()
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.progress_text.setText(text)
        # Bound methods only: Qt drops them if the dialog is gone before the work returns.
        self.busy_task = runner_for(self.ctx).run(work, lane=STORE, name="breach pack", on_done=on_done,
                                                  on_error=self._on_error, on_progress=self._on_progress,
                                                  on_cancelled=self._on_cancelled)
        self._update_buttons()

    @Slot(int, int, str)
    def _on_progress(self, done: int, total: int, text: str) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        if text:
            self.progress_text.setText(text)

    def _idle(self) -> None:
        # Each outcome's slot calls this first (the task's own ``finished`` may come before
        # anything could connect to it), so a slot may start the next piece of work.
        self.busy_task = None
        self.progress.setValue(self.progress.maximum())
        self.progress.setVisible(False)          # a full bar left on screen reads as "still working"
        self._update_buttons()
        QTimer.singleShot(0, self, self._show_selected)  # a version chosen while busy

    @Slot(object)
    def _on_error(self, error: TaskError) -> None:
        self._idle()
        self.progress_text.setText("")
        self._show_error(error.sentence)

    @Slot()
    def _on_cancelled(self) -> None:
        self._idle()
        self.progress_text.setText("Stopped.")

    # -- words and buttons ---------------------------------------------------------------------
    def _update_buttons(self) -> None:
        self.side.update_buttons(self.selected_version(), ready=self.packs is not None and not self.busy,
                                 has_pack=self.pack is not None)

    @Slot()
    def _tick(self) -> None:
        if self.pack is not None:
            self.deadline.show_for(self.pack, self.ctx.clock.now())

    def _field_problem(self, field: QLineEdit, text: str) -> None:
        self._show_error(text)
        field.setFocus()

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(True)
        self.failed.emit(text)

    def clear_error(self) -> None:
        self.error.setVisible(False)
        self.error.setText("")

    def done(self, result: int) -> None:        # noqa: D401 (Qt's name)
        self.tick_timer.stop()
        if self.busy_task is not None:
            self.busy_task.cancel()
        super().done(result)
