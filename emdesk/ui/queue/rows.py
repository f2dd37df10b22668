"""The queue's rows as numpy columns: filter with masks, sort with one ``np.lexsort``.

No Qt here, so a snapshot of 100,000 incidents is turned into columns on the store
lane and the GUI thread only swaps it in.  Each sortable field is one array (text as
codes into a vocabulary whose alphabetical rank is cached); items keep a "slot", their
index in every array, in the order they arrived.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

import numpy as np

from emdesk.domain.deadlines import NOTIFY, which_deadline
from emdesk.services.queue_items import QueueBatch, QueueItem

from .columns import STATUSES

NO_DEADLINE = np.iinfo(np.int64).max           # sorts after every real deadline
TEXT = ("why", "reference", "name", "cohort", "condition", "codes", "region")
NUMERIC = (("priority", np.int32), ("status", np.int8), ("started", np.int64), ("ended", np.int64),
           ("notify", np.int64), ("pack", np.int64), ("due", np.int64), ("seconds", np.float64))
STATUS_CODE = {s: i for i, s in enumerate(STATUSES)}
_DUE_KIND = {s: which_deadline(s) for s in STATUSES}


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


def _ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


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


def _numbers(it: QueueItem) -> tuple:
    kind = _DUE_KIND[it.status] if it.status in _DUE_KIND else which_deadline(it.status)
    notify, pack = _ms(it.notify_by), _ms(it.pack_by)
    due = NO_DEADLINE if kind is None else notify if kind == NOTIFY else pack
    return (it.priority, STATUS_CODE.get(it.status, len(STATUSES)), _ms(it.started_at),
            -1 if it.ended_at is None else _ms(it.ended_at), notify, pack, due, it.seconds)


def _hay(it: QueueItem) -> str:
    return f"{it.reference}\n{it.subject_name}\n{' '.join(it.codes)}".casefold()


class Vocab:
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
        if self._rank is None:
            order = sorted(range(len(self.values)), key=lambda i: self.values[i].casefold())
            rank = np.empty(len(self.values), dtype=np.int32)
            rank[order] = np.arange(len(self.values), dtype=np.int32)
            self._rank = rank
        return self._rank


class QueueData:
    def __init__(self, items: Iterable[QueueItem] = ()):
        self.items: list[QueueItem] = []
        self.slot: dict[str, int] = {}           # incident id -> slot
        self.hay: list[str] = []                 # per slot: reference, name, codes (lower case)
        self.num = {name: np.empty(0, dtype) for name, dtype in NUMERIC}
        self.text = {k: np.empty(0, np.int32) for k in TEXT}
        self.vocab = {k: Vocab() for k in TEXT}
        self.codes: set[str] = set()             # single codes seen (the filter's list)
        self.append(list(items))

    def __len__(self) -> int:
        return len(self.items)

    def item(self, incident_id: str) -> QueueItem | None:
        slot = self.slot.get(incident_id)
        return None if slot is None else self.items[slot]

    def values(self, key: str) -> list[str]:
        """The distinct values of a text column seen, alphabetically; single codes for "codes"."""
        if key == "codes":
            return sorted(self.codes)
        return sorted((v for v in self.vocab[key].values if v), key=str.casefold)

    @property
    def vocabulary_size(self) -> int:
        return sum(len(v.values) for v in self.vocab.values()) + len(self.codes)

    # -- changing -------------------------------------------------------------------------
    def merge(self, batch: QueueBatch) -> tuple[int, int, int]:
        """Updates in place, inserts the new, removes the gone: (inserted, updated, removed)."""
        fresh: dict[str, QueueItem] = {}
        updates: list[tuple[int, QueueItem]] = []
        for it in batch.items:
            slot = self.slot.get(it.id)
            if slot is None:
                fresh[it.id] = it            # a later copy in the same batch wins
            else:
                updates.append((slot, it))
        gone = [self.slot[i] for i in batch.removed if i in self.slot and i not in fresh]
        self.update(updates)
        self.append(list(fresh.values()))
        self.remove(gone)
        return len(fresh), len(updates), len(gone)

    def pending(self, batch: QueueBatch) -> bool:
        """Whether ``batch`` changes anything held (an empty poll changes nothing)."""
        return bool(batch.items) or any(i in self.slot for i in batch.removed)

    def append(self, items: list[QueueItem]) -> None:
        if not items:
            return
        base = len(self.items)
        for (name, _), values in zip(NUMERIC, zip(*(_numbers(it) for it in items))):
            old = self.num[name]
            self.num[name] = np.concatenate([old, np.asarray(values, dtype=old.dtype)])
        for key in TEXT:
            vocab = self.vocab[key]
            codes = np.fromiter((vocab.code(_text_of(it, key)) for it in items), np.int32, len(items))
            self.text[key] = np.concatenate([self.text[key], codes])
        self.codes.update(c for it in items for c in it.codes)
        self.items.extend(items)
        self.hay.extend(_hay(it) for it in items)
        for i, it in enumerate(items):
            self.slot[it.id] = base + i

    def update(self, updates: list[tuple[int, QueueItem]]) -> None:
        for slot, it in updates:
            self.items[slot] = it
            self.hay[slot] = _hay(it)
            for (name, _), value in zip(NUMERIC, _numbers(it)):
                self.num[name][slot] = value
            for key in TEXT:
                self.text[key][slot] = self.vocab[key].code(_text_of(it, key))
            self.codes.update(it.codes)

    def remove(self, slots: list[int]) -> None:
        if not slots:
            return
        keep = np.ones(len(self.items), bool)
        keep[slots] = False
        self.num = {name: arr[keep] for name, arr in self.num.items()}
        self.text = {key: arr[keep] for key, arr in self.text.items()}
        flags = keep.tolist()
        self.items = [it for it, k in zip(self.items, flags) if k]
        self.hay = [h for h, k in zip(self.hay, flags) if k]
        self.slot = {it.id: i for i, it in enumerate(self.items)}

    # -- reading --------------------------------------------------------------------------
    def mask(self, f: QueueFilter) -> np.ndarray | None:
        """The rows ``f`` lets through (None: all of them)."""
        n, num = len(self.items), self.num
        masks = []
        if f.statuses:
            masks.append(np.isin(num["status"], [STATUS_CODE.get(s, -1) for s in f.statuses]))
        for key in ("cohort", "condition"):
            value = getattr(f, key)
            if value:
                masks.append(self.text[key] == self.vocab[key].codes.get(value, -1))
        if f.min_priority:
            masks.append(num["priority"] >= f.min_priority)
        if f.code.strip():
            code = f.code.strip().upper()
            masks.append(np.fromiter((code in it.codes for it in self.items), bool, n))
        if f.text.strip():
            needle = f.text.strip().casefold()
            masks.append(np.fromiter((needle in h for h in self.hay), bool, n))
        if not masks:
            return None
        out = masks[0]
        for m in masks[1:]:
            out = out & m
        return out

    def sort_keys(self, idx: np.ndarray, key: str, descending: bool) -> list[np.ndarray]:
        """Keys for ``np.lexsort`` (the last is the primary): the chosen column, then
        priority (high first), the running deadline, and the oldest first."""
        num = self.num
        if key in ("priority", "status"):
            primary = num[key][idx].astype(np.int64)
        elif key == "deadline":
            primary = num["due"][idx]
        elif key == "age":
            primary = -num["started"][idx]              # older is a greater age
        else:
            primary = self.vocab[key].rank()[self.text[key][idx]].astype(np.int64)
        if descending:                                  # no deadline stays last either way
            primary = np.where(primary == NO_DEADLINE, NO_DEADLINE, -primary) if key == "deadline" else -primary
        return [num["started"][idx], num["due"][idx], -num["priority"][idx].astype(np.int64), primary]

    def order(self, f: QueueFilter, key: str, descending: bool) -> tuple[np.ndarray, np.ndarray]:
        """(view row -> slot, slot -> view row or -1) for a filter and a sort."""
        n = len(self.items)
        mask = self.mask(f)
        idx = np.arange(n, dtype=np.int64) if mask is None else np.flatnonzero(mask)
        order = idx[np.lexsort(self.sort_keys(idx, key, descending))] if idx.size else idx
        row = np.full(n, -1, dtype=np.int64)
        row[order] = np.arange(order.size, dtype=np.int64)
        return order, row
