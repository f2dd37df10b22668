"""The one device thread the UI uses, and a way for device work to ask the services.

All device I/O runs on one :class:`~emdesk.devices.worker.DeviceWorker` thread, shared
by the pairing wizard and the technician's bench (one cradle cable, one conversation
at a time).  Device work that needs an answer from the store (is this serial allocated
to the order?) must not touch the store from the device thread: ``ask_services`` runs
the question on the service thread and waits for the answer.
"""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from PySide6.QtCore import QCoreApplication, QRunnable

from emdesk.devices.worker import DeviceWorker

from ..worker import service_pool

_worker: DeviceWorker | None = None


def device_worker() -> DeviceWorker:
    """The shared device thread, started on first use and stopped when the app quits."""
    global _worker
    if _worker is None or _worker._stopped:
        _worker = DeviceWorker(name="emdesk-devices")
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(shutdown_device_worker)
    return _worker


def shutdown_device_worker() -> None:
    global _worker
    if _worker is not None:
        _worker.shutdown(wait=True)
        _worker = None


def ask_services(fn: Callable[..., Any], *args: Any, timeout: float = 60.0, **kwargs: Any) -> Any:
    """Run ``fn`` on the service thread and wait for its result (from any other thread)."""
    fut: Future = Future()

    def job() -> None:
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as e:  # noqa: BLE001 - handed to the waiting thread
            fut.set_exception(e)

    service_pool().start(QRunnable.create(job))
    return fut.result(timeout)
