"""Breach packs from the queue: P and "Build pack…" on an escalated incident open the
``PackDialog``; which escalated incidents' packs were issued is read on the STORE lane
(with each snapshot, each 30-second tick and after a pack is issued), so the deadline
column stops their clocks ("pack sent").  Only for accounts that build packs.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, QPoint, Qt, Slot
from PySide6.QtWidgets import QMenu, QToolButton

from emdesk.domain.users import Permission
from emdesk.services.queue_items import QueueItem

from ..tasks import STORE, Task, TaskError, runner_for
from .columns import PackSent
from .triage import key_action


def sent_packs(packs, incident_ids: list[str]) -> dict[str, PackSent]:
    """On the store lane: the incidents among ``incident_ids`` whose pack has an issued version."""
    out = {}
    for incident_id in incident_ids:
        latest = packs.latest_for_incident(incident_id)
        if latest is None:
            continue
        issued = [v for v in packs.versions(latest.pack_id) if v.sent_at is not None]
        if issued:
            first = min(issued, key=lambda v: v.sent_at)
            out[incident_id] = PackSent(first.sent_at, first.issued_to, first.version, first.pack_due)
    return out


class QueuePacks(QObject):
    def __init__(self, panel):
        super().__init__(panel)
        self.panel = panel
        packs = getattr(panel.ctx, "packs", None)
        self.packs = packs if packs is not None and panel.ctx.user.can(Permission.BUILD_PACKS) else None
        self.dialog = None                    # the PackDialog open now
        self.menu: QMenu | None = None        # the last right-click menu
        self._task: Task | None = None
        self.action = key_action(panel.view, "queue-pack", "Build &pack…", ["P"], self._pressed)
        self.action.setToolTip("Build, check and issue the breach pack of the escalated incident (P)")
        self.action.setEnabled(False)
        panel.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        panel.view.customContextMenuRequested.connect(self.context_menu)

    def add_button(self, row) -> None:
        """Beside the triage buttons, for accounts that build packs."""
        if self.packs is not None:
            button = QToolButton(objectName="button-queue-pack")
            button.setDefaultAction(self.action)
            row.addWidget(button)

    def may_pack(self, item: QueueItem | None) -> bool:
        return (self.packs is not None and item is not None and item.status == "escalated"
                and self.dialog is None and self.panel.triager.resting)

    def update(self, item: QueueItem | None) -> None:
        self.action.setEnabled(self.may_pack(item))

    # -- the dialog ---------------------------------------------------------------------
    @Slot()
    def _pressed(self, _checked: bool = False) -> None:
        self.open()

    def open(self) -> None:
        item = self.panel.selected()
        if not self.may_pack(item):
            return
        from ..packs import PackDialog            # QtPdf loaded when a pack is first opened
        dialog = PackDialog(self.panel.ctx, [item.id], self.panel)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog = dialog
        dialog.issued.connect(self._issued)
        dialog.finished.connect(self._closed)
        self.panel._update_actions()
        dialog.open()
        self.panel.pack_opened.emit(dialog)

    @Slot(object)
    def _issued(self, pack) -> None:
        self.panel.say(f"Breach pack {pack.pack_id} v{pack.version} issued to {pack.issued_to}.")
        self.refresh()

    @Slot(int)
    def _closed(self, _result: int) -> None:
        self.dialog = None                    # one at a time: the one open has closed
        self.panel._update_actions()
        self.refresh()
        self.panel.view.setFocus()

    @Slot(QPoint)
    def context_menu(self, pos: QPoint) -> None:
        view = self.panel.view
        row = view.rowAt(pos.y())
        if row >= 0:
            self.panel.select_row(row)
        menu = QMenu(self.panel, objectName="queueMenu")
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        for action in self.panel.triager.actions.values():
            menu.addAction(action)
        if self.packs is not None:
            menu.addSeparator()
            menu.addAction(self.action)
        menu.addSeparator()
        menu.addAction(self.panel.open_action)
        menu.popup(view.viewport().mapToGlobal(pos))
        self.menu = menu

    # -- which packs went ---------------------------------------------------------------
    def refresh(self) -> None:
        ids = self.panel.model.escalated_ids()
        if self.packs is None or self._task is not None or not ids:
            return
        self._task = runner_for(self.panel.ctx).run(sent_packs, self.packs, ids, lane=STORE, name="queue packs",
                                                    on_done=self._on_sent, on_error=self._on_failed,
                                                    on_cancelled=self._on_cancelled)

    @Slot(object)
    def _on_sent(self, sent: dict) -> None:
        self._task = None
        self.panel.model.set_sent(sent)

    @Slot(object)
    def _on_failed(self, error: TaskError) -> None:
        self._task = None
        self.panel._show_error(f"Could not read which breach packs were issued. {error.sentence}")

    @Slot()
    def _on_cancelled(self) -> None:
        self._task = None

    def end_session(self) -> None:
        if self._task is not None:
            self._task.cancel()
