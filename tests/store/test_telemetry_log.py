"""The device-event log: narrow rows, duplicates once, dirty marks, the v5 -> v6 move."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from emdesk.store import Store, migrations
from emdesk.store.connection import connect

T0 = int(datetime(2026, 12, 1, 21, tzinfo=timezone.utc).timestamp() * 1000)


def _row(at, kind="position", device="GPS-1", order="o1"):
    return (order, device, at, kind, 52.4, -1.9, 1.1, 0.5, None, None, T0, 0)


def test_the_same_event_twice_is_stored_once_and_marks_its_period(tmp_path):
    store, _ = Store.create(tmp_path / "s.db", plain=True)
    log = store.telemetry
    assert log.append([_row(T0), _row(T0 + 60_000)], [("o1", 1)]) == 2
    assert log.append([_row(T0), _row(T0 + 120_000)], [("o1", 1)]) == 1      # one new, one resent
    assert log.count() == 3 and log.count("o1") == 3
    assert log.dirty() == [("o1", 1)]
    assert [r[1] for r in log.for_order("o1", T0, T0 + 3600_000)] == [T0, T0 + 60_000, T0 + 120_000]
    assert store.outbox_count() == 0                                          # not the record path
    with store.transaction() as db:
        log.clear_dirty(db, [("o1", 1)])
    assert log.dirty() == []


def test_retention_prunes_only_what_is_older(tmp_path):
    store, _ = Store.create(tmp_path / "s.db", plain=True)
    store.telemetry.append([_row(T0), _row(T0 + 86_400_000)], [])
    assert store.telemetry.retention_days() == 400
    store.telemetry.set_retention_days(30)
    assert store.telemetry.retention_days() == 30
    assert store.telemetry.prune(T0 + 1) == 1 and store.telemetry.count() == 1


def test_a_version_five_store_moves_its_telemetry_records_into_the_log(tmp_path):
    path = tmp_path / "v5.db"
    (tmp_path / "v5.db.keys").write_text(json.dumps({"format": 1, "plain": True, "slots": {}}))
    db = connect(path, None)
    migrations.migrate(db, up_to=5)
    data = {"id": "e1", "device_serial": "TAG-9", "order_id": "o9", "at": "2026-12-01T21:00:00.000+00:00",
            "kind": "hmu_range_out", "lat": None, "lon": None, "hdop": None, "value": None}
    db.execute("UPDATE sync_control SET capture = 0")
    db.execute("INSERT INTO telemetry (id, created_at, updated_at, origin, data, device_serial, order_id, at, kind) "
               "VALUES ('e1', 'x', 'x', 'd', ?, 'TAG-9', 'o9', 'x', 'hmu_range_out')", [json.dumps(data)])
    db.conn.close()
    store = Store.open(path)
    rows = store.telemetry.for_order("o9", 0, 2**53)
    assert [(r[0], r[1], r[2]) for r in rows] == [("TAG-9", T0, "hmu_range_out")]
