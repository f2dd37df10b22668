"""Background sync for the main window: on a timer, when the network returns, and on demand.

Sync runs on the session's network lane (network waits must not hold up service
calls); the store's lock keeps it from interleaving with them.  The status is read on
the store lane, never on the GUI thread (it takes the store's lock, which a round may
hold).  The app stays fully usable offline: a failed round only changes the status text
and schedules a retry.  Signing out cancels a round between its batches.
"""
from __future__ import annotations

import inspect

from PySide6.QtCore import QObject, QTimer, Signal

from .tasks import NETWORK, STORE, Task, TaskError, TaskRunner

ROUND_INTERVAL_MS = 5 * 60 * 1000        # a quiet desktop syncs every five minutes
RETRY_MS = (30_000, 60_000, 120_000, 300_000)   # after failures: back off, then the normal round

class _NetworkLanes:
    def waitForDone(self, msecs: int = -1) -> bool:  # noqa: N802 - the old pool's method name
        from .tasks import live_runners
        from .tasks.runner import all_runners
        timeout = None if msecs < 0 else msecs / 1000
        return all(r.wait_lane(NETWORK, timeout) for r in {*all_runners(), *live_runners()})


def sync_pool() -> _NetworkLanes:
    """For callers of the old sync pool: ``sync_pool().waitForDone(ms)`` waits for every
    session's network lane (sync rounds), as the pool did."""
    return _NetworkLanes()


def describe(status) -> str:
    """The status-bar text for a sync status."""
    if not status.configured:
        return "Sync: not configured (offline desktop)"
    pending = f"{status.pending} change{'s' if status.pending != 1 else ''} to send" if status.pending else "up to date"
    when = status.last_sync.astimezone().strftime("%H:%M") if status.last_sync else "never"
    if not status.ok:
        return f"Sync: {status.message} · working offline · {pending}"
    return f"Sync: last {when} · {pending}"


class SyncController(QObject):
    """Owns the timer and the in-flight round; emits text for the status bar."""

    state_changed = Signal(str)       # status-bar text
    synced = Signal(object)           # SyncStatus after a round (ok or not)
    status_read = Signal(object)      # SyncStatus read on request (``read_status``)
    busy_changed = Signal(bool)

    def __init__(self, port, runner: TaskRunner, parent: QObject | None = None, *,
                 interval_ms: int = ROUND_INTERVAL_MS):
        super().__init__(parent)
        self.port = port
        self.runner = runner
        self.interval_ms = interval_ms
        self.task: Task | None = None
        self.last_status = None
        self._failures = 0
        self._stopped = False
        self.timer = QTimer(self, singleShot=True, timeout=self.sync_now)
        self._watch_network()

    @property
    def busy(self) -> bool:
        return self.task is not None

    def start(self) -> None:
        self.read_status()
        self.sync_now()

    def stop(self) -> None:
        """No more rounds; cancel the one in flight (it stops between batches)."""
        self._stopped = True
        self.timer.stop()
        if self.task is not None:
            self.task.cancel()

    def cancel_round(self) -> None:
        """Stop the round in flight (the person pressed Stop); the next one is still scheduled."""
        if self.task is not None:
            self.task.cancel()

    def read_status(self) -> Task:
        """The status (the store's bookkeeping) read on the store lane; ``status_read`` follows."""
        def got(status) -> None:
            self.last_status = status
            if self.task is None:
                self.state_changed.emit(describe(status))
            self.status_read.emit(status)
        return self.runner.run(self.port.status, lane=STORE, name="sync status", on_done=got)

    def sync_now(self) -> None:
        if self.task is not None or self._stopped:
            return
        self.timer.stop()
        self.busy_changed.emit(True)
        self.state_changed.emit("Sync: connecting to the hub…")
        task = Task(self._round, (), {}, name="sync round", lane=NETWORK)
        task.progress.connect(lambda done, total, text: self.state_changed.emit(f"Sync: {text} ({done}%)"))
        task.succeeded.connect(self._done)
        task.failed.connect(self._failed)
        task.cancelled.connect(self._cancelled)
        self.task = task
        self.runner.start(task)

    def _round(self, progress, cancel):
        def report(percent: int, text: str = "") -> None:
            cancel.check()                   # between batches: each batch is committed or not sent
            progress(percent, 100, text)
        if _takes(self.port.sync_now, "cancel"):
            return self.port.sync_now(progress=report, cancel=cancel)
        return self.port.sync_now(progress=report)

    def _done(self, status) -> None:
        self.task = None
        self.last_status = status
        self.busy_changed.emit(False)
        self._failures = 0 if status.ok else self._failures + 1
        self.state_changed.emit(describe(status))
        self.synced.emit(status)
        self._schedule()

    def _failed(self, error: TaskError) -> None:
        # A bug, not an unreachable hub (that comes back as a status): say so, keep going.
        self.task = None
        self.busy_changed.emit(False)
        self._failures += 1
        self.state_changed.emit(f"Sync: {error.sentence} Working offline.")
        self._schedule()

    def _cancelled(self) -> None:
        self.task = None
        self.busy_changed.emit(False)
        self.state_changed.emit("Sync: stopped; your changes are kept and go with the next round")
        self._schedule()

    def _schedule(self) -> None:
        if self._stopped:
            return
        delay = RETRY_MS[min(self._failures, len(RETRY_MS)) - 1] if self._failures else self.interval_ms
        self.timer.start(min(delay, self.interval_ms))

    def _watch_network(self) -> None:
        """Sync as soon as the network comes back, where the platform can tell us."""
        try:
            from PySide6.QtNetwork import QNetworkInformation
        except ImportError:       # pragma: no cover - QtNetwork ships with PySide6
            return
        if not QNetworkInformation.loadDefaultBackend():
            return
        info = QNetworkInformation.instance()
        if info is not None:
            info.reachabilityChanged.connect(self._reachability)

    def _reachability(self, reachability) -> None:
        from PySide6.QtNetwork import QNetworkInformation
        if reachability == QNetworkInformation.Reachability.Online and self._failures:
            self.sync_now()


def _takes(fn, name: str) -> bool:
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
