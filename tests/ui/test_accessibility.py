"""A screen reader can name every input: walks each screen's QAccessible tree.

Fault 6 of issue 9: inputs with neither an accessible name nor a label buddy, and
validation messages not linked to their fields.
"""
from __future__ import annotations

import pytest
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import QAbstractButton, QComboBox, QLabel, QLineEdit, QPlainTextEdit, QWidget

from emdesk.domain.users import Role
from emdesk.ui.main_window import MainWindow
from emdesk.ui.order_form import OrderFormDialog
from emdesk.ui.pairing.wizard import BenchJob, PairingWizard
from emdesk.ui.sign_in import SignInDialog
from emdesk.ui.workspaces.bench import BenchWorkspace, ConfirmSerialDialog
from hardware.testing import KEY

R = QAccessible.Role
INPUT_ROLES = {R.EditableText, R.ComboBox, R.CheckBox, R.RadioButton, R.SpinBox, R.Slider}
TYPED_INPUTS = (QLineEdit, QComboBox, QPlainTextEdit)


def unnamed_inputs(root: QWidget) -> list[str]:
    """Inputs in ``root``'s accessibility tree that a screen reader could not name."""
    found, seen = [], set()

    def walk(iface, depth=0):
        if iface is None or not iface.isValid() or depth > 60:
            return
        obj = iface.object()
        key = id(obj) if obj is not None else None
        if key in seen:
            return
        seen.add(key)
        if iface.role() in INPUT_ROLES and not iface.text(QAccessible.Text.Name).strip():
            visible = not isinstance(obj, QWidget) or obj.isVisibleTo(root)
            if visible:
                found.append(f"{type(obj).__name__}#{obj.objectName() if obj is not None else '?'}")
        for i in range(iface.childCount()):
            walk(iface.child(i), depth + 1)

    walk(QAccessible.queryAccessibleInterface(root))
    return found


def without_buddy(root: QWidget) -> list[str]:
    """Typed inputs (line edits, combo boxes, text boxes) no label points at."""
    buddies = {id(label.buddy()) for label in root.findChildren(QLabel) if label.buddy() is not None}
    missing = []
    for w in root.findChildren(QWidget):
        if isinstance(w, TYPED_INPUTS) and not isinstance(w.parent(), QComboBox) and id(w) not in buddies:
            if isinstance(w, QLineEdit) and isinstance(w.parent(), QComboBox):
                continue
            missing.append(f"{type(w).__name__}#{w.objectName()}")
    return missing


def check(root: QWidget) -> None:
    root.show()
    inputs = [w for w in root.findChildren(QWidget) if isinstance(w, (*TYPED_INPUTS, QAbstractButton))]
    assert inputs, "no inputs found: the walk proves nothing"
    assert unnamed_inputs(root) == []
    assert without_buddy(root) == []
    for w in root.findChildren(QWidget):
        if isinstance(w, TYPED_INPUTS) and not isinstance(w.parent(), QComboBox):
            assert w.accessibleName(), f"{w.objectName()} has no accessible name of its own"


def test_the_order_form_names_every_input_and_links_its_messages(qtbot, operator_ctx):
    dialog = OrderFormDialog(operator_ctx)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.form.checked, timeout=5000):
        check(dialog)
    form = dialog.form
    assert len([w for w in form.findChildren(QWidget) if isinstance(w, (QLineEdit, QComboBox))]) >= 31
    # The message under a field is that field's accessible description.
    assert "Date of birth is missing" in form.date_of_birth.accessibleDescription()
    iface = QAccessible.queryAccessibleInterface(form.date_of_birth)
    assert "Date of birth is missing" in iface.text(QAccessible.Text.Description)
    assert iface.text(QAccessible.Text.Name) == "Date of birth"
    form.postcode.setText("NOT A CODE")
    with qtbot.waitSignal(form.checked, timeout=5000):
        form.validate_now()
    assert "not a UK postcode" in form.postcode.accessibleDescription()
    form.postcode.setText("LS6 2AB")
    with qtbot.waitSignal(form.checked, timeout=5000):
        form.validate_now()
    assert form.postcode.accessibleDescription() == ""


def test_sign_in_names_its_fields_and_says_why_it_failed(qtbot):
    def refuse(username, password):
        from emdesk.services.errors import SignInError
        raise SignInError("Unknown user or wrong password. Check both and try again.")
    dialog = SignInDialog(refuse)
    qtbot.addWidget(dialog)
    check(dialog)
    dialog.username.setText("kim")
    dialog.password.setText("nope")
    with qtbot.waitSignal(dialog.sign_in_failed, timeout=5000):
        dialog.submit()
    assert "wrong password" in dialog.password.accessibleDescription()


@pytest.mark.parametrize("role", list(Role))
def test_every_workspace_names_its_inputs(qtbot, ctx_for, role):
    window = MainWindow(ctx_for(role), load=False, remember=False)
    qtbot.addWidget(window)
    for ws in window.workspaces:
        window.show_workspace(ws.key)
        check(window)


def test_the_bench_and_its_dialogs_name_their_inputs(qtbot, store, clock, monkeypatch):
    from emdesk.domain.geocoding import GazetteerGeocoder
    from emdesk.domain.users import User
    from emdesk.services.context import AppContext

    tech = store.put(User(username="tech", display_name="Tess Tech", role=Role.TECHNICIAN, region="Wales"))
    ctx = AppContext.for_user(store, tech, clock, GazetteerGeocoder())
    monkeypatch.setattr("emdesk.ui.workspaces.bench.manufacturer_key", lambda ctx: KEY)
    bench = BenchWorkspace(ctx)
    qtbot.addWidget(bench)
    for i in range(bench.tabs.count()):
        bench.tabs.setCurrentIndex(i)
        check(bench)
    confirm = ConfirmSerialDialog(None, "Unpair", "RF-1 will forget its partner.", "RF-1")
    qtbot.addWidget(confirm)
    check(confirm)
    wizard = PairingWizard(ctx, BenchJob(), key=KEY)
    qtbot.addWidget(wizard)
    check(wizard)
    wizard.close()
