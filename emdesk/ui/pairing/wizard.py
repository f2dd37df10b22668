"""The pairing wizard: connect the devices, pair them step by step, record the install.

Three pages, like a QWizard but with the buttons a field officer needs at the door:

1. **Connect** (``connect_page``) -- what is being installed and which port each device
   is on (found, or typed in: ``socket://...``);
2. **Pair** (``pair_page``) -- the procedure's steps, each with its progress and result.
   Something fixable at the door ("close the strap") asks *Retry* / *Give up* while the
   devices wait; an error shows its "what happened: what to do" text with *Retry*
   (which starts again from the beginning: the devices are never left half paired);
3. **Record** (``record_page``) -- only once ``PairingResult.paired``: the install is
   written in one transaction on the store lane; if that fails, *Retry recording* is
   safe (recording is idempotent).  A pairing that did not happen records nothing,
   except a device refused as counterfeit, which is set aside as faulty.

What differs between an install visit and the bench is the ``PairingJob`` (``jobs``);
this class holds only the flow.  Device I/O runs on the session's device lane
(``runner``), store work on its store lane; this dialog only ever handles signals.
"""
from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QSize, Signal
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QStackedWidget, QVBoxLayout, QWidget

from emdesk.devices.auth import KeyFileError, ManufacturerKey
from emdesk.devices.errors import CounterfeitDevice
from emdesk.devices.link import LinkPolicy
from emdesk.devices.pairing import STEPS, PairingOutcome, PairingResult, PairingStep, Progress, Prompt, Role
from emdesk.devices.protocol.messages import DeviceIdentity, DeviceStatus
from emdesk.devices.worker import DeviceWorker
from emdesk.services.installs import InstallJob

from .. import geometry
from ..tasks import TaskError, runner_for
from .connect_page import ConnectPage
from .describe import describe_conditions, describe_device
from .jobs import BenchJob, PairingJob, pairing_job
from .keys import is_test_key, manufacturer_key
from .pair_page import PairPage
from .record_page import RecordPage
from .runner import PairingRunner
from .steps import DONE, RECORD, StepRow

PAGES = (("1 Connect", "Connect the devices"), ("2 Pair", "Pairing"), ("3 Record", "Record the installation"))


class PairingWizard(QDialog):
    """``job``: an :class:`InstallJob` (a field officer's install visit), a :class:`BenchJob`,
    or any :class:`PairingJob`."""

    paired = Signal(object)          # PairingResult, paired
    not_paired = Signal(object)      # PairingResult, anything else
    recorded = Signal(object)        # InstallRecord (or the bench's devices)
    record_failed = Signal(str)
    refused_recorded = Signal(object)

    def __init__(self, ctx, job: InstallJob | BenchJob | PairingJob, parent: QWidget | None = None, *,
                 worker: DeviceWorker | None = None, key: ManufacturerKey | None = None,
                 policy: LinkPolicy | None = None):
        super().__init__(parent)
        self.setObjectName("pairingWizard")
        self.ctx, self.job = ctx, job
        self.pairing = pairing_job(job)
        self.setWindowTitle(self.pairing.window_title)
        geometry.restore(self, "pairing_wizard", QSize(860, 640))
        self.result: PairingResult | None = None
        self.record = None
        self._key, key_error = key, ""
        if self._key is None:
            try:
                self._key = manufacturer_key(ctx)
            except KeyFileError as e:
                key_error = str(e)
        self.tasks = runner_for(ctx)
        self.runner = PairingRunner(self.tasks, device=worker, policy=policy, parent=self)
        self.runner.progress.connect(self._on_progress)
        self.runner.identified.connect(self._on_identified)
        self.runner.prompt.connect(self._on_prompt)
        self.runner.finished.connect(self._on_finished)
        self.runner.crashed.connect(self._on_crashed)
        self.runner.checked.connect(self._on_checked)

        self.connect_page = ConnectPage(self.pairing, _key_text(self._key, key_error), self._key is not None)
        self.pair_page = PairPage()
        self.record_page = RecordPage()
        self._alias_page_widgets()
        self.connect_page.changed.connect(self._update_buttons)
        self.prompt_retry.clicked.connect(lambda: self._answer(True))
        self.prompt_stop.clicked.connect(lambda: self._answer(False))
        self.retry_button.clicked.connect(self._retry)
        self.record_retry.clicked.connect(self._record)

        self.heading = QLabel("", objectName="workspaceTitle")
        self.crumbs = QLabel("", objectName="workspaceSubtitle")
        self.pages = QStackedWidget(objectName="pages")
        for page in (self.connect_page, self.pair_page, self.record_page):
            self.pages.addWidget(page)

        self.back_button = QPushButton("Back", objectName="back")
        self.next_button = QPushButton("Start pairing", objectName="primary")
        self.close_button = QPushButton("Cancel", objectName="close")
        self.back_button.clicked.connect(self._back)
        self.next_button.clicked.connect(self._next)
        self.close_button.clicked.connect(self.reject)
        self.next_button.setDefault(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.next_button)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(16, 12, 16, 12)
        outer.addWidget(self.heading)
        outer.addWidget(self.crumbs)
        outer.addWidget(self.pages, 1)
        outer.addLayout(buttons)
        self._show_page(0)

    def _alias_page_widgets(self) -> None:
        # The pages own their widgets; the wizard (and its tests) reach them by these names.
        c, p, r = self.connect_page, self.pair_page, self.record_page
        self.tag_ports, self.hmu_ports, self.with_hmu, self.key_label = c.tag_ports, c.hmu_ports, c.with_hmu, c.key_label
        self.rows, self.progress, self.tag_label, self.hmu_label = p.rows, p.progress, p.tag_label, p.hmu_label
        self.prompt_box, self.prompt_text = p.prompt_box, p.prompt_text
        self.prompt_retry, self.prompt_stop = p.prompt_retry, p.prompt_stop
        self.error_box, self.error_text, self.error_note = p.error_box, p.error_text, p.error_note
        self.retry_button = p.retry_button
        self.result_text, self.summary, self.record_text = r.result_text, r.summary, r.record_text
        self.record_retry, self.next_steps = r.record_retry, r.next_steps

    # -- navigation ---------------------------------------------------------------------

    def _show_page(self, index: int) -> None:
        self.pages.setCurrentIndex(index)
        self.crumbs.setText("   ›   ".join(f"<b>{n}</b>" if i == index else n for i, (n, _) in enumerate(PAGES)))
        self.heading.setText(PAGES[index][1])
        self._update_buttons()

    def _update_buttons(self, *args) -> None:
        index = self.pages.currentIndex()
        running = self.runner.running
        self.back_button.setVisible(index == 1)
        self.back_button.setEnabled(not running)
        self.next_button.setVisible(index == 0)
        if index == 0:
            self.next_button.setText("Start pairing")
            self.next_button.setEnabled(self.connect_page.ready() and self._key is not None)
            self.close_button.setText("Cancel")
        else:
            self.close_button.setText("Stop" if running and index == 1 else "Close")

    def _next(self) -> None:
        if self.pages.currentIndex() == 0:
            self.start_pairing()

    def _back(self) -> None:
        if not self.runner.running:
            self._show_page(0)

    # -- pairing ------------------------------------------------------------------------

    def start_pairing(self) -> None:
        """Start (or start again) from the beginning: the devices begin a new session."""
        self.result = None
        self.pair_page.reset(self.with_hmu.isChecked())
        self._show_page(1)
        self.runner.start(self.tag_ports.port(), self.connect_page.hmu_port(), self.pairing.conditions,
                          key=self._key, allocation=self.pairing.allocation(self.ctx))
        self._update_buttons()

    def _done(self, step: PairingStep) -> str:
        return self.pairing.done_text(step, self.with_hmu.isChecked())

    def _on_progress(self, progress: Progress) -> None:
        for step in STEPS[:progress.index - 1]:
            if self.rows[step].state in ("pending", "running"):
                self.rows[step].set("done", self._done(step))
        self.rows[progress.step].set("running", progress.text + "…")
        self.progress.setValue(progress.index - 1)

    def _on_identified(self, role: Role, identity: DeviceIdentity, status: DeviceStatus) -> None:
        text = describe_device(identity, status)
        (self.tag_label if role is Role.TAG else self.hmu_label).setText(
            ("Tag: " if role is Role.TAG else "Home unit: ") + text)
        self.rows[PairingStep.IDENTIFY].set("done", self._done(PairingStep.IDENTIFY))

    def _on_prompt(self, prompt: Prompt) -> None:
        self.prompt_text.setText(prompt.text)
        self.prompt_box.setVisible(True)
        self.rows[prompt.step].set("running", "waiting for you: " + prompt.error.action)

    def _answer(self, again: bool) -> None:
        self.prompt_box.setVisible(False)
        self.runner.answer(again)

    def _on_finished(self, result: PairingResult) -> None:
        self.result = result
        self.prompt_box.setVisible(False)
        for step in result.completed:
            if self.rows[step].state != "done":
                self.rows[step].set("done", self._done(step))
        for report, label, prefix in ((result.tag, self.tag_label, "Tag: "), (result.hmu, self.hmu_label, "Home unit: ")):
            status = report.final_status or report.status if report is not None else None
            if report is not None and report.identity is not None and status is not None:
                label.setText(prefix + describe_device(report.identity, status))
        self.progress.setValue(len(result.completed))
        if result.paired:
            self.rows[PairingStep.VERIFY].set("done", "; ".join(result.warnings) or DONE[PairingStep.VERIFY])
            self.paired.emit(result)
            self._show_page(2)
            self.result_text.setText("✓ " + result.message[:1].upper() + result.message[1:])
            tag = self.tag_label.text().partition(": ")[2]
            hmu = self.hmu_label.text().partition(": ")[2] if result.hmu else "none (standalone)"
            self.record_page.show_summary(self.pairing.summary(result, tag, hmu), self.pairing.next_steps)
            self._record()
            return
        step = result.failed_step
        if step is not None:
            self.rows[step].set("failed", result.error.what if result.error else result.outcome.value)
            for later in STEPS[STEPS.index(step) + 1:]:
                self.rows[later].set("skipped", "")
        self.rows[RECORD].set("skipped", "nothing recorded")
        self.error_text.setText(result.message)
        if result.outcome is PairingOutcome.UNKNOWN:
            self.error_note.setText(f"Pairing {result.pairing_id}: reconnect both devices and press Check.")
            self.retry_button.setText("Check")
        else:
            self.error_note.setText("The devices are not paired (whatever was prepared lapses by itself) and "
                                    "nothing was recorded."
                                    + ("" if not result.warnings else "  (" + "; ".join(result.warnings) + ")"))
            self.retry_button.setText("Retry")
        self.retry_button.setEnabled(True)
        self.error_box.setVisible(True)
        self.retry_button.setDefault(True)
        self.not_paired.emit(result)
        self._update_buttons()
        if isinstance(result.error, CounterfeitDevice) and result.error.serial:
            self._record_refused(result.error.serial)

    def _on_crashed(self, text: str) -> None:
        self.error_text.setText(f"The pairing stopped. {text}")
        self.error_note.setText("The devices discard an unfinished pairing by themselves.")
        self.retry_button.setText("Retry")
        self.error_box.setVisible(True)
        self._update_buttons()

    def _retry(self) -> None:
        if self.result is not None and self.result.outcome is PairingOutcome.UNKNOWN:
            self.retry_button.setEnabled(False)
            hmu = self.hmu_ports.port() if self.with_hmu.isChecked() else None
            self.runner.check_again(self.tag_ports.port(), hmu, self.result.pairing_id)
            return
        self.start_pairing()

    def _on_checked(self, outcome: PairingOutcome) -> None:
        result = self.result
        if result is None:
            return
        if outcome is PairingOutcome.PAIRED:
            self._on_finished(replace(result, outcome=PairingOutcome.PAIRED, completed=STEPS, failed_step=None,
                                      error=None))
        else:
            self.error_text.setText("the devices are not paired (nothing was committed): press Retry to pair again"
                                    if outcome is PairingOutcome.NOT_PAIRED else
                                    "the devices still do not answer: check both cables and press Check")
            self.retry_button.setText("Retry" if outcome is PairingOutcome.NOT_PAIRED else "Check")
            if outcome is PairingOutcome.NOT_PAIRED:
                self.result = None
            self.retry_button.setEnabled(True)

    # -- recording ----------------------------------------------------------------------

    def _record(self) -> None:
        result = self.result
        if result is None or not result.paired:
            return                                    # never record what did not happen
        self.record_retry.setVisible(False)
        self.rows[RECORD].set("running", "writing the installation…")
        self.record_text.setText("Recording…")
        fn, args, kwargs = self.pairing.record(self.ctx, result)
        self.tasks.run(fn, *args, name="record the pairing", on_done=self._recorded, on_error=self._record_error,
                       **kwargs)

    def _recorded(self, record) -> None:
        self.record = record
        text = getattr(record, "message", None) or "recorded the pairing of " + " and ".join(
            s for s in (self.result.tag_serial, self.result.hmu_serial) if s)
        self.rows[RECORD].set("done", text)
        self.progress.setValue(len(STEPS) + 1)
        self.record_page.say(text[:1].upper() + text[1:] + ".", "good")
        self.recorded.emit(record)
        self._update_buttons()

    def _record_error(self, error: TaskError) -> None:
        message = error.sentence
        self.rows[RECORD].set("failed", message)
        self.record_page.say(f"The devices ARE paired, but the installation could not be recorded. {message} "
                             "Then press Retry recording (it is safe to repeat).", "bad")
        self.record_retry.setVisible(True)
        self.record_failed.emit(message)

    def _record_refused(self, serial: str) -> None:
        fn, args, kwargs = self.pairing.record_refused(self.ctx, serial)

        def done(refused) -> None:
            self.error_note.setText(refused.message[:1].upper() + refused.message[1:] + ".")
            self.refused_recorded.emit(refused)

        self.tasks.run(fn, *args, name="record the refused device", on_done=done,
                       on_error=lambda e: self.error_note.setText(f"Could not record the refused device. {e.sentence}"),
                       **kwargs)

    # -- closing ------------------------------------------------------------------------

    def done(self, result: int) -> None:
        geometry.save(self, "pairing_wizard")
        super().done(result)

    def reject(self) -> None:
        if self.runner.running:
            self.runner.cancel()      # rolls back before its next step; the finished signal follows
            self.close_button.setEnabled(False)
            self.runner.finished.connect(lambda *_: QDialog.reject(self))
            self.runner.crashed.connect(lambda *_: QDialog.reject(self))
            return
        super().reject()


def _key_text(key: ManufacturerKey | None, error: str) -> str:
    if key is None:
        return f"Authenticity key: {error}"
    text = f"Authenticity key: {key.key_id}"
    if is_test_key(key):
        text += " — the emulator's TEST key (demo store only; never for real devices)"
    return text


__all__ = ["BenchJob", "PairingJob", "PairingWizard", "RECORD", "StepRow", "describe_conditions", "describe_device"]
