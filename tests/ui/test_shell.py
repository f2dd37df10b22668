"""The session loop app.py runs: sign in, main window, sign out closes the store."""
from emdesk.domain.users import Role
from emdesk.services.errors import SignInError
from emdesk.ui.shell import Shell

from ui_fakes import FakeContext, user


def test_sign_in_opens_the_window_and_sign_out_closes_the_session(qtbot):
    made = []

    def sign_in(username, password):
        if password != "right password":
            raise SignInError("Unknown user or wrong password. Check both and try again.")
        made.append(FakeContext(user(Role.FIELD_OFFICER, display_name="Kim Officer")))
        return made[-1]

    shell = Shell(sign_in)
    shell.start()
    dialog = shell.dialog
    qtbot.addWidget(dialog)
    dialog.username.setText("kim")
    dialog.password.setText("right password")
    with qtbot.waitSignal(dialog.signed_in, timeout=5000):
        dialog.submit()
    window = shell.window
    qtbot.addWidget(window)
    assert window.isVisible() and "Kim Officer" in window.windowTitle()
    if window.is_loading():
        with qtbot.waitSignal(window.loaded, timeout=10_000):
            pass

    window.sign_out_action.trigger()
    assert made[0].closed
    assert shell.window is None and shell.ctx is None
    assert shell.dialog is not None and shell.dialog.isVisible()
    assert shell.dialog.username.text() == made[0].user.username   # ready to sign back in
    qtbot.addWidget(shell.dialog)
