"""Triage from the queue: the keys' actions, what each asks for, the call on the store lane.

One action at a time: the dialog it needs (window-modal, opened with ``open()``), then
the service call and the queue's changes since the cursor, in one task on the STORE
lane, so the row updates in place as soon as the action is saved.  A refusal is shown
in words on the panel and the row is left as it was.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence

from emdesk.domain.monitoring import Incident
from emdesk.services.queue_items import QueueBatch, QueueItem

from ..tasks import STORE, TaskError, runner_for
from .dialogs import ExcuseDialog, NoteDialog, ReasonDialog
from .keys import BY_NAME, TRIAGE


def updated_item(item: QueueItem, incident: Incident) -> QueueItem:
    """The row as the action left it, until the queue's own changes bring the stored one."""
    return replace(item, status=incident.status.value, priority=incident.priority, reasons=incident.reasons,
                   technical=incident.technical, seconds=incident.seconds, ended_at=incident.ended_at,
                   codes=incident.codes, updated=incident.hlc or item.updated)


def key_action(view, name: str, label: str, keys: list[str], slot: Callable) -> QAction:
    """An action on ``view`` whose keys act only while the table has the focus (typing
    in the filter box stays typing)."""
    action = QAction(label, view, objectName=name)
    action.setShortcuts([QKeySequence(k) for k in keys])
    action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
    action.triggered.connect(slot)
    view.addAction(action)
    return action


class Triager(QObject):
    done = Signal(object)        # the Incident the service returned
    refused = Signal(str)        # the sentence shown
    busy_changed = Signal()      # an action or a dialog began or ended

    def __init__(self, panel):
        super().__init__(panel)
        self.panel = panel
        self.dialog = None                  # the open dialog (tests fill it in)
        self.acting = ""                    # the action running
        self._on: QueueItem | None = None
        self.actions: dict[str, QAction] = {}
        for t in TRIAGE:
            action = key_action(panel.view, f"triage-{t.name}", t.label, [t.key],
                                lambda _=False, n=t.name: self.start(n))
            action.setToolTip(f"{t.help[:1].upper()}{t.help[1:]} ({t.key})")
            self.actions[t.name] = action

    @property
    def resting(self) -> bool:
        """No dialog open and nothing running: the table's keys may act."""
        return self.dialog is None and not self.acting

    def update(self, item: QueueItem | None) -> None:
        allowed = self.panel.incidents is not None and self.resting
        for name, action in self.actions.items():
            action.setEnabled(allowed and BY_NAME[name].applies(item))

    def start(self, name: str) -> None:
        """Ask what the action needs about the selected incident, then run it."""
        item = self.panel.selected()
        svc = self.panel.incidents
        if svc is None or not self.resting or not BY_NAME[name].applies(item):
            return
        if name == "acknowledge":
            self._run(name, item, svc.acknowledge, (item.id,))
            return
        # What each dialog's answer calls, read on the GUI thread when it is accepted.
        if name == "excuse":
            dialog = ExcuseDialog(item, self.panel.ctx.clock.now(), self.panel)
            ask = lambda: (svc.excuse, (item.id, *dialog.values()))  # noqa: E731
        elif name == "note":
            dialog = NoteDialog(item, self.panel)
            ask = lambda: (svc.add_note, (item.id, dialog.text()))  # noqa: E731
        else:
            dialog = reason_dialog(name, item, self.panel)
            ask = {"genuine": lambda: (svc.classify, (item.id, True, dialog.text())),
                   "technical": lambda: (svc.classify, (item.id, False, dialog.text())),
                   "reopen": lambda: (svc.reopen, (item.id, dialog.text())),
                   "escalate": lambda: (svc.escalate, (item.id, dialog.text()))}[name]
        self.dialog = dialog
        dialog.accepted.connect(lambda: self._run(name, item, *ask()))
        dialog.finished.connect(lambda _r: self._closed(dialog))
        self.busy_changed.emit()
        dialog.open()
        dialog.activateWindow()

    def _closed(self, dialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()
        self.busy_changed.emit()
        self.panel.view.setFocus()

    def _run(self, name: str, item: QueueItem, fn: Callable[..., Incident], args: tuple) -> None:
        queue, cursor = self.panel.queue, self.panel.cursor

        def work() -> tuple[Incident, QueueBatch | None]:
            incident = fn(*args)
            # The changes since the cursor bring the row as stored (and anything else new).
            return incident, (queue.changes(cursor) if queue is not None and cursor is not None else None)

        self.acting, self._on = name, item
        self.busy_changed.emit()
        self.panel.clear_error()
        self.panel.say(f"{BY_NAME[name].label.replace('&', '').rstrip('…')}: {item.reference}…")
        # Bound methods: Qt drops them if this object is gone before the work returns.
        runner_for(self.panel.ctx).run(work, lane=STORE, name=f"triage {name}", on_done=self._on_done,
                                       on_error=self._on_error, on_cancelled=self._on_cancelled)

    @Slot(object)
    def _on_done(self, result: tuple[Incident, QueueBatch | None]) -> None:
        incident, batch = result
        t, item = BY_NAME[self.acting], self._on
        self.acting = ""
        held = self.panel.model.item(incident.id)
        items = [updated_item(held, incident)] if held is not None else []
        if batch is not None:
            items += batch.items            # later in the list wins: the row as stored
        self.panel.apply(QueueBatch(items=items, cursor=batch.cursor if batch is not None else "",
                                    removed=batch.removed if batch is not None else ()), after_action=item)
        self.busy_changed.emit()
        self.panel.say(f"{t.done} {item.reference}.")
        self.done.emit(incident)

    @Slot(object)
    def _on_error(self, error: TaskError) -> None:
        t, item = BY_NAME[self.acting], self._on
        self.acting = ""
        self.busy_changed.emit()
        self.panel.say("")
        self.refused.emit(f"Could not {t.verb} {item.reference}. {error.sentence}")

    @Slot()
    def _on_cancelled(self) -> None:
        self.acting = ""
        self.busy_changed.emit()
        self.panel.say("")


def reason_dialog(name: str, item: QueueItem, parent) -> ReasonDialog:
    if name == "escalate":
        return ReasonDialog("Escalate to a breach pack", item, parent, action_text="Escalate",
                            placeholder="why this is a breach to report",
                            warning="This records your decision, under your name, that the responsible "
                                    "body is told of a breach and a pack is made. It cannot be undone here.")
    if name == "reopen":
        return ReasonDialog("Reopen the incident", item, parent, action_text="Reopen",
                            placeholder="why it needs a person after all")
    genuine = name == "genuine"
    return ReasonDialog("Classify as genuine" if genuine else "Classify as technical", item, parent,
                        action_text="Genuine" if genuine else "Technical",
                        placeholder="what shows it was the wearer" if genuine
                        else "what shows it was the equipment (power cut, fault…)")
