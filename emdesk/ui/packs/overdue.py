"""The supervisor's notice of overdue breach packs, above the monitoring queue.

An escalated incident whose pack is past its contracted deadline with no version issued
is escalated to a supervisor (issue 14).  The banner reads ``PackService.overdue()`` on
the STORE lane whenever the queue loads or its clock ticks, says how many, and lists
them as buttons: choosing one selects its incident in the queue (P then builds the pack).
It hides itself when nothing is overdue.
"""
from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from emdesk.domain.users import Role

from ..formatting import fmt_when, plural
from ..queue.columns import span
from ..tasks import STORE, Task, TaskError, runner_for

SHOWN = 6           # buttons shown; the rest are counted ("and 4 more")


def may_see(ctx) -> bool:
    """Supervisors who build packs: the ones overdue packs escalate to."""
    return getattr(ctx, "packs", None) is not None and ctx.user.role is Role.SUPERVISOR


class OverdueBanner(QFrame):
    incident_chosen = Signal(str)      # the incident id of the overdue pack chosen
    refreshed = Signal(int)            # how many are overdue now

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("overduePacks")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.ctx = ctx
        self.packs = getattr(ctx, "packs", None)
        self.overdue: list = []
        self._task: Task | None = None
        self.heading = QLabel("", objectName="overdueHeading")
        self.heading.setProperty("tone", "bad")
        self.heading.setWordWrap(True)
        self.buttons: list[QPushButton] = []
        self._row = QHBoxLayout()
        self._row.setSpacing(6)
        self.more = QLabel("", objectName="hintText")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(4)
        layout.addWidget(self.heading)
        layout.addLayout(self._row)
        self.setVisible(False)
        self.setAccessibleName("Overdue breach packs")

    def refresh(self) -> None:
        """Read the overdue packs (on the store lane); one read at a time."""
        if self.packs is None or self._task is not None:
            return
        self._task = runner_for(self.ctx).run(self.packs.overdue, lane=STORE, name="overdue packs",
                                              on_done=self._on_overdue, on_error=self._on_failed,
                                              on_cancelled=self._on_cancelled)

    @Slot(object)
    def _on_overdue(self, overdue: list) -> None:
        self._task = None
        self.show_overdue(overdue)

    @Slot(object)
    def _on_failed(self, error: TaskError) -> None:
        self._task = None
        self.heading.setText(f"Could not check for overdue breach packs. {error.sentence}")
        self.setVisible(True)

    @Slot()
    def _on_cancelled(self) -> None:
        self._task = None

    def show_overdue(self, overdue: list) -> None:
        self.overdue = list(overdue)
        while self._row.count():              # the buttons, the count of more, the stretch
            widget = self._row.takeAt(0).widget()
            if widget is not None and widget is not self.more:
                widget.deleteLater()
        self.buttons = []
        n = len(self.overdue)
        self.setVisible(n > 0)
        self.refreshed.emit(n)
        if not n:
            return
        choose = "Choose it" if n == 1 else "Choose one"
        self.heading.setText(f"{plural(n, 'breach pack')} overdue: past the contract's deadline with no "
                             f"version issued. {choose} to select it in the queue, then press P to build and "
                             "issue the pack.")
        for o in self.overdue[:SHOWN]:
            late = span(o.overdue_by.total_seconds())
            built = f"v{o.version} not issued" if o.version else "not built"
            button = QPushButton(f"{o.reference} · overdue {late}", objectName="overduePack")
            button.setToolTip(f"{o.reference} ({o.region}): breach {fmt_when(o.breach_at)}, pack due "
                              f"{fmt_when(o.pack_due)}; {built}")
            button.setAccessibleName(f"{o.reference}, pack overdue {late}, {built}")
            button.clicked.connect(lambda _=False, i=o.incident_id: self.incident_chosen.emit(i))
            self._row.addWidget(button)
            self.buttons.append(button)
        self.more.setText(f"and {n - SHOWN} more" if n > SHOWN else "")
        self._row.addWidget(self.more)
        self._row.addStretch(1)

    def end_session(self) -> None:
        if self._task is not None:
            self._task.cancel()
