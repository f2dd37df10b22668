"""Where the pairing wizard and the bench appear in the main window.

* Field officers: "Pair devices…" on the Today tab (a button, the row's context menu,
  Devices › Pair devices…, and the checklist's pairing step), for the selected install
  visit.  Today first checks the checklist: the wizard opens once the door steps are
  done (identity, conditions explained...), and the pairing fills in the readings step;
  once recorded, Today reloads and the checklist shows the readings;
* Technicians: "Pair on the bench…" on the Bench tab (listed in ``workspaces_for``).
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QMessageBox, QPushButton, QWidget

from emdesk.domain.users import Permission

from ..tasks import TaskError, runner_for


def open_pairing_for_visit(parent: QWidget, ctx, visit_id: str, on_recorded=None, **wizard_kw):
    """Load the install job on the store lane, then show the wizard for it; ``on_recorded``
    (the install record) once it has recorded the install."""
    from .wizard import PairingWizard

    def show(job) -> None:
        wizard = PairingWizard(ctx, job, parent, **wizard_kw)
        if on_recorded is not None:
            wizard.recorded.connect(on_recorded)
        wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        wizard.show()
        _last["wizard"] = wizard
        wizard.destroyed.connect(lambda *_: _last.pop("wizard", None))

    def refuse(error: TaskError) -> None:
        QMessageBox.information(parent, "Pair devices", f"Cannot pair for this visit. {error.sentence}")

    runner_for(ctx).run(ctx.installs.job, visit_id, name="load the install job", on_done=show, on_error=refuse)


_last: dict = {}


def last_wizard():
    """The wizard most recently opened from the main window (tests, screenshots)."""
    return _last.get("wizard")


def add_pairing_actions(window) -> None:
    """Devices menu and the Today tab's "Pair devices…" (field officers only)."""
    ctx = window.ctx
    if not ctx.user.can(Permission.RECORD_VISITS) or getattr(ctx, "installs", None) is None:
        return
    today = window.workspace("today")
    if today is None:
        return
    action = QAction("&Pair devices…", window, objectName="pairDevicesAction")
    action.setShortcut("Ctrl+P")
    action.setToolTip("Pair the tag and home unit for the selected install visit")
    button = QPushButton("Pair devices…", objectName="pairDevicesButton")
    today.tools.insertWidget(0, button)

    def selected_install():
        row = today.table.selected_row()
        return row if row is not None and row.kind == "install" else None

    def update(*args) -> None:
        row = selected_install()
        enabled = row is not None and row.status not in ("completed", "cancelled")
        action.setEnabled(enabled)
        button.setEnabled(enabled)
        button.setToolTip("Pair the devices for this install visit" if enabled
                          else "Select an install visit that is not completed")

    def open_for_selected() -> None:
        row = selected_install()
        if row is not None:
            today.request_pairing(row.visit_id)       # checks the checklist first

    def open_wizard(visit_id: str) -> None:
        # ``pairing_options``: the wizard's device lane, key and link policy (tests, the demo).
        open_pairing_for_visit(window, ctx, visit_id, on_recorded=lambda *_: today.installed(visit_id),
                               **getattr(window, "pairing_options", {}))

    today.pair_requested.connect(open_wizard)
    today.pairing_available = True

    action.triggered.connect(open_for_selected)
    button.clicked.connect(open_for_selected)
    view = today.table.view
    view.selectionModel().selectionChanged.connect(update)
    # A refresh changes rows in place: the selection stays, the row's status may change.
    model = today.table.model
    for signal in (model.modelReset, model.dataChanged, model.rowsRemoved, model.rowsInserted, model.layoutChanged):
        signal.connect(update)
    view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)

    def context_menu(pos) -> None:
        menu = QMenu(view)
        menu.addAction(action)
        menu.exec(view.viewport().mapToGlobal(pos))

    view.customContextMenuRequested.connect(context_menu)
    bar = window.menuBar()
    menu = QMenu("&Devices", bar, objectName="devicesMenu")
    menu.addAction(action)
    bar.insertMenu(bar.actions()[-1], menu)        # before Help, which stays last
    window.pair_devices_action = action
    update()
