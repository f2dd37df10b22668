"""The pairing wizard: connect the devices, pair them step by step, record the install.

Three pages, like a QWizard but with the buttons a field officer needs at the door:

1. **Connect** -- what is being installed (the visit, the order's conditions, the kit
   allocated), and which port each device is on (found, or typed in: ``socket://...``);
2. **Pair** -- the procedure's steps, each with its progress and result: connect,
   identify (kind, serial, firmware, battery, strap), check allocation, authenticate,
   pair, write the configuration, self-test, commit, verify.  Something fixable at the
   door ("close the strap") asks *Retry* / *Give up* while the devices wait; an error
   shows its "what happened: what to do" text with *Retry* (which starts the pairing
   again from the beginning -- the devices are never left half paired);
3. **Record** -- only once ``PairingResult.paired``: the install is written in one
   transaction on the service thread (``ctx.installs.record_installation``, or on the
   bench ``ctx.bench.record_bench_pairing``); if that fails, *Retry recording* is safe
   (recording is idempotent).  A pairing that did not happen records nothing, except a
   device refused as counterfeit, which is set aside as faulty.

All device I/O runs on the shared device thread (:mod:`.runner`); all store work on the
store lane of the session's ``TaskRunner``; this dialog only ever handles signals.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from emdesk.devices.auth import KeyFileError, ManufacturerKey
from emdesk.devices.errors import CounterfeitDevice
from emdesk.devices.link import LinkPolicy
from emdesk.devices.pairing import (
    STEPS,
    PairingOutcome,
    PairingResult,
    PairingStep,
    Progress,
    Prompt,
    Role,
)
from emdesk.devices.protocol.messages import DeviceIdentity, DeviceStatus
from emdesk.devices.worker import DeviceWorker
from emdesk.domain.conditions import Conditions
from emdesk.services.installs import InstallJob

from .. import geometry
from ..tasks import TaskError, runner_for
from .keys import is_test_key, manufacturer_key
from .ports import PortPicker
from .runner import PairingRunner

TITLES = {
    PairingStep.DETECT: "Connect",
    PairingStep.IDENTIFY: "Identify",
    PairingStep.CHECK_ALLOCATION: "Check allocation",
    PairingStep.AUTHENTICATE: "Authenticate",
    PairingStep.PREPARE: "Pair",
    PairingStep.WRITE_CONFIG: "Write configuration",
    PairingStep.SELF_TEST: "Self-test",
    PairingStep.COMMIT: "Commit",
    PairingStep.VERIFY: "Verify",
}
RECORD = "record"
DONE = {
    PairingStep.DETECT: "both devices answered",
    PairingStep.IDENTIFY: "serials, firmware, battery and strap read",
    PairingStep.CHECK_ALLOCATION: "allocated to this order",
    PairingStep.AUTHENTICATE: "genuine (manufacturer's key)",
    PairingStep.PREPARE: "pairing prepared on both devices",
    PairingStep.WRITE_CONFIG: "configuration stored and checked (CRC-32)",
    PairingStep.SELF_TEST: "strap, battery, radio range: passed",
    PairingStep.COMMIT: "committed by the home unit, over the radio to the tag",
    PairingStep.VERIFY: "both devices report the same pairing",
}
_MARKS = {"pending": ("○", "#98a2b3"), "running": ("◐", "#1d5fa8"), "done": ("✓", "#067647"),
          "failed": ("✗", "#b42318"), "skipped": ("–", "#98a2b3")}
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def describe_conditions(c: Conditions) -> str:
    parts = []
    if c.curfew and c.curfew.windows:
        times = sorted({f"{w.start:%H:%M}–{w.end:%H:%M}" for w in c.curfew.windows})
        days = ", ".join(_WEEKDAYS[w.weekday] for w in sorted(c.curfew.windows, key=lambda w: w.weekday))
        parts.append(f"curfew {' / '.join(times)} ({days})")
    if c.zones:
        parts.append(f"{len(c.zones)} zone{'s' if len(c.zones) != 1 else ''}")
    if c.location:
        parts.append(f"location every {c.location.fix_interval_s} s")
    if c.alcohol:
        parts.append(f"alcohol ({c.alcohol.mode.value})")
    if c.checkins:
        parts.append(f"{c.checkins.per_week} check-ins a week")
    return "; ".join(parts) or "no conditions for the devices (time zone only)"


def describe_device(identity: DeviceIdentity, status: DeviceStatus) -> str:
    power = f"battery {status.battery_pct}%" + (" (charging)" if status.charging else "")
    strap = "" if identity.kind.value == "hmu" else (" · strap OPEN" if status.strap_open else " · strap closed")
    return (f"{identity.kind.label} {identity.serial} · {identity.model} · firmware {identity.firmware} · "
            f"{power}{strap}")


@dataclass(frozen=True)
class BenchJob:
    """Pairing on the technician's bench: no visit, no order conditions."""

    title: str = "Pair a tag with its home unit on the bench"
    needs_home_unit: bool = True


class StepRow(QWidget):
    def __init__(self, key, title: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.key = key
        self.state = "pending"
        self.mark = QLabel(objectName="stepMark")
        self.mark.setFixedWidth(22)
        self.mark.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title = QLabel(title, objectName="stepTitle")
        self.title.setMinimumWidth(150)
        self.detail = QLabel("", objectName="stepDetail")
        self.detail.setWordWrap(True)
        self.detail.setStyleSheet("color: #475467;")
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 2, 4, 2)
        row.addWidget(self.mark)
        row.addWidget(self.title)
        row.addWidget(self.detail, 1)
        self.set("pending")

    def set(self, state: str, detail: str | None = None) -> None:
        self.state = state
        glyph, colour = _MARKS[state]
        self.mark.setText(glyph)
        self.mark.setStyleSheet(f"color: {colour}; font-size: 13pt; font-weight: bold;")
        weight = "bold" if state in ("running", "failed") else "normal"
        self.title.setStyleSheet(f"font-weight: {weight}; color: {colour if state == 'failed' else '#1d2939'};")
        if detail is not None:
            self.detail.setText(detail)


class PairingWizard(QDialog):
    """``job``: an :class:`InstallJob` (a field officer's install visit) or a :class:`BenchJob`."""

    paired = Signal(object)          # PairingResult, paired
    not_paired = Signal(object)      # PairingResult, anything else
    recorded = Signal(object)        # InstallRecord (or the bench's devices)
    record_failed = Signal(str)
    refused_recorded = Signal(object)

    def __init__(self, ctx, job: InstallJob | BenchJob, parent: QWidget | None = None, *,
                 worker: DeviceWorker | None = None, key: ManufacturerKey | None = None,
                 policy: LinkPolicy | None = None):
        super().__init__(parent)
        self.setObjectName("pairingWizard")
        self.ctx, self.job = ctx, job
        self.bench = isinstance(job, BenchJob)
        self.setWindowTitle("Pair devices" + (" — bench" if self.bench else f" — {job.subject_name}"))
        geometry.restore(self, "pairing_wizard", QSize(860, 640))
        self.result: PairingResult | None = None
        self.record = None
        self._key = key
        self._key_error = ""
        if self._key is None:
            try:
                self._key = manufacturer_key(ctx)
            except KeyFileError as e:
                self._key_error = str(e)
        self.tasks = runner_for(ctx)
        self.runner = PairingRunner(self.tasks, device=worker, policy=policy, parent=self)
        self.runner.progress.connect(self._on_progress)
        self.runner.identified.connect(self._on_identified)
        self.runner.prompt.connect(self._on_prompt)
        self.runner.finished.connect(self._on_finished)
        self.runner.crashed.connect(self._on_crashed)
        self.runner.checked.connect(self._on_checked)

        self.heading = QLabel("", objectName="workspaceTitle")
        self.crumbs = QLabel("", objectName="workspaceSubtitle")
        self.pages = QStackedWidget(objectName="pages")
        self.pages.addWidget(self._connect_page())
        self.pages.addWidget(self._pair_page())
        self.pages.addWidget(self._record_page())

        self.back_button = QPushButton("Back", objectName="back")
        self.next_button = QPushButton("Start pairing", objectName="primary")
        self.close_button = QPushButton("Cancel", objectName="close")
        self.back_button.clicked.connect(self._back)
        self.next_button.clicked.connect(self._next)
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.next_button)

        # An ID-styled button keeps its colour when disabled unless told otherwise.
        self.setStyleSheet("QPushButton#primary:disabled { background: #f2f4f7; color: #98a2b3; "
                           "border: 1px solid #e4e7ec; font-weight: normal; }")
        self.next_button.setDefault(True)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(16, 12, 16, 12)
        outer.addWidget(self.heading)
        outer.addWidget(self.crumbs)
        outer.addWidget(self.pages, 1)
        outer.addLayout(buttons)
        self._show_page(0)

    # -- pages --------------------------------------------------------------------------

    def _connect_page(self) -> QWidget:
        page = QWidget(objectName="connectPage")
        job = self.job
        what = QGroupBox("What is being installed" if not self.bench else "Bench pairing")
        grid = QGridLayout(what)
        grid.setColumnStretch(1, 1)
        rows = []
        if isinstance(job, InstallJob):
            rows = [("Visit", f"{job.subject_name} · order {job.reference or job.order_id}"),
                    ("Address", job.address or "—"),
                    ("Conditions", describe_conditions(job.conditions)),
                    ("Allocated kit", ", ".join(f"{s} ({k.label})" for s, k in job.allocated)
                     or "none yet: a device from your region's stock will be allocated")]
        else:
            rows = [("Purpose", "pair kit for issue: the records of both devices will point at each other"),
                    ("Conditions", "none (the order's conditions are written at the install)")]
        for i, (label, value) in enumerate(rows):
            name = QLabel(label + ":")
            name.setStyleSheet("color: #475467;")
            text = QLabel(value, objectName=f"job{label.replace(' ', '')}")
            text.setWordWrap(True)
            grid.addWidget(name, i, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(text, i, 1)

        ports = QGroupBox("Connect the devices to the cradle")
        form = QGridLayout(ports)
        form.setColumnStretch(1, 1)
        self.tag_ports = PortPicker(name="tagPort", label="Tag port")
        self.hmu_ports = PortPicker(name="hmuPort", label="Home unit port")
        self.with_hmu = QCheckBox("with a &home monitoring unit", objectName="withHmu")
        self.with_hmu.setAccessibleName("With a home monitoring unit")
        self.with_hmu.setAccessibleDescription("Pair the tag with a home unit on the second port")
        self.with_hmu.setChecked(job.needs_home_unit)
        self.with_hmu.toggled.connect(self._update_buttons)
        tag_label = QLabel("&Tag (or standalone device):")
        tag_label.setBuddy(self.tag_ports.combo)
        form.addWidget(tag_label, 0, 0)
        form.addWidget(self.tag_ports, 0, 1)
        form.addWidget(self.with_hmu, 1, 0, 1, 2)
        hmu_label = QLabel("H&ome unit:")
        hmu_label.setBuddy(self.hmu_ports.combo)
        form.addWidget(hmu_label, 2, 0)
        form.addWidget(self.hmu_ports, 2, 1)
        hint = QLabel("Each device on its own cable or cradle slot. Not listed? Use “Add port…” "
                      "(a network cradle: socket://address:port).")
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #667085;")
        form.addWidget(hint, 3, 0, 1, 2)
        self.tag_ports.changed.connect(self._update_buttons)
        self.hmu_ports.changed.connect(self._update_buttons)

        if self._key is not None:
            key_text = f"Authenticity key: {self._key.key_id}"
            if is_test_key(self._key):
                key_text += " — the emulator's TEST key (demo store only; never for real devices)"
        else:
            key_text = f"Authenticity key: {self._key_error}"
        self.key_label = QLabel(key_text, objectName="keyLabel")
        self.key_label.setWordWrap(True)
        if self._key is None:
            self.key_label.setObjectName("errorText")

        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addWidget(what)
        layout.addWidget(ports)
        layout.addWidget(self.key_label)
        layout.addStretch(1)
        return page

    def _pair_page(self) -> QWidget:
        page = QWidget(objectName="pairPage")
        steps = QGroupBox("Pairing")
        box = QVBoxLayout(steps)
        box.setSpacing(0)
        self.rows: dict = {}
        for step in STEPS:
            row = StepRow(step, TITLES[step])
            self.rows[step] = row
            box.addWidget(row)
        self.rows[RECORD] = StepRow(RECORD, "Record")
        box.addWidget(self.rows[RECORD])
        self.progress = QProgressBar(objectName="pairingProgress")
        self.progress.setRange(0, len(STEPS) + 1)
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(6)
        box.addSpacing(6)
        box.addWidget(self.progress)

        devices = QGroupBox("Devices")
        dev = QVBoxLayout(devices)
        self.tag_label = QLabel("Tag: not identified yet", objectName="tagDevice")
        self.hmu_label = QLabel("Home unit: not identified yet", objectName="hmuDevice")
        for label in (self.tag_label, self.hmu_label):
            label.setWordWrap(True)
            dev.addWidget(label)

        self.prompt_box = QFrame(objectName="promptBox")
        self.prompt_box.setStyleSheet("QFrame#promptBox { background: #fffaeb; border: 1px solid #fedf89; "
                                      "border-radius: 6px; }")
        self.prompt_text = QLabel("", objectName="promptText")
        self.prompt_text.setWordWrap(True)
        self.prompt_text.setStyleSheet("color: #93370d; font-weight: bold;")
        self.prompt_retry = QPushButton("Retry", objectName="promptRetry")
        self.prompt_stop = QPushButton("Give up", objectName="promptStop")
        self.prompt_retry.clicked.connect(lambda: self._answer(True))
        self.prompt_stop.clicked.connect(lambda: self._answer(False))
        p = QHBoxLayout(self.prompt_box)
        p.addWidget(self.prompt_text, 1)
        p.addWidget(self.prompt_retry)
        p.addWidget(self.prompt_stop)
        self.prompt_box.setVisible(False)

        self.error_box = QFrame(objectName="errorBox")
        self.error_box.setStyleSheet("QFrame#errorBox { background: #fef3f2; border: 1px solid #fda29b; "
                                     "border-radius: 6px; }")
        self.error_text = QLabel("", objectName="errorText")
        self.error_text.setWordWrap(True)
        self.error_note = QLabel("", objectName="errorNote")
        self.error_note.setWordWrap(True)
        self.retry_button = QPushButton("Retry", objectName="retry")
        self.retry_button.clicked.connect(self._retry)
        e = QGridLayout(self.error_box)
        e.setColumnStretch(0, 1)
        e.addWidget(self.error_text, 0, 0)
        e.addWidget(self.retry_button, 0, 1, 2, 1, Qt.AlignmentFlag.AlignVCenter)
        e.addWidget(self.error_note, 1, 0)
        self.error_box.setVisible(False)

        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addWidget(steps)
        layout.addWidget(devices)
        layout.addWidget(self.prompt_box)
        layout.addWidget(self.error_box)
        layout.addStretch(1)
        return page

    def _record_page(self) -> QWidget:
        page = QWidget(objectName="recordPage")
        box = QGroupBox("Installation")
        layout = QVBoxLayout(box)
        self.result_text = QLabel("", objectName="resultText")
        self.result_text.setWordWrap(True)
        self.result_text.setStyleSheet("font-size: 13pt; font-weight: bold; color: #067647;")
        self.summary = QLabel("", objectName="pairingSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.record_text = QLabel("", objectName="recordText")
        self.record_text.setWordWrap(True)
        self.record_retry = QPushButton("Retry recording", objectName="recordRetry")
        self.record_retry.clicked.connect(self._record)
        self.record_retry.setVisible(False)
        layout.addWidget(self.result_text)
        layout.addWidget(self.summary)
        layout.addSpacing(6)
        layout.addWidget(self.record_text)
        layout.addWidget(self.record_retry, 0, Qt.AlignmentFlag.AlignLeft)
        self.next_steps = QLabel("", objectName="nextSteps")
        self.next_steps.setWordWrap(True)
        self.next_steps.setStyleSheet("color: #475467;")
        outer = QVBoxLayout(page)
        outer.setContentsMargins(0, 8, 0, 0)
        outer.addWidget(box)
        outer.addWidget(self.next_steps)
        outer.addStretch(1)
        return page

    def _fill_summary(self, result: PairingResult) -> None:
        rows = [("Tag", self.tag_label.text().partition(": ")[2]),
                ("Home unit", self.hmu_label.text().partition(": ")[2] if result.hmu else "none (standalone)"),
                ("Pairing id", result.pairing_id)]
        if isinstance(self.job, InstallJob):
            rows.insert(0, ("Visit", f"{self.job.subject_name} · order {self.job.reference or self.job.order_id}"))
            rows.append(("Configuration", describe_conditions(self.job.conditions)))
        self.summary.setText("<table cellspacing='4'>" + "".join(
            f"<tr><td style='color:#475467; padding-right:12px'>{k}</td><td>{v}</td></tr>" for k, v in rows)
            + "</table>")
        if isinstance(self.job, InstallJob):
            self.next_steps.setText("Next: fit the tag, check the strap is closed, and leave the home unit "
                                    "plugged into the mains near where the wearer sleeps.")
        else:
            self.next_steps.setText("Label both devices as a pair before they go back on the shelf.")

    # -- navigation ---------------------------------------------------------------------

    def _show_page(self, index: int) -> None:
        self.pages.setCurrentIndex(index)
        names = ["1 Connect", "2 Pair", "3 Record"]
        self.crumbs.setText("   ›   ".join(f"<b>{n}</b>" if i == index else n for i, n in enumerate(names)))
        self.heading.setText(["Connect the devices", "Pairing", "Record the installation"][index])
        self._update_buttons()

    def _update_buttons(self, *args) -> None:
        index = self.pages.currentIndex()
        running = self.runner.running
        self.hmu_ports.setEnabled(self.with_hmu.isChecked())
        self.back_button.setVisible(index == 1)
        self.back_button.setEnabled(not running)
        if index == 0:
            ready = bool(self.tag_ports.port()) and (not self.with_hmu.isChecked() or bool(self.hmu_ports.port()))
            ready = ready and self._key is not None and self.tag_ports.port() != self.hmu_ports.port()
            self.next_button.setText("Start pairing")
            self.next_button.setVisible(True)
            self.next_button.setEnabled(ready)
            self.close_button.setText("Cancel")
        elif index == 1:
            self.next_button.setVisible(False)
            self.close_button.setText("Stop" if running else "Close")
        else:
            self.next_button.setVisible(False)
            self.close_button.setText("Close")

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
        for row in self.rows.values():
            row.set("pending", "")
        self.progress.setValue(0)
        self.prompt_box.setVisible(False)
        self.error_box.setVisible(False)
        self.tag_label.setText("Tag: not identified yet")
        self.hmu_label.setText("Home unit: not identified yet" if self.with_hmu.isChecked() else "Home unit: none")
        hmu = self.hmu_ports.port() if self.with_hmu.isChecked() else None
        self._show_page(1)
        conditions = self.job.conditions if isinstance(self.job, InstallJob) else Conditions()
        self.runner.start(self.tag_ports.port(), hmu, conditions, key=self._key, allocation=self._allocation())
        self._update_buttons()

    def _allocation(self):
        ctx, job = self.ctx, self.job
        if isinstance(job, InstallJob):
            installs = ctx.installs
            return lambda serial, kind, partner: installs.check_allocation(job.order_id, job.visit_id, serial,
                                                                            kind, partner)
        bench = ctx.bench
        return lambda serial, kind, partner: bench.check_allocation(serial, kind, partner)

    def _done_text(self, step: PairingStep) -> str:
        if step is PairingStep.CHECK_ALLOCATION and self.bench:
            return "known to emdesk and free to pair"
        if step is PairingStep.DETECT and not self.with_hmu.isChecked():
            return "the device answered"
        return DONE[step]

    def _on_progress(self, progress: Progress) -> None:
        for step in STEPS[:progress.index - 1]:
            if self.rows[step].state in ("pending", "running"):
                self.rows[step].set("done", self._done_text(step))
        self.rows[progress.step].set("running", progress.text + "…")
        self.progress.setValue(progress.index - 1)

    def _on_identified(self, role: Role, identity: DeviceIdentity, status: DeviceStatus) -> None:
        text = describe_device(identity, status)
        (self.tag_label if role is Role.TAG else self.hmu_label).setText(
            ("Tag: " if role is Role.TAG else "Home unit: ") + text)
        self.rows[PairingStep.IDENTIFY].set("done", self._done_text(PairingStep.IDENTIFY))

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
                self.rows[step].set("done", self._done_text(step))
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
            self._fill_summary(result)
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
        job = self.job
        if isinstance(job, InstallJob):
            call = (self.ctx.installs.record_installation, job.order_id, job.visit_id, result.tag_serial,
                    result.hmu_serial, result.pairing_id)
        else:
            call = (self.ctx.bench.record_bench_pairing, result.tag_serial, result.hmu_serial, result.pairing_id)
        self.tasks.run(*call, name="record the pairing", on_done=self._recorded, on_error=self._record_error)

    def _recorded(self, record) -> None:
        self.record = record
        text = getattr(record, "message", None) or "recorded the pairing of " + " and ".join(
            s for s in (self.result.tag_serial, self.result.hmu_serial) if s)
        self.rows[RECORD].set("done", text)
        self.progress.setValue(len(STEPS) + 1)
        self.record_text.setText(text[:1].upper() + text[1:] + ".")
        self.record_text.setStyleSheet("color: #067647; font-weight: bold;")
        self.recorded.emit(record)
        self._update_buttons()

    def _record_error(self, error: TaskError) -> None:
        message = error.sentence
        self.rows[RECORD].set("failed", message)
        self.record_text.setText(f"The devices ARE paired, but the installation could not be recorded. {message} "
                                 "Then press Retry recording (it is safe to repeat).")
        self.record_text.setStyleSheet("color: #b42318; font-weight: bold;")
        self.record_retry.setVisible(True)
        self.record_failed.emit(message)

    def _record_refused(self, serial: str) -> None:
        if isinstance(self.job, InstallJob):
            call = (self.ctx.installs.record_refused_device, serial)
            kwargs = {"visit_id": self.job.visit_id}
        else:
            call, kwargs = (self.ctx.bench.record_refused_device, serial), {}

        def done(refused) -> None:
            self.error_note.setText(refused.message[:1].upper() + refused.message[1:] + ".")
            self.refused_recorded.emit(refused)

        self.tasks.run(*call, name="record the refused device", on_done=done,
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


__all__ = ["BenchJob", "PairingWizard", "describe_conditions", "describe_device"]
