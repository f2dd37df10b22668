"""The hub's rows, their audiences and the per-principal feed: what every write goes through.

Mixed into ``Hub`` (engine.py); the rules of a push are in push.py, reading in feed.py.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import msgspec

from emdesk.domain.records import Record
from emdesk.store.migrations import LATEST as SCHEMA_VERSION
from emdesk.store.store import replica_row
from emdesk.store.tables import BY_TABLE

from .. import protocol as p
from ..ordering import CONFLICTS, RANK
from ..policy import HubRow
from ..scope import ALL, REFERENCES, CaseLink, audience, shared_with, visit_holders
from .storage import Tx

DAY_MS = 86_400_000
MAX_PUSH_OPS = 10_000       # a desktop sends 500 at a time (a little more to keep an action whole)
OLDEST_SCHEMA = SCHEMA_VERSION - 1   # the hub serves the current and the previous version


@dataclass
class _Row:
    tbl: str
    id: str
    data: dict[str, Any]
    text: str
    hlc: str
    field_hlcs: dict[str, str]
    deleted: bool
    subject_id: str | None
    region: str | None
    officer: str | None
    # ``all`` (supervisors, admins) holds every row: it is in every audience the engine works
    # with and never stored (``HELD``), so a row read back has it without a row_audience entry.
    audience: set[str] = field(default_factory=lambda: set(HELD))
    field_meta: dict[str, list] = field(default_factory=dict)     # field -> [seq, device] of its last write
    visitors: frozenset[str] = frozenset()     # an order's: officers holding an open visit on it

    def hub_row(self) -> HubRow:
        return HubRow(self.data, self.hlc, self.field_hlcs, self.deleted)

    def copy(self) -> "_Row":
        return _Row(self.tbl, self.id, self.data, self.text, self.hlc, self.field_hlcs, self.deleted,
                    self.subject_id, self.region, self.officer, set(self.audience), self.field_meta, self.visitors)

    def link(self) -> CaseLink:
        """An order's case link, as the hub holds it."""
        return CaseLink(self.region or "", self.officer or None, self.visitors)


@dataclass
class _Event:
    principals: list[str]
    kind: str
    tbl: str
    row_id: str
    hlc: str = ""
    payload: str = ""
    # (device id, its principals): the pushing desktop, which holds this version already
    origin: tuple[str, tuple[str, ...]] | None = None


_json = msgspec.json.Encoder()
_decoders: dict[type, msgspec.json.Decoder] = {}


def _canonical(table: str, payload: str | bytes) -> Record:
    cls = BY_TABLE[table]
    dec = _decoders.get(cls) or _decoders.setdefault(cls, msgspec.json.Decoder(cls))
    return dec.decode(payload)


def _plain(record: Record) -> dict:
    """A record as the hub holds it: JSON-shaped (lists, not tuples), so a value sent again
    compares equal to the one stored."""
    return msgspec.json.decode(_json.encode(record))


def _dumps(data: dict) -> str:
    return _json.encode(data).decode()


class _Refs(msgspec.Struct):
    """Just the reference fields of any record (the rest of the payload is skipped)."""

    order_id: object = None
    subject_id: object = None
    incident_id: object = None


_REFS = msgspec.json.Decoder(_Refs)


def _unallocated(data: dict) -> bool:
    """Stock on the shelf: an installation may claim it (its region is checked by the action)."""
    return data.get("state") == "in_stock" and not data.get("order_id")


_DESK_COLUMNS: dict[str, tuple[str, ...]] = {}     # table -> the replica's columns, in desk order


def _desk(tbl: str, text: str, record: Record | None = None) -> str | None:
    """The desktop's table row for the hub's version of a row (a JSON array, in the column
    order of ``replica_row``), made once when the hub writes the row; None for what desktops
    do not keep as records (conflicts).  ``record``: the row's text decoded, when at hand."""
    if tbl not in BY_TABLE:
        return None
    if record is None:
        names, values = replica_row(_canonical(tbl, text))
    else:       # the text is the record's JSON: no need to encode it again
        names, values = replica_row(record, text)
    if tbl not in _DESK_COLUMNS:
        _DESK_COLUMNS[tbl] = names
    return _json.encode(values).decode()


def _visitors(text: str | None) -> frozenset[str]:
    """The ``case_visitors`` column: a JSON array of user ids, or NULL for none."""
    return frozenset(msgspec.json.decode(text)) if text else frozenset()


def _visitors_text(visitors: frozenset[str]) -> str | None:
    return _dumps(sorted(visitors)) if visitors else None


# The principal that holds every row (supervisors, admins): in every audience the engine
# computes or reads back, never stored in row_audience or change_feed (a change log entry
# says whether it reaches ``all``: ``to_all``).
HELD = frozenset({ALL})


def _sees(principal: str, aud: Iterable[str]) -> bool:
    aud = set(aud)
    return principal in aud or shared_with(principal) in aud or (principal == ALL and bool(aud))



class Rows:
    """Loading, caching, writing and fanning out rows (mixed into ``Hub``)."""

    # -- rows, audiences, the feed --------------------------------------------

    _ROW_COLUMNS = ("tbl, id, data, hlc, field_hlcs, deleted, subject_id, case_region, case_officer, field_meta, "
                    "case_visitors")

    def _prefetch(self, tx: Tx, keys: Iterable[tuple[str, str]]) -> None:
        """Read these rows (with their audiences) into the transaction's row cache at once, so
        deciding a batch asks the database nothing per op (``_load`` serves the cache, and
        ``_write`` keeps it current)."""
        cache = tx.memo.setdefault("rows", {})
        keys = {k for k in keys if k not in cache}
        if not keys:
            return
        found: dict[tuple[str, str], _Row] = {}
        for tbl in sorted({t for t, _ in keys}):
            # (tbl, id IN ...): the primary keys' order, so each chunk is index lookups.
            ids = sorted(rid for t, rid in keys if t == tbl)
            for r in tx.all_in(f"SELECT {self._ROW_COLUMNS} FROM hub_rows WHERE tbl = ? AND id IN ({{}})", ids, [tbl]):
                found[(r[0], r[1])] = _Row(r[0], r[1], msgspec.json.decode(r[2]), r[2], r[3],
                                           msgspec.json.decode(r[4]), bool(r[5]), r[6], r[7], r[8],
                                           field_meta=msgspec.json.decode(r[9]), visitors=_visitors(r[10]))
            for _, rid, who in tx.all_in("SELECT tbl, row_id, principal FROM row_audience "
                                         "WHERE tbl = ? AND row_id IN ({})", ids, [tbl]):
                row = found.get((tbl, rid))
                if row is not None:
                    row.audience.add(who)
        for key in keys:
            cache[key] = found.get(key)

    @staticmethod
    def _referenced(ops: list[p.Op]) -> set[tuple[str, str]]:
        """The rows the batch's ops point at (their orders, people, incidents), for one prefetch:
        checking each op's references then asks the database nothing."""
        out: set[tuple[str, str]] = set()
        for op in ops:
            fields = REFERENCES.get(op.table)
            if not fields:
                continue
            try:
                refs = _REFS.decode(op.payload)
            except (msgspec.DecodeError, msgspec.ValidationError):
                continue            # refused, with its reason, when the op itself is read
            for name, target in fields:
                value = getattr(refs, name, None)
                if isinstance(value, str) and value and "\x00" not in value:    # (refused with its op)
                    out.add((target, value))
        return out

    def _load(self, tx: Tx, tbl: str, rid: str) -> _Row | None:
        cache = tx.memo.get("rows")
        if cache is not None and (tbl, rid) in cache:
            held = cache[(tbl, rid)]
            return None if held is None else held.copy()
        row = tx.one("SELECT data, hlc, field_hlcs, deleted, subject_id, case_region, case_officer, field_meta, "
                     "case_visitors FROM hub_rows WHERE tbl = ? AND id = ?", [tbl, rid])
        if row is None:
            return None
        out = _Row(tbl, rid, msgspec.json.decode(row[0]), row[0], row[1], msgspec.json.decode(row[2]),
                   bool(row[3]), row[4], row[5], row[6], field_meta=msgspec.json.decode(row[7]),
                   visitors=_visitors(row[8]))
        out.audience |= {r[0] for r in tx.all("SELECT principal FROM row_audience WHERE tbl = ? AND row_id = ?",
                                              [tbl, rid])}
        if cache is not None:          # kept current by _write and _set_audience from now on
            cache[(tbl, rid)] = out.copy()
        return out

    @staticmethod
    def _order_link(data: dict, visitors: frozenset[str] = frozenset()) -> tuple[str | None, CaseLink]:
        """An order's case link from its record; ``visitors``: the hub's (they are not in the record)."""
        return (data.get("subject_id") or None,
                CaseLink(region=data.get("region") or "", officer_id=data.get("assigned_officer_id") or None,
                         visitors=visitors))

    def _subject_cases(self, tx: Tx, subject_id: str | None, ov: dict[str, tuple[str | None, CaseLink]]) -> list[CaseLink]:
        if not subject_id:
            return []
        links = {r[0]: CaseLink(r[1] or "", r[2] or None, _visitors(r[3])) for r in tx.all(
            "SELECT id, case_region, case_officer, case_visitors FROM hub_rows WHERE tbl = 'orders' AND subject_id = ?",
            [subject_id])}
        for order_id, (sid, link) in ov.items():
            if sid == subject_id:
                links[order_id] = link
            else:
                links.pop(order_id, None)
        return list(links.values())

    def _cases(self, tx: Tx, tbl: str, data: dict, ov: dict[str, tuple[str | None, CaseLink]]) -> list[CaseLink]:
        if tbl == "orders":
            oid = data.get("id")
            if oid in ov:
                return [ov[oid][1]]
            held = self._cases(tx, "visits", {"order_id": oid}, {}) if oid else []
            return [self._order_link(data, held[0].visitors if held else frozenset())[1]]
        if tbl == "subjects":
            return self._subject_cases(tx, data.get("id"), ov)
        order_id = data.get("order_id")
        if tbl == "notes" and not order_id:
            return self._subject_cases(tx, data.get("subject_id"), ov)
        if not order_id:
            return []
        if order_id in ov:
            return [ov[order_id][1]]
        links = tx.memo.setdefault("order_links", {})      # kept current by _write
        if order_id not in links:
            cached = tx.memo.get("rows", {}).get(("orders", order_id), False)
            if cached is not False:        # prefetched with the batch (None: not on the hub)
                links[order_id] = [cached.link()] if cached else []
            else:
                row = tx.one("SELECT case_region, case_officer, case_visitors FROM hub_rows "
                             "WHERE tbl = 'orders' AND id = ?", [order_id])
                links[order_id] = [CaseLink(row[0] or "", row[1] or None, _visitors(row[2]))] if row else []
        return links[order_id]

    def _holders(self, tx: Tx, visit_id: str | None) -> frozenset[str]:
        """``visit_holders`` of a visit as the hub holds it (a checklist tick's audience), and the
        officers leaving it in this transaction until they are settled (``_visit_changed``)."""
        if not visit_id:
            return frozenset()
        leaving = tx.memo.get("leaving", {}).get(visit_id)
        if leaving:
            return self._held(tx, visit_id) | leaving
        return self._held(tx, visit_id)

    def _held(self, tx: Tx, visit_id: str) -> frozenset[str]:
        memo = tx.memo.setdefault("visit_holders", {})      # kept current by _write
        if visit_id not in memo:
            cached = tx.memo.get("rows", {}).get(("visits", visit_id), False)
            if cached is not False:
                memo[visit_id] = visit_holders({**cached.data, "deleted": cached.deleted}) if cached else frozenset()
            else:
                row = tx.one("SELECT data, deleted FROM hub_rows WHERE tbl = 'visits' AND id = ?", [visit_id])
                memo[visit_id] = visit_holders({**msgspec.json.decode(row[0]), "deleted": bool(row[1])}) \
                    if row else frozenset()
        return memo[visit_id]

    def _audience(self, tx: Tx, tbl: str, data: dict, ov: dict | None = None) -> set[str]:
        if tbl == CONFLICTS:
            return set(HELD)
        holders = self._holders(tx, data.get("visit_id")) if tbl == "checklist_ticks" else frozenset()
        packs = self._pack_versions(tx, data.get("order_id"), data.get("pack_id")) if tbl == "outcomes" else ()
        return set(audience(tbl, data, self._cases(tx, tbl, data, ov or {}), holders, packs)) | HELD

    @staticmethod
    def _pack_versions(tx: Tx, order_id: str | None, pack_id: str | None) -> list[dict]:
        """The versions of a breach pack the hub holds (an outcome reaches the agencies they were
        issued to)."""
        if not order_id or not pack_id:
            return []
        found = [msgspec.json.decode(text) for (text,) in tx.all(
            "SELECT data FROM hub_rows WHERE tbl = 'breach_packs' AND order_id = ?", [order_id])]
        return [d for d in found if d.get("pack_id") == pack_id]

    def _move_outcomes(self, tx: Tx, pack: dict, now: int) -> None:
        """A pack version was written: its outcome follows it to the agency it is now issued to
        (upserts to principals that gained it, evictions to those that lost it)."""
        rows: dict[str, _Row] = {}
        for rid, text, stamp, deleted, principal in tx.all(
                "SELECT r.id, r.data, r.hlc, r.deleted, a.principal FROM hub_rows r LEFT JOIN row_audience a "
                "ON a.tbl = r.tbl AND a.row_id = r.id WHERE r.order_id = ? AND r.tbl = 'outcomes'",
                [pack.get("order_id") or ""]):
            row = rows.get(rid)
            if row is None:
                data = msgspec.json.decode(text)
                if data.get("pack_id") != pack.get("pack_id"):
                    continue
                row = rows[rid] = _Row("outcomes", rid, data, text, stamp, {}, bool(deleted), None, None, None)
            if principal:
                row.audience.add(principal)
        rows = list(rows.values())
        moves = [(row, set(row.audience), self._audience(tx, row.tbl, row.data)) for row in rows]
        events = [self._upsert_event(new - old, row.tbl, row.id, row.text, row.hlc, row.deleted)
                  for row, old, new in moves if new - old]
        events += [_Event(sorted(old - new), "evict", row.tbl, row.id) for row, old, new in moves if old - new]
        if events:
            self._emit(tx, events, now)
        for row, old, new in moves:
            if old != new:
                self._set_audience(tx, row.tbl, row.id, old, new)

    def _children(self, tx: Tx, order_id: str, subjects: set[str]) -> list[_Row]:
        rows = tx.all("SELECT r.tbl, r.id, r.data, r.hlc, r.deleted, a.principal FROM hub_rows r "
                      "LEFT JOIN row_audience a ON a.tbl = r.tbl AND a.row_id = r.id "
                      "WHERE r.order_id = ? AND r.tbl <> 'orders'", [order_id])
        for sid in subjects:
            rows += tx.all("SELECT r.tbl, r.id, r.data, r.hlc, r.deleted, a.principal FROM hub_rows r "
                           "LEFT JOIN row_audience a ON a.tbl = r.tbl AND a.row_id = r.id "
                           "WHERE r.tbl = 'notes' AND r.subject_id = ? AND r.order_id IS NULL", [sid])
        out: dict[tuple[str, str], _Row] = {}
        for tbl, rid, text, stamp, deleted, principal in rows:
            row = out.get((tbl, rid))
            if row is None:
                row = out[(tbl, rid)] = _Row(tbl, rid, msgspec.json.decode(text), text, stamp, {}, bool(deleted),
                                             None, None, None)
            if principal:
                row.audience.add(principal)
        return sorted(out.values(), key=lambda r: (RANK[r.tbl], r.id))

    def _emit(self, tx: Tx, events: list[_Event], now: int) -> list[int]:
        seqs, log, feed = [], [], []
        pusher = tx.memo.get("pusher", ())
        for ev in events:
            seq = tx.allocate_seq()
            seqs.append(seq)
            device, mine = ev.origin or ("", ())
            if tx.memo.get("echo_free") and any(who in pusher and who not in mine for who in ev.principals):
                tx.memo["echo_free"] = False     # the pushing desktop will pull this (see Push.push)
            # ``origin``: only that desktop leaves the entry out of its pull, and it pulls only
            # its own principals' entries, which are the ones its push wrote as it holds them.
            reaches = [who for who in ev.principals if who != ALL]
            log.append((seq, ev.tbl, ev.row_id, ev.kind, ev.hlc, ev.payload, now,
                        device if any(who in mine for who in ev.principals) else None, int(ALL in ev.principals),
                        _dumps(reaches)))
            feed += [(who, seq) for who in reaches]
        tx.defer("INSERT INTO change_log (seq, tbl, row_id, kind, hlc, payload, at_ms, origin, to_all, reaches) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", log)
        tx.defer("INSERT INTO change_feed (principal, seq) VALUES (?, ?)", feed)
        return seqs

    @staticmethod
    def _set_audience(tx: Tx, tbl: str, rid: str, old: set[str], new: set[str]) -> None:
        for who in sorted(old - new - HELD):
            tx.queue("DELETE FROM row_audience WHERE tbl = ? AND row_id = ? AND principal = ?", (tbl, rid, who),
                     (tbl, rid))
        for who in sorted(new - old - HELD):
            tx.queue("INSERT INTO row_audience (tbl, row_id, principal) VALUES (?, ?, ?)", (tbl, rid, who), (tbl, rid))
        cache = tx.memo.get("rows")
        if cache is not None and cache.get((tbl, rid)) is not None:
            cache[(tbl, rid)].audience = set(new)

    @staticmethod
    def _upsert_event(principals: Iterable[str], tbl: str, rid: str, text: str, hlc: str, deleted: bool) -> _Event:
        return _Event(sorted(principals), "delete" if deleted else "upsert", tbl, rid, hlc, text)

    def _write(self, tx: Tx, tbl: str, rid: str, data: dict, stamp: str, field_hlcs: dict, deleted: bool,
               now: int, current: _Row | None, device: str = "hub",
               origin: tuple[str, tuple[str, ...]] | None = None) -> int:
        """Store the hub's new version of a row and fan it out; returns its seq.  ``origin``:
        the pushing desktop and its principals, when it holds exactly this version."""
        data = dict(data)
        data["hlc"], data["deleted"] = stamp, deleted
        text = _dumps(data)
        ov: dict[str, tuple[str | None, CaseLink]] = {}
        parents: list[_Row] = []
        children: list[_Row] = []
        visitors = current.visitors if current is not None else frozenset()
        if tbl == "visits":
            tx.memo.get("visit_holders", {}).pop(rid, None)
        if tbl == "orders":
            sid, link = self._order_link(data, visitors)
            ov[rid] = (sid, link)
            before = (current.subject_id, current.region or "", current.officer) if current else None
            if before != (sid, link.region, link.officer_id):
                subjects = {s for s in (sid, current.subject_id if current else None) if s}
                parents = [r for r in (self._load(tx, "subjects", s) for s in sorted(subjects)) if r]
                children = self._children(tx, rid, subjects)
        old_aud = set(current.audience) if current else set()
        new_aud = self._audience(tx, tbl, data, ov)
        moves = []     # (row, old, new)
        for row in (*parents, *children):
            moves.append((row, set(row.audience), self._audience(tx, row.tbl, row.data, ov)))
        events: list[_Event] = []
        for row, old, new in moves[:len(parents)]:
            if new - old:
                events.append(self._upsert_event(new - old, row.tbl, row.id, row.text, row.hlc, row.deleted))
        own = len(events)
        events.append(self._upsert_event(new_aud, tbl, rid, text, stamp, deleted))
        events[own].origin = origin
        child_moves = moves[len(parents):]
        for row, old, new in child_moves:
            if new - old:
                events.append(self._upsert_event(new - old, row.tbl, row.id, row.text, row.hlc, row.deleted))
        for row, old, new in reversed(child_moves):
            if old - new:
                events.append(_Event(sorted(old - new), "evict", row.tbl, row.id))
        if old_aud - new_aud:
            events.append(_Event(sorted(old_aud - new_aud), "evict", tbl, rid))
        for row, old, new in reversed(moves[:len(parents)]):
            if old - new:
                events.append(_Event(sorted(old - new), "evict", row.tbl, row.id))
        seq = self._emit(tx, events, now)[own]
        meta = dict(current.field_meta) if current else {}
        held = current.field_hlcs if current else {}
        meta.update({name: [seq, device] for name, h in field_hlcs.items() if held.get(name) != h})
        cols = self._columns(tbl, data)
        if tbl == "orders":
            tx.memo.get("order_links", {}).pop(rid, None)
        desk = _desk(tbl, text)
        args = [text, stamp, _dumps(field_hlcs), _dumps(meta), int(deleted), seq, now, *cols, desk,
                SCHEMA_VERSION if desk is not None else None]
        # Queued (see Tx.queue): run with the batch's other writes, before any later read.
        if current is None:
            tx.queue("INSERT INTO hub_rows (data, hlc, field_hlcs, field_meta, deleted, updated_seq, changed_ms, "
                     "order_id, subject_id, case_region, case_officer, desk, desk_schema, tbl, id, rank) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [*args, tbl, rid, RANK[tbl]], (tbl, rid))
        else:
            # must_change: row-level security would turn a refused UPDATE into no change at all.
            tx.queue("UPDATE hub_rows SET data = ?, hlc = ?, field_hlcs = ?, field_meta = ?, deleted = ?, "
                     "updated_seq = ?, changed_ms = ?, order_id = ?, subject_id = ?, case_region = ?, "
                     "case_officer = ?, desk = ?, desk_schema = ? WHERE tbl = ? AND id = ?", [*args, tbl, rid],
                     (tbl, rid), must_change=True)
        cache = tx.memo.get("rows")
        if cache is not None:
            cache[(tbl, rid)] = _Row(tbl, rid, data, text, stamp, dict(field_hlcs), deleted, cols[1], cols[2], cols[3],
                                     set(old_aud), meta, visitors)
        self._set_audience(tx, tbl, rid, old_aud, new_aud)
        for row, old, new in moves:
            self._set_audience(tx, row.tbl, row.id, old, new)
        if tbl == "visits":
            self._visit_changed(tx, current, data, now)
        if tbl == "breach_packs" and data.get("pack_id"):
            self._move_outcomes(tx, data, now)
        return seq

    # -- officers visiting a case -------------------------------------------------------

    def _visit_changed(self, tx: Tx, current: _Row | None, data: dict, now: int) -> None:
        """A visit's officers or crew came or went, or it finished: what its case's door rows
        (order, person, kit, the visit's checklist) reach follows.  Officers gained are given the
        case at once; officers who may have lost it are settled at the end of the transaction
        (``_settle_visitors``), so a push that ticks a checklist and completes the visit (or
        fails it and books the next attempt) is judged whole, and nothing flickers."""
        before = visit_holders({**current.data, "deleted": current.deleted}) if current is not None else frozenset()
        after = visit_holders(data)
        old_order = (current.data.get("order_id") or None) if current is not None else None
        new_order = data.get("order_id") or None
        if before == after and old_order == new_order:
            return
        if old_order and (old_order != new_order or before - after):
            tx.memo.setdefault("revisit", set()).add(old_order)
            leaving = tx.memo.setdefault("leaving", {})
            leaving[data["id"]] = leaving.get(data["id"], frozenset()) | (before - after)
        if new_order and after:
            # An existing visit's ticks follow its officers; a new visit has none yet.
            self._grant_visitors(tx, new_order, after, now, ticks=current is not None)

    def _grant_visitors(self, tx: Tx, order_id: str, holders: frozenset[str], now: int, *, ticks: bool) -> None:
        order = self._load(tx, "orders", order_id)
        if order is None:
            return
        visitors = order.visitors | holders
        reach = {order.officer} | order.visitors
        if visitors != order.visitors:
            self._set_visitors(tx, order, visitors)
        if ticks or not holders <= reach:
            self._move_case(tx, order_id, now)

    def _settle_visitors(self, tx: Tx, now: int) -> None:
        """The cases whose visitors may have shrunk in this transaction: each recomputed from its
        visits, and the officers no longer visiting evicted from its rows (unless theirs)."""
        pending = tx.memo.pop("revisit", None)
        tx.memo.pop("leaving", None)
        for order_id in sorted(pending or ()):
            order = self._load(tx, "orders", order_id)
            if order is None:
                continue
            visitors = frozenset().union(*(
                visit_holders({**msgspec.json.decode(text), "deleted": bool(deleted)}) for text, deleted in tx.all(
                    "SELECT data, deleted FROM hub_rows WHERE order_id = ? AND tbl = 'visits'", [order_id])))
            if visitors != order.visitors:
                self._set_visitors(tx, order, visitors)
            self._move_case(tx, order_id, now)

    def _set_visitors(self, tx: Tx, order: _Row, visitors: frozenset[str]) -> None:
        tx.queue("UPDATE hub_rows SET case_visitors = ? WHERE tbl = 'orders' AND id = ?",
                 (_visitors_text(visitors), order.id), ("orders", order.id), must_change=True)
        tx.memo.get("order_links", {}).pop(order.id, None)
        cache = tx.memo.get("rows")
        if cache is not None:
            held = order.copy()
            held.visitors = visitors
            cache[("orders", order.id)] = held

    def _move_case(self, tx: Tx, order_id: str, now: int) -> None:
        """Every row of a case to its audience as the hub now has it (the order's visitors have
        changed): upserts to the principals that gained a row, parents first; evictions to
        those that lost one, children first.  The rows themselves are unchanged."""
        order = self._load(tx, "orders", order_id)
        if order is None:
            return
        subjects = {order.subject_id} if order.subject_id else set()
        parents = [r for r in (self._load(tx, "subjects", s) for s in sorted(subjects)) if r]
        rows = [*parents, order, *self._children(tx, order_id, subjects)]
        ov = {order_id: (order.subject_id, order.link())}
        moves = [(row, set(row.audience), self._audience(tx, row.tbl, row.data, ov)) for row in rows]
        events = [self._upsert_event(new - old, row.tbl, row.id, row.text, row.hlc, row.deleted)
                  for row, old, new in moves if new - old]
        events += [_Event(sorted(old - new), "evict", row.tbl, row.id) for row, old, new in reversed(moves) if old - new]
        if events:
            self._emit(tx, events, now)
        for row, old, new in moves:
            if old != new:
                self._set_audience(tx, row.tbl, row.id, old, new)

    @staticmethod
    def _columns(tbl: str, data: dict) -> list:
        if tbl == "orders":
            return [None, data.get("subject_id") or None, data.get("region") or "", data.get("assigned_officer_id")]
        if tbl in ("users", CONFLICTS):
            return [None, None, None, None]
        return [data.get("order_id") or None, data.get("subject_id") or None, None, None]

    def _conflict(self, tx: Tx, tbl: str, rid: str, loser, now: int) -> None:
        value = _json.encode(loser.value).decode()
        # The same losing value against the same winner is one conflict, however often it is sent.
        cid = hashlib.sha256("\x1f".join((tbl, rid, loser.field, loser.hlc, loser.beaten_by, value)).encode()
                             ).hexdigest()[:32]
        if tx.one("SELECT 1 FROM hub_rows WHERE tbl = ? AND id = ?", [CONFLICTS, cid]) is not None:
            return
        record = {"id": cid, "table_name": tbl, "row_id": rid, "field": loser.field,
                  "losing_value": value, "losing_hlc": loser.hlc, "winning_hlc": loser.beaten_by,
                  "at": datetime.fromtimestamp(now / 1000, timezone.utc).isoformat(timespec="milliseconds")}
        self._write(tx, CONFLICTS, cid, record, loser.hlc, {}, False, now, None)

