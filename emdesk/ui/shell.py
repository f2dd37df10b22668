"""The session loop: sign in, work in the main window, sign out, sign in again.

The shell owns each session's context and closes it (and so the store) when the
window goes, whether by signing out or quitting: first every background task of the
session is cancelled and waited for (``end_session``, bounded), so nothing -- a
service call, a sync round, a pairing waiting on a prompt -- still uses the store.
"""
from __future__ import annotations

import time
from typing import Any, Callable

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QApplication

from .main_window import MainWindow
from .sign_in import SignInDialog
from .tasks import TaskRunner, end_session
from .tasks.runner import SHUTDOWN_S


class Shell(QObject):
    def __init__(self, sign_in: Callable[[str, str], Any], parent=None):
        # Lives as long as the application, and is destroyed by it (on the GUI thread).
        super().__init__(parent if parent is not None else QApplication.instance())
        self._sign_in = sign_in
        self.dialog: SignInDialog | None = None
        self.window: MainWindow | None = None
        self.ctx: Any = None
        self.runner = TaskRunner("emdesk-shell", self)      # sign-in, before there is a session
        self.last_end_s = 0.0                                 # how long the last session took to end
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.quit)

    def start(self, username: str = "") -> None:
        self.dialog = SignInDialog(self._sign_in, username=username, runner=self.runner)
        self.dialog.signed_in.connect(self._open_window)
        self.dialog.rejected.connect(self._cancelled)
        self.dialog.show()

    @Slot(object)
    def _open_window(self, ctx: Any) -> None:
        self.ctx = ctx
        self.window = MainWindow(ctx)
        self.window.sign_out_requested.connect(self._signed_out)
        self.window.show()
        self.dialog = None

    @Slot()
    def _signed_out(self) -> None:
        username = self.ctx.user.username if self.ctx else ""
        self.start(username)       # the dialog first, so closing the window does not quit
        self._end_session()

    @Slot()
    def _cancelled(self) -> None:
        if self.window is None:
            QApplication.quit()

    @Slot()
    def quit(self) -> None:
        """The application is quitting: end the session and stop sign-in work (bounded)."""
        self._end_session()
        self.runner.shutdown(SHUTDOWN_S / 3)

    def _end_session(self) -> None:
        began = time.monotonic()
        window, self.window = self.window, None
        ctx, self.ctx = self.ctx, None
        if window is not None:
            window.end_session()   # stops its timers, closes its dialogs (a wizard cancels its pairing)
            window.deleteLater()
        if ctx is not None:
            end_session(ctx)       # cancel and wait for every task, then close the store
        self.last_end_s = time.monotonic() - began
