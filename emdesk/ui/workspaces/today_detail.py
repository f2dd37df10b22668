"""The selected visit: what the officer needs at this door, risks first, and nothing more."""
from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from emdesk.services.officer_day import Attempt, VisitCard

from .. import palette
from ..formatting import fmt_time, fmt_when, fmt_window, humanize
from ..style import set_prop

ORDINAL = {1: "1st", 2: "2nd", 3: "3rd"}


def ordinal(n: int) -> str:
    return ORDINAL.get(n, f"{n}th")


def _section(title: str, lines) -> str:
    items = [escape(str(x)) for x in lines if x]
    if not items:
        return ""
    body = "<br>".join(items)
    return (f"<p style='margin:8px 0 0 0'><b style='color:{palette.css('muted')}'>{escape(title)}</b><br>"
            f"{body}</p>")


def when_lines(card: VisitCard) -> list[str]:
    window = fmt_window(card.window_start, card.window_end)
    lines = [f"{'Appointment' if card.appointment else 'Window'} {window}"]
    if card.planned_arrival:
        leave = f", leave {fmt_time(card.planned_departure)}" if card.planned_departure else ""
        lines.append(f"Planned arrival {fmt_time(card.planned_arrival)}{leave}")
    else:
        lines.append("Not on the planned route yet")
    return lines


def crew_line(card: VisitCard) -> str:
    if card.crew_size > 1:
        if card.crew:
            return f"Double-crewed, with {', '.join(card.crew)}"
        return "Double-crewed: the second officer is not assigned yet. Do not go alone."
    return "Single-crewed"


def attempt_line(label: str, a: Attempt) -> list[str]:
    head = f"{label}: {ordinal(a.attempt)} attempt, {fmt_when(a.window_start)}"
    if a.window_end:
        head += f"–{fmt_time(a.window_end)}"
    lines = [head]
    if a.outcome:
        lines.append(f"Outcome: {a.outcome}")
    elif a.status:
        lines.append(f"Status: {humanize(a.status)}")
    if a.officer:
        lines.append(f"Officer: {a.officer}")
    if a.notes:
        lines.append(f"Notes: {a.notes}")
    return lines


class VisitDetail(QFrame):
    checklist_requested = Signal(str)     # visit id
    outcome_requested = Signal(str)
    removal_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("detailsPane")
        self.card: VisitCard | None = None
        self.title = QLabel("Select a visit", objectName="detailsTitle")
        self.title.setWordWrap(True)
        self.meta = QLabel("", objectName="workspaceSubtitle")
        self.meta.setWordWrap(True)
        self.risk = QLabel("", objectName="riskBanner")
        self.risk.setWordWrap(True)
        self.risk.setTextFormat(Qt.TextFormat.RichText)
        self.message = QLabel("", objectName="outcomeMessage")
        self.message.setWordWrap(True)
        self.body = QLabel("", objectName="visitBody")
        self.body.setWordWrap(True)
        self.body.setTextFormat(Qt.TextFormat.RichText)
        self.body.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.appointment = QPlainTextEdit(objectName="appointmentText")
        self.appointment.setReadOnly(True)
        self.appointment.setAccessibleName("Appointment text for the wearer")
        self.appointment.setFixedHeight(110)
        self.copy_button = QPushButton("&Copy", objectName="copyAppointment")
        self.copy_button.setToolTip("Copy the appointment text, to send to the wearer")
        self.copy_button.clicked.connect(self.copy_appointment)
        self.copied = QLabel("", objectName="inlineCaption")
        appointment_label = QLabel("<b>&Appointment text for the wearer</b>")
        appointment_label.setBuddy(self.appointment)
        appointment_head = QHBoxLayout()
        appointment_head.addWidget(appointment_label)
        appointment_head.addStretch(1)
        appointment_head.addWidget(self.copied)
        appointment_head.addWidget(self.copy_button)

        content = QWidget(objectName="visitContent")
        inner = QVBoxLayout(content)
        inner.setContentsMargins(0, 0, 4, 0)
        inner.addWidget(self.risk)
        inner.addWidget(self.message)
        inner.addWidget(self.body)
        inner.addSpacing(6)
        inner.addLayout(appointment_head)
        inner.addWidget(self.appointment)
        inner.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(content)

        self.checklist_button = QPushButton("Start &checklist", objectName="primary")
        self.outcome_button = QPushButton("Record &outcome…", objectName="recordOutcome")
        self.removal_button = QPushButton("Record &removal…", objectName="recordRemoval")
        self.removal_button.setToolTip("Account for each device on the order: recovered, or not and why")
        self.removal_button.clicked.connect(lambda: self.card and self.removal_requested.emit(self.card.visit_id))
        self.checklist_button.clicked.connect(lambda: self.card and self.checklist_requested.emit(self.card.visit_id))
        self.outcome_button.clicked.connect(lambda: self.card and self.outcome_requested.emit(self.card.visit_id))
        buttons = QHBoxLayout()
        buttons.addWidget(self.checklist_button)
        buttons.addWidget(self.removal_button)
        buttons.addWidget(self.outcome_button)
        buttons.addStretch(1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.addWidget(self.title)
        layout.addWidget(self.meta)
        layout.addWidget(scroll, 1)
        layout.addLayout(buttons)
        self._checklist_missing = self._outcome_missing = self._removal_missing = ""
        self.show_card(None)

    def set_available(self, *, checklist: str = "", outcome: str = "", removal: str = "") -> None:
        """Why a button cannot be used in this build ("" if it can)."""
        self._checklist_missing, self._outcome_missing, self._removal_missing = checklist, outcome, removal
        self._update_buttons()

    def show_card(self, card: VisitCard | None, *, keep_message: bool = False) -> None:
        changed = card is None or self.card is None or card.visit_id != self.card.visit_id
        self.card = card
        if changed and not keep_message:
            self.show_message("")
        self.copied.setText("")
        if card is None:
            self.title.setText("Select a visit")
            self.meta.setText("Choose a visit in the list or on the map.")
            for w in (self.risk, self.body):
                w.setText("")
            self.risk.setVisible(False)
            self.appointment.setPlainText("")
            self._update_buttons()
            return
        number = f"{card.number} · " if card.number else ""
        self.title.setText(f"{number}{card.subject_name}")
        kind = humanize(card.kind)
        attempt = f", {ordinal(card.attempt)} attempt" if card.attempt > 1 else ""
        status = humanize(card.status) + (f": {card.outcome}" if card.outcome else "")
        self.meta.setText(f"{kind}{attempt} · {card.order_reference} · {status}")
        if card.risk_flags:
            flags = " · ".join(escape(f) for f in card.risk_flags)
            notes = f"<br>{escape(card.risk_notes)}" if card.risk_notes else ""
            self.risk.setText(f"<b>\u26a0 {flags}</b>{notes}")
        self.risk.setVisible(bool(card.risk_flags))
        age = f", {card.age}" if card.age is not None else ""
        where = card.address or "No address on the order"
        if not card.located:
            where += " (not located: not on the map)"
        parts = [
            _section("When", when_lines(card)),
            _section("Wearer", [f"{card.subject_name}{age}", card.phone or "No phone number on record", where]),
            _section("Crew", [crew_line(card)]),
            _section("Bring", card.equipment or ["Nothing beyond the usual kit"]),
            _section("Conditions", card.conditions or ["None recorded"]),
            _section("Access", card.access_notes),
        ]
        if card.previous:
            parts.append(_section("Previous attempt", attempt_line("Was", card.previous)))
        if card.rebooking:
            parts.append(_section("Rebooked", attempt_line("Next", card.rebooking)))
        elif card.status == "failed":
            parts.append(_section("Rebooked", ["No new attempt booked yet"]))
        if card.notes:
            parts.append(_section("Visit notes", [card.notes]))
        self.body.setText("".join(parts))
        self.appointment.setPlainText(card.appointment_text)
        self._update_buttons()

    def show_message(self, text: str, tone: str = "good") -> None:
        self.message.setText(text)
        set_prop(self.message, "tone", tone)
        self.message.setVisible(bool(text))

    def copy_appointment(self) -> None:
        if self.card is None:
            return
        QGuiApplication.clipboard().setText(self.card.appointment_text)
        self.copied.setText("Copied")

    def _update_buttons(self) -> None:
        card = self.card
        open_visit = card is not None and card.is_open
        self.copy_button.setEnabled(card is not None)
        self.checklist_button.setEnabled(open_visit and not self._checklist_missing)
        self.outcome_button.setEnabled(open_visit and not self._outcome_missing)
        removal = card is not None and card.kind == "removal"
        self.removal_button.setVisible(removal)
        self.removal_button.setEnabled(removal and open_visit and not self._removal_missing)
        if card is not None and card.status == "in_progress":
            self.checklist_button.setText("Resume &checklist")
        else:
            self.checklist_button.setText("Start &checklist")
        for button, missing in ((self.checklist_button, self._checklist_missing),
                                (self.outcome_button, self._outcome_missing),
                                (self.removal_button, self._removal_missing)):
            if missing:
                button.setToolTip(missing)
            elif card is not None and not open_visit:
                button.setToolTip(f"This visit is {humanize(card.status).lower()}")
            else:
                button.setToolTip("")
