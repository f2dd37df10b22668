"""Run blocking service calls off the GUI thread and report back with signals.

All service work goes through one long-lived thread (``service_pool``): the store's
database connection is then only ever used from one thread, calls are serialized
(no two writes race), and the GUI thread never waits on key derivation or SQL.
"""
from __future__ import annotations

import inspect
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal, Slot

_pool: QThreadPool | None = None
# Workers the caller may not hold on to: kept alive until their result is delivered.
_live: set["Worker"] = set()


def service_pool() -> QThreadPool:
    """The single thread that runs service calls, created on first use."""
    global _pool
    if _pool is None:
        _pool = QThreadPool()
        _pool.setObjectName("emdesk-services")
        _pool.setMaxThreadCount(1)
        _pool.setExpiryTimeout(-1)   # never retire the thread: same thread for every call
    return _pool


def wait_for_workers(msecs: int = 10_000) -> bool:
    """Block until queued service work is done (shutdown, test teardown)."""
    return _pool.waitForDone(msecs) if _pool is not None else True


class WorkerSignals(QObject):
    finished = Signal(object)
    failed = Signal(str)
    progress = Signal(int, str)

    def __init__(self, worker: "Worker"):
        super().__init__()
        self._worker = worker
        self.finished.connect(self._release)
        self.failed.connect(self._release)

    @Slot()
    def _release(self) -> None:
        # Deferred: the other slots of this same emission must still run first.
        worker = self._worker
        QTimer.singleShot(0, lambda: _live.discard(worker))


class Worker(QRunnable):
    """One call of ``fn(*args, **kwargs)`` on the service thread.

    If ``fn`` takes a ``progress`` keyword it is given ``report(percent, text)``.
    On failure ``error`` holds the exception, and ``failed`` carries its message.
    """

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any):
        super().__init__()
        self.setAutoDelete(False)
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.signals = WorkerSignals(self)
        self.error: BaseException | None = None
        if _accepts_progress(fn):
            self.kwargs.setdefault("progress", self.report)

    @property
    def finished(self):
        return self.signals.finished

    @property
    def failed(self):
        return self.signals.failed

    @property
    def progress(self):
        return self.signals.progress

    def report(self, percent: int, text: str = "") -> None:
        self.signals.progress.emit(int(percent), text)

    def run(self) -> None:
        try:
            result = self.fn(*self.args, **self.kwargs)
        except Exception as exc:  # every failure must reach the GUI, never kill the thread
            self.error = exc
            self.signals.failed.emit(describe_error(exc))
        else:
            self.signals.finished.emit(result)


def run_async(
    fn: Callable[..., Any],
    *args: Any,
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[str], None] | None = None,
    pool: QThreadPool | None = None,
    **kwargs: Any,
) -> Worker:
    """Start ``fn`` on the service thread; callbacks run on the GUI thread."""
    worker = Worker(fn, *args, **kwargs)
    return start(worker, on_done=on_done, on_error=on_error, pool=pool)


def start(
    worker: Worker,
    *,
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[str], None] | None = None,
    pool: QThreadPool | None = None,
) -> Worker:
    """Queue a prepared worker (connect its signals first, then start it)."""
    if on_done is not None:
        worker.finished.connect(on_done)
    if on_error is not None:
        worker.failed.connect(on_error)
    _live.add(worker)
    (pool or service_pool()).start(worker)
    return worker


def describe_error(exc: BaseException) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__


def _accepts_progress(fn: Callable[..., Any]) -> bool:
    try:
        return "progress" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
