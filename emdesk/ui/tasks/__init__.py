"""One way to run background work in the desktop (services, sync, devices).

- ``task``    ``Task``: one call off the GUI thread, with started / progress / succeeded /
              failed / cancelled / finished signals, and its ``CancelToken``
- ``errors``  ``TaskError``: a failure as a sentence saying what happened and what to do
- ``runner``  ``TaskRunner``: the lanes the work runs on (store, network, device) and a
              bounded ``shutdown`` that cancels and waits for everything
- ``session`` ``runner_for(ctx)`` / ``end_session(ctx)``: one runner per signed-in session

Learnt from napari's ``thread_worker`` (signals from a worker, awaited in tests) and
Anki's ``CollectionOp`` / ``QueryOp`` (one serialized lane for the database, another for
the network, results and failures delivered on the GUI thread).
"""
from .errors import TaskError, explain
from .runner import DEVICE, NETWORK, STORE, TaskRunner
from .session import end_session, live_runners, runner_for
from .task import CancelToken, Task, TaskCancelled

__all__ = ["DEVICE", "NETWORK", "STORE", "CancelToken", "Task", "TaskCancelled", "TaskError", "TaskRunner",
           "end_session", "explain", "live_runners", "runner_for"]
