"""The hub's logic, over any ``HubStorage``: push, pull, bootstrap, GC (accounts in accounts.py).

Stateless: everything lives in the storage (accounts and sessions included), so several
hub processes can serve the same database behind a load balancer.  Clocks are
injectable (``clock``), so tests and the benchmark can move the hub's time.

How a pushed op is handled (one write transaction per batch):
  1. a stamp more than ``max_skew_ms`` ahead of the hub clock refuses the whole batch
     (409 ``clock_ahead`` with the hub's time; nothing applied);
  2. an op id already applied returns its recorded result and changes nothing;
  3. rights: the table's rule (``policy.may_write``), and the row's audience must
     include the user's principal (for a new row: the audience it would get);
  4. ``policy.merge`` decides the hub's new row; losing values become ``conflicts``
     rows, addressed to supervisors (principal ``all``);
  5. the new row is fanned out to its audience in the per-principal change feed, and
     principals that gained or lost the row (or, for an order, the whole case) get
     upserts (parents first) or evictions (children first);
  6. an op that was refused, or lost its merge, gets the hub's current version (or an
     eviction) sent back to the writer's principal, so the replica converges.

I/O (the rules above are decided per op; only the database traffic is batched):
  * ``push`` reads the batch's current rows and audiences in a few queries into a row cache
    (``tx.memo["rows"]``), which ``_load`` serves and ``_write`` keeps current;
  * ``_write`` queues its hub row and audience writes (``Tx.queue``): they run as one
    ``executemany`` per statement before the next query of any kind and before COMMIT, so
    every read still sees them.  Use ``tx.savepoint()`` (it runs the queue first and clears
    the cache on a rollback), never a bare SAVEPOINT statement;
  * ``load`` inserts records the hub does not hold yet in bulk (COPY on PostgreSQL).
"""
from __future__ import annotations

import itertools
import operator
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import hashlib

import msgspec
from argon2 import PasswordHasher

from emdesk.domain import hlc as hlcmod
from emdesk.domain.clock import Clock, SystemClock
from emdesk.domain.field_actions import ActionRow, ActionSpec, Grant, required_action, spec_for
from emdesk.domain.records import Record
from emdesk.domain.users import Role, User
from emdesk.store.migrations import LATEST as SCHEMA_VERSION
from emdesk.store.store import replica_row
from emdesk.store.tables import BY_TABLE

from .. import authorship
from .. import protocol as p
from ..ordering import CONFLICTS, RANK
from ..policy import META_FIELDS, RULES, HubRow, Policy, TableRule, Writer, may_write, merge
from ..scope import ALL, EVERYONE, REFERENCES, CaseLink, audience
from .accounts import Account, Accounts, HubError
from .storage import HubStorage, Tx

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
    audience: set[str] = field(default_factory=set)
    field_meta: dict[str, list] = field(default_factory=dict)     # field -> [seq, device] of its last write

    def hub_row(self) -> HubRow:
        return HubRow(self.data, self.hlc, self.field_hlcs, self.deleted)

    def copy(self) -> "_Row":
        return _Row(self.tbl, self.id, self.data, self.text, self.hlc, self.field_hlcs, self.deleted,
                    self.subject_id, self.region, self.officer, set(self.audience), self.field_meta)


@dataclass
class _Event:
    principals: list[str]
    kind: str
    tbl: str
    row_id: str
    hlc: str = ""
    payload: str = ""


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


def _sees(principal: str, aud: Iterable[str]) -> bool:
    aud = set(aud)
    return principal in aud or EVERYONE in aud or (principal == ALL and bool(aud))



class Hub(Accounts):
    def __init__(self, storage: HubStorage, *, clock: Clock | None = None, max_skew_ms: int = 5 * 60_000,
                 access_ttl_s: int = 900, tombstone_days: int = 30, active_days: int = 30,
                 applied_ops_days: int = 90, hasher: PasswordHasher | None = None, max_page: int = 10000):
        self.storage = storage
        self.clock = clock or SystemClock()
        self.max_skew_ms = max_skew_ms
        self.access_ttl_s = access_ttl_s
        self.tombstone_days = tombstone_days
        self.active_days = active_days
        self.applied_ops_days = applied_ops_days
        self.hasher = hasher or PasswordHasher()
        self.max_page = max_page
        self._hlc: hlcmod.Stamp | None = None

    # -- time and versions ----------------------------------------------------

    def now_ms(self) -> int:
        return int(self.clock.now().timestamp() * 1000)

    def check_schema(self, version: int | None) -> None:
        if version is None:
            return
        if version < OLDEST_SCHEMA:
            raise HubError(426, "upgrade_required",
                           f"This emdesk is too old for the hub (store schema {version}; the hub serves "
                           f"{OLDEST_SCHEMA} and {SCHEMA_VERSION}). Install the latest emdesk and sync again: "
                           "your unsent changes are kept on this desktop.", hub_time_ms=self.now_ms())
        if version > SCHEMA_VERSION:
            raise HubError(409, "hub_outdated",
                           f"The hub runs an older emdesk (schema {SCHEMA_VERSION}) than this desktop ({version}): "
                           "ask your administrator to upgrade the hub. Your changes are kept here meanwhile.",
                           hub_time_ms=self.now_ms())

    def _stamp(self) -> str:
        self._hlc = hlcmod.tick(self._hlc, self.now_ms(), "hub")
        return str(self._hlc)

    # -- rows, audiences, the feed --------------------------------------------

    _ROW_COLUMNS = "tbl, id, data, hlc, field_hlcs, deleted, subject_id, case_region, case_officer, field_meta"

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
            for r in self._in_chunks(tx, f"SELECT {self._ROW_COLUMNS} FROM hub_rows WHERE tbl = ? AND id IN ({{}})",
                                     ids, [tbl]):
                found[(r[0], r[1])] = _Row(r[0], r[1], msgspec.json.decode(r[2]), r[2], r[3],
                                           msgspec.json.decode(r[4]), bool(r[5]), r[6], r[7], r[8],
                                           field_meta=msgspec.json.decode(r[9]))
            for _, rid, who in self._in_chunks(tx, "SELECT tbl, row_id, principal FROM row_audience "
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
                if isinstance(value, str) and value:
                    out.add((target, value))
        return out

    def _load(self, tx: Tx, tbl: str, rid: str) -> _Row | None:
        cache = tx.memo.get("rows")
        if cache is not None and (tbl, rid) in cache:
            held = cache[(tbl, rid)]
            return None if held is None else held.copy()
        row = tx.one("SELECT data, hlc, field_hlcs, deleted, subject_id, case_region, case_officer, field_meta "
                     "FROM hub_rows WHERE tbl = ? AND id = ?", [tbl, rid])
        if row is None:
            return None
        out = _Row(tbl, rid, msgspec.json.decode(row[0]), row[0], row[1], msgspec.json.decode(row[2]),
                   bool(row[3]), row[4], row[5], row[6], field_meta=msgspec.json.decode(row[7]))
        out.audience = {r[0] for r in tx.all("SELECT principal FROM row_audience WHERE tbl = ? AND row_id = ?",
                                             [tbl, rid])}
        if cache is not None:          # kept current by _write and _set_audience from now on
            cache[(tbl, rid)] = out.copy()
        return out

    @staticmethod
    def _order_link(data: dict) -> tuple[str | None, CaseLink]:
        return (data.get("subject_id") or None,
                CaseLink(region=data.get("region") or "", officer_id=data.get("assigned_officer_id") or None))

    def _subject_cases(self, tx: Tx, subject_id: str | None, ov: dict[str, tuple[str | None, CaseLink]]) -> list[CaseLink]:
        if not subject_id:
            return []
        links = {r[0]: CaseLink(r[1] or "", r[2] or None) for r in tx.all(
            "SELECT id, case_region, case_officer FROM hub_rows WHERE tbl = 'orders' AND subject_id = ?", [subject_id])}
        for order_id, (sid, link) in ov.items():
            if sid == subject_id:
                links[order_id] = link
            else:
                links.pop(order_id, None)
        return list(links.values())

    def _cases(self, tx: Tx, tbl: str, data: dict, ov: dict[str, tuple[str | None, CaseLink]]) -> list[CaseLink]:
        if tbl == "orders":
            return [self._order_link(data)[1]]
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
                links[order_id] = [CaseLink(cached.region or "", cached.officer or None)] if cached else []
            else:
                row = tx.one("SELECT case_region, case_officer FROM hub_rows WHERE tbl = 'orders' AND id = ?",
                             [order_id])
                links[order_id] = [CaseLink(row[0] or "", row[1] or None)] if row else []
        return links[order_id]

    def _audience(self, tx: Tx, tbl: str, data: dict, ov: dict | None = None) -> set[str]:
        if tbl == CONFLICTS:
            return {ALL}
        return set(audience(tbl, data, self._cases(tx, tbl, data, ov or {})))

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
        seqs, rows = [], []
        for ev in events:
            seq = tx.allocate_seq()
            seqs.append(seq)
            rows += [(who, seq, ev.tbl, ev.row_id, ev.kind, ev.hlc, ev.payload, now) for who in ev.principals]
        tx.defer("INSERT INTO change_log (principal, seq, tbl, row_id, kind, hlc, payload, at_ms) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        return seqs

    @staticmethod
    def _set_audience(tx: Tx, tbl: str, rid: str, old: set[str], new: set[str]) -> None:
        for who in sorted(old - new):
            tx.queue("DELETE FROM row_audience WHERE tbl = ? AND row_id = ? AND principal = ?", (tbl, rid, who),
                     (tbl, rid))
        for who in sorted(new - old):
            tx.queue("INSERT INTO row_audience (tbl, row_id, principal) VALUES (?, ?, ?)", (tbl, rid, who), (tbl, rid))
        cache = tx.memo.get("rows")
        if cache is not None and cache.get((tbl, rid)) is not None:
            cache[(tbl, rid)].audience = set(new)

    @staticmethod
    def _upsert_event(principals: Iterable[str], tbl: str, rid: str, text: str, hlc: str, deleted: bool) -> _Event:
        return _Event(sorted(principals), "delete" if deleted else "upsert", tbl, rid, hlc, text)

    def _write(self, tx: Tx, tbl: str, rid: str, data: dict, stamp: str, field_hlcs: dict, deleted: bool,
               now: int, current: _Row | None, device: str = "hub") -> int:
        """Store the hub's new version of a row and fan it out; returns its seq."""
        data = dict(data)
        data["hlc"], data["deleted"] = stamp, deleted
        text = _dumps(data)
        ov: dict[str, tuple[str | None, CaseLink]] = {}
        parents: list[_Row] = []
        children: list[_Row] = []
        if tbl == "orders":
            sid, link = self._order_link(data)
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
                                     set(old_aud), meta)
        self._set_audience(tx, tbl, rid, old_aud, new_aud)
        for row, old, new in moves:
            self._set_audience(tx, row.tbl, row.id, old, new)
        return seq

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

    # -- push -------------------------------------------------------------------

    def push(self, who: Account, req: p.PushRequest) -> p.PushResponse:
        self.check_schema(req.schema_version)
        if req.device_id != who.device_id:
            raise HubError(403, "wrong_device", "This sign-in belongs to another desktop.")
        now = self.now_ms()
        if len(req.ops) > MAX_PUSH_OPS:
            raise HubError(413, "too_large", f"A push may carry at most {MAX_PUSH_OPS} changes ({len(req.ops)} sent): "
                           "send them in smaller batches.", hub_time_ms=now)
        limit = now + self.max_skew_ms
        for op in req.ops:
            try:
                ahead = hlcmod.Stamp.parse(op.hlc).ms > limit
            except ValueError:
                continue    # refused per op below
            if ahead:
                raise HubError(409, "clock_ahead",
                               "This desktop's clock is ahead of the hub's; its changes will be re-stamped and sent "
                               "again. Check the computer's date and time.", hub_time_ms=now)
        results: dict[str, p.OpResult] = {}
        restores: dict[tuple[str, str], None] = {}
        principal = who.principal
        with self.storage.write(writer=principal) as tx:
            # A few lookups for the whole batch (op ids, purged ids, current rows) rather than per op.
            for op_id, status, reason, hub_seq in self._in_chunks(
                    tx, "SELECT op_id, status, reason, hub_seq FROM applied_ops WHERE op_id IN ({})",
                    list({op.op_id for op in req.ops})):
                results[op_id] = p.OpResult(op_id=op_id, status=status, reason=reason, hub_seq=hub_seq)
            tx.memo["purged"] = set()
            for tbl in sorted({op.table for op in req.ops}):
                tx.memo["purged"] |= {(tbl, i) for (i,) in self._in_chunks(
                    tx, "SELECT id FROM purged WHERE tbl = ? AND id IN ({})",
                    sorted({op.row_id for op in req.ops if op.table == tbl}), [tbl])}
            self._prefetch(tx, {(op.table, op.row_id) for op in req.ops if op.table in RULES}
                           | self._referenced(req.ops))
            for unit in self._units(req.ops):
                todo = [op for op in unit if op.op_id not in results]   # applied before: a re-send
                if not todo:
                    continue
                if todo[0].action:
                    answers = self._apply_action(tx, who, todo, restores, now, req.cursor, req.ops)
                else:
                    answers = [self._apply_op(tx, who, todo[0], restores, now, req.cursor, req.ops)]
                for op, result in zip(todo, answers, strict=True):
                    tx.defer("INSERT INTO applied_ops (op_id, device_id, device_seq, user_id, tbl, row_id, status, "
                             "reason, hub_seq, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             [(op.op_id, who.device_id, op.device_seq, who.user_id, op.table, op.row_id,
                               result.status, result.reason, result.hub_seq, now)])
                    results[op.op_id] = result
            self._send_back(tx, principal, list(restores), now)
            if req.ops:
                tx.execute("UPDATE hub_devices SET last_seen_ms = ?, last_device_seq = "
                           "CASE WHEN last_device_seq > ? THEN last_device_seq ELSE ? END WHERE device_id = ?",
                           [now, max(o.device_seq for o in req.ops), max(o.device_seq for o in req.ops), who.device_id])
        return p.PushResponse(results=[results[op.op_id] for op in req.ops], hub_time_ms=now)

    @staticmethod
    def _units(ops: list[p.Op]) -> list[list[p.Op]]:
        """The batch as units, parents' tables first: each op alone, and each field action's ops
        together (in table order, placed after the plain ops of its last table, so a row the
        desktop made before the action is on the hub when the action is judged).  An op id twice
        in a batch is one op."""
        seen: set[str] = set()
        singles: list[tuple[tuple, list[p.Op]]] = []
        actions: dict[str, list[p.Op]] = {}
        for i, op in enumerate(ops):
            if op.op_id in seen:
                continue
            seen.add(op.op_id)
            if op.action:
                actions.setdefault(op.action_id or op.op_id, []).append(op)
            else:
                singles.append(((RANK.get(op.table, len(RANK)), 0, i), [op]))
        for members in actions.values():
            members.sort(key=lambda o: RANK.get(o.table, len(RANK)))
            top = max(RANK.get(o.table, len(RANK)) for o in members)
            singles.append(((top, 1, ops.index(members[0])), members))
        return [unit for _, unit in sorted(singles, key=lambda u: u[0])]

    @staticmethod
    def _in_chunks(tx: Tx, sql: str, keys: list, first: list = (), size: int = 500) -> list[tuple]:
        out: list[tuple] = []
        for start in range(0, len(keys), size):
            chunk = keys[start:start + size]
            out += tx.all(sql.format(", ".join("?" * len(chunk))), [*first, *chunk])
        return out

    # -- field actions: all or nothing ----------------------------------------------------

    def _apply_action(self, tx: Tx, who: Account, ops: list[p.Op], restores: dict, now: int, cursor: int,
                      batch: list[p.Op]) -> list[p.OpResult]:
        """A field action (an installation, a removal...) as one unit: judged whole against the
        hub's rows, then applied inside a savepoint; any part refused refuses every part, and
        the hub's versions of all of them go back to the desktop."""
        spec = spec_for(ops[0].action)

        def refuse_all(reason: str) -> list[p.OpResult]:
            for op in ops:
                if op.table in RULES:
                    restores[(op.table, op.row_id)] = None
            return [p.OpResult(op_id=op.op_id, status="refused", reason=reason) for op in ops]

        if spec is None or any(op.action != ops[0].action for op in ops):
            return refuse_all(f"{ops[0].action!r} is not a field action this hub knows: update emdesk")
        label = spec.action.label
        whole = f"the {label} was refused as a whole, nothing of it was kept"
        if who.role not in spec.roles:
            return refuse_all(f"{who.role.label} accounts do not record {label}s: {whole}")
        rows: list[ActionRow] = []
        for op in ops:
            rule, grant = RULES.get(op.table), spec.grants.get(op.table)
            if rule is None or grant is None:
                return refuse_all(f"an {label} does not change {op.table}: {whole}")
            try:
                data = _plain(_canonical(op.table, op.payload))
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                return refuse_all(f"{op.table}: the change could not be read ({exc}): {whole}")
            current = self._load(tx, op.table, op.row_id)
            before = current.data if current and not current.deleted else (
                {**current.data, "deleted": True} if current else None)
            rows.append(ActionRow(op.table, op.row_id, before, self._effective(rule, current, data, op.changed),
                                  frozenset(op.changed if op.changed is not None else data)))

        def lookup(table: str, rid: str) -> dict | None:
            row = self._load(tx, table, rid)
            return None if row is None else {**row.data, "deleted": row.deleted}

        problem = spec.check(who.user_id, rows, lookup)
        if problem:
            return refuse_all(f"{problem}: {whole}")
        with tx.savepoint() as point:
            results = [self._apply_op(tx, who, op, restores, now, cursor, batch, spec=spec) for op in ops]
            failed = next((r for r in results if r.status == "refused"), None)
            if failed is not None:
                point.undo()
        if failed is not None:
            return refuse_all(f"{failed.reason}: {whole}")
        return results

    def _hub_stamp(self, current: _Row | None) -> str:
        """A hub stamp later than every version of the row the hub holds: a field action the hub
        has judged against its current rows is applied as the hub's own event."""
        seen = [current.hlc, *current.field_hlcs.values()] if current else []
        seen = [s for s in seen if hlcmod.is_valid(s)]
        newest = max((hlcmod.Stamp.parse(s) for s in seen), key=hlcmod.Stamp.key, default=None)
        if newest is not None:
            self._hlc = hlcmod.receive(self._hlc, newest, self.now_ms(), "hub")
        return self._stamp()

    @staticmethod
    def _effective(rule: TableRule, current: _Row | None, data: dict, changed: list[str] | None) -> dict:
        """The row as it would be if every field the writer changed were taken (field merges
        take only those; the rest stays as the hub has it)."""
        if current is None or rule.policy is not Policy.FIELDS_LWW or changed is None:
            return data
        out = dict(current.data)
        out.update({k: data[k] for k in changed if k in data and k not in META_FIELDS})
        return out

    # -- one op ------------------------------------------------------------------------------

    def _apply_op(self, tx: Tx, who: Account, op: p.Op, restores: dict, now: int, cursor: int,
                  batch: list[p.Op] = (), *, spec: ActionSpec | None = None) -> p.OpResult:
        def refused(reason: str) -> p.OpResult:
            if op.table in RULES:
                restores[(op.table, op.row_id)] = None
            return p.OpResult(op_id=op.op_id, status="refused", reason=reason)

        rule = RULES.get(op.table)
        if rule is None:
            return refused(f"{op.table}: not something the hub keeps")
        try:
            hlcmod.Stamp.parse(op.hlc)
            record = _canonical(op.table, op.payload)
        except (ValueError, msgspec.DecodeError, msgspec.ValidationError) as exc:
            return refused(f"{op.table}: the change could not be read ({exc})")
        if record.id != op.row_id:
            return refused(f"{op.table}: the change names two different records")
        data = _plain(record)
        deleted = op.kind == "delete" or bool(record.deleted)
        data["hlc"], data["deleted"] = op.hlc, deleted
        if (op.table, op.row_id) in tx.memo.get("purged", ()):
            return refused(f"{op.table}: this record was deleted on the hub; the change cannot bring it back")
        current = self._load(tx, op.table, op.row_id)
        principal = who.principal
        grant = spec.grants.get(op.table) if spec else None
        if spec is not None and deleted:
            return refused(f"{op.table}: an {spec.action.label} does not delete records")
        if current is not None and not _sees(principal, current.audience) and not (
                grant is not None and grant.claims and _unallocated(current.data)):
            return refused(f"{op.table}: this record is not in your caseload or region, so your change was not accepted")
        reason = may_write(rule, Writer(who.user_id, who.role), current.hub_row() if current else None, data,
                           grant=grant, action=spec.action.label if spec else "", changed=op.changed)
        if reason:
            return refused(reason)
        held = current.data if current else None
        needed = None if spec else required_action(op.table, held, data)
        if needed is not None and who.role is Role.FIELD_OFFICER:
            return refused(f"{op.table}: an {needed.label} is recorded as one unit, with its devices and order "
                           "(the pairing wizard does this): this change alone was not accepted")
        reason = authorship.forged(op.table, who.user_id, who.device_id, held, data)
        if reason:
            return refused(reason)
        data = authorship.settle(op.table, who.user_id, who.device_id, held, data,
                                 datetime.fromtimestamp(now / 1000, timezone.utc))
        effective = self._effective(rule, current, data, op.changed)
        reason = self._references(tx, who, op.table, current, effective)
        if reason:
            return refused(reason)
        after = self._audience(tx, op.table, effective, self._batch_cases(tx, who, op, batch))
        if not _sees(principal, after) and not self._leaves_by_design(rule, grant, who, held, effective):
            what = "would be outside" if current is None else "would move it out of"
            return refused(f"{op.table}: this change {what} your caseload or region, so it was not accepted "
                           "(a supervisor can move a case)")
        stamp = op.hlc
        if spec is not None:
            stamp = data["hlc"] = self._hub_stamp(current)
        if current is None:
            tx.memo.setdefault("created", set()).add((op.table, op.row_id))
        return self._decide(tx, rule, op.table, op.row_id, data, stamp, deleted, op.changed, current, now,
                            op_id=op.op_id, restores=restores, device=who.device_id, cursor=cursor)

    def _references(self, tx: Tx, who: Account, table: str, current: _Row | None, effective: dict) -> str | None:
        """A change may only point a record at people, orders and incidents the writer may hold
        (checked where it sets or moves a reference), and a record's person is its order's."""
        order, moved = None, current is None
        for name, target in REFERENCES.get(table, ()):
            value = effective.get(name)
            if not value:
                continue
            row = self._load(tx, target, value)
            if target == "orders":
                order = row
            if current is not None and current.data.get(name) == value:
                continue
            moved = True
            noun = {"subjects": "person", "orders": "order", "incidents": "incident"}[target]
            if row is None:
                return f"{table}: the {noun} it is for is not on the hub, so the change was not accepted"
            if not _sees(who.principal, row.audience) and (target, value) not in tx.memo.get("created", ()):
                # (A person made in this same push arrives with the orders naming them: they are
                # judged with their case when they are written, and have no other case to leak.)
                return (f"{table}: {name} names a {noun} outside your caseload or region, so the change was "
                        "not accepted")
        person = effective.get("subject_id")
        if moved and order is not None and person and order.data.get("subject_id") not in (None, "", person):
            return f"{table}: the person named is not the person of its order, so the change was not accepted"
        return None

    @staticmethod
    def _leaves_by_design(rule: TableRule, grant: Grant | None, who: Account, held: dict | None, after: dict) -> bool:
        """Changes that take a row out of the writer's scope by the scope rules themselves: kit
        released to stock by a removal, a booked officer finishing a visit on a colleague's case."""
        if grant is not None and grant.releases:
            return True
        owner = rule.owner_field
        return bool(owner and held is not None and held.get(owner) == who.user_id and after.get(owner) == who.user_id)

    def _batch_cases(self, tx: Tx, who: Account, op: p.Op, batch: list[p.Op]) -> dict[str, tuple[str | None, CaseLink]]:
        """For a new subject: the orders in the same batch that will link it (subjects go first, so
        a case opened on a desktop, person and order together, is judged with its order)."""
        if op.table != "subjects":
            return {}
        by_subject = tx.memo.get("batch_orders")
        if by_subject is None:           # the batch's orders, read once per push
            by_subject = tx.memo["batch_orders"] = {}
            for other in batch:
                if other.table != "orders":
                    continue
                try:
                    order = msgspec.to_builtins(_canonical("orders", other.payload))
                except (msgspec.DecodeError, msgspec.ValidationError):
                    continue
                if order.get("id") == other.row_id:
                    sid, link = self._order_link(order)
                    by_subject.setdefault(sid, {})[other.row_id] = link
        out: dict[str, tuple[str | None, CaseLink]] = {}
        for order_id, link in by_subject.get(op.row_id, {}).items():
            current = self._load(tx, "orders", order_id)
            if current is not None and not _sees(who.principal, current.audience):
                continue     # an order this user may not touch does not vouch for anything
            out[order_id] = (op.row_id, link)
        return out

    def _decide(self, tx: Tx, rule, tbl: str, rid: str, data: dict, stamp: str, deleted: bool,
                changed: list[str] | None, current: _Row | None, now: int, *, op_id: str = "",
                restores: dict | None = None, device: str = "hub", cursor: int | None = None) -> p.OpResult:
        decision = merge(rule, current.hub_row() if current else None, data, stamp, deleted=deleted, changed=changed)
        seq = 0
        if decision.row is not None:
            seq = self._write(tx, tbl, rid, decision.row.data, decision.row.hlc, decision.row.field_hlcs,
                              decision.row.deleted, now, current, device)
        elif restores is not None and current is not None and current.data != data:
            restores[(tbl, rid)] = None
        if cursor is not None:     # pushed ops only; loading records keeps no conflicts
            for loser in decision.losers:
                if self._concurrent(loser, stamp, current, device, cursor):
                    self._conflict(tx, tbl, rid, loser, now)
        return p.OpResult(op_id=op_id, status=decision.status, reason=decision.reason, hub_seq=seq)

    @staticmethod
    def _concurrent(loser, stamp: str, current: _Row | None, device: str, cursor: int) -> bool:
        """Is a merge loser a real conflict?  The pushed value losing always is (its writer had
        not seen the newer one, or its stamp would be newer).  A held value beaten by the push
        is one only if the pusher had not seen it: written by another device after the hub
        seq the pusher had pulled to.  Otherwise it is an ordinary later edit."""
        if loser.hlc == stamp or current is None:
            return True
        seq, writer = (current.field_meta.get(loser.field) or [0, ""])[:2]
        return seq > cursor and writer != device

    def _send_back(self, tx: Tx, principal: str, keys: list[tuple[str, str]], now: int) -> None:
        """The hub's version (or an eviction) of rows whose push did not stick, to the writer."""
        if not keys:
            return
        ups, gone = [], []
        for tbl, rid in keys:
            row = self._load(tx, tbl, rid)
            if row is not None and _sees(principal, row.audience):
                ups.append(row)
            else:
                gone.append((tbl, rid))
        events = [self._upsert_event([principal], r.tbl, r.id, r.text, r.hlc, r.deleted)
                  for r in sorted(ups, key=lambda r: (RANK[r.tbl], r.id))]
        events += [_Event([principal], "evict", tbl, rid)
                   for tbl, rid in sorted(gone, key=lambda k: (RANK[k[0]], k[1]), reverse=True)]
        self._emit(tx, events, now)

    # -- pull and bootstrap -----------------------------------------------------

    def _limit(self, asked: int) -> int:
        return max(1, min(int(asked or 1), self.max_page))

    def pull(self, who: Account, req: p.PullRequest) -> p.PullResponse:
        self.check_schema(req.schema_version)
        if req.device_id != who.device_id:
            raise HubError(403, "wrong_device", "This sign-in belongs to another desktop.")
        now, limit, principal = self.now_ms(), self._limit(req.limit), who.principal
        with self.storage.bookkeeping() as tx:
            tx.execute("UPDATE hub_devices SET cursor = ?, last_seen_ms = ? WHERE device_id = ?",
                       [req.cursor, now, who.device_id])
        with self.storage.read(principal) as tx:
            head, horizon = tx.current_seq(), tx.horizon()
            if req.cursor < horizon or req.cursor > head:
                return p.PullResponse(changes=[], cursor=req.cursor, more=False, hub_time_ms=now, rebuild=True)
            rows = tx.all("SELECT seq, tbl, row_id, kind, hlc, payload FROM change_log "
                          "WHERE principal IN (?, ?) AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
                          [principal, EVERYONE, req.cursor, head, limit + 1])
            more = len(rows) > limit
            rows = rows[:limit]
            cursor = rows[-1][0] if more else head
            remaining = 0
            if more:
                remaining = int(tx.scalar("SELECT count(*) FROM change_log WHERE principal IN (?, ?) AND seq > ? "
                                          "AND seq <= ?", [principal, EVERYONE, cursor, head], default=0))
        changes = [p.Change(seq=r[0], table=r[1], row_id=r[2], kind=r[3], hlc=r[4], payload=r[5]) for r in rows]
        return p.PullResponse(changes=changes, cursor=cursor, more=more, hub_time_ms=now, remaining=remaining)

    # Both conditions are written so that a page walks the keyset index (rank, id) and stops
    # at its LIMIT, whatever the planner's statistics (none yet, right after a load): an OR
    # let SQLite sort the whole table for every page, and PostgreSQL turned the EXISTS into a
    # join over the whole audience (the LIMIT/OFFSET keeps it a per-row probe) or, guessing
    # the snapshot test very selective, sorted every remaining row for each page.
    _VISIBLE = ("EXISTS (SELECT 1 FROM row_audience a WHERE a.tbl = r.tbl AND a.row_id = r.id "
                "AND a.principal IN (?, ?) LIMIT 1 OFFSET 0)")
    # Rows as of the snapshot; subjects always (current version, tombstoned or not), so a
    # page never holds an order whose subject changed after the snapshot and so is missing.
    _IN_SNAPSHOT = ("r.updated_seq <= (CASE WHEN r.tbl = 'subjects' THEN r.updated_seq "
                    "WHEN r.deleted = 0 THEN ? ELSE -1 END)")

    def bootstrap(self, who: Account, req: p.BootstrapRequest) -> p.BootstrapResponse:
        self.check_schema(req.schema_version)
        if req.device_id != who.device_id:
            raise HubError(403, "wrong_device", "This sign-in belongs to another desktop.")
        now, limit, principal = self.now_ms(), self._limit(req.limit), who.principal
        snapshot = req.snapshot
        with self.storage.bookkeeping() as tx:
            if snapshot == 0:
                snapshot = tx.current_seq()
                # Counted as this device's cursor from now on, so GC keeps the log after it.
                tx.execute("UPDATE hub_devices SET cursor = ?, last_seen_ms = ? WHERE device_id = ?",
                           [snapshot, now, who.device_id])
            else:
                tx.execute("UPDATE hub_devices SET last_seen_ms = ? WHERE device_id = ?", [now, who.device_id])
        if req.after_table and req.after_table not in RANK:
            raise HubError(400, "bad_request", f"unknown table {req.after_table!r}")
        after = (RANK[req.after_table], req.after_id) if req.after_table else (-1, "")
        with self.storage.read(principal) as tx:
            if snapshot < tx.horizon() or snapshot > tx.current_seq():
                raise HubError(409, "snapshot_expired", "The hub moved on while this desktop was loading; "
                               "loading starts again.", hub_time_ms=now)
            visible, args = self._visible(principal)
            args = [*args, snapshot]
            total = 0
            if req.snapshot == 0:
                total = int(tx.scalar(f"SELECT count(*) FROM hub_rows r WHERE {visible} AND {self._IN_SNAPSHOT}",
                                      args, default=0))
            if req.protocol >= 2 and req.schema_version in (None, SCHEMA_VERSION):
                return self._table_page(tx, req, snapshot, after, visible, args, limit, now, total)
            rows = tx.all(f"SELECT r.tbl, r.id, r.hlc, r.data FROM hub_rows r WHERE (r.rank, r.id) > (?, ?) "
                          f"AND {visible} AND {self._IN_SNAPSHOT} ORDER BY r.rank, r.id LIMIT ?",
                          [*after, *args, limit + 1])
        more = len(rows) > limit
        rows = rows[:limit]
        last = (rows[-1][0], rows[-1][1]) if rows else (req.after_table, req.after_id)
        return p.BootstrapResponse(
            snapshot=snapshot, rows=[p.Change(seq=0, table=r[0], row_id=r[1], kind="upsert", hlc=r[2], payload=r[3])
                                     for r in rows],
            after_table=last[0], after_id=last[1], more=more, hub_time_ms=now, total=total)

    # -- audit anchors ------------------------------------------------------------------

    def anchor_audit(self, who: Account, req: p.AuditAnchorRequest) -> p.AuditAnchorResponse:
        """Keep a desktop's audit-log head outside its store.  A head must extend the last one
        the hub holds for that desktop (the desktop proves it still has that entry, with the
        same hash); a log that comes back shorter or rewritten is recorded as an alarm, which
        ``emdesk audit verify`` reports.  ``head_seq`` -1 only asks for the last anchor."""
        self.check_schema(req.schema_version)
        if req.device_id != who.device_id:
            raise HubError(403, "wrong_device", "This sign-in belongs to another desktop.")
        now = self.now_ms()
        with self.storage.bookkeeping() as tx:
            last = tx.one("SELECT seq, hash, at_ms FROM audit_anchors WHERE device_id = ? AND alarm = '' "
                          "ORDER BY seq DESC, at_ms DESC LIMIT 1", [who.device_id])
            alarms = tx.one("SELECT alarm FROM audit_anchors WHERE device_id = ? AND alarm <> '' "
                            "ORDER BY at_ms DESC LIMIT 1", [who.device_id])
            anchor = p.AuditAnchor(seq=int(last[0]), hash=last[1], at_ms=int(last[2])) if last else p.AuditAnchor()
            alarm = ""
            if req.head_seq >= 0:
                alarm = self._audit_alarm(anchor, req)
                if alarm:
                    tx.execute("INSERT INTO audit_anchors (device_id, seq, hash, at_ms, alarm) VALUES (?, ?, ?, ?, ?)",
                               [who.device_id, req.head_seq, req.head_hash[:64], now, alarm])
                elif req.head_seq > anchor.seq and req.proof_seq == anchor.seq:
                    tx.execute("INSERT INTO audit_anchors (device_id, seq, hash, at_ms) VALUES (?, ?, ?, ?)",
                               [who.device_id, req.head_seq, req.head_hash, now])
                    anchor = p.AuditAnchor(seq=req.head_seq, hash=req.head_hash, at_ms=now)
        when = datetime.fromtimestamp(now / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        return p.AuditAnchorResponse(anchor=anchor, hub_time_ms=now,
                                     alarm=f"{alarm} (seen by the hub {when})" if alarm else (alarms[0] if alarms else ""))

    @staticmethod
    def _audit_alarm(anchor: p.AuditAnchor, req: p.AuditAnchorRequest) -> str:
        if len(req.head_hash) != 64 or any(c not in "0123456789abcdef" for c in req.head_hash):
            raise HubError(400, "bad_request", "head_hash must be 64 lowercase hex digits")
        if not anchor.seq:
            return ""
        if req.head_seq < anchor.seq:
            return (f"the audit log ends at entry {req.head_seq}, but the hub anchored entry {anchor.seq}: "
                    "entries were removed")
        if req.proof_seq == anchor.seq and req.proof_hash != anchor.hash:
            return f"entry {anchor.seq} of the audit log is not the one the hub anchored: the log was rewritten"
        return ""

    def _visible(self, principal: str) -> tuple[str, list]:
        """The condition for rows a principal may hold, and its arguments.  Every row's audience
        holds ``all`` or ``*`` (``scope.audience``), so ``all`` sees every row: no probe per row."""
        if principal == ALL:
            return "1 = 1", []
        return self._VISIBLE, [principal, EVERYONE]

    def _table_page(self, tx: Tx, req: p.BootstrapRequest, snapshot: int, after: tuple, visible: str, args: list,
                    limit: int, now: int, total: int) -> p.BootstrapResponse:
        """A protocol-2 page: the same rows as a version-1 page (same keyset, scope and snapshot),
        as ready table rows: each table's desk rows joined into one JSON array, never decoded
        or re-encoded here.  A row whose desk is missing or made for another store schema gets
        one made now; rows desktops keep otherwise (conflicts) go as changes."""
        rows = tx.all("SELECT r.tbl, r.id, r.hlc, CASE WHEN r.desk_schema = ? THEN r.desk END, "
                      "CASE WHEN r.desk_schema = ? THEN NULL ELSE r.data END FROM hub_rows r "
                      f"WHERE (r.rank, r.id) > (?, ?) AND {visible} AND {self._IN_SNAPSHOT} "
                      "ORDER BY r.rank, r.id LIMIT ?", [SCHEMA_VERSION, SCHEMA_VERSION, *after, *args, limit + 1])
        more = len(rows) > limit
        rows = rows[:limit]
        last = (rows[-1][0], rows[-1][1]) if rows else (req.after_table, req.after_id)
        tables: list[p.TableRows] = []
        changes: list[p.Change] = []
        for tbl, group in itertools.groupby(rows, key=operator.itemgetter(0)):
            group = list(group)
            if tbl not in BY_TABLE:
                changes += [p.Change(seq=0, table=tbl, row_id=rid, kind="upsert", hlc=stamp, payload=data)
                            for _, rid, stamp, _, data in group]
                continue
            desks = [desk if desk is not None else _desk(tbl, data) for _, _, _, desk, data in group]
            tables.append(p.TableRows(table=tbl, columns=self._desk_columns(tx, tbl), count=len(desks),
                                      top_hlc=max((r[2] for r in group), key=hlcmod.key),
                                      rows=msgspec.Raw(("[" + ",".join(desks) + "]").encode())))
        return p.BootstrapResponse(snapshot=snapshot, rows=changes, tables=tables, after_table=last[0],
                                   after_id=last[1], more=more, hub_time_ms=now, total=total)

    @staticmethod
    def _desk_columns(tx: Tx, tbl: str) -> list[str]:
        if tbl not in _DESK_COLUMNS:      # no row of this table written by this process yet
            _desk(tbl, tx.scalar("SELECT data FROM hub_rows WHERE tbl = ? LIMIT 1", [tbl]))
        return list(_DESK_COLUMNS[tbl])

    # -- administration -----------------------------------------------------------

    def load(self, users: Iterable[tuple[User, str]], records: Iterable[Record], *, bulk: bool = True) -> dict[str, int]:
        """Load records (the demo world, a migration) as the hub itself; users get hub accounts.
        Records the hub does not hold yet go in in bulk (``bulk=False``: one by one, as before)."""
        users = list(users)
        digests = [(u, self.hasher.hash(password)) for u, password in users]
        everything = [u for u, _ in users] + [r for r in records if not isinstance(r, User)]
        everything.sort(key=lambda r: RANK[type(r).table])
        counts: dict[str, int] = {}
        now = self.now_ms()
        with self.storage.write(writer=ALL) as tx:
            for user, digest in digests:
                self._put_account(tx, user, digest)
            stamped = []
            for record in everything:
                tbl = type(record).table
                stamped.append((tbl, record, self._stamp()))
                counts[tbl] = counts.get(tbl, 0) + 1
            held: set[tuple[str, str]] = set()
            for tbl in sorted(counts) if tx.one("SELECT 1 FROM hub_rows LIMIT 1") else ():
                held |= {(tbl, i) for (i,) in self._in_chunks(
                    tx, "SELECT id FROM hub_rows WHERE tbl = ? AND id IN ({})",
                    sorted({r.id for t, r, _ in stamped if t == tbl}), [tbl], size=5000)}
            fresh, again, seen = [], [], set()
            for item in stamped:
                key = (item[0], item[1].id)
                (again if key in held or key in seen or not bulk else fresh).append(item)
                seen.add(key)
            self._load_fresh(tx, fresh, now)
            # Records the hub holds already (or twice in this load): one by one, as a push would.
            for tbl, record, stamp in again:
                data = msgspec.to_builtins(record.evolve(hlc=stamp, origin=record.origin or "hub"))
                current = self._load(tx, tbl, record.id)
                self._decide(tx, RULES[tbl], tbl, record.id, data, stamp, bool(record.deleted), None, current, now)
        return counts

    _HUB_ROW_COLUMNS = ["tbl", "id", "rank", "data", "hlc", "field_hlcs", "field_meta", "deleted", "updated_seq",
                        "changed_ms", "order_id", "subject_id", "case_region", "case_officer", "desk", "desk_schema"]

    def _load_fresh(self, tx: Tx, items: list[tuple[str, Record, str]], now: int) -> None:
        """Records the hub does not hold yet (in table rank order), in bulk: their rows,
        audiences and feed entries are worked out in memory and inserted at once.  The hub
        ends as a record-by-record load leaves it, save that a row's feed entry goes straight
        to its final audience (one upsert where the per-record path sends a person first to
        supervisors, then to their case's audience once the order is written)."""
        if not items:
            return
        orders: dict[str, tuple[str | None, CaseLink]] = {
            oid: (sid, CaseLink(region or "", officer or None)) for oid, sid, region, officer in tx.all(
                "SELECT id, subject_id, case_region, case_officer FROM hub_rows WHERE tbl = 'orders'")}
        decided = []
        for tbl, record, stamp in items:
            record = record.evolve(hlc=stamp, origin=record.origin or "hub")
            data = msgspec.to_builtins(record)
            row = merge(RULES[tbl], None, data, stamp, deleted=bool(record.deleted), changed=None).row
            data = dict(row.data)
            data["hlc"], data["deleted"] = row.hlc, row.deleted
            if tbl == "orders":
                orders[record.id] = self._order_link(data)
            decided.append((tbl, record, data, row))
        by_subject: dict[str, list[CaseLink]] = {}
        for sid, link in orders.values():
            if sid:
                by_subject.setdefault(sid, []).append(link)
        hub_rows, audiences, feed = [], [], []
        for tbl, record, data, row in decided:
            rid = record.id
            if tbl == "orders":
                cases = [orders[rid][1]]
            elif tbl == "subjects":
                cases = by_subject.get(rid, [])
            elif tbl == "notes" and not data.get("order_id"):
                cases = by_subject.get(data.get("subject_id") or "", [])
            elif data.get("order_id"):
                link = orders.get(data["order_id"])
                cases = [link[1]] if link else []
            else:
                cases = []
            aud = sorted({ALL} if tbl == CONFLICTS else audience(tbl, data, cases))
            seq = tx.allocate_seq()
            text = _dumps(data)
            # The record is what the text decodes to (a new row is the record as loaded): its
            # desk row straight from it, as _write makes it from the text.
            desk = _desk(tbl, text, record if record.hlc == row.hlc and record.deleted == row.deleted else None)
            meta = {name: [seq, "hub"] for name in row.field_hlcs}
            hub_rows.append((tbl, rid, RANK[tbl], text, row.hlc, _dumps(row.field_hlcs), _dumps(meta), int(row.deleted),
                             seq, now, *self._columns(tbl, data), desk, SCHEMA_VERSION if desk is not None else None))
            kind = "delete" if row.deleted else "upsert"
            for who in aud:
                audiences.append((tbl, rid, who))
                feed.append((who, seq, tbl, rid, kind, row.hlc, text, now))
        # In keyset order (rank, id): bootstrap pages then read the table's pages in order
        # instead of one page per row.
        hub_rows.sort(key=operator.itemgetter(2, 1))
        tx.bulk_insert("hub_rows", self._HUB_ROW_COLUMNS, hub_rows)
        tx.bulk_insert("row_audience", ["tbl", "row_id", "principal"], audiences)
        tx.bulk_insert("change_log", ["principal", "seq", "tbl", "row_id", "kind", "hlc", "payload", "at_ms"], feed)

    def gc(self) -> dict[str, int]:
        """Drop tombstones every active device has synced past (and older than ``tombstone_days``),
        and the change log up to the same horizon; devices behind it rebuild."""
        now = self.now_ms()
        with self.storage.write() as tx:
            head, old = tx.current_seq(), tx.horizon()
            cursor = tx.scalar("SELECT min(cursor) FROM hub_devices WHERE revoked = 0 AND cursor IS NOT NULL "
                               "AND last_seen_ms >= ?", [now - self.active_days * DAY_MS], default=head)
            aged = tx.scalar("SELECT max(seq) FROM change_log WHERE at_ms <= ?",
                             [now - self.tombstone_days * DAY_MS], default=old)
            horizon = min(int(cursor), int(aged), head)
            purged = pruned = 0
            if horizon > old:
                # Order tombstones stay: they hold the case links every audience of the case (its
                # person, visits, notes, kit, monitoring rows) is computed from, so dropping one
                # would leave those audiences stale.  A person stays while an order names them.
                tombs = tx.all("SELECT r.tbl, r.id FROM hub_rows r WHERE r.deleted = 1 AND r.updated_seq <= ? "
                               "AND r.tbl <> 'orders' AND NOT (r.tbl = 'subjects' AND EXISTS (SELECT 1 FROM hub_rows o "
                               "WHERE o.tbl = 'orders' AND o.subject_id = r.id))", [horizon])
                for tbl, rid in tombs:
                    tx.execute("DELETE FROM row_audience WHERE tbl = ? AND row_id = ?", [tbl, rid])
                    tx.execute("DELETE FROM hub_rows WHERE tbl = ? AND id = ?", [tbl, rid])
                    tx.execute("INSERT INTO purged (tbl, id, at_ms) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                               [tbl, rid, now])
                purged = len(tombs)
                pruned = tx.execute("DELETE FROM change_log WHERE seq <= ?", [horizon]).rowcount
                tx.execute("UPDATE hub_state SET horizon = ? WHERE id = 1", [horizon])
            ops = tx.execute("DELETE FROM applied_ops WHERE at_ms < ?",
                             [now - max(self.applied_ops_days, self.tombstone_days) * DAY_MS]).rowcount
        return {"horizon": max(horizon, old), "tombstones_purged": purged, "log_entries_pruned": pruned,
                "op_ids_forgotten": ops}

    def visible_counts(self, principal: str) -> dict[str, int]:
        """Live (not deleted) rows a principal may hold, per table."""
        with self.storage.read(principal) as tx:
            rows = tx.all(f"SELECT r.tbl, count(*) FROM hub_rows r WHERE r.deleted = 0 AND {self._VISIBLE} "
                          "GROUP BY r.tbl", [principal, EVERYONE])
        return {tbl: int(n) for tbl, n in rows}

    def head(self) -> int:
        with self.storage.bookkeeping() as tx:
            return tx.current_seq()
