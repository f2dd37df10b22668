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
     upserts (parents first) or evictions (children first); a visit whose officers or crew
     change, or that finishes, moves its case's door rows the same way (officers gained at
     once, officers leaving when the push's transaction ends: ``Rows._visit_changed``);
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

import operator
from collections.abc import Iterable

import msgspec
from argon2 import PasswordHasher

from emdesk.domain import hlc as hlcmod
from emdesk.domain.clock import Clock, SystemClock
from emdesk.domain.monitoring import TelemetryEvent
from emdesk.domain.records import Record
from emdesk.domain.users import User
from emdesk.store.migrations import LATEST as SCHEMA_VERSION

from ..ordering import CONFLICTS, RANK
from ..policy import RULES, merge
from ..scope import ALL, CaseLink, audience, visit_holders
from . import events
from .accounts import Accounts, HubError
from .storage import HubStorage, Tx
from .audit_anchors import AuditAnchors
from .event_feed import EventFeed
from .feed import Feed
from .push import Push
from .rows import DAY_MS, HELD, MAX_PUSH_OPS, OLDEST_SCHEMA, Rows, _desk, _dumps, _visitors, _visitors_text


class Hub(Push, Feed, EventFeed, AuditAnchors, Rows, Accounts):
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

    # -- administration -----------------------------------------------------------

    def load(self, users: Iterable[tuple[User, str]], records: Iterable[Record], *, bulk: bool = True) -> dict[str, int]:
        """Load records (the demo world, a migration) as the hub itself; users get hub accounts.
        Records the hub does not hold yet go in in bulk (``bulk=False``: one by one, as before).
        ``TelemetryEvent``s among them go into the device-event table (duplicates ignored, none
        naming no order), in the same transaction; counted as ``device_events`` (new ones)."""
        users = list(users)
        digests = [(u, self.hasher.hash(password)) for u, password in users]
        records = list(records)
        # Telemetry is not a record: it goes into the narrow event table (COPY on PostgreSQL).
        telemetry = [r for r in records if isinstance(r, TelemetryEvent)]
        everything = [u for u, _ in users] + [r for r in records if not isinstance(r, (User, TelemetryEvent))]
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
                held |= {(tbl, i) for (i,) in tx.all_in(
                    "SELECT id FROM hub_rows WHERE tbl = ? AND id IN ({})",
                    sorted({r.id for t, r, _ in stamped if t == tbl}), [tbl])}
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
            self._settle_visitors(tx, now)
            if telemetry:
                rows, _orphans = events.rows_of(telemetry)
                events.lock_events(tx)
                counts["device_events"] = events.insert_events(tx, rows)
        return counts

    _HUB_ROW_COLUMNS = ["tbl", "id", "rank", "data", "hlc", "field_hlcs", "field_meta", "deleted", "updated_seq",
                        "changed_ms", "order_id", "subject_id", "case_region", "case_officer", "desk", "desk_schema",
                        "case_visitors"]

    def _load_fresh(self, tx: Tx, items: list[tuple[str, Record, str]], now: int) -> None:
        """Records the hub does not hold yet (in table rank order), in bulk: their rows,
        audiences and feed entries are worked out in memory and inserted at once.  The hub
        ends as a record-by-record load leaves it, save that a row's feed entry goes straight
        to its final audience (one upsert where the per-record path sends a person first to
        supervisors, then to their case's audience once the order is written)."""
        if not items:
            return
        orders: dict[str, tuple[str | None, CaseLink]] = {
            oid: (sid, CaseLink(region or "", officer or None, _visitors(visitors)))
            for oid, sid, region, officer, visitors in tx.all(
                "SELECT id, subject_id, case_region, case_officer, case_visitors FROM hub_rows WHERE tbl = 'orders'")}
        held_orders = set(orders)
        decided = []
        holders: dict[str, frozenset[str]] = {}       # visit id -> its officers while open
        visiting: dict[str, set[str]] = {}            # order id -> officers its new visits bring
        for tbl, record, stamp in items:
            record = record.evolve(hlc=stamp, origin=record.origin or "hub")
            data = msgspec.to_builtins(record)
            row = merge(RULES[tbl], None, data, stamp, deleted=bool(record.deleted), changed=None).row
            data = dict(row.data)
            data["hlc"], data["deleted"] = row.hlc, row.deleted
            if tbl == "orders":
                orders[record.id] = self._order_link(data)
            elif tbl == "visits":
                holders[record.id] = visit_holders(data)
                if holders[record.id] and data.get("order_id"):
                    visiting.setdefault(data["order_id"], set()).update(holders[record.id])
            decided.append((tbl, record, data, row))
        # Officers visiting a case loaded now; a case the hub held already is moved after
        # (``_grant_visitors``), as a push would move it.
        later = {oid: frozenset(who) for oid, who in visiting.items() if oid in held_orders}
        for oid, who in visiting.items():
            if oid in orders and oid not in held_orders:
                sid, link = orders[oid]
                orders[oid] = (sid, CaseLink(link.region, link.officer_id, link.visitors | who))
        loaded_packs: dict[str, list[dict]] = {}     # order id -> pack versions loaded now (outcomes follow them)
        for tbl, _record, data, _row in decided:
            if tbl == "breach_packs" and data.get("order_id"):
                loaded_packs.setdefault(data["order_id"], []).append(data)
        by_subject: dict[str, list[CaseLink]] = {}
        for sid, link in orders.values():
            if sid:
                by_subject.setdefault(sid, []).append(link)
        hub_rows, audiences, log, feed = [], [], [], []
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
            if tbl == "checklist_ticks":
                vid = data.get("visit_id")
                ticked = holders[vid] if vid in holders else self._holders(tx, vid)
            else:
                ticked = frozenset()
            packs = ([*loaded_packs.get(data.get("order_id") or "", ()),
                      *self._pack_versions(tx, data.get("order_id"), data.get("pack_id"))]
                     if tbl == "outcomes" else ())
            aud = sorted({ALL} if tbl == CONFLICTS else audience(tbl, data, cases, ticked, packs) | HELD)
            seq = tx.allocate_seq()
            text = _dumps(data)
            # The record is what the text decodes to (a new row is the record as loaded): its
            # desk row straight from it, as _write makes it from the text.
            desk = _desk(tbl, text, record if record.hlc == row.hlc and record.deleted == row.deleted else None)
            meta = {name: [seq, "hub"] for name in row.field_hlcs}
            hub_rows.append((tbl, rid, RANK[tbl], text, row.hlc, _dumps(row.field_hlcs), _dumps(meta), int(row.deleted),
                             seq, now, *self._columns(tbl, data), desk, SCHEMA_VERSION if desk is not None else None,
                             _visitors_text(orders[rid][1].visitors) if tbl == "orders" else None))
            kind = "delete" if row.deleted else "upsert"
            reaches = [who for who in aud if who not in HELD]
            log.append((seq, tbl, rid, kind, row.hlc, text, now, 1, _dumps(reaches)))
            for who in reaches:
                audiences.append((tbl, rid, who))
                feed.append((who, seq))
        # In keyset order (rank, id): bootstrap pages then read the table's pages in order
        # instead of one page per row.
        hub_rows.sort(key=operator.itemgetter(2, 1))
        tx.bulk_insert("hub_rows", self._HUB_ROW_COLUMNS, hub_rows)
        tx.bulk_insert("row_audience", ["tbl", "row_id", "principal"], audiences)
        tx.bulk_insert("change_log", ["seq", "tbl", "row_id", "kind", "hlc", "payload", "at_ms", "to_all", "reaches"],
                       log)
        tx.bulk_insert("change_feed", ["principal", "seq"], feed)
        for oid in sorted(later):
            self._grant_visitors(tx, oid, later[oid], now, ticks=False)

    def rescope_visitors(self) -> int:
        """Every case's visitors (officers holding an open visit on it) recomputed from its
        visits, and the cases whose visitors were not what the hub kept moved to their right
        audiences; returns how many moved.  Run when a hub starts serving: a hub made before
        visitors were kept (``case_visitors`` added, NULL) gives cover and crew their cases."""
        now = self.now_ms()
        with self.storage.write() as tx:
            found: dict[str, frozenset[str]] = {}
            for oid, text in tx.all("SELECT order_id, data FROM hub_rows WHERE tbl = 'visits' AND deleted = 0 "
                                    "AND order_id IS NOT NULL"):
                holders = visit_holders(msgspec.json.decode(text))
                if holders:
                    found[oid] = found.get(oid, frozenset()) | holders
            kept = {oid: _visitors(text) for oid, text in tx.all(
                "SELECT id, case_visitors FROM hub_rows WHERE tbl = 'orders' AND case_visitors IS NOT NULL")}
            wrong = sorted(oid for oid in set(found) | set(kept)
                           if found.get(oid, frozenset()) != kept.get(oid, frozenset()))
            moved = 0
            for oid in wrong:
                order = self._load(tx, "orders", oid)
                if order is None:
                    continue
                self._set_visitors(tx, order, found.get(oid, frozenset()))
                self._move_case(tx, oid, now)
                moved += 1
        return moved

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
                tx.execute("DELETE FROM change_feed WHERE seq <= ?", [horizon])
                tx.execute("UPDATE hub_state SET horizon = ? WHERE id = 1", [horizon])
            ops = tx.execute("DELETE FROM applied_ops WHERE at_ms < ?",
                             [now - max(self.applied_ops_days, self.tombstone_days) * DAY_MS]).rowcount
        return {"horizon": max(horizon, old), "tombstones_purged": purged, "log_entries_pruned": pruned,
                "op_ids_forgotten": ops}

    def visible_counts(self, principal: str) -> dict[str, int]:
        """Live (not deleted) rows a principal may hold, per table."""
        with self.storage.read(principal) as tx:
            visible, args = self._visible(principal)
            rows = tx.all(f"SELECT r.tbl, count(*) FROM hub_rows r WHERE r.deleted = 0 AND {visible} "
                          "GROUP BY r.tbl", args)
        return {tbl: int(n) for tbl, n in rows}

    def head(self) -> int:
        with self.storage.bookkeeping() as tx:
            return tx.current_seq()


__all__ = ["MAX_PUSH_OPS", "Hub"]
