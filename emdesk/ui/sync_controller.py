"""Background sync for the main window: on a timer, when the network returns, and on demand.

Sync runs on its own worker thread (network waits must not hold up service calls);
the store's lock keeps it from interleaving with them.  The app stays fully usable
offline: a failed round only changes the status text and schedules a retry.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal

from .worker import Worker, start

ROUND_INTERVAL_MS = 5 * 60 * 1000        # a quiet desktop syncs every five minutes
RETRY_MS = (30_000, 60_000, 120_000, 300_000)   # after failures: back off, then the normal round

_pool: QThreadPool | None = None


def sync_pool() -> QThreadPool:
    global _pool
    if _pool is None:
        _pool = QThreadPool()
        _pool.setObjectName("emdesk-sync")
        _pool.setMaxThreadCount(1)
    return _pool


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
    busy_changed = Signal(bool)

    def __init__(self, port, parent: QObject | None = None, *, interval_ms: int = ROUND_INTERVAL_MS):
        super().__init__(parent)
        self.port = port
        self.interval_ms = interval_ms
        self._worker: Worker | None = None
        self._failures = 0
        self.timer = QTimer(self, singleShot=True, timeout=self.sync_now)
        self._watch_network()

    @property
    def busy(self) -> bool:
        return self._worker is not None

    def start(self) -> None:
        self.state_changed.emit(describe(self.port.status()))
        self.sync_now()

    def stop(self) -> None:
        self.timer.stop()

    def sync_now(self) -> None:
        if self._worker is not None:
            return
        self.timer.stop()
        worker = Worker(self.port.sync_now)
        worker.progress.connect(lambda pct, text: self.state_changed.emit(f"Sync: {text} ({pct}%)"))
        self._worker = worker
        self.busy_changed.emit(True)
        self.state_changed.emit("Sync: connecting to the hub…")
        start(worker, on_done=self._done, on_error=self._failed, pool=sync_pool())

    def _done(self, status) -> None:
        self._worker = None
        self.busy_changed.emit(False)
        self._failures = 0 if status.ok else self._failures + 1
        self.state_changed.emit(describe(status))
        self.synced.emit(status)
        self._schedule()

    def _failed(self, message: str) -> None:
        # A bug, not an unreachable hub (that comes back as a status): say so, keep going.
        self._worker = None
        self.busy_changed.emit(False)
        self._failures += 1
        self.state_changed.emit(f"Sync: failed ({message}) · working offline")
        self._schedule()

    def _schedule(self) -> None:
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
