"""The one task runner: results, typed errors worded for the user, progress, cancel, bounds.

Fault 5 of issue 9: four ways to hand work to Qt, only pairing cancellable, failures
shown as a bare string.
"""
from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest

from emdesk.devices.errors import NoAnswer
from emdesk.services.errors import AccessDenied
from emdesk.ui.tasks import DEVICE, NETWORK, STORE, TaskError, TaskRunner, explain

UI = Path(__file__).resolve().parents[2] / "emdesk" / "ui"


@pytest.fixture
def runner():
    r = TaskRunner("test")
    yield r
    assert r.shutdown(2.0)


@pytest.mark.parametrize("lane", [STORE, NETWORK, DEVICE])
def test_a_result_arrives_on_the_gui_thread_from_its_lane(qtbot, runner, lane):
    ran_on, got_on = [], []
    task = runner.run(lambda: ran_on.append(threading.current_thread()) or 42, lane=lane,
                      on_done=lambda v: got_on.append((v, threading.current_thread())))
    qtbot.waitUntil(lambda: bool(got_on), timeout=5000)
    assert got_on == [(42, threading.main_thread())]
    assert ran_on and ran_on[0] is not threading.main_thread()
    assert task.state == "done"


@pytest.mark.parametrize("exc, words", [
    (NoAnswer.on("/dev/ttyUSB0"), ["No answer from the device on /dev/ttyUSB0", "check the cable", "Retry"]),
    (AccessDenied("Technician accounts cannot enter orders"), ["cannot enter orders", "ask your supervisor"]),
    (KeyError("visit-7"), ["Something went wrong", "KeyError", "try again", "report it"]),
    (TimeoutError(), ["took too long", "try again"]),
])
def test_failures_reach_the_user_as_a_sentence_saying_what_to_do(qtbot, runner, exc, words):
    def fail():
        raise exc
    errors = []
    runner.run(fail, on_error=errors.append)      # connected before the task can finish
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    error = errors[0]
    assert isinstance(error, TaskError) and error.exception is exc
    sentence = error.sentence
    assert sentence[0].isupper() and sentence.endswith(".")
    for word in words:
        assert word in sentence, sentence
    assert explain(exc).sentence == sentence


def test_long_work_reports_progress_and_can_be_cancelled(qtbot, runner):
    steps = []

    def long_job(progress, cancel):
        for i in range(1000):
            cancel.check()
            progress(i, 1000, "working")
            time.sleep(0.005)
        return "finished"

    task = runner.run(long_job, on_progress=lambda done, total, text: steps.append(done))
    qtbot.waitUntil(lambda: len(steps) > 3, timeout=5000)
    with qtbot.waitSignal(task.cancelled, timeout=2000):
        task.cancel()
    assert task.state == "cancelled" and task.result is None


def test_shutdown_cancels_waits_within_its_bound_and_refuses_new_work(qtbot):
    runner = TaskRunner("bounded")
    woken = threading.Event()

    def waits_for_a_person(cancel):
        cancel.wait(30)           # a prompt: only a cancel wakes it
        woken.set()

    runner.run(waits_for_a_person, lane=DEVICE)
    runner.run(lambda: time.sleep(0.1), lane=NETWORK)
    time.sleep(0.1)
    began = time.monotonic()
    assert runner.shutdown(1.5)
    assert time.monotonic() - began < 1.5 and woken.is_set()
    assert not runner.device_worker().thread.is_alive()
    late = runner.run(lambda: "never")
    assert late.state == "cancelled"


def test_shutdown_gives_up_at_its_bound_on_work_that_will_not_stop(qtbot):
    runner = TaskRunner("stubborn")
    release = threading.Event()
    runner.run(lambda: release.wait(10), lane=STORE)
    time.sleep(0.05)
    began = time.monotonic()
    assert not runner.shutdown(0.3)
    assert time.monotonic() - began < 1.0
    release.set()
    assert runner.shutdown(2.0)


def test_the_ui_has_one_way_to_run_background_work():
    """No thread pools, device workers or threads of their own outside ``ui/tasks``."""
    pattern = re.compile(r"QThreadPool|QRunnable|DeviceWorker\(|threading\.Thread|\.submit\(|QThread\b")
    offenders = []
    for path in UI.rglob("*.py"):
        if path.parent.name == "tasks":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line) and not line.lstrip().startswith("#"):
                offenders.append(f"{path.relative_to(UI)}:{n}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
