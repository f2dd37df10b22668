"""What the breach pack builder reads beyond ``Store.find``: pack versions by series or by
incident (fields kept in the record's JSON, not in columns), and one order's device events
around a breach (the window in full, the rarer kinds from further back for device health)."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from emdesk.domain.engine.events import BY_VALUE, KINDS
from emdesk.domain.monitoring import BreachPack

from .store import decode

if TYPE_CHECKING:
    from .store import Store


def _marks(n: int) -> str:
    return ", ".join("?" * n)


class PackQueries:
    def __init__(self, store: "Store"):
        self.store = store

    def versions(self, pack_id: str) -> list[BreachPack]:
        """Every version of one pack, oldest first."""
        with self.store.reading() as db:
            rows = db.execute(
                "SELECT data FROM breach_packs WHERE deleted = 0 AND json_extract(data, '$.pack_id') = ? "
                "ORDER BY json_extract(data, '$.version')", [pack_id]).fetchall()
        return [decode(BreachPack, r[0]) for r in rows]

    def for_incident(self, incident_id: str) -> list[BreachPack]:
        """Every pack version that covers the incident (first or not), oldest first."""
        with self.store.reading() as db:
            rows = db.execute(
                "SELECT data FROM breach_packs WHERE deleted = 0 AND (incident_id = ? OR EXISTS ("
                "SELECT 1 FROM json_each(breach_packs.data, '$.incident_ids') j WHERE j.value = ?)) "
                "ORDER BY json_extract(data, '$.version'), id", [incident_id, incident_id]).fetchall()
        return [decode(BreachPack, r[0]) for r in rows]

    def events_around(self, order_id: str, start_ms: int, end_ms: int, *, health_from_ms: int,
                      routine: Sequence[str], leave_out: Iterable[str] = ()
                      ) -> list[tuple[str, int, str, float | None, float | None, float | None, bool]]:
        """(serial, at, kind, lat, lon, value, late) in time order: every event of the order in
        [start_ms, end_ms), and those not of a ``routine`` kind in [health_from_ms, start_ms)
        (the battery and home unit before the breach)."""
        routine_codes = [BY_VALUE[k] for k in routine]
        serials = list(leave_out)
        with self.store.reading() as db:
            row = db.execute("SELECT n FROM telemetry_keys WHERE kind = 'order' AND key = ?", [order_id]).fetchone()
            if row is None:
                return []
            skip = [n for (n,) in db.execute(
                f"SELECT n FROM telemetry_keys WHERE kind = 'device' AND key IN ({_marks(len(serials))})", serials)]
            rows = db.execute(
                "SELECT k.key, e.at, e.kind, e.lat, e.lon, e.value, e.late FROM device_events e "
                "JOIN telemetry_keys k ON k.n = e.device_n "
                f"WHERE e.order_n = ? AND e.device_n NOT IN ({_marks(len(skip))}) AND e.at < ? AND "
                f"(e.at >= ? OR (e.at >= ? AND e.kind NOT IN ({_marks(len(routine_codes))}))) ORDER BY e.at, e.kind",
                [row[0], *skip, end_ms, start_ms, health_from_ms, *routine_codes]).fetchall()
        return [(serial, at, KINDS[k].value, lat, lon, value, bool(late)) for serial, at, k, lat, lon, value, late in rows]


__all__ = ["PackQueries"]
