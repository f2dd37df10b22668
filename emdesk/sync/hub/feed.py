"""Reading from the hub: a desktop's feed page by page, and bootstrap snapshots (mixed into ``Hub``)."""
from __future__ import annotations

import itertools
import operator

import msgspec

from emdesk.domain import hlc as hlcmod
from emdesk.store.migrations import LATEST as SCHEMA_VERSION
from emdesk.store.tables import BY_TABLE

from .. import protocol as p
from ..ordering import RANK
from ..scope import ALL, shared_with
from .accounts import Account, HubError
from .storage import Tx
from .rows import _desk, _DESK_COLUMNS


class Feed:
    """Pull and bootstrap (mixed into ``Hub``)."""

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
            source, seq, whose, args = self._entries(principal)
            # Not the changes this desktop pushed and holds as they are (``origin``).
            mine = f"{whose} AND {seq} > ? AND {seq} <= ? AND (c.origin IS NULL OR c.origin <> ?)"
            rows = tx.all(f"SELECT c.seq, c.tbl, c.row_id, c.kind, c.hlc, c.payload FROM {source} WHERE {mine} "
                          f"ORDER BY {seq} LIMIT ?", [*args, req.cursor, head, who.device_id, limit + 1])
            more = len(rows) > limit
            rows = rows[:limit]
            cursor = rows[-1][0] if more else head
            remaining = 0
            if more:
                remaining = int(tx.scalar(f"SELECT count(*) FROM {source} WHERE {mine}",
                                          [*args, cursor, head, who.device_id], default=0))
        changes = [p.Change(seq=r[0], table=r[1], row_id=r[2], kind=r[3], hlc=r[4], payload=r[5]) for r in rows]
        return p.PullResponse(changes=changes, cursor=cursor, more=more, hub_time_ms=now, remaining=remaining)

    @staticmethod
    def _entries(principal: str) -> tuple[str, str, str, list]:
        """Where a principal's change-log entries are read: (FROM clause, the seq column to walk,
        the condition naming the principal, its arguments).  ``all`` receives every entry marked
        ``to_all``; any other principal the entries its feed names, and staff those addressed to
        everyone ('*') as well."""
        if principal == ALL:
            return "change_log c", "c.seq", "c.to_all = 1", []
        return ("change_feed f JOIN change_log c ON c.seq = f.seq", "f.seq", "f.principal IN (?, ?)",
                [principal, shared_with(principal)])

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

    def _visible(self, principal: str) -> tuple[str, list]:
        """The condition for rows a principal may hold, and its arguments.  Every row's audience
        holds ``all`` or ``*`` (``scope.audience``), so ``all`` sees every row: no probe per row."""
        if principal == ALL:
            return "1 = 1", []
        return self._VISIBLE, [principal, shared_with(principal)]

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

