"""A signed-in session the way app.py makes one, and a sync port that works the real store.

``StoreRound`` stands in for the hub (a sync round's network is not what these tests are
about): each "batch" is a real write transaction on the session's SQLite file followed by
a pause, reporting progress between batches the way ``SyncClient.sync_once`` does.  It
records any error the store raised under it (a closed database).
"""
from __future__ import annotations

import threading
import time

from emdesk.services.sync_port import SyncStatus
from emdesk.ui.shell import Shell


class StoreRound:
    def __init__(self, store, *, batches: int = 40, pause: float = 0.05):
        self.store, self.batches, self.pause = store, batches, pause
        self.errors: list[BaseException] = []
        self.rounds = 0
        self.started = threading.Event()
        self.finished_batches = 0

    def status(self) -> SyncStatus:
        return SyncStatus(configured=True, hub="https://hub.test", pending=self.store.outbox_count(),
                          last_sync=None, ok=True, message="")

    def sync_now(self, progress=None) -> SyncStatus:
        self.started.set()
        try:
            for i in range(self.batches):
                with self.store.transaction():
                    self.store.set_sync_value("test_round_batch", str(i))
                self.finished_batches = i + 1
                time.sleep(self.pause)
                if progress is not None:
                    progress(int(100 * (i + 1) / self.batches), f"push {i + 1}/{self.batches}")
        except Exception as exc:
            if type(exc).__name__ != "TaskCancelled":
                self.errors.append(exc)
            raise
        self.rounds += 1
        return SyncStatus(configured=True, hub="https://hub.test", ok=True, message="pushed")

    def reachable(self) -> bool:
        return True


def signed_in_shell(qtbot, ctx) -> Shell:
    """A shell whose sign-in hands back ``ctx``, signed in, its window loaded."""
    shell = Shell(lambda username, password: ctx)
    shell.start(ctx.user.username)
    dialog = shell.dialog
    qtbot.addWidget(dialog)
    dialog.password.setText("password")
    with qtbot.waitSignal(dialog.signed_in, timeout=10_000):
        dialog.submit()
    window = shell.window
    qtbot.addWidget(window)
    if window.is_loading():
        with qtbot.waitSignal(window.loaded, timeout=20_000):
            pass
    return shell


def store_is_closed(store) -> bool:
    try:
        store.outbox_count()
    except Exception as exc:       # sqlite3.ProgrammingError: Cannot operate on a closed database
        return "closed" in str(exc)
    return False
