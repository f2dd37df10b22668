"""New-order entry with live, field-level validation.

Every edit (debounced) rebuilds the Order and Subject from the form and asks
``ctx.intake.check`` on the session's store lane (it reads the store, so never on the
GUI thread): what is wrong shows in red under the field it is about, as the person
types, so an order is right at entry rather than bounced later (NAO 2.16).  Submitting
saves it either way: invalid orders are kept as drafts with their problems.

Every input has an accessible name and a label buddy; a field's problems are its
accessible description, so a screen reader says what is wrong where.
"""
from __future__ import annotations

import inspect

from PySide6.QtCore import QSize, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from emdesk.domain.conditions import AlcoholMode
from emdesk.domain.devices import DeviceKind
from emdesk.domain.orders import Cohort, Order, OrderType
from emdesk.domain.people import Sex, Subject
from emdesk.domain.validation.problems import Problem

from . import geometry
from .field_messages import FieldMessages
from .form_parsing import CURFEW_HINT
from .form_widgets import caption as _caption
from .form_widgets import chosen as _chosen
from .form_widgets import combo as _combo
from .form_widgets import inputs_in as _inputs_in
from .form_widgets import line as _line
from .formatting import humanize, plural
from .order_records import build_records
from .tasks import Task, TaskError, runner_for

DEBOUNCE_MS = 150

ORDER_TYPE_LABELS = {
    OrderType.LICENCE: "Licence", OrderType.HDC: "Home detention curfew (HDC)",
    OrderType.COURT_BAIL: "Court bail", OrderType.IMMIGRATION_BAIL: "Immigration bail",
    OrderType.COMMUNITY_ORDER: "Community order", OrderType.SUSPENDED_SENTENCE: "Suspended sentence",
    OrderType.MAPPA: "MAPPA", OrderType.TPIM: "TPIM", OrderType.SIAC: "SIAC",
}


class OrderForm(QWidget):
    """The fields, the live messages and how to build records from them."""

    checked = Signal(list)          # every problem now shown (form's own and intake's)

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.messages = FieldMessages()
        self.problems: list[Problem] = []
        self.unplaced: list[Problem] = []
        self._check: Task | None = None
        self._unreadable: list[Problem] = []
        self._order, self._subject = ctx.intake.blank()
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self.validate_now)

        columns = QHBoxLayout()
        columns.setSpacing(14)
        columns.addWidget(self._subject_section(), 1)
        columns.addWidget(self._order_section(), 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(columns)
        layout.addStretch(1)
        self._watch_edits()

    # -- building the sections -----------------------------------------------
    def _row(self, form: QFormLayout, label: str, path: str, *widgets: QWidget, inputs=None) -> None:
        """A labelled row: the input(s) and, underneath, the message for ``path``."""
        holder = QWidget()
        box = QVBoxLayout(holder)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        if len(widgets) == 1:
            box.addWidget(widgets[0])
        else:
            line = QHBoxLayout()
            line.setSpacing(6)
            for w in widgets:
                line.addWidget(w)
            box.addLayout(line)
        message = QLabel()
        box.addWidget(message)
        marked = list(inputs if inputs is not None else widgets)
        named = _inputs_in(widgets)
        self.messages.register(path, message, *marked, described=named)
        caption = QLabel(label)
        if named:
            caption.setBuddy(named[0])          # the label names the input, and Alt+key reaches it
        for i, w in enumerate(named):
            if isinstance(w, QCheckBox):
                w.setAccessibleName(w.text())
            elif i == 0:
                w.setAccessibleName(label)
            elif not w.accessibleName():            # captioned beside it (``_caption``)
                w.setAccessibleName(f"{label}: {w.placeholderText() or i + 1}")
        form.addRow(caption, holder)

    @staticmethod
    def _form(group: QGroupBox) -> QFormLayout:
        form = QFormLayout(group)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setVerticalSpacing(6)
        form.setHorizontalSpacing(10)
        return form

    def _subject_section(self) -> QGroupBox:
        group = QGroupBox("Subject (the wearer)")
        form = self._form(group)
        self.given_name = _line("given_name", "given name")
        self.family_name = _line("family_name", "family name")
        self._row(form, "Given name", "subject.given_name", self.given_name)
        self._row(form, "Family name", "subject.family_name", self.family_name)
        self.date_of_birth = _line("date_of_birth", "DD/MM/YYYY")
        self._row(form, "Date of birth", "subject.date_of_birth", self.date_of_birth)
        self.sex = _combo("sex", [(humanize(s.value), s) for s in Sex])
        self._row(form, "Sex", "subject.sex", self.sex)
        self.phone = _line("phone", "mobile or landline")
        self._row(form, "Phone", "subject.phone", self.phone)

        self.pnc = _line("pnc", "PNC, e.g. 2019/0012345A")
        self.nomis = _line("nomis", "NOMIS, e.g. A1234BC")
        self.delius = _line("delius_crn", "nDelius CRN, e.g. X123456")
        self.prison_number = _line("prison_number", "prison number")
        self.home_office_ref = _line("home_office_ref", "Home Office ref.")
        for label, path, edit in (
            ("PNC", "pnc", self.pnc), ("NOMIS", "nomis", self.nomis), ("CRN", "delius_crn", self.delius),
            ("Prison no.", "prison_number", self.prison_number), ("Home Office", "home_office_ref", self.home_office_ref),
        ):
            self._row(form, label, f"subject.identifiers.{path}", edit)

        self.language = _line("language", "e.g. English, Polish")
        self.interpreter = QCheckBox("Interpreter needed", objectName="interpreter_needed")
        self._row(form, "Language", "subject.language", self.language, self.interpreter,
                  inputs=[self.language])
        self.adult_name = _line("adult_name", "name")
        self.adult_relationship = _line("adult_relationship", "relationship")
        self.adult_phone = _line("adult_phone", "phone")
        self._row(form, "Responsible adult", "subject.responsible_adult",
                  self.adult_name, _caption("Relationship", self.adult_relationship), self.adult_relationship,
                  _caption("Phone", self.adult_phone), self.adult_phone,
                  inputs=[self.adult_name, self.adult_relationship, self.adult_phone])

        self.address_1 = _line("address_line_1", "house number and street")
        self.address_2 = _line("address_line_2", "second line (optional)")
        lines = QWidget()
        lines_box = QVBoxLayout(lines)
        lines_box.setContentsMargins(0, 0, 0, 0)
        lines_box.setSpacing(4)
        lines_box.addWidget(self.address_1)
        second = QHBoxLayout()
        second.setSpacing(6)
        second.addWidget(_caption("Line 2", self.address_2))
        second.addWidget(self.address_2, 1)
        lines_box.addLayout(second)
        self._row(form, "Address", "subject.addresses[0].lines", lines, inputs=[self.address_1, self.address_2])
        self.town = _line("town", "town or city")
        self._row(form, "Town", "subject.addresses[0].town", self.town)
        self.postcode = _line("postcode", "e.g. LS6 2AB")
        self.postcode.setMaximumWidth(160)
        self._row(form, "Postcode", "subject.addresses[0].postcode", self.postcode)
        return group

    def _order_section(self) -> QGroupBox:
        group = QGroupBox("Order")
        form = self._form(group)
        self.reference = _line("reference", "the notifying body's reference")
        self._row(form, "Reference", "order.reference", self.reference)
        # The reference rule reports a bare "reference" path; show it here all the same.
        self.messages.alias("reference", "order.reference")
        self.order_type = _combo("order_type", [(ORDER_TYPE_LABELS[t], t) for t in OrderType])
        self._row(form, "Order type", "order.order_type", self.order_type)
        self.cohort = _combo("cohort", [(c.label, c) for c in Cohort])
        self._row(form, "Cohort", "order.cohort", self.cohort)
        self.issuing_body = _line("issuing_body", "e.g. Leeds Magistrates' Court")
        self._row(form, "Issuing body", "order.issuing_body", self.issuing_body)
        self.notifying_org = _line("notifying_organisation", "who sent the order")
        self._row(form, "Notifying org.", "order.notifying_organisation", self.notifying_org)

        self.officer_name = _line("officer_name", "name")
        self.officer_org = _line("officer_organisation", "organisation")
        self._row(form, "Responsible officer", "order.responsible_officer.name", self.officer_name)
        self._row(form, "Officer's org.", "order.responsible_officer.organisation", self.officer_org)
        self.officer_phone = _line("officer_phone", "phone")
        self.officer_email = _line("officer_email", "email")
        self._row(form, "Officer's phone", "order.responsible_officer.phone", self.officer_phone)
        self._row(form, "Officer's email", "order.responsible_officer.email", self.officer_email)

        self.start = _line("start", "DD/MM/YYYY")
        self.end = _line("end", "DD/MM/YYYY")
        self._row(form, "Starts", "order.start", self.start)
        self._row(form, "Ends", "order.end", self.end)
        self.appointment = _line("appointment", "DD/MM/YYYY HH:MM (UK time)")
        self._row(form, "Installation", "order.installation", self.appointment)
        self.curfew = _line("curfew", "Mon-Sun 19:00-07:00")
        self.curfew.setToolTip(CURFEW_HINT[0].upper() + CURFEW_HINT[1:])
        self._row(form, "Curfew", "order.conditions.curfew", self.curfew)

        self.device_boxes: dict[DeviceKind, QCheckBox] = {}
        devices = QWidget()
        grid = QGridLayout(devices)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(16)
        grid.setVerticalSpacing(2)
        for i, kind in enumerate(DeviceKind):
            box = QCheckBox(kind.label, objectName=f"device_{kind.value}")
            self.device_boxes[kind] = box
            grid.addWidget(box, i // 2, i % 2)
        self._row(form, "Devices", "order.device_kinds", devices, inputs=[])
        # Never assumed: an alcohol tag's order says abstinence or a level (intake checks it).
        self.alcohol_mode = _combo("alcohol_mode", [("Abstinence (no alcohol at all)", AlcoholMode.ABSTINENCE),
                                                    ("Level (under a limit)", AlcoholMode.LEVEL)])
        self._row(form, "Alcohol monitoring", "order.conditions.alcohol.mode", self.alcohol_mode)
        self.licence = QCheckBox("Licence document received", objectName="licence_document")
        self._row(form, "Paperwork", "order.documents", self.licence, inputs=[])
        return group

    def _watch_edits(self) -> None:
        for edit in self.findChildren(QLineEdit):
            edit.textEdited.connect(self.schedule_check)
        for combo in self.findChildren(QComboBox):
            combo.currentIndexChanged.connect(self.schedule_check)
        for box in self.findChildren(QCheckBox):
            box.toggled.connect(self.schedule_check)
        self.order_type.currentIndexChanged.connect(self._cohort_from_type)

    @Slot()
    def _cohort_from_type(self) -> None:
        # The order type decides the cohort; filling it saves a step and a mismatch.
        order_type = _chosen(self.order_type, OrderType)
        if order_type is not None:
            index = self.cohort.findData(order_type.cohort.value)
            if index >= 0:
                self.cohort.setCurrentIndex(index)

    # -- records from the form -----------------------------------------------
    def build(self) -> tuple[Order, Subject, list[Problem]]:
        """The records as typed so far, and what could not even be read."""
        return build_records(self)

    # -- live validation -------------------------------------------------------
    @Slot()
    def schedule_check(self, *args) -> None:
        self._timer.start()

    @Slot()
    def validate_now(self) -> Task:
        """Check the form as it is now, on the store lane; ``checked`` follows."""
        self._timer.stop()
        order, subject, unreadable = self.build()
        if self._check is not None:
            self._check.cancel()               # a newer edit: the older answer is stale
        self._unreadable = unreadable
        self._check = runner_for(self.ctx).run(self.ctx.intake.check, order, subject, name="check the order",
                                               on_done=self._show_checked, on_error=self._check_failed)
        return self._check

    @Slot(object)
    def _show_checked(self, problems: list[Problem]) -> None:
        if self.sender() is not self._check:
            return
        self._check = None
        # A field that cannot be read says so, instead of the rules' "missing".
        unreadable_paths = {p.field for p in self._unreadable}
        checked = [p for p in problems if not any(p.field.startswith(u) for u in unreadable_paths)]
        self.problems = [*self._unreadable, *checked]
        self.unplaced = self.messages.show(self.problems)
        self.checked.emit(self.problems)

    @Slot(object)
    def _check_failed(self, error: TaskError) -> None:
        if self.sender() is not self._check:
            return
        self._check = None
        self.problems = list(self._unreadable)
        self.unplaced = [*self.messages.show(self.problems),
                         Problem(code="CHECK-FAILED", field="", message=f"The order could not be checked. "
                                                                        f"{error.sentence}")]
        self.checked.emit(self.problems)

    def message_for(self, path: str) -> str:
        return self.messages.message_for(path)

    def reset(self) -> None:
        """Clear every field for the next order (new ids from the service)."""
        for w in self.findChildren(QLineEdit):
            w.clear()
        for w in self.findChildren(QComboBox):
            w.setCurrentIndex(0)
        for w in self.findChildren(QCheckBox):
            w.setChecked(False)
        self._order, self._subject = self.ctx.intake.blank()
        self._timer.stop()
        self.problems, self.unplaced = [], []
        self.messages.show([])

    def remember_saved(self, order: Order, subject: Subject) -> None:
        # Resubmitting a draft updates the same records rather than making new ones.
        self._order = order.evolve(problems=())
        self._subject = subject


PREFERRED = QSize(1180, 820)      # shrunk to fit the screen; the fields scroll


class OrderFormDialog(QDialog):
    """The form, a running summary of problems, and Submit (runs on the service thread)."""

    submitted = Signal(object)      # IntakeResult

    def __init__(self, ctx, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.result_value = None
        self.setWindowTitle("New order")
        self.setObjectName("orderFormDialog")
        geometry.restore(self, "order_form", PREFERRED)

        self.form = OrderForm(ctx, self)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(self.form)

        self.summary = QLabel("", objectName="problemSummary")
        self.summary.setWordWrap(True)
        self.other_problems = QLabel("", objectName="fieldError")
        self.other_problems.setWordWrap(True)
        self.other_problems.setVisible(False)
        self.result_label = QLabel("", objectName="resultText")
        self.result_label.setWordWrap(True)
        self.busy = QProgressBar(objectName="busy")
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setFixedHeight(4)
        self.busy.setVisible(False)

        self.submit_button = QPushButton("Submit order", objectName="primary")
        self.submit_button.setAutoDefault(False)   # Enter in a field must not submit half an order
        self.submit_button.clicked.connect(self.submit)
        self.new_button = QPushButton("Start another")
        self.new_button.setVisible(False)
        self.new_button.clicked.connect(self._start_another)
        self.close_button = QPushButton("Close")
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(self.reject)

        footer = QHBoxLayout()
        texts = QVBoxLayout()
        texts.addWidget(self.summary)
        texts.addWidget(self.other_problems)
        texts.addWidget(self.result_label)
        footer.addLayout(texts, 1)
        footer.addWidget(self.new_button)
        footer.addWidget(self.close_button)
        footer.addWidget(self.submit_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 12)
        intro = QLabel("Enter the order as received. Problems show under each field as you type; "
                       "an order with problems can still be saved, as a draft.", objectName="workspaceSubtitle")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.busy)
        layout.addLayout(footer)

        self.form.checked.connect(self._show_summary)
        self.form.validate_now()

    @Slot(list)
    def _show_summary(self, problems: list[Problem]) -> None:
        n = len(problems)
        self.summary.setText("No problems found: ready to submit." if n == 0 else
                             f"{plural(n, 'problem')} to fix (or submit to keep it as a draft).")
        self.summary.setProperty("state", "good" if n == 0 else "bad")
        self.summary.style().unpolish(self.summary)
        self.summary.style().polish(self.summary)
        other = self.form.unplaced
        self.other_problems.setText("\n".join(f"• {p.message}" for p in other))
        self.other_problems.setVisible(bool(other))

    @Slot()
    def submit(self) -> None:
        self.form.validate_now()
        order, subject, unreadable = self.form.build()
        self._set_busy(True)
        intake = self.ctx.intake
        extra = {"extra_problems": unreadable} if "extra_problems" in inspect.signature(intake.submit).parameters \
            else {}
        runner_for(self.ctx).run(intake.submit, order, subject, name="submit the order",
                                 on_done=self._submitted, on_error=self._submit_failed, **extra)

    @Slot(object)
    def _submitted(self, result) -> None:
        self._set_busy(False)
        self.result_value = result
        ref = result.order.reference or "the order"
        if result.accepted:
            self.result_label.setText(f"Accepted: {ref} for {result.subject.full_name or 'the subject'} "
                                      f"is {result.order.status.value}.")
            self.result_label.setProperty("state", "accepted")
            self.submit_button.setEnabled(False)
            self.new_button.setVisible(True)
        else:
            self.result_label.setText(f"Kept as a draft with {plural(len(result.problems), 'problem')}: "
                                      f"{ref} is saved; fix the fields marked and submit again.")
            self.result_label.setProperty("state", "draft")
            self.form.remember_saved(result.order, result.subject)
        self.result_label.style().unpolish(self.result_label)
        self.result_label.style().polish(self.result_label)
        self.submitted.emit(result)

    @Slot(object)
    def _submit_failed(self, error: TaskError) -> None:
        self._set_busy(False)
        self.result_label.setText(f"Not saved. {error.sentence}")
        self.result_label.setProperty("state", "draft")

    @Slot()
    def _start_another(self) -> None:
        self.form.reset()
        self.result_label.setText("")
        self.submit_button.setEnabled(True)
        self.new_button.setVisible(False)
        self.form.validate_now()

    def _set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        self.submit_button.setEnabled(not busy)
        self.form.setEnabled(not busy)

    def reject(self) -> None:
        if not self.busy.isVisible():   # a submit in flight must land before we go
            super().reject()

    def done(self, result: int) -> None:
        geometry.save(self, "order_form")
        super().done(result)
