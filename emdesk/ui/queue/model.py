"""The queue's table model: a virtual view over numpy columns, merged live without a reset.

A ``QSortFilterProxyModel`` asks Python for every cell it compares: at 100,000
incidents a sort takes many seconds.  Here the rows are numpy columns (``rows.py``), a
filter is a boolean mask and a sort one ``np.lexsort`` into an index array, and the view
only ever asks for the rows it paints.

Every change (a live batch, a new snapshot, a filter, a sort) goes through
``layoutChanged``: persistent indexes (the view's selection and current row) are moved
to where their incident now sits, so the operator's selection survives; the panel keeps
the scroll position anchored on the same incident.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable, Iterable

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

from emdesk.domain.deadlines import Urgency
from emdesk.services.queue_items import QueueBatch, QueueItem

from .. import palette
from . import columns as cols
from .columns import COLUMNS, KEYS
from .rows import ACTIVE, QueueData, QueueFilter

__all__ = ["ACTIVE", "ITEM_ROLE", "QueueData", "QueueFilter", "QueueModel"]

ITEM_ROLE = Qt.ItemDataRole.UserRole + 1       # the row's QueueItem
_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_CLOCK_ROLES = [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.BackgroundRole,
                Qt.ItemDataRole.ToolTipRole]


class QueueModel(QAbstractTableModel):
    """Rows are the filtered, sorted view; ``item_at(row)`` gives the ``QueueItem``."""

    def __init__(self, parent=None, *, now: datetime | None = None):
        super().__init__(parent)
        self._data = QueueData()
        self._order = np.empty(0, np.int64)      # view row -> slot
        self._row = np.empty(0, np.int64)        # slot -> view row (-1: filtered out)
        self._filter = ACTIVE
        self._sort_key, self._descending = "priority", True
        self._now = now or datetime.now(timezone.utc)
        self._sent: dict[str, cols.PackSent] = {}    # escalated incidents whose pack was issued
        self._amber = (palette.colour("warn"), palette.colour("warn-chip"))
        self._red = (palette.colour("bad"), palette.colour("bad-chip"))

    # -- Qt ---------------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._order)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section].title
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMNS[section].tip
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        item = self._data.items[self._order[index.row()]]
        key = KEYS[index.column()]
        sent = self._sent.get(item.id) if self._sent else None
        if role == Qt.ItemDataRole.DisplayRole:
            return cols.display(item, key, self._now, sent)
        if role == Qt.ItemDataRole.ToolTipRole:
            return cols.tooltip(item, key, self._now, sent)
        if role == ITEM_ROLE:
            return item
        if key == "deadline" and role in (Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.BackgroundRole):
            level = cols.deadline_urgency(item, self._now, sent)
            pair = self._red if level is Urgency.RED else self._amber if level is Urgency.AMBER else None
            if pair is not None:
                return pair[0] if role == Qt.ItemDataRole.ForegroundRole else pair[1]
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole and key == "priority":
            return _RIGHT
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{COLUMNS[index.column()].title}: {cols.display(item, key, self._now, sent)}"
        return None

    def flags(self, index):
        return _FLAGS if index.isValid() else Qt.ItemFlag.NoItemFlags

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if 0 <= column < len(COLUMNS):           # -1 is the header's "unsorted": keep the order
            self.sort_by(KEYS[column], order == Qt.SortOrder.DescendingOrder)

    # -- reading ----------------------------------------------------------------------
    def item_at(self, row: int) -> QueueItem | None:
        return self._data.items[self._order[row]] if 0 <= row < len(self._order) else None

    def row_of(self, incident_id: str) -> int:
        """The view row of an incident, or -1 when it is filtered out or unknown."""
        slot = self._data.slot.get(incident_id)
        return -1 if slot is None else int(self._row[slot])

    def item(self, incident_id: str) -> QueueItem | None:
        return self._data.item(incident_id)

    @property
    def total(self) -> int:
        """Every incident held, shown or filtered out."""
        return len(self._data)

    @property
    def filter(self) -> QueueFilter:
        return self._filter

    @property
    def sort_key(self) -> tuple[str, bool]:
        return self._sort_key, self._descending

    def values(self, key: str) -> list[str]:
        """The values of a text column seen, alphabetically (the filter lists)."""
        return self._data.values(key)

    @property
    def vocabulary_size(self) -> int:
        """Grows when a value not seen before arrives (the filter lists need refilling)."""
        return self._data.vocabulary_size

    def visible_ids(self) -> list[str]:
        return [self._data.items[s].id for s in self._order]

    # -- changing ---------------------------------------------------------------------
    def set_now(self, now: datetime) -> None:
        """The clocks and ages move on (the panel's tick): repaint those two columns."""
        self._now = now
        if self._order.size:
            last = len(self._order) - 1
            for key in ("deadline", "age"):
                c = KEYS.index(key)
                self.dataChanged.emit(self.index(0, c), self.index(last, c), _CLOCK_ROLES)

    def set_sent(self, sent: dict[str, cols.PackSent]) -> None:
        """Which escalated incidents' packs were issued (their clock stops): repaint the
        deadline column, no reset."""
        if sent == self._sent:
            return
        self._sent = dict(sent)
        if self._order.size:
            c = KEYS.index("deadline")
            self.dataChanged.emit(self.index(0, c), self.index(len(self._order) - 1, c), _CLOCK_ROLES)

    def sent(self, incident_id: str) -> cols.PackSent | None:
        return self._sent.get(incident_id)

    def escalated_ids(self) -> list[str]:
        """Every escalated incident held (shown or filtered out): those with a pack clock."""
        return [it.id for it in self._data.items if it.status == "escalated"]

    def set_filter(self, flt: QueueFilter) -> None:
        if flt != self._filter:
            self._filter = flt
            self._relayout(None)

    def sort_by(self, key: str, descending: bool = False) -> None:
        if key not in KEYS:
            raise ValueError(f"sort key {key!r}: use one of {', '.join(KEYS)}")
        self._sort_key, self._descending = key, descending
        self._relayout(None)

    def set_items(self, items: Iterable[QueueItem]) -> None:
        """Replace everything with a reset (tests, benchmarks): nothing is kept."""
        self.beginResetModel()
        self._data = QueueData(items)
        self._order, self._row = self._data.order(self._filter, self._sort_key, self._descending)
        self.endResetModel()

    def set_data(self, data: QueueData) -> None:
        """Swap in rows prepared off the GUI thread (a snapshot), keeping the selection of
        every incident still there."""
        if not len(self._data):
            self.beginResetModel()
            self._data = data
            self._order, self._row = data.order(self._filter, self._sort_key, self._descending)
            self.endResetModel()
            return

        def swap() -> None:
            self._data = data
        self._relayout(swap)

    def apply(self, batch: QueueBatch) -> tuple[int, int, int]:
        """Merge a batch of changes without a reset; returns (inserted, updated, removed)."""
        if not self._data.pending(batch):
            return 0, 0, 0
        counts: list[tuple[int, int, int]] = []
        self._relayout(lambda: counts.append(self._data.merge(batch)))
        return counts[0]

    def _relayout(self, change: Callable[[], object] | None) -> None:
        """Change the rows and re-order, moving persistent indexes with their incidents."""
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        ids = [self._data.items[self._order[p.row()]].id if 0 <= p.row() < len(self._order) else None
               for p in persistent]
        if change is not None:
            change()
        self._order, self._row = self._data.order(self._filter, self._sort_key, self._descending)
        moved = []
        for p, incident_id in zip(persistent, ids):
            row = self.row_of(incident_id) if incident_id is not None else -1
            moved.append(self.index(row, p.column()) if row >= 0 else QModelIndex())
        self.changePersistentIndexList(persistent, moved)
        self.layoutChanged.emit()
