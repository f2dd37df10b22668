"""Where background work runs, and how it is all stopped at sign-out and quit.

Three lanes, each one thread, so work of a kind is serialized and kinds do not wait on
each other (Anki keeps its database and network work apart the same way):

* ``STORE``   service calls: the store's connection is used from this thread only;
* ``NETWORK`` sync rounds (a slow hub must not hold up a service call);
* ``DEVICE``  serial I/O, on the one device thread (one cradle cable, one conversation).

``shutdown(timeout)`` cancels every task, wakes anything waiting (a device prompt), and
waits for all lanes with one bound; only then may the caller close the store.
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future
from typing import Any, Callable

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QRunnable, QThreadPool, QTimer, Slot

from emdesk.devices.worker import DeviceWorker

from .errors import TaskError
from .task import CancelToken, Task, TaskCancelled

log = logging.getLogger(__name__)

STORE, NETWORK, DEVICE = "store", "network", "device"
SHUTDOWN_S = 1.5          # sign-out and quit return within two seconds
# Every runner not yet shut down (cleanly): the tests' leak guard checks them all.
_every: set["TaskRunner"] = set()


def all_runners() -> list["TaskRunner"]:
    """Every runner not yet shut down (cleanly)."""
    return list(_every)


class TaskRunner(QObject):
    def __init__(self, name: str = "emdesk", parent: QObject | None = None):
        # Owned by Qt (the application by default), never by Python's garbage collector,
        # which may run on any thread: a QObject must be destroyed on its own.
        super().__init__(parent if parent is not None else QCoreApplication.instance())
        self.name = name
        self._pools: dict[str, QThreadPool] = {}
        self._device: DeviceWorker | None = None
        self._active: set[Task] = set()
        self._lock = threading.Lock()
        self._closed = False
        _every.add(self)
        # Made first, so that if an owner destroys this runner, the lanes (which wait for
        # their running work) go before the tasks that work reports through.
        for lane in (STORE, NETWORK):
            self._pool(lane)

    # -- starting work (GUI thread) -----------------------------------------------------
    def run(self, fn: Callable[..., Any], *args: Any, lane: str = STORE, name: str = "",
            on_done: Callable[[Any], None] | None = None,
            on_error: Callable[[TaskError], None] | None = None,
            on_progress: Callable[[int, int, str], None] | None = None,
            on_cancelled: Callable[[], None] | None = None,
            on_cancel: Callable[[], None] | None = None,
            device: DeviceWorker | None = None, **kwargs: Any) -> Task:
        """Start ``fn`` on ``lane``; the ``on_*`` callbacks run on the GUI thread, except
        ``on_cancel``: a hook run at once (on any thread) to wake the work up.

        Connect through these, not to the returned task: a quick task may be over before
        ``run`` returns."""
        task = Task(fn, args, kwargs, name=name, lane=lane)
        if on_done is not None:
            task.succeeded.connect(on_done)
        if on_error is not None:
            task.failed.connect(on_error)
        if on_progress is not None:
            task.progress.connect(on_progress)
        if on_cancelled is not None:
            task.cancelled.connect(on_cancelled)
        if on_cancel is not None:
            task.token.on_cancel(on_cancel)
        return self.start(task, device=device)

    def start(self, task: Task, *, device: DeviceWorker | None = None) -> Task:
        """Queue a prepared task (connect its signals first)."""
        # Owned by the runner (C++ side): a lane's thread dropping the last Python reference
        # must never delete it there.  ``_release`` deletes it on the GUI thread.
        task.setParent(self)
        task.finished.connect(self._release)
        task.failed.connect(self._offer_details)
        with self._lock:
            closed = self._closed
            if not closed:
                self._active.add(task)
        if closed:
            task.token.cancel()
            task.run_on_lane()           # reports "cancelled" at once: the session is over
            return task
        if task.lane == DEVICE:
            worker = device or self.device_worker()
            fut = worker.submit(task.run_on_lane)
            fut.add_done_callback(lambda f, t=task: _lost(t, f))
        else:
            self._pool(task.lane).start(QRunnable.create(task.run_on_lane))
        return task

    # -- from worker threads -------------------------------------------------------------
    def call(self, fn: Callable[..., Any], *args: Any, lane: str = STORE, timeout: float = 30.0,
             cancel: CancelToken | None = None, **kwargs: Any) -> Any:
        """Run ``fn`` on ``lane`` and wait for its result, from a thread that is not the GUI's
        (device work asking the services).  Gives up on ``cancel`` or after ``timeout``."""
        fut: Future = Future()

        def job() -> None:
            if not fut.set_running_or_notify_cancel():
                return
            try:
                fut.set_result(fn(*args, **kwargs))
            except BaseException as e:  # noqa: BLE001 - handed to the waiting thread
                fut.set_exception(e)

        with self._lock:
            if self._closed:
                raise TaskCancelled()
        self._pool(lane).start(QRunnable.create(job))
        deadline = time.monotonic() + timeout
        while True:
            try:
                return fut.result(0.05)
            except TimeoutError:
                if cancel is not None and cancel.cancelled or self._closed:
                    fut.cancel()
                    raise TaskCancelled() from None
                if time.monotonic() > deadline:
                    fut.cancel()
                    raise TimeoutError(f"no answer within {timeout:.0f} s") from None

    # -- lanes ---------------------------------------------------------------------------
    def _pool(self, lane: str) -> QThreadPool:
        pool = self._pools.get(lane)
        if pool is None:
            pool = QThreadPool(self)
            pool.setObjectName(f"{self.name}-{lane}")
            pool.setMaxThreadCount(1)
            pool.setExpiryTimeout(-1)   # one thread for the lane's whole life
            self._pools[lane] = pool
        return pool

    def device_worker(self) -> DeviceWorker:
        if self._device is None:
            self._device = DeviceWorker(name=f"{self.name}-devices")
        return self._device

    # -- bookkeeping ---------------------------------------------------------------------
    @Slot()
    @Slot(object)
    def _offer_details(self, error: TaskError) -> None:
        # A slot of this GUI-thread object, so the box is made on the GUI thread.
        from emdesk.ui.error_details import offer_details     # the tasks package stays free of widgets
        offer_details(error)

    def _release(self) -> None:
        task = self.sender()
        with self._lock:
            self._active.discard(task)
        self._dispose(task)

    def _dispose(self, task: Task) -> None:
        if task.returned.is_set():
            task.deleteLater()
        else:                            # its thread is still leaving run_on_lane: a moment more
            QTimer.singleShot(5, self, lambda: self._dispose(task))

    @property
    def tasks(self) -> list[Task]:
        with self._lock:
            return [t for t in self._active if not t.is_done]

    def busy(self, lane: str | None = None) -> bool:
        return any(lane is None or t.lane == lane for t in self.tasks)

    def wait_lane(self, lane: str, timeout: float | None = None) -> bool:
        """Wait (from the GUI thread, at most ``timeout``) until ``lane`` has no work left."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for task in [t for t in self.tasks if t.lane == lane]:
            if not task.wait(None if deadline is None else max(0.0, deadline - time.monotonic())):
                return False
        return True

    @property
    def closed(self) -> bool:
        return self._closed

    # -- the end ---------------------------------------------------------------------------
    def shutdown(self, timeout: float = SHUTDOWN_S) -> bool:
        """Cancel everything and wait (at most ``timeout`` seconds in all).

        True when every lane is idle and every thread has ended: the store may close.
        """
        deadline = time.monotonic() + timeout
        if not shiboken6.isValid(self):
            # Destroyed with its owner (a dialog): its pools waited for their threads as they went.
            ok = True
            if self._device is not None:
                self._device.shutdown(wait=False)
                self._device.thread.join(timeout)
                ok = not self._device.thread.is_alive()
            if ok:
                _every.discard(self)
            return ok
        with self._lock:
            self._closed = True
            tasks = list(self._active)
        for task in tasks:
            task.cancel()
        left = lambda: max(0.0, deadline - time.monotonic())  # noqa: E731
        ok = all(task.wait(left()) for task in tasks)
        for pool in self._pools.values():
            ok = pool.waitForDone(int(left() * 1000)) and ok
        if ok:
            # Idle lanes: end their threads now, here on the GUI thread.
            for pool in self._pools.values():
                shiboken6.delete(pool)
            self._pools.clear()
        if self._device is not None:
            self._device.shutdown(wait=False)
            self._device.thread.join(left())
            ok = ok and not self._device.thread.is_alive()
        if ok:
            _every.discard(self)
        else:
            log.warning("%s: background work still running after %.1f s", self.name, timeout)
        return ok

    def when_idle(self, fn: Callable[[], None], timeout: float = 120.0) -> None:
        """Call ``fn`` (on a helper thread) once every task has returned: the store's
        close when ``shutdown`` ran out of time, so nothing is closed under running work.
        The helper holds only the tasks' events, never a Qt object."""
        events = [task.returned for task in self._active]

        def wait() -> None:
            deadline = time.monotonic() + timeout
            for event in events:
                event.wait(max(0.0, deadline - time.monotonic()))
            fn()
        threading.Thread(target=wait, name=f"{self.name}-closer", daemon=True).start()


def _lost(task: Task, fut: Future) -> None:
    # A device job the worker cancelled (it was shut down) never ran: say so.
    if fut.cancelled() and not task.is_done:
        task.token.cancel()
        task.run_on_lane()


__all__ = ["DEVICE", "NETWORK", "STORE", "TaskRunner"]
