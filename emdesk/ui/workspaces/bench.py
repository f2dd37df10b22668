"""The technician's bench: one device on the cradle, and the returned kit on the shelf.

Left: the device on the cradle -- pick its port, connect (HELLO, status, authenticity,
self-test: a diagnosis with findings against the approved firmware list), download its
event log page by page, unpair it or reset it to factory state (both confirmed by
typing the device's serial), or pair a tag with its home unit (the pairing wizard).
Right: the bench queue (recovered, faulty and uncollected kit in the region), the
event log downloaded, and batch check-in of returned kit by serial.

Device work runs on the session's device lane; what it did is then recorded through
``ctx.bench`` on the store lane (both of the session's ``TaskRunner``).  Each device
job has its own handler for its typed result.  The workspace's own load is the queue.
"""
from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from emdesk.devices import bench as bench_ops
from emdesk.devices.auth import KeyFileError
from emdesk.devices.bench import Diagnosis, Severity
from emdesk.devices.errors import DeviceError
from emdesk.devices.firmware import DEFAULT_APPROVED
from emdesk.devices.link import DeviceLink, LinkPolicy
from emdesk.devices.protocol.codes import EventCode
from emdesk.devices.protocol.messages import DeviceEvent
from emdesk.services.bench_records import (
    CheckIn,
    CheckInLine,
    CheckInOutcome,
    parse_serials,
)
from emdesk.services.rows import DeviceRow

from ..formatting import plural
from ..pairing.keys import manufacturer_key
from ..pairing.ports import PortPicker
from ..table_model import Column
from ..table_view import make_table
from ..tasks import DEVICE, Task, TaskError, runner_for
from .base import Workspace

_SEVERITY_COLOURS = {Severity.OK: "#067647", Severity.WARNING: "#93370d", Severity.FAULT: "#b42318"}
_RED, _GREEN = QColor("#b42318"), QColor("#067647")

QUEUE_COLUMNS = [
    Column("Serial", lambda r: r.serial, width=130, bold=lambda r: True),
    Column("Kind", lambda r: r.kind, width=160),
    Column("Model", lambda r: r.model, width=150),
    Column("Firmware", lambda r: r.firmware, width=95),
    Column("State", lambda r: r.state, width=150,
           foreground=lambda r: _RED if r.state == "Faulty" else None),
    Column("Region", lambda r: r.region, width=170),
]


_VALUED = {EventCode.BATTERY_LOW, EventCode.CHARGING, EventCode.ALCOHOL_READING, EventCode.CONFIG_APPLIED,
           EventCode.SELF_TEST}


def _event_time(e: DeviceEvent) -> datetime | None:
    return datetime.fromtimestamp(e.at, UTC) if e.at else None


EVENT_COLUMNS = [
    Column("#", lambda e: e.seq, width=60, align=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
    Column("Time (UTC)", _event_time, width=175,
           fmt=lambda t: t.strftime("%d %b %Y %H:%M:%S") if t else "clock not set"),
    Column("Event", lambda e: e.code.name.replace("_", " ").capitalize(), width=170),
    Column("Value", lambda e: e.value if e.code in _VALUED else None, width=80),
    Column("Detail", lambda e: e.text.replace("\r\n", " ").strip(), width=360),
]

CHECKIN_COLUMNS = [
    Column("Serial", lambda r: r.serial, width=130, bold=lambda r: True),
    Column("Result", lambda r: "✓" if r.ok else "✗", width=60, align=Qt.AlignmentFlag.AlignCenter,
           foreground=lambda r: _GREEN if r.ok else _RED, bold=lambda r: True),
    Column("What happens", lambda r: r.message, width=420, foreground=lambda r: None if r.ok else _RED),
]


class ConfirmSerialDialog(QDialog):
    """Type the device's serial to confirm something that cannot be undone."""

    def __init__(self, parent: QWidget | None, title: str, warning: str, serial: str):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.serial = serial
        text = QLabel(f"{warning}<br><br>Type the serial <b>{serial}</b> to confirm:")
        text.setWordWrap(True)
        self.edit = QLineEdit(objectName="confirmSerial")
        self.edit.setAccessibleName(f"Serial of the device to {title.lower()}")
        text.setBuddy(self.edit)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText(title)
        self.ok.setEnabled(False)
        self.edit.textChanged.connect(lambda t: self.ok.setEnabled(t.strip().upper() == serial.upper()))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self.edit)
        layout.addWidget(self.buttons)

    def typed(self) -> str:
        return self.edit.text().strip()


def ask_serial(parent: QWidget, title: str, warning: str, serial: str) -> str | None:
    dialog = ConfirmSerialDialog(parent, title, warning, serial)
    return dialog.typed() if dialog.exec() == QDialog.DialogCode.Accepted else None


class BenchWorkspace(Workspace):
    """Signals (for whoever watches: tests, the status bar): ``device_done(job)`` when a
    device job finished (``device_failed(job, text)`` if it failed), ``recorded(what)``
    when its record was written, ``checked_in(CheckIn)`` after a check-in."""

    key = "bench"
    title = "Bench"

    device_done = Signal(str)
    device_failed = Signal(str, str)
    recorded = Signal(str)
    checked_in = Signal(object)
    download_progress = Signal(int, int)     # events downloaded, of how many

    # Replaced in tests: (title, warning, serial) -> the serial typed, or None.
    confirm = staticmethod(ask_serial)

    def __init__(self, ctx, parent=None, *, policy: LinkPolicy | None = None):
        super().__init__(ctx, parent)
        self.policy = policy
        self.link: DeviceLink | None = None
        self.diagnosis: Diagnosis | None = None
        self.events: list[DeviceEvent] = []
        self.last_message = ""
        self.tasks = runner_for(ctx)
        self.job: Task | None = None       # the device job in flight (one cable, one at a time)
        try:
            self.auth_key = manufacturer_key(ctx)
            self.key_error = ""
        except KeyFileError as e:
            self.auth_key, self.key_error = None, str(e)

        # An ID-styled button keeps its colour when disabled unless told otherwise.
        self.setStyleSheet("QPushButton#primary:disabled { background: #f2f4f7; color: #98a2b3; "
                           "border: 1px solid #e4e7ec; font-weight: normal; }")
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self._cradle_panel())
        splitter.addWidget(self._tabs())
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([470, 900])
        self.body.addWidget(splitter)
        self._update()

    # -- layout -------------------------------------------------------------------------

    def _cradle_panel(self) -> QWidget:
        panel = QWidget(objectName="cradlePanel")
        panel.setMinimumWidth(430)
        connect = QGroupBox("Device on the cradle")
        form = QVBoxLayout(connect)
        self.ports = PortPicker(name="benchPort", stacked=True, label="Cradle port")
        port_label = QLabel("&Port:")
        port_label.setBuddy(self.ports.combo)
        self.connect_button = QPushButton("Connect", objectName="primary")
        self.disconnect_button = QPushButton("Disconnect", objectName="disconnect")
        self.connect_button.clicked.connect(self.connect_device)
        self.disconnect_button.clicked.connect(self.disconnect_device)
        self.ports.changed.connect(self._update)
        row = QHBoxLayout()
        row.addWidget(self.connect_button)
        row.addWidget(self.disconnect_button)
        row.addStretch(1)
        self.device_label = QLabel("No device connected.", objectName="deviceSummary")
        self.device_label.setWordWrap(True)
        self.device_label.setTextFormat(Qt.TextFormat.RichText)
        self.status_text = QLabel("", objectName="benchStatus")
        self.status_text.setWordWrap(True)
        form.addWidget(port_label)
        form.addWidget(self.ports)
        form.addLayout(row)
        form.addWidget(self.device_label)
        form.addWidget(self.status_text)

        diag = QGroupBox("Diagnostics")
        d = QVBoxLayout(diag)
        self.findings = QLabel("Connect a device to see its battery health, firmware and self-test.",
                               objectName="findings")
        self.findings.setWordWrap(True)
        self.findings.setTextFormat(Qt.TextFormat.RichText)
        self.findings.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        d.addWidget(self.findings)

        actions = QGroupBox("Actions")
        a = QVBoxLayout(actions)
        self.diagnose_button = QPushButton("Run diagnostics again", objectName="diagnose")
        self.download_button = QPushButton("Download event log", objectName="downloadEvents")
        self.unpair_button = QPushButton("Unpair…", objectName="unpair")
        self.reset_button = QPushButton("Factory reset…", objectName="factoryReset")
        self.pair_button = QPushButton("Pair a tag with a home unit…", objectName="benchPair")
        self.diagnose_button.clicked.connect(self.run_diagnostics)
        self.download_button.clicked.connect(self.download_events)
        self.unpair_button.clicked.connect(self.unpair_device)
        self.reset_button.clicked.connect(self.factory_reset)
        self.pair_button.clicked.connect(self.open_pairing)
        self.pair_button.setToolTip("Opens the pairing wizard for two devices on their own cables "
                                    "(disconnect the device above first)")
        grid = QHBoxLayout()
        grid.addWidget(self.diagnose_button)
        grid.addWidget(self.download_button)
        a.addLayout(grid)
        grid2 = QHBoxLayout()
        grid2.addWidget(self.unpair_button)
        grid2.addWidget(self.reset_button)
        a.addLayout(grid2)
        a.addWidget(self.pair_button)
        self.download_bar = QProgressBar(objectName="downloadProgress")
        self.download_bar.setFormat("%v of %m events")
        self.download_bar.setVisible(False)
        a.addWidget(self.download_bar)
        self.key_label = QLabel(f"Authenticity key: {self.auth_key.key_id}" if self.auth_key else self.key_error,
                                objectName="keyLabel" if self.auth_key else "errorText")
        self.key_label.setWordWrap(True)
        self.key_label.setStyleSheet("color: #667085;" if self.auth_key else "")

        layout = QVBoxLayout(panel)
        layout.setContentsMargins(0, 0, 6, 0)
        layout.addWidget(connect)
        layout.addWidget(diag)
        layout.addWidget(actions)
        layout.addWidget(self.key_label)
        layout.addStretch(1)
        return panel

    def _tabs(self) -> QWidget:
        self.tabs = QTabWidget(objectName="benchTabs")
        queue = QWidget()
        q = QVBoxLayout(queue)
        q.setContentsMargins(6, 6, 6, 6)
        self.table = make_table(QUEUE_COLUMNS, queue, name="benchQueue", sort_column=None)
        q.addWidget(self.table.view)
        self.tabs.addTab(queue, "Bench queue")

        log = QWidget()
        lg = QVBoxLayout(log)
        lg.setContentsMargins(6, 6, 6, 6)
        self.events_label = QLabel("Download a connected device's event log to see it here.",
                                   objectName="eventsLabel")
        self.events_table = make_table(EVENT_COLUMNS, log, name="eventTable")
        lg.addWidget(self.events_label)
        lg.addWidget(self.events_table.view)
        self.tabs.addTab(log, "Event log")

        checkin = QWidget()
        c = QVBoxLayout(checkin)
        c.setContentsMargins(6, 6, 6, 6)
        form = QFormLayout()
        self.serials_edit = QPlainTextEdit(objectName="checkinSerials")
        self.serials_edit.setPlaceholderText("Scan or paste serials: one per line, or separated by commas")
        self.serials_edit.setFixedHeight(110)
        self.outcome_combo = QComboBox(objectName="checkinOutcome")
        for outcome in CheckInOutcome:
            self.outcome_combo.addItem(outcome.label, outcome.value)
        self.reason_edit = QLineEdit(objectName="checkinReason")
        self.reason_edit.setPlaceholderText("e.g. returned after order ended; strap sensor fault; RMA 1234")
        self.checkin_button = QPushButton("Check in", objectName="checkinButton")
        self.checkin_button.clicked.connect(self.check_in)
        # addRow(text, field) makes the label the field's buddy.
        form.addRow("&Serials:", self.serials_edit)
        form.addRow("&Outcome:", self.outcome_combo)
        form.addRow("&Reason:", self.reason_edit)
        self.serials_edit.setAccessibleName("Serials of the returned devices")
        self.outcome_combo.setAccessibleName("Outcome of the check-in")
        self.reason_edit.setAccessibleName("Reason")
        c.addLayout(form)
        row = QHBoxLayout()
        self.checkin_summary = QLabel("", objectName="checkinSummary")
        self.checkin_summary.setWordWrap(True)
        row.addWidget(self.checkin_summary, 1)
        row.addWidget(self.checkin_button)
        c.addLayout(row)
        self.checkin_table = make_table(CHECKIN_COLUMNS, checkin, name="checkinResults", sort_column=None)
        c.addWidget(self.checkin_table.view, 1)
        self.tabs.addTab(checkin, "Check in returned kit")
        return self.tabs

    # -- the workspace's load: the bench queue --------------------------------------------

    def request(self):
        bench = self.ctx.bench
        return lambda: bench.bench_queue()

    def show_data(self, rows: list[DeviceRow]) -> None:
        self.table.set_rows(rows)
        where = self.ctx.user.region or "all regions"
        self.subtitle_label.setText(f"Returned and faulty kit · {where}")
        self.count_label.setText(plural(len(rows), "device") + " waiting")

    # -- the device on the cradle -----------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self.link is not None

    def _device_job(self, name: str, fn, *args, on_done, on_progress=None, **kwargs) -> Task:
        """Run ``fn`` on the device lane; ``on_done(result)`` then the ``device_done`` signal."""
        def done(result) -> None:
            self.job = None
            on_done(result)
            self._update()
            self.device_done.emit(name)

        def failed(error: TaskError) -> None:
            self.job = None
            self._job_failed(name, error)

        def cancelled() -> None:
            self.job = None
            self._update()

        task = self.tasks.run(fn, *args, lane=DEVICE, name=f"bench {name}", on_done=done, on_error=failed,
                              on_cancelled=cancelled, on_progress=on_progress, **kwargs)
        self.job = task if not task.is_done else None
        self._update()
        return task

    @property
    def busy_with_device(self) -> bool:
        return self.job is not None

    def _update(self, *args) -> None:
        busy = self.busy_with_device
        on = self.connected
        self.connect_button.setEnabled(bool(self.ports.port()) and not busy and not on and self.auth_key is not None)
        self.disconnect_button.setEnabled(on and not busy)
        for button in (self.diagnose_button, self.download_button, self.unpair_button, self.reset_button):
            button.setEnabled(on and not busy)
        self.pair_button.setEnabled(not on and not busy and self.auth_key is not None)
        self.checkin_button.setEnabled(True)

    def _say(self, text: str, error: bool = False) -> None:
        self.last_message = text
        self.status_text.setText(text)
        self.status_text.setStyleSheet("color: #b42318; font-weight: bold;" if error else "color: #475467;")

    def connect_device(self) -> None:
        port = self.ports.port()
        if not port or self.busy_with_device:
            return
        self._say(f"Connecting to {port}…")
        self._device_job("connect", self._open_and_diagnose, port, on_done=self._connected)

    def _connected(self, result) -> None:
        self.link, diagnosis = result
        self._show_diagnosis(diagnosis)
        self._say(f"Connected to {self.link.name}.")

    def _open_and_diagnose(self, port: str):
        link = DeviceLink.open(port, policy=self.policy) if self.policy else DeviceLink.open(port)
        try:
            return link, bench_ops.diagnose(link, key=self.auth_key, approved=DEFAULT_APPROVED)
        except BaseException:
            link.close()
            raise

    def run_diagnostics(self) -> None:
        if self.link is not None:
            self._say("Running diagnostics…")
            self._device_job("diagnose", bench_ops.diagnose, self.link, key=self.auth_key, approved=DEFAULT_APPROVED,
                             on_done=self._diagnosed)

    def _diagnosed(self, diagnosis: Diagnosis) -> None:
        self._show_diagnosis(diagnosis)
        self._say("Diagnostics done.")

    def disconnect_device(self) -> None:
        link, self.link = self.link, None
        if link is not None:
            self.tasks.run(link.close, lane=DEVICE, name="close the cradle port")
        self.diagnosis = None
        self.device_label.setText("No device connected.")
        self.findings.setText("Connect a device to see its battery health, firmware and self-test.")
        self._say("Disconnected.")
        self._update()

    def download_events(self) -> None:
        if self.link is None:
            return
        self.download_bar.setRange(0, 0)
        self.download_bar.setVisible(True)
        self._say("Downloading the event log…")
        link, key = self.link, self.auth_key

        def download(progress, cancel):
            def page(done: int, total: int) -> None:
                cancel.check()                # stop between pages when the session ends
                progress(done, total, "events")
            return bench_ops.download_events(link, key=key, progress=page)

        self._device_job("events", download, on_done=self._downloaded, on_progress=self._download_progress)

    def _download_progress(self, done: int, total: int, text: str = "") -> None:
        self.download_bar.setRange(0, max(total, 1))
        self.download_bar.setValue(done)
        self.download_progress.emit(done, total)

    def _downloaded(self, events: list[DeviceEvent]) -> None:
        self.events = events
        self.events_table.set_rows(events)
        serial = self.diagnosis.identity.serial if self.diagnosis else "the device"
        self.events_label.setText(f"{plural(len(events), 'event')} from {serial}")
        self.download_bar.setVisible(False)
        self.tabs.setCurrentIndex(1)
        self._say(f"Downloaded {plural(len(events), 'event')}.")

    def unpair_device(self) -> None:
        serial = self.diagnosis.identity.serial if self.diagnosis else ""
        if self.link is None or not serial:
            return
        typed = self.confirm(self, "Unpair", f"{serial} will forget its partner and its monitoring configuration.",
                             serial)
        if typed is None:
            return
        if typed.strip().upper() != serial.upper():
            self._say("The serial typed does not match the device: nothing was changed.", error=True)
            return
        self._say(f"Unpairing {serial}…")
        self._device_job("unpair", bench_ops.unpair, self.link, key=self.auth_key,
                         on_done=lambda _: self._record_change("unpair", serial))

    def factory_reset(self) -> None:
        serial = self.diagnosis.identity.serial if self.diagnosis else ""
        if self.link is None or not serial:
            return
        typed = self.confirm(self, "Factory reset", f"{serial}'s pairing, configuration and event log will be "
                             "erased. This cannot be undone.", serial)
        if typed is None:
            return
        self._say(f"Resetting {serial}…")
        self._device_job("reset", bench_ops.factory_reset, self.link, key=self.auth_key, confirm_serial=typed,
                         on_done=lambda _: self._record_change("reset", serial))

    def open_pairing(self):
        from ..pairing.wizard import BenchJob, PairingWizard

        wizard = PairingWizard(self.ctx, BenchJob(), self, key=self.auth_key, policy=self.policy)
        wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        wizard.recorded.connect(lambda *_: self.refresh())
        wizard.show()
        self.wizard = wizard
        return wizard

    # -- answers from the device thread ------------------------------------------------------

    def _record_change(self, name: str, serial: str) -> None:
        """The device was unpaired or reset: write it to the records, then diagnose again."""
        record = self.ctx.bench.record_unpaired if name == "unpair" else self.ctx.bench.record_factory_reset
        what = "unpaired" if name == "unpair" else "reset to factory state"
        self._say(f"{serial} {what}; recording it…")

        def saved(*_) -> None:
            self._say(f"{serial} {what} and recorded.")
            self.recorded.emit(name)
            self.refresh()

        self.tasks.run(record, serial, name=f"record {name}", on_done=saved,
                       on_error=lambda e: self._say(f"{serial} {what}, but the records could not be updated. "
                                                    f"{e.sentence}", error=True))
        self.run_diagnostics()

    def _job_failed(self, name: str, error: TaskError) -> None:
        self.download_bar.setVisible(False)
        text = error.sentence
        self._say(text, error=True)
        if name == "connect":
            self.link = None
        self._update()
        self.device_failed.emit(name, text)

    def end_session(self) -> None:
        super().end_session()
        if self.job is not None:
            self.job.cancel()
        self.disconnect_device()

    def _show_diagnosis(self, d: Diagnosis) -> None:
        self.diagnosis = d
        ident, st = d.identity, d.status
        authentic = {True: "genuine", False: "<b style='color:#b42318'>FAILED the authenticity check</b>",
                     None: "not checked"}[d.authentic]
        pairing = (f"paired with {st.partner_serial}" if st.paired else "not paired")
        self.device_label.setText(
            f"<b>{ident.kind.label} {ident.serial}</b> · {ident.model} rev {ident.hardware_rev}<br>"
            f"Firmware {ident.firmware} ({'approved' if d.firmware_approved else 'NOT approved'}) · {authentic}<br>"
            f"Battery {st.battery_pct}% · health {st.battery_health_pct}% over {st.battery_cycles} cycles "
            f"({d.battery.label.lower()}) · {pairing}")
        lines = []
        for f in d.findings:
            colour = _SEVERITY_COLOURS[f.severity]
            action = f" — {f.action}" if f.action else ""
            lines.append(f"<span style='color:{colour}; font-weight:bold'>{f.severity.value.upper()}</span> "
                         f"{f.text}{action}")
        verdict = ("<b style='color:#067647'>Fit to issue</b>" if d.fit_to_issue
                   else "<b style='color:#b42318'>Not fit to issue</b>")
        self.findings.setText(verdict + "<br>" + "<br>".join(lines))

    # -- check-in ---------------------------------------------------------------------------

    def check_in(self) -> None:
        serials = parse_serials(self.serials_edit.toPlainText())
        outcome = self.outcome_combo.currentData()
        reason = self.reason_edit.text()
        self.checkin_summary.setText("Checking in…")
        self.checkin_button.setEnabled(False)
        self.tasks.run(self.ctx.bench.check_in_returned, serials, outcome, reason, name="check in",
                       on_done=self._checked_in, on_error=self._check_in_refused)

    def _checked_in(self, result: CheckIn) -> None:
        self.checkin_table.set_rows(list(result.lines))
        colour = "#067647" if result.applied else "#b42318"
        self.checkin_summary.setText(f"<b style='color:{colour}'>{result.summary[:1].upper()}"
                                     f"{result.summary[1:]}.</b>")
        self.checkin_button.setEnabled(True)
        self.last_check_in = result
        if result.applied:
            self.serials_edit.clear()
            self.refresh()
        self.checked_in.emit(result)

    def _check_in_refused(self, error: TaskError) -> None:
        message = error.sentence.rstrip(".")
        self.checkin_table.set_rows([])
        self.checkin_summary.setText(f"<b style='color:#b42318'>{message[:1].upper()}{message[1:]}.</b>")
        self.checkin_button.setEnabled(True)
        self.last_check_in = None
        self.checked_in.emit(None)


__all__ = ["BenchWorkspace", "CheckInLine", "ConfirmSerialDialog"]
