"""The main window: the signed-in user's workspaces as tabs, menus, status bar."""
from __future__ import annotations

import re

from PySide6.QtCore import QByteArray, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QTabWidget, QToolButton, QWidget

import emdesk
from emdesk.domain.users import Permission

from . import geometry
from .pairing import add_pairing_actions
from .settings import app_settings
from .tasks import STORE, runner_for
from .workspaces import Workspace, workspaces_for

SHORTCUTS = [
    ("F5", "Refresh the current workspace"),
    ("Ctrl+1 … Ctrl+9", "Go to workspace 1 … 9"),
    ("Ctrl+N", "New order (monitoring centre and supervisors)"),
    ("Ctrl+Shift+M", "Who was near this place? (trail matching, supervisors)"),
    ("Ctrl+Q", "Quit"),
    ("Ctrl+F", "Filter the current table"),
]


def _without_mode(label: str) -> str:
    # The label may already end in "(encrypted)"; the status bar says it once, its own way.
    return re.sub(r"\s*\((?:encrypted|unencrypted)[^)]*\)\s*$", "", label, flags=re.IGNORECASE)


PREFERRED = QSize(1440, 900)     # shrunk to fit the screen (a 1366x768 laptop: geometry.room)


class MainWindow(QMainWindow):
    """``loaded`` fires each time every workspace has finished its latest load.

    ``sign_out_requested`` asks the application to close this session (it owns the
    context and closes the store); this window only closes itself.
    """

    loaded = Signal()
    sign_out_requested = Signal()
    order_submitted = Signal(object)

    def __init__(self, ctx, parent: QWidget | None = None, *, load: bool = True, remember: bool = True):
        super().__init__(parent)
        self.ctx = ctx
        # Off for screenshots: they must not depend on, or change, the saved layout.
        self.remember = remember
        user = ctx.user
        self.setObjectName("mainWindow")
        self.setWindowTitle(f"emdesk — {user.display_name} ({user.role.label})")
        self.runner = runner_for(ctx)
        geometry.fit(self, PREFERRED)

        self.tabs = QTabWidget(self, objectName="workspaceTabs")
        self.tabs.setDocumentMode(False)
        synced = getattr(ctx, "sync", None) is not None
        self.workspaces: list[Workspace] = [cls(ctx, self.tabs) for cls in workspaces_for(user, synced=synced)]
        for ws in self.workspaces:
            self.tabs.addTab(ws, ws.title)
            ws.loaded.connect(self._workspace_settled)
            ws.load_failed.connect(self._workspace_settled)
        self.setCentralWidget(self.tabs)

        self._build_menus()
        add_pairing_actions(self)      # Today's "Pair devices…" and the Devices menu (field officers)
        self._build_status_bar()
        self._restore_settings()
        self.tabs.currentChanged.connect(self._remember_tab)
        self.sync = self._build_sync() if getattr(ctx, "sync", None) is not None else None
        if load:
            self.refresh_all()
            if self.sync is not None:
                self.sync.start()

    # -- public ----------------------------------------------------------------
    def workspace(self, key: str) -> Workspace | None:
        return next((ws for ws in self.workspaces if ws.key == key), None)

    def current_workspace(self) -> Workspace | None:
        widget = self.tabs.currentWidget()
        return widget if isinstance(widget, Workspace) else None

    def show_workspace(self, key: str) -> None:
        ws = self.workspace(key)
        if ws is not None:
            self.tabs.setCurrentWidget(ws)

    def is_loading(self) -> bool:
        return any(ws.is_loading for ws in self.workspaces)

    def refresh_all(self) -> None:
        for ws in self.workspaces:
            ws.refresh()

    def refresh_current(self) -> None:
        ws = self.current_workspace()
        if ws is not None:
            ws.refresh()

    def set_sync_state(self, text: str) -> None:
        self.sync_label.setText(text)

    # -- menus -----------------------------------------------------------------
    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.sign_out_action = QAction("Sign &out", self, triggered=self._sign_out)
        self.quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit, triggered=self.close)
        file_menu.addAction(self.sign_out_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        view_menu = bar.addMenu("&View")
        self.refresh_action = QAction("&Refresh", self, shortcut=QKeySequence("F5"), triggered=self.refresh_current)
        view_menu.addAction(self.refresh_action)
        view_menu.addSeparator()
        self.workspace_actions: list[QAction] = []
        for i, ws in enumerate(self.workspaces):
            action = QAction(ws.title, self, triggered=lambda _=False, w=ws: self.tabs.setCurrentWidget(w))
            if i < 9:
                action.setShortcut(QKeySequence(f"Ctrl+{i + 1}"))
            view_menu.addAction(action)
            self.workspace_actions.append(action)
        self.find_action = QAction("&Filter table", self, shortcut=QKeySequence.StandardKey.Find,
                                   triggered=self._focus_search)
        view_menu.addSeparator()
        view_menu.addAction(self.find_action)

        # Least privilege: no Orders menu at all for roles that may not enter orders.
        self.new_order_action: QAction | None = None
        if self.ctx.user.can(Permission.ENTER_ORDERS):
            orders_menu = bar.addMenu("&Orders")
            self.new_order_action = QAction("&New order…", self, shortcut=QKeySequence("Ctrl+N"),
                                            triggered=self.open_order_form)
            orders_menu.addAction(self.new_order_action)

        # Trail matching reads everyone's trails: offered only to those allowed to ask.
        self.trail_match_action: QAction | None = None
        if getattr(self.ctx, "trail_match", None) is not None:
            monitoring_menu = bar.addMenu("&Monitoring")
            self.trail_match_action = QAction("&Who was near this place?…", self, shortcut=QKeySequence("Ctrl+Shift+M"),
                                              triggered=self.open_trail_match)
            monitoring_menu.addAction(self.trail_match_action)

        help_menu = bar.addMenu("&Help")
        help_menu.addAction(QAction("&Keyboard shortcuts", self, triggered=self._show_shortcuts))
        help_menu.addAction(QAction("&About emdesk", self, triggered=self._show_about))

    def menu_titles(self) -> list[str]:
        return [a.text().replace("&", "") for a in self.menuBar().actions()]

    # -- status bar ------------------------------------------------------------
    def _build_status_bar(self) -> None:
        ctx, user = self.ctx, self.ctx.user
        status = self.statusBar()
        status.setSizeGripEnabled(False)
        encrypted = "encrypted" if ctx.encrypted else "UNENCRYPTED (demo)" if ctx.demo else "UNENCRYPTED"
        self.store_label = QLabel(f"Store: {_without_mode(ctx.store_label)} · {encrypted}", objectName="storeLabel")
        if not ctx.encrypted:
            self.store_label.setObjectName("storeWarning")
        self.sync_label = QLabel("Sync: not configured (offline desktop)", objectName="syncLabel")
        where = f" · {user.region}" if user.region else ""
        self.user_label = QLabel(f"Signed in as {user.display_name} · {user.role.label}{where}",
                                 objectName="userLabel")
        status.addWidget(self.store_label)
        status.addWidget(self.sync_label)
        self.live_label: QLabel | None = None
        if getattr(ctx, "live_feed", None) is not None:
            # The feed runs on its own thread: read its status from here, on a timer.
            self.live_label = QLabel(ctx.live_feed.status_text(), objectName="liveLabel")
            status.addWidget(self.live_label)
            self._live_timer = QTimer(self, interval=1000)
            self._live_timer.timeout.connect(lambda: self.live_label.setText(ctx.live_feed.status_text()))
            self._live_timer.start()
        status.addPermanentWidget(self.user_label)

    # -- loading ---------------------------------------------------------------
    def _workspace_settled(self, *args) -> None:
        if not self.is_loading():
            self.loaded.emit()

    # -- actions ---------------------------------------------------------------
    def open_order_form(self):
        from .order_form import OrderFormDialog   # the form is heavy: built only when asked for

        dialog = OrderFormDialog(self.ctx, self)
        dialog.submitted.connect(self._order_submitted)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def open_trail_match(self):
        from .trail_match_dialog import TrailMatchDialog

        dialog = TrailMatchDialog(self.ctx, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        monitoring = self.workspace("monitoring")
        if monitoring is not None:
            dialog.wearer_chosen.connect(lambda order_id: (self.show_workspace("monitoring"),
                                                           monitoring.show_wearer(order_id)))
        dialog.show()
        return dialog

    def _order_submitted(self, result) -> None:
        for key in ("orders", "overview"):
            ws = self.workspace(key)
            if ws is not None:
                ws.refresh()
        self.order_submitted.emit(result)

    def _focus_search(self) -> None:
        ws = self.current_workspace()
        search = ws.findChild(QWidget, "search") if ws else None
        if search is not None:
            search.setFocus()
            search.selectAll()

    def _sign_out(self) -> None:
        self._save_settings()
        self.sign_out_requested.emit()
        self.close()

    def _show_about(self) -> None:
        QMessageBox.about(
            self, "About emdesk",
            f"<b>emdesk {emdesk.__version__}</b><br>Electronic monitoring desktop for field officers, "
            "technicians and monitoring-centre staff.<br><br>"
            f"Store: {self.ctx.store_label}<br>Desktop id: {self.ctx.desktop_id}",
        )

    def _show_shortcuts(self) -> None:
        rows = "".join(f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{v}</td></tr>" for k, v in SHORTCUTS)
        QMessageBox.information(self, "Keyboard shortcuts", f"<table>{rows}</table>")

    # -- settings --------------------------------------------------------------
    def _restore_settings(self) -> None:
        if not self.remember:
            return
        settings = app_settings()
        geometry.restore(self, "main_window", PREFERRED)
        state = settings.value("main_window/state")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state)
        # Keyed by role: a supervisor's "orders" tab means nothing to a technician.
        last = settings.value(f"main_window/last_tab/{self.ctx.user.role.value}")
        if isinstance(last, str):
            self.show_workspace(last)

    def _remember_tab(self, *args) -> None:
        if not self.remember:
            return
        ws = self.current_workspace()
        if ws is not None:
            app_settings().setValue(f"main_window/last_tab/{self.ctx.user.role.value}", ws.key)

    def _save_settings(self) -> None:
        if not self.remember:
            return
        geometry.save(self, "main_window")
        settings = app_settings()
        settings.setValue("main_window/state", self.saveState())
        self._remember_tab()
        settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.sync is not None:
            self.sync.stop()
        self._save_settings()
        super().closeEvent(event)

    def end_session(self) -> None:
        """Signing out or quitting: no new rounds, and every dialog of the session closed
        (a pairing wizard cancels its pairing).  The shell then waits for the tasks."""
        if self.sync is not None:
            self.sync.stop()
        for ws in self.workspaces:
            ws.end_session()
        from PySide6.QtWidgets import QDialog
        for dialog in self.findChildren(QDialog):
            dialog.reject()

    # -- sync ------------------------------------------------------------------
    def _build_sync(self):
        from .sync_controller import SyncController

        controller = SyncController(self.ctx.sync, self.runner, self)
        controller.state_changed.connect(self.set_sync_state)
        self.set_sync_state("Sync: reading the local changes…")
        controller.synced.connect(self._after_sync)
        controller.busy_changed.connect(self._sync_busy)
        # One action: Sync now, or Stop while a round runs (long work can always be cancelled).
        self.sync_action = QAction("S&ync now", self, shortcut=QKeySequence("Ctrl+Shift+S"),
                                   triggered=lambda: controller.cancel_round() if controller.busy
                                   else controller.sync_now())
        self.sync_problems_action = QAction("Sync &problems…", self, triggered=self._show_sync_problems)
        file_menu = self.menuBar().actions()[0].menu()
        file_menu.insertActions(file_menu.actions()[0], [self.sync_action, self.sync_problems_action])
        button = QToolButton(self, objectName="syncButton")
        button.setDefaultAction(self.sync_action)
        button.setText("Sync")
        self.statusBar().addPermanentWidget(button)
        return controller

    def _sync_busy(self, busy: bool) -> None:
        self.sync_action.setText("Stop s&ync" if busy else "S&ync now")
        self.sync_action.setToolTip("Stop this round: what was sent is kept" if busy
                                    else "Send your changes to the hub and fetch new ones")
        button = self.statusBar().findChild(QToolButton, "syncButton")
        if button is not None:
            button.setText("Stop sync" if busy else "Sync")

    def _after_sync(self, status) -> None:
        # Only a round that brought something in reloads; row by row, so selection and scroll stay.
        if status.ok and getattr(status, "changed", None) != 0:
            self.refresh_all()

    def _show_sync_problems(self) -> None:
        # The refusals live in the store: read there, shown when they arrive.
        self.runner.run(self.ctx.sync.status, lane=STORE, name="sync problems",
                        on_done=self._sync_problems_read)

    def _sync_problems_read(self, status) -> None:
        text = "\n".join(status.refusals) or "The hub has refused none of your changes."
        if not status.ok:
            text = f"Last attempt: {status.message}\n\n{text}"
        QMessageBox.information(self, "Sync problems", text)
