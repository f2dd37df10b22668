"""A read-only table model over a list of service rows (dataclasses), and its proxy.

Each column is described once (header, how to get the value, how to show it), so a
workspace's table is a list of ``Column`` and nothing else.

New rows are applied row by row, keyed by record id (the row's first field unless a
``key`` is given): rows gone are removed, rows changed are updated in place, new rows
inserted.  The model is never reset, so a view keeps its selection and scroll position
across a background refresh.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass
from typing import Any, Callable, Generic, Sequence, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor

R = TypeVar("R")

# The raw value (for sorting and for delegates that draw it themselves).
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
# The whole row object, so a view can act on the selection.
ROW_ROLE = Qt.ItemDataRole.UserRole + 2

Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Column(Generic[R]):
    header: str
    get: Callable[[R], Any]
    fmt: Callable[[Any], str] | None = None
    tooltip: Callable[[R], str | None] | None = None
    background: Callable[[R], QColor | None] | None = None
    foreground: Callable[[R], QColor | None] | None = None
    align: Qt.AlignmentFlag | None = None
    width: int | None = None          # preferred width in pixels
    bold: Callable[[R], bool] | None = None
    chips: bool = False               # draw the raw tuple as coloured chips (risk flags)
    show: Callable[[R], str] | None = None   # text from the whole row (sorting still uses get)

    def text(self, row: R) -> str:
        if self.show is not None:
            return self.show(row)
        value = self.get(row)
        if self.fmt is not None:
            return self.fmt(value)
        if value is None:
            return ""
        return str(value)


def record_key(row: Any) -> Any:
    """A row's identity: its record id (the first field of a service row)."""
    if is_dataclass(row):
        return getattr(row, fields(row)[0].name)
    return getattr(row, "id", None) or id(row)


class RowTableModel(QAbstractTableModel, Generic[R]):
    def __init__(self, columns: Sequence[Column[R]], parent=None, *, key: Callable[[R], Any] = record_key):
        super().__init__(parent)
        self.columns: list[Column[R]] = list(columns)
        self._rows: list[R] = []
        self.key = key

    # -- data in -------------------------------------------------------------
    def set_rows(self, rows: Sequence[R]) -> None:
        """Apply ``rows`` as changes to what is shown, keyed by record id."""
        new = list(rows)
        new_keys = [self.key(r) for r in new]
        if len(set(new_keys)) != len(new_keys):      # no identity to go by: start over
            self.beginResetModel()
            self._rows = new
            self.endResetModel()
            return
        wanted = dict(zip(new_keys, new))
        # 1. rows that are gone
        for i in range(len(self._rows) - 1, -1, -1):
            if self.key(self._rows[i]) not in wanted:
                self.beginRemoveRows(QModelIndex(), i, i)
                del self._rows[i]
                self.endRemoveRows()
        # 2. rows kept: in the new order, with their new values
        old_keys = [self.key(r) for r in self._rows]
        present = set(old_keys)
        order = [k for k in new_keys if k in present]
        if order != old_keys:
            self.layoutAboutToBeChanged.emit()
            position = {k: i for i, k in enumerate(order)}
            for index in self.persistentIndexList():
                if index.isValid():
                    moved = position[old_keys[index.row()]]
                    self.changePersistentIndex(index, self.index(moved, index.column()))
            by_key = dict(zip(old_keys, self._rows))
            self._rows = [by_key[k] for k in order]
            self.layoutChanged.emit()
        last = len(self.columns) - 1
        for i, k in enumerate(order):
            if self._rows[i] != wanted[k]:
                self._rows[i] = wanted[k]
                self.dataChanged.emit(self.index(i, 0), self.index(i, last))
        # 3. rows that are new, each at its place
        for i, k in enumerate(new_keys):
            if k not in present:
                self.beginInsertRows(QModelIndex(), i, i)
                self._rows.insert(i, wanted[k])
                self.endInsertRows()

    def rows(self) -> list[R]:
        return list(self._rows)

    def row_at(self, row: int) -> R:
        return self._rows[row]

    # -- Qt model API --------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.columns):
            if role == Qt.ItemDataRole.DisplayRole:
                return self.columns[section].header
            if role == Qt.ItemDataRole.TextAlignmentRole:
                align = self.columns[section].align
                return int(align or Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        if orientation == Qt.Orientation.Vertical and role == Qt.ItemDataRole.DisplayRole:
            return section + 1
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        row = self._rows[index.row()]
        col = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return col.text(row)
        if role == SORT_ROLE:
            return col.get(row)
        if role == ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.ToolTipRole:
            return col.tooltip(row) if col.tooltip else (col.text(row) or None)
        if role == Qt.ItemDataRole.BackgroundRole and col.background:
            return col.background(row)
        if role == Qt.ItemDataRole.ForegroundRole and col.foreground:
            return col.foreground(row)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(col.align or Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and col.bold and col.bold(row):
            from PySide6.QtGui import QFont

            font = QFont()
            font.setBold(True)
            return font
        return None

    def sort_value(self, index: Index) -> Any:
        return self.columns[index.column()].get(self._rows[index.row()])


def _sort_key(value: Any) -> tuple:
    # Empty values sort last whichever way; tuples (flags) sort by how many.
    if value is None or value == "":
        return (1, 0)
    if isinstance(value, (tuple, list)):
        return (0, len(value))
    if isinstance(value, str):
        return (0, value.casefold())
    return (0, value)


class RowSortFilterProxy(QSortFilterProxyModel):
    """Sorts on raw values (dates as dates, counts as numbers), filters on shown text."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterKeyColumn(-1)
        self.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

    def lessThan(self, left: Index, right: Index) -> bool:
        # Straight from the source model: a round trip through QVariant would turn
        # datetimes into QDateTime and tuples into lists.
        model = self.sourceModel()
        a, b = _sort_key(model.sort_value(left)), _sort_key(model.sort_value(right))
        try:
            return a < b
        except TypeError:
            return str(a) < str(b)

    def row_at(self, proxy_row: int):
        return self.index(proxy_row, 0).data(ROW_ROLE)
