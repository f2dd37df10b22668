"""One piece of background work and the signals that report it on the GUI thread."""
from __future__ import annotations

import ctypes
import inspect
import logging
import threading
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal

from .errors import TaskError, explain

log = logging.getLogger(__name__)


_PINNED: set[int] = set()        # native ids of lane threads whose Python thread state is kept


def _keep_thread_state() -> None:
    """Keep this Qt-made thread's Python thread state for the thread's whole life.

    A thread Python did not create gets a fresh thread state each time Qt calls into
    Python, and loses it (with every ``threading.local``) when the call returns.  pyproj
    3.7 keeps its PROJ context in such a local but its pointer in the OS thread's storage,
    so the second task on a lane that projects a point used a freed context and crashed the
    process (pyproj issues 1509 and 1622).  One ``PyGILState_Ensure`` never released keeps
    the state, as an embedder with long-lived threads does."""
    ident = threading.get_native_id()
    if ident not in _PINNED:
        _PINNED.add(ident)
        ctypes.pythonapi.PyGILState_Ensure()


class TaskCancelled(Exception):
    """Raised inside a task (by ``CancelToken.check``) to stop it at a safe point."""


class CancelToken:
    """Set once; the work polls it (``check``) or is woken by its hooks (a prompt's wait)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._hooks: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            hooks, self._hooks = self._hooks, []
        for hook in hooks:
            try:
                hook()
            except Exception:  # a hook that fails must not stop the others
                log.exception("cancel hook failed")

    def on_cancel(self, hook: Callable[[], None]) -> None:
        """Call ``hook`` when cancelled (now, if it already is)."""
        with self._lock:
            if not self._event.is_set():
                self._hooks.append(hook)
                return
        hook()

    def check(self) -> None:
        if self._event.is_set():
            raise TaskCancelled()

    def wait(self, timeout: float | None) -> bool:
        return self._event.wait(timeout)


def _accepts(fn: Callable[..., Any], name: str) -> bool:
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


class Task(QObject):
    """``fn(*args, **kwargs)`` on a lane of a :class:`TaskRunner`.

    ``fn`` is given ``progress=report(done, total, text)`` and ``cancel=CancelToken``
    if it takes those keywords.  Exactly one of ``succeeded(result)``,
    ``failed(TaskError)`` or ``cancelled()`` follows, then ``finished()``.  Created on
    the GUI thread, so slots connected to it run there.
    """

    started = Signal()
    progress = Signal(int, int, str)        # done, total, text
    succeeded = Signal(object)
    failed = Signal(object)                 # TaskError
    cancelled = Signal()
    finished = Signal()

    def __init__(self, fn: Callable[..., Any], args: tuple, kwargs: dict, *, name: str = "", lane: str = ""):
        super().__init__()
        self.fn, self.args, self.kwargs = fn, args, dict(kwargs)
        self.name = name or getattr(fn, "__qualname__", repr(fn))
        self.lane = lane
        self.token = CancelToken()
        self.state = "queued"               # queued -> running -> done | failed | cancelled
        self.result: Any = None
        self.error: TaskError | None = None
        self._done = threading.Event()
        self.returned = threading.Event()   # the lane's thread is through with this object
        if _accepts(fn, "progress"):
            self.kwargs.setdefault("progress", self.report)
        if _accepts(fn, "cancel"):
            self.kwargs.setdefault("cancel", self.token)

    # -- any thread ------------------------------------------------------------------------
    def cancel(self) -> None:
        self.token.cancel()

    def on_cancel(self, hook: Callable[[], None]) -> None:
        self.token.on_cancel(hook)

    @property
    def is_done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the work has returned (not until its signals were delivered)."""
        return self._done.wait(timeout)

    def report(self, done: int, total: int = 100, text: str = "") -> None:
        self.progress.emit(int(done), int(total), text)

    # -- the lane's thread ---------------------------------------------------------------
    def run_on_lane(self) -> None:
        """What a lane runs: the work, then a mark that this thread will touch it no more
        (the runner deletes the task on the GUI thread only after that)."""
        if threading.current_thread() is not threading.main_thread():
            _keep_thread_state()
        try:
            self.execute()
        finally:
            self.returned.set()

    def execute(self) -> None:
        if self.token.cancelled:
            self._finish("cancelled")
            return
        self.state = "running"
        self.started.emit()
        try:
            self.result = self.fn(*self.args, **self.kwargs)
        except TaskCancelled:
            self._finish("cancelled")
        except Exception as exc:  # every failure reaches the GUI as a TaskError, never kills the lane
            self.error = explain(exc)
            if not isinstance(exc, TaskError) and self.error.what.startswith("something went wrong"):
                log.error("task %s failed", self.name, exc_info=exc)
            self._finish("failed")
        else:
            self._finish("done")

    def _finish(self, state: str) -> None:
        self.state = state
        self._done.set()
        if state == "done":
            self.succeeded.emit(self.result)
        elif state == "failed":
            self.failed.emit(self.error)
        else:
            self.cancelled.emit()
        self.finished.emit()


__all__ = ["CancelToken", "Task", "TaskCancelled", "TaskError"]
