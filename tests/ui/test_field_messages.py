from PySide6.QtWidgets import QLabel, QLineEdit

from emdesk.domain.validation.problems import Problem
from emdesk.ui.field_messages import FieldMessages, covers


def test_covers_is_a_path_prefix_not_a_string_prefix():
    assert covers("order.conditions.curfew", "order.conditions.curfew")
    assert covers("order.conditions.curfew", "order.conditions.curfew.windows[2]")
    assert covers("subject.addresses[0]", "subject.addresses[0].postcode")
    assert covers("subject.addresses", "subject.addresses[0]")
    assert not covers("order.start", "order.start_time")


def test_each_problem_goes_to_the_deepest_field(qtbot):
    messages = FieldMessages()
    widgets = {}
    for path in ("order.conditions.curfew", "order.conditions", "subject.addresses[0].lines",
                 "subject.addresses[0].postcode"):
        label, edit = QLabel(), QLineEdit()
        qtbot.addWidget(label)
        qtbot.addWidget(edit)
        widgets[path] = edit
        messages.register(path, label, edit)
    unplaced = messages.show([
        Problem(code="C", field="order.conditions.curfew.windows[2]", message="window 3 overlaps"),
        Problem(code="P", field="subject.addresses[0].postcode", message="bad postcode"),
        Problem(code="A", field="subject.addresses", message="no address"),     # whole section
        Problem(code="X", field="order.reference", message="no reference"),
    ])
    assert messages.message_for("order.conditions.curfew") == "window 3 overlaps"
    assert messages.message_for("order.conditions") == ""
    assert messages.message_for("subject.addresses[0].postcode") == "bad postcode"
    assert messages.message_for("subject.addresses[0].lines") == "no address"
    assert [p.code for p in unplaced] == ["X"]
    assert widgets["subject.addresses[0].postcode"].property("invalid") is True
    messages.show([])
    assert messages.message_for("subject.addresses[0].postcode") == ""
    assert widgets["subject.addresses[0].postcode"].property("invalid") is False
