"""A national day of telemetry, ingested and evaluated from a file.

15,000 GPS wearers at one fix a minute (21.6 million fixes) plus battery and home-unit
events, in the order a national feed delivers them (minute by minute, all wearers).
Printed beside a raw ``executemany`` of the same rows into SQLite (same table, same
indexes) in the same run, with the peak memory of ingest at a quarter and at the whole
of the day (each in its own process), to show that memory stays flat as the day grows.

    python -m benchmarks --only national_day           # the full national day (~10 min)
    EMDESK_BENCH_WEARERS=2000 python -m benchmarks --only national_day   # smaller
"""
from __future__ import annotations

import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

DAY = date(2026, 11, 18)               # a Wednesday outside the clock changes
START = datetime(2026, 11, 18, 7, tzinfo=timezone.utc)   # 07:00 UK = UTC in November
MINUTES = 24 * 60
CHUNK = 20_000


def wearers() -> int:
    return int(os.environ.get("EMDESK_BENCH_WEARERS", "15000"))


def build_store(path: Path, n: int):
    """A plain store with ``n`` active orders, each with a GPS tag fitted a month ago;
    half with a 19:00-07:00 curfew, one in ten with an exclusion zone."""
    from emdesk.domain.clock import FixedClock
    from emdesk.domain.conditions import Circle, Conditions, Curfew, Zone, ZoneKind
    from emdesk.domain.curfew import parse_windows
    from emdesk.domain.devices import Device, DeviceKind, DeviceState, DeviceStateChange
    from emdesk.domain.orders import Cohort, Order, OrderStatus
    from emdesk.domain.people import Address, Subject
    from emdesk.store import Store

    store, _ = Store.create(path, plain=True, clock=FixedClock(START + timedelta(days=1)))
    fitted = START - timedelta(days=30)
    curfew = Curfew(windows=parse_windows("Mon-Sun 19:00-07:00"))
    subjects, orders, devices = [], [], []
    for i in range(n):
        lat, lon = _home(i)
        s = Subject(given_name="W", family_name=f"{i}", addresses=(Address(lat=lat, lon=lon, postcode="B1 1AA"),))
        zones = ()
        if i % 10 == 0:
            zones = (Zone(name="victim's street", kind=ZoneKind.EXCLUSION,
                          shape=Circle(lat=lat + 0.02, lon=lon + 0.02, radius_m=200)),)
        o = Order(reference=f"NAT{i:06d}", subject_id=s.id, cohort=Cohort.COURT_SENTENCE, status=OrderStatus.ACTIVE,
                  start=DAY - timedelta(days=30), end=DAY + timedelta(days=90), region="West Midlands",
                  conditions=Conditions(curfew=curfew if i % 2 == 0 else None, zones=zones))
        d = Device(kind=DeviceKind.GPS_TAG, serial=f"GPS-{i:06d}", state=DeviceState.INSTALLED, order_id=o.id,
                   subject_id=s.id, history=(DeviceStateChange(at=fitted, from_state=DeviceState.ALLOCATED,
                                                               to_state=DeviceState.INSTALLED),))
        subjects.append(s), orders.append(o), devices.append(d)
    with store.transaction():
        store.put_many(subjects)
        store.put_many(orders)
        store.put_many(devices)
    return store


def _home(i: int) -> tuple[float, float]:
    return 51.0 + (i % 150) * 0.01, -2.5 + (i // 150) * 0.01


def write_day(path: Path, n: int, minutes: int = MINUTES) -> int:
    """The day's lines, minute by minute; returns how many fixes."""
    rng = random.Random(11)
    homes = [_home(i) for i in range(n)]
    drift = [(0.0, 0.0)] * n
    fixes = 0
    t0 = int(START.timestamp())
    with open(path, "w") as f:
        for m in range(minutes):
            stamp = datetime.fromtimestamp(t0 + m * 60, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            lines = []
            for i in range(n):
                dlat, dlon = drift[i]
                if 2 * 60 <= m < 11 * 60:           # 09:00-18:00: about town
                    dlat = max(-0.015, min(0.015, dlat + rng.uniform(-0.0004, 0.0004)))
                    dlon = max(-0.015, min(0.015, dlon + rng.uniform(-0.0006, 0.0006)))
                else:
                    dlat, dlon = dlat * 0.8, dlon * 0.8
                drift[i] = (dlat, dlon)
                lat, lon = homes[i]
                lines.append(f'{{"device":"GPS-{i:06d}","at":"{stamp}","kind":"position","lat":{lat + dlat:.6f},'
                             f'"lon":{lon + dlon:.6f},"hdop":{0.8 + (i * 7 + m) % 13 / 10:.1f},"speed":0.6}}\n')
            if m % 30 == 0:
                level = max(40, 100 - m // 25)
                lines += [f'{{"device":"GPS-{i:06d}","at":"{stamp}","kind":"battery_level","value":{level}}}\n'
                          for i in range(n)]
            f.writelines(lines)
            fixes += n
    return fixes


def raw_rate(lines_path: Path, db_path: Path) -> tuple[float, int]:
    """Rows per second of a bare ``executemany`` of the same rows into the same table as the
    store's (``device_events``, clustered by order and time, integer keys), in transactions
    of the same size and with the same page cache: only the ``executemany`` is timed (the
    rows are made from the lines beforehand, untimed)."""
    from emdesk.domain.engine.events import BY_VALUE
    from emdesk.services.ingest import CHUNK
    from emdesk.store.telemetry import CACHE_KIB
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    conn.execute("""CREATE TABLE device_events (
        order_n INTEGER NOT NULL, at INTEGER NOT NULL, kind INTEGER NOT NULL, device_n INTEGER NOT NULL,
        lat REAL, lon REAL, hdop REAL, speed REAL, value REAL,
        event_id TEXT, received INTEGER NOT NULL, late INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (order_n, at, kind, device_n)) WITHOUT ROWID""")
    sql = ("INSERT OR IGNORE INTO device_events (order_n, device_n, at, kind, lat, lon, hdop, speed, value, event_id, "
           "received, late) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    spent, rows, n = 0.0, [], 0

    def flush():
        nonlocal spent, n, rows
        started = time.perf_counter()
        conn.execute("BEGIN")
        conn.executemany(sql, rows)
        conn.execute("COMMIT")
        spent += time.perf_counter() - started
        n += len(rows)
        rows = []

    with open(lines_path, "rb") as f:
        for raw in f:
            e = json.loads(raw)
            at = int(datetime.fromisoformat(e["at"]).timestamp() * 1000)
            key = int(e["device"][4:])
            rows.append((key, key, at, BY_VALUE[e["kind"]], e.get("lat"), e.get("lon"), e.get("hdop"),
                         e.get("speed"), e.get("value"), None, at, 0))
            if len(rows) >= CHUNK:
                flush()
    if rows:
        flush()
    conn.close()
    return n / spent, n


def ingest_run(store_path: str, lines_path: str, minutes: int = MINUTES) -> None:
    """In a child process: ingest the file with the clock where its data ends, print the
    report and peak RSS as JSON."""
    from emdesk.domain.clock import FixedClock
    from emdesk.services.ingest import IngestService
    from emdesk.services.telemetry_port import StoreTelemetry
    from emdesk.store import Store
    store = Store.open(store_path, clock=FixedClock(START + timedelta(minutes=minutes)))
    started = time.perf_counter()
    with open(lines_path, "rb") as f:
        report = IngestService(StoreTelemetry(store)).ingest(f)
    seconds = time.perf_counter() - started
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rss_mb": rss_mb, "events": report.events, "positions": report.positions,
                      "rejected": report.rejected, "incidents": report.evaluation.incidents,
                      "periods": report.evaluation.periods}))


def _child(store_path: Path, lines_path: Path, minutes: int = MINUTES) -> dict:
    out = subprocess.run([sys.executable, "-c", f"from benchmarks.national_day import ingest_run; "
                          f"ingest_run({str(store_path)!r}, {str(lines_path)!r}, {minutes})"],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    n = wearers()
    with tempfile.TemporaryDirectory(prefix="emdesk-national-") as tmp:
        tmp = Path(tmp)
        results = []
        for share, minutes in (("quarter day", MINUTES // 4), ("whole day", MINUTES)):
            lines = tmp / f"day-{minutes}.jsonl"
            started = time.perf_counter()
            fixes = write_day(lines, n, minutes)
            print(f"{share}: {n:,} wearers, {fixes:,} fixes written in {time.perf_counter() - started:.0f} s "
                  f"({lines.stat().st_size / 1e9:.2f} GB)", flush=True)
            store_path = tmp / f"store-{minutes}.db"
            build_store(store_path, n).close()
            got = _child(store_path, lines, minutes)
            raw, rows = raw_rate(lines, tmp / f"raw-{minutes}.db")
            fps = got["positions"] / got["seconds"]
            results.append((share, got, fps, raw))
            print(f"  emdesk ingest+evaluate: {got['positions']:,} fixes in {got['seconds']:.1f} s = {fps:,.0f} fixes/s; "
                  f"{got['events']:,} events stored, {got['periods']:,} order-periods evaluated, "
                  f"{got['incidents']:,} incidents; peak RSS {got['rss_mb']:.0f} MB", flush=True)
            print(f"  raw executemany of the same {rows:,} rows: {raw:,.0f} rows/s", flush=True)
            events_per_s = got["events"] / got["seconds"]
            print(f"  ratio: {events_per_s / raw:.1%} of raw (events/s against rows/s)", flush=True)
            for p in tmp.glob("*"):
                if p.name.startswith(("day-", "raw-")):
                    p.unlink()
        if len(results) == 2:
            q, w = results[0][1]["rss_mb"], results[1][1]["rss_mb"]
            print(f"memory: peak RSS {q:.0f} MB for a quarter day, {w:.0f} MB for the whole day "
                  f"({w / q:.2f}x for 4x the data)")
