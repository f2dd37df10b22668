"""Trail reads project points on the store lane, task after task (pyproj 3.7 on Qt's
threads used a freed context on the second task and crashed the process)."""
from __future__ import annotations

from emdesk.domain.geography import to_bng
from emdesk.ui.tasks import STORE, TaskRunner


def test_a_lane_thread_projects_points_in_task_after_task(qtbot):
    runner = TaskRunner(name="projection")
    got = []
    try:
        for i in range(4):
            runner.run(to_bng, 52.48, -1.89, lane=STORE, on_done=got.append)
            qtbot.waitUntil(lambda: len(got) == i + 1, timeout=10_000)
    finally:
        assert runner.shutdown(5.0)
    assert len(got) == 4 and len({(round(x), round(y)) for x, y in got}) == 1
