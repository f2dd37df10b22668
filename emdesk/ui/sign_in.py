"""Sign-in: the password unlocks the store, which takes a moment (argon2/scrypt).

The callable runs on a background lane (``TaskRunner``) so the window stays responsive; a failure
is shown in plain words under the fields and the person can try again.
"""
from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from .resources import APP_ICON
from .tasks import TaskError, TaskRunner

SignIn = Callable[[str, str], Any]


class SignInDialog(QDialog):
    """``exec()`` returns Accepted once signed in; the context is in ``context``."""

    signed_in = Signal(object)     # the AppContext
    sign_in_failed = Signal(str)

    def __init__(self, sign_in: SignIn, parent=None, *, username: str = "", runner: TaskRunner | None = None):
        super().__init__(parent)
        self._sign_in = sign_in
        # Before sign-in there is no session: the shell's runner, or one of the dialog's own.
        self.runner = runner or TaskRunner("emdesk-sign-in", self)
        self.context: Any = None
        self.setWindowTitle("Sign in to emdesk")
        self.setObjectName("signInDialog")
        self.setMinimumWidth(380)

        logo = QLabel()
        if APP_ICON.exists():
            logo.setPixmap(QIcon(str(APP_ICON)).pixmap(40, 40))
        title = QLabel("emdesk", objectName="signInTitle")
        heading = QHBoxLayout()
        heading.addWidget(logo)
        heading.addWidget(title)
        heading.addStretch(1)

        self.username = QLineEdit(username, objectName="username")
        self.username.setPlaceholderText("username")
        self.password = QLineEdit(objectName="password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("password")
        form = QFormLayout()
        form.addRow("&Username", self.username)
        form.addRow("&Password", self.password)
        self.username.setAccessibleName("Username")
        self.password.setAccessibleName("Password")

        self.error_label = QLabel("", objectName="signInError")
        self.error_label.setWordWrap(True)
        self.error_label.setVisible(False)
        self.status_label = QLabel("", objectName="workspaceSubtitle")
        self.busy = QProgressBar(objectName="busy")
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setFixedHeight(4)
        self.busy.setVisible(False)

        self.button = QPushButton("Sign in", objectName="primary")
        self.button.setDefault(True)     # Enter in either field signs in
        self.button.setAutoDefault(True)
        self.button.clicked.connect(self.submit)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.addLayout(heading)
        layout.addSpacing(6)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.busy)
        layout.addWidget(self.status_label)
        layout.addLayout(buttons)
        (self.password if username else self.username).setFocus()

    @property
    def busy_now(self) -> bool:
        return self.busy.isVisible()

    @Slot()
    def submit(self) -> None:
        if self.busy_now:
            return
        username, password = self.username.text().strip(), self.password.text()
        if not username or not password:
            self._show_error("Enter your username and password.")
            return
        self._set_busy(True)
        self.runner.run(self._sign_in, username, password, name="sign in",
                        on_done=self._succeeded, on_error=self._failed)

    @Slot(object)
    def _succeeded(self, context: Any) -> None:
        self._set_busy(False)
        self.context = context
        self.signed_in.emit(context)
        self.accept()

    @Slot(object)
    def _failed(self, error: TaskError) -> None:
        message = error.sentence
        self._set_busy(False)
        self.password.clear()
        self.password.setFocus()
        self._show_error(message)
        self.sign_in_failed.emit(message)

    def _show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.setVisible(True)
        # A screen reader reads the reason with the field the person must fix.
        self.password.setAccessibleDescription(message)

    def _set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        self.status_label.setText("Unlocking the store…" if busy else "")
        for w in (self.username, self.password, self.button):
            w.setEnabled(not busy)
        if busy:
            self.error_label.setVisible(False)

    def reject(self) -> None:
        # Closing mid-sign-in would leave the result with no one to receive it.
        if not self.busy_now:
            super().reject()
