"""Cycles are collected on the GUI thread, not on whichever worker allocates."""
from __future__ import annotations

import gc
import threading


class Cycle:
    def __init__(self):
        self.me = self
        self.thread: list[str] = []

    def __del__(self):
        self.thread.append(threading.current_thread().name)
        FREED.append(threading.current_thread().name)


FREED: list[str] = []


def test_garbage_made_on_a_worker_is_freed_on_the_gui_thread(qtbot, gui_thread_gc):
    assert not gc.isenabled()
    FREED.clear()

    def churn():
        for _ in range(20_000):          # far past generation 0's threshold
            Cycle()
    worker = threading.Thread(target=churn, name="worker")
    worker.start()
    worker.join()
    assert FREED == []                   # nothing collected on the worker
    qtbot.waitUntil(lambda: len(FREED) > 0, timeout=5_000)
    assert set(FREED) == {threading.main_thread().name}
