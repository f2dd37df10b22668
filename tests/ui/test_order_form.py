"""Live field-level validation: the message under the right field, gone when fixed."""
import pytest
from PySide6.QtCore import Qt

from emdesk.domain.devices import DeviceKind
from emdesk.domain.orders import OrderStatus
from emdesk.ui.order_form import OrderFormDialog

DOB = "subject.date_of_birth"
POSTCODE = "subject.addresses[0].postcode"


@pytest.fixture
def dialog(qtbot, operator_ctx):
    dialog = OrderFormDialog(operator_ctx)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.form.checked, timeout=5000):     # the first check, off the GUI thread
        dialog.show()
    return dialog


def type_into(qtbot, form, edit, text):
    """Type over the field as a person does, and wait for the debounced check."""
    edit.setFocus()
    edit.selectAll()
    with qtbot.waitSignal(form.checked, timeout=2000):
        qtbot.keyClick(edit, Qt.Key.Key_Backspace)
        qtbot.keyClicks(edit, text)


def test_missing_dob_shows_under_dob_and_clears_when_typed(qtbot, dialog):
    form = dialog.form
    assert "Date of birth is missing" in form.message_for(DOB)
    label = form.messages.slots[DOB].label
    assert label.isVisible()
    assert form.message_for(POSTCODE) == ""
    type_into(qtbot, form, form.date_of_birth, "04/03/1990")
    assert form.message_for(DOB) == ""
    assert not label.isVisible()
    assert not any(p.field == DOB for p in form.problems)


def test_bad_postcode_shows_under_postcode_and_clears_when_fixed(qtbot, dialog):
    form = dialog.form
    type_into(qtbot, form, form.postcode, "NOT A CODE")
    assert "is not a UK postcode" in form.message_for(POSTCODE)
    assert form.messages.slots[POSTCODE].label.isVisible()
    assert form.postcode.property("invalid") is True
    assert "not a UK postcode" not in form.message_for("subject.addresses[0].lines")
    assert f"{len(form.problems)} problems" in dialog.summary.text()
    type_into(qtbot, form, form.postcode, "LS6 2AB")
    assert form.message_for(POSTCODE) == ""
    assert form.postcode.property("invalid") is False


def test_unreadable_date_says_so_at_the_field(qtbot, dialog):
    form = dialog.form
    type_into(qtbot, form, form.date_of_birth, "31/02/1990")
    assert "is not a date" in form.message_for(DOB)
    assert "missing" not in form.message_for(DOB)


def test_unreadable_curfew_shows_under_curfew(qtbot, dialog):
    form = dialog.form
    type_into(qtbot, form, form.curfew, "evenings")
    assert "is not days and times" in form.message_for("order.conditions.curfew")
    type_into(qtbot, form, form.curfew, "Mon-Fri 19:00-07:00; Sat-Sun 20:00-06:00")
    assert form.message_for("order.conditions.curfew") == ""
    order, _, unreadable = form.build()
    assert unreadable == [] and len(order.conditions.curfew.windows) == 7


def fill_valid_order(qtbot, form):
    """A court bail order with a curfew, as a monitoring operator would type it."""
    for edit, text in [
        (form.given_name, "Alex"), (form.family_name, "Carter"), (form.date_of_birth, "04/03/1990"),
        (form.pnc, "2019/0012345A"), (form.address_1, "12 Briggate"), (form.town, "Leeds"),
        (form.postcode, "LS1 6HD"), (form.reference, "LDS-2026-0001"),
        (form.issuing_body, "Leeds Magistrates' Court"), (form.notifying_org, "HMCTS"),
        (form.officer_name, "PC Dana Jones"), (form.officer_org, "West Yorkshire Police"),
        (form.officer_phone, "0113 245 0000"), (form.start, "27/11/2026"),
        (form.appointment, "27/11/2026 14:00"),
    ]:
        type_into(qtbot, form, edit, text)
    with qtbot.waitSignal(form.checked, timeout=2000):
        form.sex.setCurrentIndex(form.sex.findText("Male"))
    with qtbot.waitSignal(form.checked, timeout=2000):
        form.order_type.setCurrentIndex(form.order_type.findText("Court bail"))
    assert form.cohort.currentText() == "Court bail"      # filled from the order type
    with qtbot.waitSignal(form.checked, timeout=2000):
        form.device_boxes[DeviceKind.RF_TAG].setChecked(True)
        form.device_boxes[DeviceKind.HMU].setChecked(True)


def test_a_complete_order_has_no_problems(qtbot, dialog):
    form = dialog.form
    fill_valid_order(qtbot, form)
    # "Nothing to monitor" is about all conditions: it shows at the one the form has.
    assert "imposes nothing to monitor" in form.message_for("order.conditions.curfew")
    type_into(qtbot, form, form.curfew, "Mon-Sun 19:00-07:00")
    assert form.problems == [], [str(p) for p in form.problems]
    assert all(not slot.label.isVisible() for slot in form.messages.slots.values())
    assert "No problems" in dialog.summary.text()


def test_submit_keeps_a_draft_then_accepts_the_same_order(qtbot, dialog):
    ctx = dialog.ctx
    form = dialog.form
    fill_valid_order(qtbot, form)
    with qtbot.waitSignal(dialog.submitted, timeout=5000) as draft:
        dialog.submit()
    result = draft.args[0]
    assert not result.accepted and result.order.status is OrderStatus.DRAFT
    assert dialog.result_label.text().startswith(f"Kept as a draft with {len(result.problems)} problem")
    type_into(qtbot, form, form.curfew, "Mon-Sun 19:00-07:00")
    with qtbot.waitSignal(dialog.submitted, timeout=5000) as accepted:
        dialog.submit()
    assert accepted.args[0].accepted, accepted.args[0].problems
    assert dialog.result_label.text().startswith("Accepted: LDS-2026-0001")
    # The resubmission updated the draft rather than making a second order.
    assert accepted.args[0].order.id == result.order.id
    rows = ctx.cases.orders()
    assert [(r.reference, r.status, r.problem_count) for r in rows] == [("LDS-2026-0001", "submitted", 0)]


def test_an_alcohol_tag_asks_which_kind_of_alcohol_monitoring_and_never_assumes(qtbot, dialog):
    form = dialog.form
    fill_valid_order(qtbot, form)
    type_into(qtbot, form, form.curfew, "Mon-Sun 19:00-07:00")
    with qtbot.waitSignal(form.checked, timeout=2000):
        form.device_boxes[DeviceKind.ALCOHOL_TAG].setChecked(True)
    mode = "order.conditions.alcohol.mode"
    assert "choose abstinence" in form.message_for(mode)
    assert form.alcohol_mode.accessibleName()
    with qtbot.waitSignal(form.checked, timeout=2000):
        form.alcohol_mode.setCurrentIndex(form.alcohol_mode.findText("Abstinence (no alcohol at all)"))
    assert form.message_for(mode) == ""
