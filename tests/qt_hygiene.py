"""What every Qt test leaves behind: nothing.  Shared by the UI and the map tests."""
from __future__ import annotations

import threading
import time


def no_work_left(qapp, before: set[threading.Thread]) -> None:
    """Every task runner (each lane's pool, the device thread) and every thread started
    since ``before`` is finished: none may leak into the next test."""
    from emdesk.ui.tasks import runner
    from emdesk.ui.tasks.session import _runners

    stuck = [r.name for r in runner.all_runners() if not r.shutdown(5.0)]
    _runners.clear()
    qapp.processEvents()
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        left = [t for t in threading.enumerate() if t not in before and t.is_alive()
                and not isinstance(t, threading._DummyThread)]
        if not left:
            break
        time.sleep(0.02)
    assert not stuck, f"background work still running after the test: {stuck}"
    assert not left, f"threads left running after the test: {[t.name for t in left]}"
