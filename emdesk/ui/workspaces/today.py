"""A field officer's day: her visits in route order, the route on a map, and the
selected visit's details, checklist and outcome.

The list keeps the service's order (the planned route; unplanned visits after it,
marked).  Selecting a visit in the list or on the map selects it in both.  Previous /
next day look at the days around (tomorrow's kit to prepare).  Every service call
(loading the day, each checklist tick, an outcome, a removal) runs on the store lane.

An install is finished by the pairing wizard (``pair_requested``: the main window's
pairing actions open it once the checklist's door steps are done); a removal by the
removal form; anything else by the outcome dialog.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QPushButton, QSplitter, QStackedWidget

from emdesk.domain.clock import local_date
from emdesk.services.officer_day import OfficerDay, VisitCard

from .. import palette
from ..chips import DANGER
from ..formatting import fmt_time, fmt_when, fmt_window, humanize, plural
from ..maps.layers import Pin, RouteData, route_layer
from ..maps.view import MapView, RenderedPage, render_page
from ..outcome_dialog import OutcomeDialog
from ..removal_dialog import RemovalDialog
from ..table_model import Column
from ..table_view import make_table
from ..tasks import TaskError, runner_for
from .base import Workspace
from .today_checklist import ChecklistPanel
from .today_detail import VisitDetail, ordinal
from .today_services import MISSING, TodayServices, door_steps_missing

_DANGER_TINT = palette.colour("danger-tint")
_MUTED = palette.colour("faint")


def _danger(row: VisitCard) -> bool:
    return any(f.strip().lower().replace(" ", "_") in DANGER for f in row.risk_flags)


def _tint(row: VisitCard):
    return _DANGER_TINT if _danger(row) else None


def _grey(row: VisitCard):
    return _MUTED if not row.is_open else None


def _arrive(row: VisitCard) -> str:
    return fmt_time(row.planned_arrival) if row.planned_arrival else "not planned"


COLUMNS = [
    Column("#", lambda r: r.number, width=30, align=Qt.AlignmentFlag.AlignCenter, background=_tint,
           tooltip=lambda r: "Place on the route" if r.planned else "Not on the planned route yet"),
    Column("Arrive", lambda r: r.planned_arrival, show=_arrive, width=62, background=_tint, foreground=_grey,
           tooltip=lambda r: "Planned arrival, UK time"),
    Column("Window", lambda r: r.window_start, show=lambda r: fmt_window(r.window_start, r.window_end),
           width=92, background=_tint, foreground=_grey,
           tooltip=lambda r: "Booked appointment" if r.appointment else "When the wearer can be expected in"),
    Column("Subject", lambda r: r.subject_name, width=132, bold=lambda r: True, background=_tint,
           foreground=_grey),
    Column("Address", lambda r: r.address, width=160, background=_tint, foreground=_grey),
    Column("Visit", lambda r: r.kind, fmt=humanize, width=64, background=_tint, foreground=_grey),
    Column("Attempt", lambda r: r.attempt, fmt=ordinal, width=80, align=Qt.AlignmentFlag.AlignCenter,
           bold=lambda r: r.attempt >= 2, background=_tint,
           tooltip=lambda r: "Second attempt: the install KPI counts two attempts" if r.attempt >= 2 else None),
    Column("Status", lambda r: r.status, fmt=humanize, width=80, background=_tint, foreground=_grey),
    Column("Risk flags", lambda r: r.risk_flags, chips=True, width=220,
           tooltip=lambda r: ", ".join(r.risk_flags) or "No risk flags"),
]


def pin_style(card: VisitCard, day_planned: bool) -> str:
    if card.status == "completed":
        return "done"
    if card.status in ("failed", "cancelled"):
        return "failed"
    if day_planned and not card.planned:
        return "unplanned"
    return "danger" if _danger(card) else ""


def route_data(day: OfficerDay) -> RouteData:
    """The day as map data: the base, then each located stop in route order."""
    pins = []
    for card in day.stops:
        if not card.located:
            continue
        when = fmt_time(card.planned_arrival) if card.planned_arrival else fmt_window(card.window_start,
                                                                                        card.window_end)
        pins.append(Pin(key=card.visit_id, lat=card.lat, lon=card.lon, label=str(card.number or "?"),
                        tooltip=f"{card.number} · {when} · {card.subject_name} · {humanize(card.kind)}",
                        style=pin_style(card, day.planned)))
    return RouteData(base=day.base, stops=pins)


@dataclass(frozen=True)
class TodayData:
    day: OfficerDay
    route: RouteData
    page: RenderedPage | None      # None: the route is as already shown


def day_words(day: date, today: date) -> str:
    named = {today: "Today", today + timedelta(days=1): "Tomorrow", today - timedelta(days=1): "Yesterday"}
    text = day.strftime("%A %d %B %Y")
    return f"{named[day]}, {text}" if day in named else text


class TodayWorkspace(Workspace):
    key = "today"
    title = "Today"

    pair_requested = Signal(str)      # install visit id, its door steps done: open the pairing wizard

    def __init__(self, ctx, parent=None):
        super().__init__(ctx, parent)
        self.services = TodayServices(ctx)
        self.day: date = local_date(ctx.clock.now())
        self.data: OfficerDay | None = None
        self._route: RouteData | None = None
        self.outcome_dialog: OutcomeDialog | None = None
        self.removal_dialog: RemovalDialog | None = None
        self.pairing_available = False      # set by the main window's pairing actions

        self.prev_button = QPushButton("◀", objectName="previousDay")
        self.prev_button.setToolTip("The day before")
        self.prev_button.setAccessibleName("Previous day")
        self.today_button = QPushButton("Today", objectName="thisDay")
        self.today_button.setToolTip("Back to today")
        self.next_button = QPushButton("▶", objectName="nextDay")
        self.next_button.setToolTip("The next day (to prepare the kit for it)")
        self.next_button.setAccessibleName("Next day")
        for b in (self.prev_button, self.next_button):
            b.setFixedWidth(34)
        self.prev_button.clicked.connect(lambda: self.show_day(self.day - timedelta(days=1)))
        self.next_button.clicked.connect(lambda: self.show_day(self.day + timedelta(days=1)))
        self.today_button.clicked.connect(lambda: self.show_day(local_date(self.ctx.clock.now())))
        for b in (self.prev_button, self.today_button, self.next_button):
            self.tools.addWidget(b)
        self.tools.addSpacing(8)

        self.table = make_table(COLUMNS, self, name="visitsTable", sort_column=None)
        self.add_search(self.table, "Filter visits…")
        self.map = MapView(self)
        self.map.setMinimumHeight(180)
        self.detail = VisitDetail(self)
        self.detail.set_available(checklist=f"Checklists are {MISSING}" if self.services.checklists is None else "",
                                  outcome=f"Recording outcomes is {MISSING}" if self.services.outcomes is None
                                  else "",
                                  removal=f"Recording removals is {MISSING}" if self.services.removals is None
                                  else "")
        self.checklist = ChecklistPanel(self)
        self.side = QStackedWidget(self)
        self.side.addWidget(self.detail)
        self.side.addWidget(self.checklist)
        self.side.setMinimumWidth(360)

        left = QSplitter(Qt.Orientation.Vertical, self)
        left.addWidget(self.table.view)
        left.addWidget(self.map)
        left.setStretchFactor(0, 1)
        left.setStretchFactor(1, 1)
        left.setSizes([260, 300])
        left.setChildrenCollapsible(False)
        main = QSplitter(Qt.Orientation.Horizontal, self)
        main.addWidget(left)
        main.addWidget(self.side)
        main.setStretchFactor(0, 3)
        main.setStretchFactor(1, 2)
        main.setSizes([860, 440])
        main.setChildrenCollapsible(False)
        self.body.addWidget(main)

        self.table.view.selectionModel().selectionChanged.connect(self._selected)
        self.map.marker_clicked.connect(self.select_visit)
        self.map.page_loaded.connect(lambda ok: self.map.select(self.selected_id()))
        self.detail.checklist_requested.connect(self.open_checklist)
        self.detail.outcome_requested.connect(self.ask_outcome)
        self.detail.removal_requested.connect(self.ask_removal)
        self.checklist.tick_requested.connect(self._tick)
        self.checklist.back_requested.connect(lambda: self.side.setCurrentWidget(self.detail))
        self.checklist.finish_requested.connect(self._finish)

    # -- the day shown -------------------------------------------------------------
    def show_day(self, day: date) -> None:
        """Show another day's visits (the list, the map and the subtitle follow)."""
        if day == self.day:
            return
        self.day = day
        self.side.setCurrentWidget(self.detail)
        self.table.view.clearSelection()
        self.refresh()

    # -- loading -----------------------------------------------------------------
    def request(self):
        # Built here on the GUI thread; the day is read and its map page rendered off it.
        call = self.services.day_call(self.day)
        shown, tiles, folder = self._route, self.map.tiles, self.map.folder

        def load() -> TodayData:
            day = call()
            route = route_data(day)
            page = None if route == shown else render_page([route_layer(route)], tiles=tiles, folder=folder)
            return TodayData(day, route, page)
        return load

    def show_data(self, data: TodayData) -> None:
        day = data.day
        self.data = day
        self.table.set_rows(day.stops)
        risky = sum(1 for r in day.stops if r.risk_flags)
        order = "route order" if day.planned else "slot order (not planned yet)"
        today = local_date(self.ctx.clock.now())
        self.title_label.setText(day_words(self.day, today).split(",")[0])     # Today, Tomorrow, or the date
        self.today_button.setEnabled(self.day != today)
        self.subtitle_label.setText(
            f"{day_words(self.day, today)} · {plural(len(day.stops), 'visit')} in {order}"
            + (f" · {day.km:.0f} km" if day.km else "")
            + (f" · {risky} with risk flags" if risky else ""))
        self.count_label.setText("" if day.stops else
                                 "No visits booked today" if self.day == today else "No visits booked that day")
        self.table.view.setColumnHidden(1, not day.planned)      # no arrivals before the plan
        if data.page is not None:          # a refresh that changed nothing keeps the map as it is
            self._route = data.route
            self.map.show_page(data.page)
        if self.table.selected_row() is None and day.stops:
            self.table.view.selectRow(0)
        else:
            self._selected(keep_message=True)

    # -- selection ---------------------------------------------------------------
    def selected_id(self) -> str | None:
        row = self.table.selected_row()
        return row.visit_id if row is not None else None

    @Slot(str)
    def select_visit(self, visit_id: str) -> bool:
        proxy = self.table.proxy
        for i in range(proxy.rowCount()):
            if proxy.row_at(i).visit_id == visit_id:
                self.table.view.selectRow(i)
                return True
        return False

    def _selected(self, *args, keep_message: bool = False) -> None:
        card = self.table.selected_row()
        if self.side.currentWidget() is self.checklist and (card is None or card.visit_id != self.checklist.visit_id):
            self.side.setCurrentWidget(self.detail)
        self.detail.show_card(card, keep_message=keep_message)
        self.map.select(card.visit_id if card else None)

    # -- checklist ---------------------------------------------------------------
    def _card(self, visit_id: str):
        rows = self.data.stops if self.data is not None else []
        return next((c for c in rows if c.visit_id == visit_id), None)

    @Slot(str)
    def open_checklist(self, visit_id: str, message: str = "") -> None:
        card = self._card(visit_id)
        title = f"Checklist · {card.subject_name} · {humanize(card.kind)}" if card else "Checklist"

        def show(state) -> None:
            self.checklist.show_state(visit_id, title, state)
            self._set_finish(card)
            self.side.setCurrentWidget(self.checklist)
            if message:
                self.checklist.show_error(message)

        runner_for(self.ctx).run(self.services.open_checklist, visit_id, name="open the checklist",
                                 on_done=show, on_error=self._detail_error)

    def _set_finish(self, card) -> None:
        kind = card.kind if card is not None else ""
        if kind == "install":
            self.checklist.set_finish("Pair devices…" if self.pairing_available else "",
                                      "Pair the tag and home unit: the pairing records the install")
        elif kind == "removal":
            self.checklist.set_finish("Record removal…" if self.services.removals is not None else "",
                                      "Account for each device on the order")
        else:
            self.checklist.set_finish("Record outcome…" if self.services.outcomes is not None else "",
                                      "Record how the visit went")

    def _finish(self, visit_id: str) -> None:
        card = self._card(visit_id)
        kind = card.kind if card is not None else ""
        if kind == "install":
            self.request_pairing(visit_id)
        elif kind == "removal":
            self.ask_removal(visit_id)
        else:
            self.ask_outcome(visit_id)

    # -- pairing -----------------------------------------------------------------
    @Slot(str)
    def request_pairing(self, visit_id: str) -> None:
        """Pair for an install visit, once the checklist's door steps are done (the readings
        step is filled by the pairing itself); otherwise the checklist says which are not."""
        def checked(state) -> None:
            missing = door_steps_missing(state)
            if missing:
                self.open_checklist(visit_id, message="Before pairing, finish: " + ", ".join(missing)
                                    + ". (The pairing step is filled in by the pairing itself.)")
            else:
                self.pair_requested.emit(visit_id)

        if self.services.checklists is None:
            self.pair_requested.emit(visit_id)
            return
        runner_for(self.ctx).run(self.services.open_checklist, visit_id, name="check the checklist",
                                 on_done=checked, on_error=self._detail_error)

    def installed(self, visit_id: str) -> None:
        """The pairing wizard recorded the install: show it, and the readings it took."""
        self.refresh()
        if self.side.currentWidget() is self.checklist and self.checklist.visit_id == visit_id:
            self.open_checklist(visit_id)

    def _tick(self, visit_id: str, key: str, done: bool, value, skipped: str = "") -> None:
        title = self.checklist.title.text()

        def saved(state) -> None:
            if self.checklist.visit_id == visit_id:
                self.checklist.show_state(visit_id, title, state)
            card = self.table.selected_row()
            if card is not None and card.visit_id == visit_id and card.status == "scheduled":
                self.refresh()          # the first tick starts the visit: show it in progress

        def failed(error: TaskError) -> None:
            self.checklist.show_error(f"Not saved. {error.sentence}")
            self.open_checklist(visit_id)        # show what the store holds

        runner_for(self.ctx).run(self.services.tick, visit_id, key, done, value, skipped,
                                 name="save a checklist step", on_done=saved, on_error=failed)

    # -- outcome -----------------------------------------------------------------
    @Slot(str)
    def ask_outcome(self, visit_id: str) -> None:
        card = self._card(visit_id)
        title = f"{card.subject_name} · {humanize(card.kind)} · {ordinal(card.attempt)} attempt" if card else ""
        dialog = OutcomeDialog(title, self, choices=self.services.outcome_choices(card.kind if card else ""))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.record_outcome(visit_id, dialog.outcome, dialog.note_text))
        self.outcome_dialog = dialog
        dialog.destroyed.connect(lambda *_: setattr(self, "outcome_dialog", None))
        dialog.open()

    def record_outcome(self, visit_id: str, outcome, notes: str) -> None:
        def done(result) -> None:
            message = getattr(result, "message", "") or f"Recorded: {outcome.label}"
            message = message[:1].upper() + message[1:].rstrip(".") + "."
            nxt = getattr(result, "next_visit", None)
            if nxt is not None and nxt.window_start is not None and "booked" not in message:
                message += f" Next attempt booked for {fmt_when(nxt.window_start)}."
            self.detail.show_message(message, "good")
            self.side.setCurrentWidget(self.detail)
            self.refresh()

        runner_for(self.ctx).run(self.services.record_outcome, visit_id, outcome, notes,
                                 name="record the outcome", on_done=done, on_error=self._detail_error)

    # -- removal -----------------------------------------------------------------
    @Slot(str)
    def ask_removal(self, visit_id: str) -> None:
        """The removal form, with the order's devices and what the checklist says of them."""
        card = self._card(visit_id)
        title = f"{card.subject_name} · removal · order {card.order_reference}" if card else "Removal"

        def show(form) -> None:
            dialog = RemovalDialog(title, form.devices, form.conditions, self, reason=form.reason)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.submitted.connect(lambda recovered, reasons, notes: self.record_removal(
                dialog, visit_id, recovered, reasons, notes))
            self.removal_dialog = dialog
            dialog.destroyed.connect(lambda *_: setattr(self, "removal_dialog", None))
            dialog.open()

        runner_for(self.ctx).run(self.services.removal_form, visit_id, name="load the devices on the order",
                                 on_done=show, on_error=self._detail_error)

    def record_removal(self, dialog: RemovalDialog, visit_id: str, recovered, reasons, notes: str) -> None:
        def done(result) -> None:
            dialog.accept()
            message = getattr(result, "message", "") or "recorded"
            self.detail.show_message(f"Removal recorded: {message}.", "good")
            self.side.setCurrentWidget(self.detail)
            self.refresh()

        def failed(error: TaskError) -> None:
            dialog.show_problem(f"Not recorded. {error.sentence}")

        runner_for(self.ctx).run(self.services.record_removal, visit_id, recovered, reasons, notes,
                                 name="record the removal", on_done=done, on_error=failed)

    def _detail_error(self, error: TaskError) -> None:
        self.detail.show_message(error.sentence, "bad")
        self.side.setCurrentWidget(self.detail)
