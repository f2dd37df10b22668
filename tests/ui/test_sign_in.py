from PySide6.QtCore import Qt

from emdesk.services.errors import SignInError
from emdesk.ui.sign_in import SignInDialog


class Accounts:
    """A real sign-in callable: one account, and a record of every attempt."""

    def __init__(self):
        self.attempts = []

    def __call__(self, username, password):
        self.attempts.append((username, password))
        if (username, password) != ("kim", "correct horse"):
            raise SignInError("Unknown user or wrong password. Check both and try again.")
        return {"user": username}


def test_fails_then_succeeds(qtbot):
    accounts = Accounts()
    dialog = SignInDialog(accounts)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.username, "kim")
    qtbot.keyClicks(dialog.password, "wrong")
    with qtbot.waitSignal(dialog.sign_in_failed, timeout=5000) as failed:
        qtbot.mouseClick(dialog.button, Qt.MouseButton.LeftButton)
    assert failed.args == ["Unknown user or wrong password. Check both and try again."]
    assert dialog.error_label.isVisible() and "wrong password" in dialog.error_label.text()
    assert dialog.password.text() == "" and dialog.username.text() == "kim"
    assert dialog.button.isEnabled() and dialog.isVisible()

    qtbot.keyClicks(dialog.password, "correct horse")
    with qtbot.waitSignal(dialog.signed_in, timeout=5000) as signed:
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)      # Enter submits
    assert signed.args == [{"user": "kim"}]
    assert dialog.context == {"user": "kim"}
    assert dialog.result() == dialog.DialogCode.Accepted
    assert accounts.attempts == [("kim", "wrong"), ("kim", "correct horse")]


def test_unexpected_error_is_shown_not_raised(qtbot):
    def broken(username, password):
        raise OSError("disk unreadable")

    dialog = SignInDialog(broken, username="kim")
    qtbot.addWidget(dialog)
    dialog.password.setText("x" * 10)
    with qtbot.waitSignal(dialog.sign_in_failed, timeout=5000):
        dialog.submit()
    # Not the bare exception text: what happened, and what to do about it.
    text = dialog.error_label.text()
    assert "disk unreadable" in text and "try again" in text and text.endswith(".")


def test_empty_fields_are_refused_without_calling(qtbot):
    accounts = Accounts()
    dialog = SignInDialog(accounts)
    qtbot.addWidget(dialog)
    dialog.submit()
    assert accounts.attempts == []
    assert "Enter your username" in dialog.error_label.text()
