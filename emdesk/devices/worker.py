"""ONE thread for all device I/O (as Electrum does for USB): jobs in, futures out.

The Qt layer submits work and connects the futures' results to signals; it never
touches a port itself.  When the thread has nothing to do it pumps the links it was
asked to ``watch`` so asynchronous device events still reach their callbacks.

    worker = DeviceWorker()
    fut = worker.submit(pair_devices, tag_url, hmu_url, conditions, key=key, callbacks=cb)
    fut.add_done_callback(...)          # runs on the device thread: hop to the GUI thread

Callbacks passed to device work (progress, prompts, events) run on the device thread.
A prompt callback blocks that thread until the user answers (see ``PromptBridge``).
"""
from __future__ import annotations

import functools
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from .errors import DeviceError
from .link import DeviceLink

log = logging.getLogger(__name__)
T = TypeVar("T")
_STOP = object()


class DeviceWorker:
    def __init__(self, *, name: str = "emdesk-device", idle_poll: float = 0.1) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._watched: dict[DeviceLink, Callable[[DeviceLink, DeviceError], None] | None] = {}
        self._idle_poll = idle_poll
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    # -- public --------------------------------------------------------------------------

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        if self._stopped:
            raise RuntimeError("the device worker has been shut down")
        fut: Future[T] = Future()
        self._jobs.put((fut, fn, args, kwargs))
        return fut

    def call(self, fn: Callable[..., T], /, *args: Any, timeout: float | None = None, **kwargs: Any) -> T:
        """Run on the device thread and wait for the result (directly if already on it)."""
        if self.on_device_thread():
            return fn(*args, **kwargs)
        return self.submit(fn, *args, **kwargs).result(timeout)

    def on_device_thread(self) -> bool:
        return threading.current_thread() is self._thread

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    def watch(self, link: DeviceLink, on_lost: Callable[[DeviceLink, DeviceError], None] | None = None) -> Future[None]:
        """Pump ``link`` for events whenever the thread is idle.

        If the port goes away, the link is dropped and ``on_lost(link, error)`` is called
        (on the device thread) so the UI can say "device unplugged".
        """
        def add() -> None:
            self._watched[link] = on_lost
        return self.submit(add)

    def unwatch(self, link: DeviceLink) -> Future[None]:
        return self.submit(lambda: self._watched.pop(link, None) and None)

    @property
    def watched(self) -> tuple[DeviceLink, ...]:
        return tuple(self._watched)

    def shutdown(self, wait: bool = True) -> None:
        if not self._stopped:
            self._stopped = True
            self._jobs.put(_STOP)
        if wait and not self.on_device_thread():
            self._thread.join()

    def __enter__(self) -> DeviceWorker:
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()

    # -- the thread ----------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            try:
                job = self._jobs.get(timeout=self._idle_poll if self._watched else None)
            except queue.Empty:
                self._pump()
                continue
            if job is _STOP:
                break
            fut, fn, args, kwargs = job
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn(*args, **kwargs))
            except BaseException as e:      # handed to whoever waits on the future
                fut.set_exception(e)
        while True:                         # cancel anything queued after shutdown
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is not _STOP:
                job[0].cancel()

    def _pump(self) -> None:
        for link, on_lost in list(self._watched.items()):
            try:
                link.poll_events()
            except DeviceError as e:
                log.info("stopped watching %s: %s", link.name, e)
                self._watched.pop(link, None)
                if on_lost is not None:
                    try:
                        on_lost(link, e)
                    except Exception:
                        log.exception("on_lost callback failed")


def on_device_thread(method: Callable[..., T]) -> Callable[..., Future[T]]:
    """Decorator for methods of objects with a ``worker``: the call runs on the device thread."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        return self.worker.submit(method, self, *args, **kwargs)

    return wrapper


class PromptBridge:
    """Lets a prompt raised on the device thread wait for an answer from another thread.

    ``ask`` (device thread) hands the question to ``deliver`` (e.g. emit a Qt signal) and
    blocks; the GUI calls ``answer(True/False)``.  No answer within ``timeout``: False.
    """

    def __init__(self, deliver: Callable[[Any], None], *, timeout: float | None = 600.0) -> None:
        self._deliver = deliver
        self._timeout = timeout
        self._answer: Future[bool] | None = None
        self._lock = threading.Lock()

    def ask(self, question: Any) -> bool:
        with self._lock:
            self._answer = Future()
            fut = self._answer
        self._deliver(question)
        try:
            return bool(fut.result(self._timeout))
        except TimeoutError:
            return False

    def answer(self, value: bool) -> None:
        with self._lock:
            fut = self._answer
        if fut is not None and not fut.done():
            fut.set_result(value)
