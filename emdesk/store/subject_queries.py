"""What a subject's file reads from the telemetry log beyond ``TelemetryLog``: each device's
latest event of some kinds, the rare events of a window, and the routine ones counted by hour.

Rows come back with the device's serial and the kind's name.  Every query takes the
serials to leave out: a proximity order's log also holds the protected person's phone,
whose positions are never shown to anyone reading the wearer's file.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from emdesk.domain.engine.events import BY_VALUE, HOUR_MS, KINDS

if TYPE_CHECKING:
    from .store import Store


def _marks(n: int) -> str:
    return ", ".join("?" * n)


class SubjectQueries:
    def __init__(self, store: "Store"):
        self.store = store

    def _keys(self, db, order_id: str, leave_out: Iterable[str]) -> tuple[int | None, list[int]]:
        row = db.execute("SELECT n FROM telemetry_keys WHERE kind = 'order' AND key = ?", [order_id]).fetchone()
        serials = list(leave_out)
        out = [n for (n,) in db.execute(
            f"SELECT n FROM telemetry_keys WHERE kind = 'device' AND key IN ({_marks(len(serials))})", serials)]
        return (row[0] if row else None), out

    def latest_of_kinds(self, order_id: str, kinds: Sequence[str], since_ms: int,
                        leave_out: Iterable[str] = ()) -> list[tuple[str, str, int, float | None]]:
        """(serial, kind, at, value) of each device's newest event of each of ``kinds`` since
        ``since_ms``."""
        codes = [BY_VALUE[k] for k in kinds]
        with self.store.reading() as db:
            order_n, skip = self._keys(db, order_id, leave_out)
            if order_n is None or not codes:
                return []
            # SQLite takes the bare columns (value) from the row that holds max(at).
            rows = db.execute(
                "SELECT k.key, e.kind, max(e.at), e.value FROM device_events e JOIN telemetry_keys k ON k.n = e.device_n "
                f"WHERE e.order_n = ? AND e.at >= ? AND e.kind IN ({_marks(len(codes))}) "
                f"AND e.device_n NOT IN ({_marks(len(skip))}) GROUP BY e.device_n, e.kind",
                [order_n, since_ms, *codes, *skip]).fetchall()
        return [(serial, KINDS[k].value, at, value) for serial, k, at, value in rows]

    def rare_events(self, order_id: str, start_ms: int, end_ms: int, *, routine: Sequence[str],
                    notable_below: dict[str, float], notable_above: dict[str, float], limit: int,
                    leave_out: Iterable[str] = ()) -> list[tuple[str, int, str, float | None, bool]]:
        """(serial, at, kind, value, late), newest first, at most ``limit``: every event not of a
        ``routine`` kind, and the routine ones whose value is at or below ``notable_below[kind]``
        or above ``notable_above[kind]`` (a battery nearly flat, a drink)."""
        routine_codes = [BY_VALUE[k] for k in routine]
        notable, args = [], []
        for kind, level in notable_below.items():
            notable.append("(e.kind = ? AND e.value <= ?)")
            args += [BY_VALUE[kind], level]
        for kind, level in notable_above.items():
            notable.append("(e.kind = ? AND e.value > ?)")
            args += [BY_VALUE[kind], level]
        wanted = " OR ".join([f"e.kind NOT IN ({_marks(len(routine_codes))})", *notable])
        with self.store.reading() as db:
            order_n, skip = self._keys(db, order_id, leave_out)
            if order_n is None:
                return []
            rows = db.execute(
                "SELECT k.key, e.at, e.kind, e.value, e.late FROM device_events e "
                "JOIN telemetry_keys k ON k.n = e.device_n "
                f"WHERE e.order_n = ? AND e.at >= ? AND e.at < ? AND e.device_n NOT IN ({_marks(len(skip))}) "
                f"AND ({wanted}) ORDER BY e.at DESC, e.kind LIMIT ?",
                [order_n, start_ms, end_ms, *skip, *routine_codes, *args, int(limit)]).fetchall()
        return [(serial, at, KINDS[k].value, value, bool(late)) for serial, at, k, value, late in rows]

    def hourly(self, order_id: str, start_ms: int, end_ms: int, kinds: Sequence[str],
               leave_out: Iterable[str] = ()) -> list[tuple[int, str, int, float | None, float | None]]:
        """(hour start ms, kind, count, min value, max value) of the ``kinds`` per UTC hour,
        oldest first: the routine traffic (fixes, battery reports) summed, not listed."""
        codes = [BY_VALUE[k] for k in kinds]
        with self.store.reading() as db:
            order_n, skip = self._keys(db, order_id, leave_out)
            if order_n is None or not codes:
                return []
            rows = db.execute(
                "SELECT (e.at / ?) * ?, e.kind, count(*), min(e.value), max(e.value) FROM device_events e "
                f"WHERE e.order_n = ? AND e.at >= ? AND e.at < ? AND e.kind IN ({_marks(len(codes))}) "
                f"AND e.device_n NOT IN ({_marks(len(skip))}) GROUP BY 1, 2 ORDER BY 1, 2",
                [HOUR_MS, HOUR_MS, order_n, start_ms, end_ms, *codes, *skip]).fetchall()
        return [(hour, KINDS[k].value, count, lo, hi) for hour, k, count, lo, hi in rows]


__all__ = ["SubjectQueries"]
