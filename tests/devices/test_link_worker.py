"""The device thread: every call runs on one thread, results come back as futures."""
from __future__ import annotations

import threading
from concurrent.futures import wait

import pytest

from emdesk.devices import bench
from emdesk.devices.errors import NoAnswer
from emdesk.devices.link import DeviceLink, LinkPolicy
from emdesk.devices.protocol import EventCode
from emdesk.devices.worker import DeviceWorker, PromptBridge, on_device_thread
from hardware.emulator import EmulatedDevice
from hardware.testing import FAST


@pytest.fixture
def worker():
    w = DeviceWorker(idle_poll=0.02)
    yield w
    w.shutdown()


def test_all_work_runs_on_the_one_device_thread(worker):
    futs = [worker.submit(threading.current_thread) for _ in range(5)]
    assert {f.result(2) for f in futs} == {worker.thread}
    assert worker.call(lambda: worker.on_device_thread(), timeout=2)
    assert not worker.on_device_thread()


def test_errors_come_back_through_the_future(worker):
    def fail():
        raise NoAnswer.on("/dev/ttyUSB9")
    with pytest.raises(NoAnswer, match="ttyUSB9"):
        worker.submit(fail).result(2)
    assert worker.submit(lambda: 42).result(2) == 42          # the thread survived


def test_device_io_through_the_worker_and_watched_events(worker):
    seen = threading.Event()
    events = []

    def on_event(e):
        assert worker.on_device_thread()
        events.append(e)
        if e.code is EventCode.STRAP_TAMPER:
            seen.set()

    with EmulatedDevice.start("gps_tag", "GPS-000777") as dev:
        link = worker.call(DeviceLink.open, dev.port, policy=FAST, on_event=on_event, timeout=2)
        ident = worker.submit(bench.identify, link).result(2)
        assert ident.serial == "GPS-000777"
        worker.watch(link).result(2)
        dev.open_strap()                                      # nobody asks; the idle pump delivers it
        assert seen.wait(2)
        worker.unwatch(link).result(2)
        worker.call(link.close, timeout=2)


def test_decorator_routes_method_calls(worker):
    class Service:
        def __init__(self, w):
            self.worker = w

        @on_device_thread
        def where(self, x):
            return threading.current_thread(), x

    thread, x = Service(worker).where(7).result(2)
    assert thread is worker.thread and x == 7


def test_prompt_bridge_blocks_the_device_thread_until_answered(worker):
    asked = threading.Event()
    bridge = PromptBridge(lambda q: asked.set(), timeout=2)
    fut = worker.submit(bridge.ask, "close the strap")
    assert asked.wait(2)
    assert not fut.done()
    bridge.answer(True)
    assert fut.result(2) is True


def test_shutdown_cancels_queued_work():
    w = DeviceWorker()
    gate = threading.Event()
    first = w.submit(gate.wait, 2)
    later = w.submit(lambda: "never")
    w.shutdown(wait=False)
    gate.set()
    wait([first], timeout=2)
    w.shutdown()
    assert first.result() is True
    assert later.cancelled() or later.result() == "never"
    with pytest.raises(RuntimeError):
        w.submit(lambda: None)


def test_watched_link_that_vanishes_is_reported_and_dropped(worker):
    lost = threading.Event()
    with EmulatedDevice.start("rf_tag", "RF-000001") as dev:
        link = worker.call(DeviceLink.open, dev.port, policy=LinkPolicy(timeout=0.05, retries=0), timeout=2)
        worker.watch(link, on_lost=lambda link, error: lost.set()).result(2)
        dev.unplug("vanish")
        assert lost.wait(2)
        assert link not in worker.call(lambda: worker.watched, timeout=2)
        link.close()
