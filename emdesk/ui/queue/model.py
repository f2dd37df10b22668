"""The queue's rows as numpy columns, filtered and sorted with numpy, merged live.

A ``QSortFilterProxyModel`` asks Python for every cell it compares: at 100,000
incidents a sort takes seconds.  Here each sortable field is one numpy array (text as
codes into a vocabulary whose alphabetical rank is cached), a filter is a boolean mask
and a sort one ``np.lexsort``, so the view only ever asks for the rows it paints.

``apply(batch)`` merges a live batch (updates, inserts, removals) and re-orders with
``layoutChanged``: persistent indexes (the view's selection and current row) are moved
to where their incident now sits, so the operator's selection survives; the panel keeps
the scroll position anchored on the same incident.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

from emdesk.domain.deadlines import NOTIFY, Urgency, which_deadline
from emdesk.services.queue_items import QueueBatch, QueueItem

from .. import palette
from . import columns as cols
from .columns import COLUMNS, KEYS, STATUSES

ITEM_ROLE = Qt.ItemDataRole.UserRole + 1       # the row's QueueItem
NO_DEADLINE = np.iinfo(np.int64).max           # sorts after every real deadline
_TEXT = ("why", "reference", "name", "cohort", "condition", "codes", "region")
_STATUS_CODE = {s: i for i, s in enumerate(STATUSES)}
_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


def _ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


@dataclass(frozen=True)
class QueueFilter:
    """What the operator narrowed the queue to; empty values let everything through."""

    statuses: frozenset[str] = frozenset()
    cohort: str = ""
    condition: str = ""
    code: str = ""
    text: str = ""                 # in the reference, the name or a code (any case)
    min_priority: int = 0


ACTIVE = QueueFilter(statuses=frozenset({"open", "acknowledged", "escalated"}))


class _Vocab:
    """Text values as small integer codes, with their alphabetical ranks for sorting."""

    def __init__(self) -> None:
        self.values: list[str] = []
        self.codes: dict[str, int] = {}
        self._rank: np.ndarray | None = None

    def code(self, value: str) -> int:
        c = self.codes.get(value)
        if c is None:
            c = self.codes[value] = len(self.values)
            self.values.append(value)
            self._rank = None
        return c

    def rank(self) -> np.ndarray:
        if self._rank is None or len(self._rank) != len(self.values):
            order = sorted(range(len(self.values)), key=lambda i: self.values[i].casefold())
            rank = np.empty(len(self.values), dtype=np.int32)
            rank[order] = np.arange(len(self.values), dtype=np.int32)
            self._rank = rank
        return self._rank


def _text_of(item: QueueItem, key: str) -> str:
    if key == "why":
        return item.reasons[0] if item.reasons else ""
    if key == "reference":
        return item.reference
    if key == "name":
        return item.subject_name
    if key == "codes":
        return ", ".join(item.codes)
    return getattr(item, key)


@dataclass
class _Columns:
    """Parallel arrays, one entry per item (a "slot"), in the order items arrived."""

    priority: np.ndarray = field(default_factory=lambda: np.empty(0, np.int32))
    status: np.ndarray = field(default_factory=lambda: np.empty(0, np.int8))
    started: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    ended: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    notify: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    pack: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    due: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    seconds: np.ndarray = field(default_factory=lambda: np.empty(0, np.float64))
    text: dict[str, np.ndarray] = field(default_factory=lambda: {k: np.empty(0, np.int32) for k in _TEXT})

    NUMERIC = ("priority", "status", "started", "ended", "notify", "pack", "due", "seconds")

    def arrays(self) -> Iterable[tuple[str, np.ndarray]]:
        for name in self.NUMERIC:
            yield name, getattr(self, name)
        for key, arr in self.text.items():
            yield f"text.{key}", arr

    def replace(self, name: str, arr: np.ndarray) -> None:
        if name.startswith("text."):
            self.text[name[5:]] = arr
        else:
            setattr(self, name, arr)


class QueueModel(QAbstractTableModel):
    """Rows are the filtered, sorted view; ``item_at(row)`` gives the ``QueueItem``."""

    def __init__(self, parent=None, *, now: datetime | None = None):
        super().__init__(parent)
        self._items: list[QueueItem] = []
        self._slot: dict[str, int] = {}          # incident id -> slot
        self._hay: list[str] = []                # per slot: reference, name, codes (lower case)
        self._cols = _Columns()
        self._vocab = {k: _Vocab() for k in _TEXT}
        self._codes: set[str] = set()
        self._order = np.empty(0, np.int64)      # view row -> slot
        self._row = np.empty(0, np.int64)        # slot -> view row (-1: filtered out)
        self._filter = ACTIVE
        self._sort_key, self._descending = "priority", True
        self._due_kind = {s: which_deadline(s) for s in STATUSES}
        self._now = now or datetime.now(timezone.utc)
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
        item = self._items[self._order[index.row()]]
        key = KEYS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return cols.display(item, key, self._now)
        if role == Qt.ItemDataRole.ToolTipRole:
            return cols.tooltip(item, key, self._now)
        if role == ITEM_ROLE:
            return item
        if key == "deadline" and role in (Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.BackgroundRole):
            level = cols.deadline_urgency(item, self._now)
            pair = self._red if level is Urgency.RED else self._amber if level is Urgency.AMBER else None
            if pair is not None:
                return pair[0] if role == Qt.ItemDataRole.ForegroundRole else pair[1]
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole and key == "priority":
            return _RIGHT
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{COLUMNS[index.column()].title}: {cols.display(item, key, self._now)}"
        return None

    def flags(self, index):
        return _FLAGS if index.isValid() else Qt.ItemFlag.NoItemFlags

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(COLUMNS):
            return                       # the header's "unsorted": keep the current order
        self.sort_by(KEYS[column], order == Qt.SortOrder.DescendingOrder)

    # -- reading ----------------------------------------------------------------------
    def item_at(self, row: int) -> QueueItem | None:
        return self._items[self._order[row]] if 0 <= row < len(self._order) else None

    def row_of(self, incident_id: str) -> int:
        """The view row of an incident, or -1 when it is filtered out or unknown."""
        slot = self._slot.get(incident_id)
        return -1 if slot is None else int(self._row[slot])

    def item(self, incident_id: str) -> QueueItem | None:
        slot = self._slot.get(incident_id)
        return None if slot is None else self._items[slot]

    @property
    def total(self) -> int:
        """Every incident held, shown or filtered out."""
        return len(self._items)

    @property
    def filter(self) -> QueueFilter:
        return self._filter

    @property
    def sort_key(self) -> tuple[str, bool]:
        return self._sort_key, self._descending

    def values(self, key: str) -> list[str]:
        """The distinct values of a text column seen, alphabetically (for filter lists);
        single codes for "codes"."""
        if key == "codes":
            return sorted(self._codes)
        return sorted((v for v in self._vocab[key].values if v), key=str.casefold)

    @property
    def vocabulary_size(self) -> int:
        """Grows when a value not seen before arrives (the filter lists need refilling)."""
        return sum(len(v.values) for v in self._vocab.values()) + len(self._codes)

    def visible_ids(self) -> list[str]:
        return [self._items[s].id for s in self._order]

    # -- changing ---------------------------------------------------------------------
    def set_now(self, now: datetime) -> None:
        """The clocks and ages move on (the panel's tick): repaint those two columns."""
        self._now = now
        if self._order.size:
            last = len(self._order) - 1
            for key in ("deadline", "age"):
                c = KEYS.index(key)
                self.dataChanged.emit(self.index(0, c), self.index(last, c),
                                      [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ForegroundRole,
                                       Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ToolTipRole])

    def set_filter(self, flt: QueueFilter) -> None:
        if flt != self._filter:
            self._filter = flt
            self._relayout(lambda: None)

    def sort_by(self, key: str, descending: bool = False) -> None:
        if key not in KEYS:
            raise ValueError(f"sort key {key!r}: use one of {', '.join(KEYS)}")
        self._sort_key, self._descending = key, descending
        self._relayout(lambda: None)

    def set_items(self, items: Iterable[QueueItem]) -> None:
        """Replace everything (the first snapshot): a reset, nothing to keep."""
        self.beginResetModel()
        self._items, self._slot, self._hay = [], {}, []
        self._cols = _Columns()
        self._vocab = {k: _Vocab() for k in _TEXT}
        self._codes = set()
        self._append(list(items))
        self._order, self._row = self._compute()
        self.endResetModel()

    def merge_snapshot(self, items: list[QueueItem]) -> tuple[int, int, int]:
        """A later full snapshot: anything no longer in it is removed, the rest merged."""
        if not self._items:
            self.set_items(items)
            return len(items), 0, 0
        keep = {i.id for i in items}
        gone = tuple(i for i in self._slot if i not in keep)
        return self.apply(QueueBatch(items=items, removed=gone))

    def apply(self, batch: QueueBatch) -> tuple[int, int, int]:
        """Merge a batch of changes without a reset; returns (inserted, updated, removed)."""
        fresh: dict[str, QueueItem] = {}
        updates: list[tuple[int, QueueItem]] = []
        for it in batch.items:
            slot = self._slot.get(it.id)
            if slot is None:
                fresh[it.id] = it            # a later copy in the same batch wins
            else:
                updates.append((slot, it))
        gone = [self._slot[i] for i in batch.removed if i in self._slot and i not in fresh]
        if not (fresh or updates or gone):
            return 0, 0, 0

        def change() -> None:
            self._update(updates)
            self._append(list(fresh.values()))
            self._remove(gone)

        self._relayout(change)
        return len(fresh), len(updates), len(gone)

    # -- internals --------------------------------------------------------------------
    def _relayout(self, change) -> None:
        """Change the data and re-order, moving persistent indexes with their incidents."""
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        ids = [self._items[self._order[p.row()]].id if 0 <= p.row() < len(self._order) else None
               for p in persistent]
        change()
        self._order, self._row = self._compute()
        moved = []
        for p, incident_id in zip(persistent, ids):
            row = self.row_of(incident_id) if incident_id is not None else -1
            moved.append(self.index(row, p.column()) if row >= 0 else QModelIndex())
        self.changePersistentIndexList(persistent, moved)
        self.layoutChanged.emit()

    def _row_values(self, it: QueueItem) -> tuple:
        kind = self._due_kind.get(it.status) if it.status in self._due_kind else which_deadline(it.status)
        notify, pack = _ms(it.notify_by), _ms(it.pack_by)
        due = NO_DEADLINE if kind is None else notify if kind == NOTIFY else pack
        return (it.priority, _STATUS_CODE.get(it.status, len(STATUSES)), _ms(it.started_at),
                -1 if it.ended_at is None else _ms(it.ended_at), notify, pack, due, it.seconds)

    @staticmethod
    def _hay_of(it: QueueItem) -> str:
        return f"{it.reference}\n{it.subject_name}\n{' '.join(it.codes)}".casefold()

    def _append(self, items: list[QueueItem]) -> None:
        if not items:
            return
        base = len(self._items)
        rows = [self._row_values(it) for it in items]
        c = self._cols
        numeric = list(zip(*rows))
        for name, values in zip(_Columns.NUMERIC, numeric):
            old = getattr(c, name)
            setattr(c, name, np.concatenate([old, np.asarray(values, dtype=old.dtype)]))
        for key in _TEXT:
            vocab = self._vocab[key]
            codes = np.fromiter((vocab.code(_text_of(it, key)) for it in items), np.int32, len(items))
            c.text[key] = np.concatenate([c.text[key], codes])
        self._codes.update(c for it in items for c in it.codes)
        self._items.extend(items)
        self._hay.extend(self._hay_of(it) for it in items)
        for i, it in enumerate(items):
            self._slot[it.id] = base + i

    def _update(self, updates: list[tuple[int, QueueItem]]) -> None:
        c = self._cols
        for slot, it in updates:
            self._items[slot] = it
            self._hay[slot] = self._hay_of(it)
            for name, value in zip(_Columns.NUMERIC, self._row_values(it)):
                getattr(c, name)[slot] = value
            for key in _TEXT:
                c.text[key][slot] = self._vocab[key].code(_text_of(it, key))
            self._codes.update(it.codes)

    def _remove(self, slots: list[int]) -> None:
        if not slots:
            return
        keep = np.ones(len(self._items), bool)
        keep[slots] = False
        for name, arr in list(self._cols.arrays()):
            self._cols.replace(name, arr[keep])
        flags = keep.tolist()
        self._items = [it for it, k in zip(self._items, flags) if k]
        self._hay = [h for h, k in zip(self._hay, flags) if k]
        self._slot = {it.id: i for i, it in enumerate(self._items)}

    def _mask(self) -> np.ndarray | None:
        f, c = self._filter, self._cols
        n = len(self._items)
        mask = None

        def narrow(m: np.ndarray) -> None:
            nonlocal mask
            mask = m if mask is None else mask & m

        if f.statuses:
            narrow(np.isin(c.status, [_STATUS_CODE.get(s, -1) for s in f.statuses]))
        for key in ("cohort", "condition"):
            value = getattr(f, key)
            if value:
                narrow(c.text[key] == self._vocab[key].codes.get(value, -1))
        if f.min_priority:
            narrow(c.priority >= f.min_priority)
        if f.code:
            code = f.code.strip().upper()
            narrow(np.fromiter((code in it.codes for it in self._items), bool, n))
        if f.text.strip():
            needle = f.text.strip().casefold()
            narrow(np.fromiter((needle in h for h in self._hay), bool, n))
        return mask

    def _sort_keys(self, idx: np.ndarray) -> list[np.ndarray]:
        """Keys for ``np.lexsort`` (the last is the primary): the chosen column, then
        priority (high first), the running deadline, and the oldest first."""
        c, key = self._cols, self._sort_key
        if key == "priority":
            primary = c.priority[idx].astype(np.int64)
        elif key == "deadline":
            primary = c.due[idx]
        elif key == "status":
            primary = c.status[idx].astype(np.int64)
        elif key == "age":
            primary = -c.started[idx]              # older is a greater age
        else:
            primary = self._vocab[key].rank()[c.text[key][idx]].astype(np.int64)
        if self._descending:
            primary = -primary if key != "deadline" else np.where(primary == NO_DEADLINE, NO_DEADLINE, -primary)
        return [c.started[idx], c.due[idx], -c.priority[idx].astype(np.int64), primary]

    def _compute(self) -> tuple[np.ndarray, np.ndarray]:
        n = len(self._items)
        mask = self._mask()
        idx = np.arange(n, dtype=np.int64) if mask is None else np.flatnonzero(mask)
        order = idx[np.lexsort(self._sort_keys(idx))] if idx.size else idx
        row = np.full(n, -1, dtype=np.int64)
        row[order] = np.arange(order.size, dtype=np.int64)
        return order, row

