"""The session loop: sign in, work in the main window, sign out, sign in again.

The shell owns each session's context and closes it (and so the store) when the
window goes, whether by signing out or quitting.
"""
from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QApplication

from .main_window import MainWindow
from .sign_in import SignInDialog
from .worker import wait_for_workers


class Shell(QObject):
    def __init__(self, sign_in: Callable[[str, str], Any], parent=None):
        super().__init__(parent)
        self._sign_in = sign_in
        self.dialog: SignInDialog | None = None
        self.window: MainWindow | None = None
        self.ctx: Any = None
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self._end_session)

    def start(self, username: str = "") -> None:
        self.dialog = SignInDialog(self._sign_in, username=username)
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

    def _end_session(self) -> None:
        if self.window is not None:
            self.window.deleteLater()
            self.window = None
        if self.ctx is not None:
            wait_for_workers()     # nothing may still be using the store
            self.ctx.close()
            self.ctx = None
