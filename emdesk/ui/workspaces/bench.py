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

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QSplitter, QTabWidget, QVBoxLayout, QWidget

from emdesk.devices import bench as bench_ops
from emdesk.devices.auth import KeyFileError
from emdesk.devices.bench import Diagnosis
from emdesk.devices.firmware import DEFAULT_APPROVED
from emdesk.devices.link import DeviceLink, LinkPolicy
from emdesk.devices.protocol.messages import DeviceEvent
from emdesk.services.bench_records import CheckInLine
from emdesk.services.rows import DeviceRow

from ..formatting import plural
from ..pairing.keys import manufacturer_key
from ..table_view import make_table
from ..style import set_prop
from ..tasks import DEVICE, Task, TaskError, runner_for
from .base import Workspace
from .bench_checkin import CheckInPanel
from .bench_columns import EVENT_COLUMNS, QUEUE_COLUMNS
from .bench_confirm import ConfirmSerialDialog, ask_serial
from .bench_cradle import NO_DEVICE, NO_FINDINGS, CradlePanel
from .bench_diagnosis import device_html, findings_html, open_and_diagnose


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

        key_text = f"Authenticity key: {self.auth_key.key_id}" if self.auth_key else self.key_error
        self.cradle = CradlePanel(key_text, self.auth_key is not None)
        self._wire_cradle()
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.cradle)
        splitter.addWidget(self._tabs())
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([470, 900])
        self.body.addWidget(splitter)
        self._update()

    # -- layout -------------------------------------------------------------------------

    def _wire_cradle(self) -> None:
        c = self.cradle
        # The panel owns its widgets; the workspace (and its tests) reach them by these names.
        for name in ("ports", "connect_button", "disconnect_button", "device_label", "status_text", "findings",
                     "diagnose_button", "download_button", "unpair_button", "reset_button", "pair_button",
                     "download_bar", "key_label"):
            setattr(self, name, getattr(c, name))
        c.connect_button.clicked.connect(self.connect_device)
        c.disconnect_button.clicked.connect(self.disconnect_device)
        c.ports.changed.connect(self._update)
        c.diagnose_button.clicked.connect(self.run_diagnostics)
        c.download_button.clicked.connect(self.download_events)
        c.unpair_button.clicked.connect(self.unpair_device)
        c.reset_button.clicked.connect(self.factory_reset)
        c.pair_button.clicked.connect(self.open_pairing)

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

        self.checkin = CheckInPanel(self.ctx, self.tasks)
        self.checkin.applied.connect(self.refresh)
        self.checkin.checked_in.connect(self.checked_in.emit)
        for name in ("serials_edit", "outcome_combo", "reason_edit", "checkin_button", "checkin_summary",
                     "checkin_table", "check_in"):
            setattr(self, name, getattr(self.checkin, name))
        self.tabs.addTab(self.checkin, "Check in returned kit")
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
            self.download_bar.setVisible(False)
            self._say("Stopped.")
            self._update()
            self.device_failed.emit(name, "stopped")

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
        # A long download can be stopped between pages.
        downloading = self.job is not None and self.job.name == "bench events"
        self.download_button.setText("Stop download" if downloading else "Download event log")
        self.download_button.setEnabled((on and not busy) or downloading)
        self.pair_button.setEnabled(not on and not busy and self.auth_key is not None)
        self.checkin_button.setEnabled(True)

    def _say(self, text: str, error: bool = False) -> None:
        self.last_message = text
        self.status_text.setText(text)
        set_prop(self.status_text, "tone", "bad" if error else "muted")

    def connect_device(self) -> None:
        port = self.ports.port()
        if not port or self.busy_with_device:
            return
        self._say(f"Connecting to {port}…")
        self._device_job("connect", open_and_diagnose, port, self.policy, self.auth_key, on_done=self._connected)

    def _connected(self, result) -> None:
        self.link, diagnosis = result
        self._show_diagnosis(diagnosis)
        self._say(f"Connected to {self.link.name}.")

    def run_diagnostics(self, quiet: bool = False) -> None:
        if self.link is not None:       # quiet after an unpair or reset: its own message is the one to read
            if not quiet:
                self._say("Running diagnostics…")
            self._device_job("diagnose", bench_ops.diagnose, self.link, key=self.auth_key, approved=DEFAULT_APPROVED,
                             on_done=self._show_diagnosis if quiet else self._diagnosed)

    def _diagnosed(self, diagnosis: Diagnosis) -> None:
        self._show_diagnosis(diagnosis)
        self._say("Diagnostics done.")

    def disconnect_device(self) -> None:
        link, self.link = self.link, None
        if link is not None:
            self.tasks.run(link.close, lane=DEVICE, name="close the cradle port")
        self.diagnosis = None
        self.device_label.setText(NO_DEVICE)
        self.findings.setText(NO_FINDINGS)
        self._say("Disconnected.")
        self._update()

    def download_events(self) -> None:
        if self.job is not None and self.job.name == "bench events":
            self.job.cancel()
            return
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
        self.run_diagnostics(quiet=True)

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
        self.device_label.setText(device_html(d))
        self.findings.setText(findings_html(d))

    @property
    def last_check_in(self):
        return self.checkin.last_check_in


__all__ = ["BenchWorkspace", "CheckInLine", "ConfirmSerialDialog"]
