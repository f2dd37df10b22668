"""Sync throughput: desktop bootstrap and incremental round trip, against the raw ceiling.

In one run, for each hub storage (a SQLite file; PostgreSQL too when its binaries are
installed, or ``EMDESK_BENCH_PG_DSN`` names an owner DSN), with the hub served by a real
`emdesk hub serve` in its own process on 127.0.0.1 (as deployed: hub and desktop side by side):

* **load**: ``Hub.load`` of 100,000 rows (a 300-subject demo world plus generated
  telemetry) into an empty hub (a new file or database each repetition);
* **bootstrap**: the loaded hub's 100,000 rows go into a fresh plain desktop store of the
  supervisor (scope ``all``: every row): ``register`` + ``sync_once``;
* **incremental**: desktop A (that supervisor) appends 1,000 case notes to the caseload
  of ``officer.manchester`` and syncs (push); desktop B (that officer, already joined)
  syncs (pull).  The round trip is A's ``sync_once`` + B's ``sync_once``.

Each is repeated (``--repeat N``, default 3) and the median is judged (the best is printed
too); the ceilings are the median of as many repetitions.

The ceiling, measured in the same run: the very rows the desktop holds afterwards (same
tables, same columns and indexes, no triggers), inserted with one ``executemany`` per
table in one transaction into a plain SQLite file (WAL, synchronous=NORMAL like the
store) and into PostgreSQL; likewise the 1,000 notes B received.

Goals (ratios to the raw SQLite ceiling measured here, so a slow machine moves both):
bootstrap >= 50% of raw SQLite executemany rows/s on both hubs; incremental round trip
< 0.3 s on both; ``Hub.load`` of the 100,000 rows < 10 s (printed with its ratio to raw
``executemany`` of the same rows into the same engine).

    python -m benchmarks --only sync_bench     (or python -m benchmarks.sync_bench [--repeat N] [--profile] [--profile-hub DIR])
"""
from __future__ import annotations

import random
import shutil
import statistics
import socket
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher

from emdesk.domain.clock import FixedClock
from emdesk.domain.ids import new_id
from emdesk.domain.monitoring import Note, TelemetryEvent
from emdesk.domain.orders import Order
from emdesk.services.demo_world import generate_world
from emdesk.store import Store
from emdesk.sync.client import REPLICA_TABLES, SyncClient
from emdesk.sync.errors import SyncError
from emdesk.sync.hub import Hub, open_storage

from . import _pg

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
TOTAL_ROWS = 100_000
CHANGES = 1_000
SEED = 2026
SUPERVISOR, OFFICER = "supervisor", "officer.manchester"
HUB_ROLE = "emdesk_hub"
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)   # argon2 is not what we measure
BOOTSTRAP_GOAL = 0.50       # of raw SQLite executemany rows/s
INCREMENTAL_GOAL_S = 0.3
LOAD_GOAL_S = 10.0
REPEAT = 3
HUB_PROFILE_DIR: Path | None = None     # --profile-hub DIR: cProfile of each served hub
# The desktop holds records in the replica tables and telemetry in its narrow event log
# (the hub's telemetry feed): the 100,000 rows are both.  The ceiling writes the same rows
# into the same tables, the event log's key table included.
HELD_TABLES = (*REPLICA_TABLES, "device_events")
CEILING_TABLES = (*HELD_TABLES, "telemetry_keys")


# -- a real server -------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """``emdesk hub serve`` in a process of its own, as a hub is deployed: the desktop and the
    hub then run side by side (in one process they would take turns with one interpreter lock)."""

    def __init__(self, store_url: str, profile_to: Path | None = None):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = [sys.executable, "-m", "emdesk", "hub", "serve", "--store", store_url, "--port",
                     str(self.port), "--log-level", "warning", "--gc-interval", "0"]
        if profile_to:
            # The hub's own time, sampled by py-spy (``pip install py-spy``) in every thread (the
            # handlers run in a thread pool, which cProfile would not see): folded stacks,
            # written when the hub stops.
            self.args[:0] = ["py-spy", "record", "--format", "raw", "--rate", "1000", "--threads", "--idle", "--nonblocking",
                             "--output", str(profile_to), "--"]
        self.proc = None

    def __enter__(self) -> "ServerProcess":
        import subprocess

        import httpx
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(self.url + "/v1/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.proc.kill()
                raise RuntimeError(f"emdesk hub serve did not start: {self.proc.stderr.read()[-2000:]}")
            time.sleep(0.1)

    def __exit__(self, *exc) -> None:
        if self.args[0] == "py-spy":
            import os
            import signal
            hub = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
            self.proc.send_signal(signal.SIGINT)     # py-spy writes its samples on an interrupt
            self.proc.wait(60)
            for pid in hub:                          # and leaves the hub running
                os.kill(int(pid), signal.SIGTERM)
            return
        else:
            self.proc.terminate()
        try:
            self.proc.wait(20)
        except Exception:
            self.proc.kill()


# -- the data ---------------------------------------------------------------------------------


def make_world(total: int = TOTAL_ROWS):
    """The demo world plus generated telemetry (copies of its own, earlier in time) to ``total`` rows."""
    world = generate_world(SEED, now=NOW, subjects=300)
    records = world.records()
    templates = [t for t in world.telemetry if t.order_id] or list(world.telemetry)
    rng = random.Random(SEED)
    base_ms = int(NOW.timestamp() * 1000)
    extra: list[TelemetryEvent] = []
    # An event is one row per (order, device, time, kind) on the hub and the desktop: a copy
    # landing on another's key would be a resend, not a row.
    keys = {(t.order_id, t.device_serial, t.at, t.kind) for t in world.telemetry}
    i = 0
    while len(records) + len(extra) < total:
        tpl = templates[i % len(templates)]
        at = tpl.at - timedelta(seconds=30 * (i // len(templates) + 1))
        i += 1
        if (tpl.order_id, tpl.device_serial, at, tpl.kind) in keys:
            continue
        keys.add((tpl.order_id, tpl.device_serial, at, tpl.kind))
        extra.append(tpl.evolve(id=new_id(ms=base_ms - 86_400_000 - i, rng=rng), at=at))
    return world, records + extra


def _password(world, username: str) -> str:
    return next(pw for u, pw in world.users if u.username == username)


def _user(world, username: str):
    return next(u for u, _ in world.users if u.username == username)


def _table_rows(store: Store, tables, where: str = "") -> dict[str, tuple[list[str], list[tuple]]]:
    out = {}
    with store.reading() as db:
        for table in tables:
            cur = db.execute(f"SELECT * FROM {table} {where}")
            rows = cur.fetchall()
            if rows:
                out[table] = ([d[0] for d in cur.description], [tuple(r) for r in rows])
    return out


def _ddl(store: Store, tables) -> list[str]:
    """The store's CREATE TABLE and CREATE INDEX statements for these tables (no triggers)."""
    with store.reading() as db:
        rows = db.execute("SELECT type, sql FROM sqlite_master WHERE type IN ('table', 'index') AND sql IS NOT NULL "
                          f"AND tbl_name IN ({', '.join('?' * len(tables))}) ORDER BY type DESC",
                          list(tables)).fetchall()
    return [sql for _, sql in rows]


# -- one hub storage ------------------------------------------------------------------------------


def _timed(fn, profile: dict | None, key: str):
    if profile is None:
        t0 = time.perf_counter()
        out = fn()
        return out, time.perf_counter() - t0
    import cProfile
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    out = fn()
    prof.disable()
    elapsed = time.perf_counter() - t0
    profile[key] = prof
    return out, elapsed


def _median(xs: list[float]) -> float:
    return statistics.median(xs)


def bench_hub(label: str, new_hub_url, world, records, tmp: Path, *, capture: bool,
              profile: dict | None = None, repeat: int = REPEAT, settle=None) -> dict:
    """Load, bootstrap and incremental sync against one hub storage, each ``repeat`` times;
    ``new_hub_url()`` makes an empty hub store; ``capture`` keeps the rows for the ceiling."""
    clock = FixedClock(NOW)
    loads, hub, url = [], None, ""
    for i in range(repeat):
        if hub is not None:
            hub.storage.close()
        url = new_hub_url(i)
        hub = Hub(open_storage(url), clock=clock, hasher=FAST_HASHER)
        _, load_s = _timed(lambda: hub.load(world.users, records), profile if i == 0 else None, f"{label}:load")
        loads.append(load_s)
    out: dict = {"storage": label, "load": {"rows": TOTAL_ROWS, "s": _median(loads), "best_s": min(loads)}}
    stores: list[Store] = []
    clients: list[SyncClient] = []
    try:
        hub.storage.close()
        if settle is not None:
            settle(url)         # untimed, as an administrator does after a bulk load
        hub_profile = HUB_PROFILE_DIR / f"hub-{label}.folded" if HUB_PROFILE_DIR else None
        with ServerProcess(url, hub_profile) as server:
            # 1. bootstrap: the supervisor's fresh plain store, ``repeat`` times
            boots = []
            for i in range(repeat):
                a_store, _ = Store.create(tmp / f"{label}-supervisor-{i}.db", plain=True, clock=FixedClock(NOW))
                stores.append(a_store)
                a = SyncClient(a_store, server.url)
                clients.append(a)

                def join_a(a=a):
                    a.register(SUPERVISOR, _password(world, SUPERVISOR), "bench supervisor")
                    return a.sync_once()
                t0 = time.perf_counter()
                try:
                    report, boot_s = _timed(join_a, profile if i == 0 else None, f"{label}:bootstrap")
                except SyncError as exc:
                    # e.g. a bootstrap page slower than the client's timeout: reported, not fatal
                    out["bootstrap"] = {"rows": 0, "s": time.perf_counter() - t0, "error": str(exc)}
                    return out
                with a_store.reading() as db:
                    held = sum(db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in HELD_TABLES)
                received = report.bootstrapped + report.events
                if received != TOTAL_ROWS or held != TOTAL_ROWS:
                    raise RuntimeError(f"{label}: received {report.bootstrapped} records and {report.events} "
                                       f"events, holds {held}, expected {TOTAL_ROWS}")
                boots.append(boot_s)
                if capture and i == 0:
                    out["rows"] = _table_rows(a_store, CEILING_TABLES)
                    out["ddl"] = _ddl(a_store, CEILING_TABLES)
            out["bootstrap"] = {"rows": TOTAL_ROWS, "s": _median(boots), "best_s": min(boots)}

            # 2. incremental: B (the officer) joins, untimed; A appends notes to B's caseload
            b_store, _ = Store.create(tmp / f"{label}-officer.db", plain=True, clock=FixedClock(NOW))
            stores.append(b_store)
            b = SyncClient(b_store, server.url)
            clients.append(b)
            b.register(OFFICER, _password(world, OFFICER), "bench officer")
            b.sync_once()
            officer = _user(world, OFFICER)
            cases = [o for o in b_store.find(Order, order_by="id") if o.assigned_officer_id == officer.id]
            if not cases:
                raise RuntimeError(f"{OFFICER} has no case to write notes on")
            author = _user(world, SUPERVISOR).id
            trips, edits, pushes, pulls = [], [], [], []
            for i in range(repeat):
                notes = [Note(id=new_id(), subject_id=cases[k % len(cases)].subject_id,
                              order_id=cases[k % len(cases)].id, author_id=author, at=NOW,
                              text=f"benchmark note {i}.{k}: spoke to the wearer, all in order") for k in range(CHANGES)]
                t0 = time.perf_counter()
                a_store.put_many(notes, actor=author)
                edits.append(time.perf_counter() - t0)
                push, push_s = _timed(a.sync_once, profile if i == 0 else None, f"{label}:push")
                pull, pull_s = _timed(b.sync_once, profile if i == 0 else None, f"{label}:pull")
                if push.pushed != CHANGES or push.refused:
                    raise RuntimeError(f"{label}: pushed {push.pushed}, refused {push.refused}")
                ids = {n.id for n in notes}
                with b_store.reading() as db:
                    got = sum(1 for (rid,) in db.execute("SELECT id FROM notes") if rid in ids)
                if got != CHANGES:
                    raise RuntimeError(f"{label}: the officer received {got} of {CHANGES} notes")
                trips.append(push_s + pull_s)
                pushes.append(push_s)
                pulls.append(pull_s)
                if capture and i == 0:
                    quoted = ", ".join(f"'{x}'" for x in ids)
                    out["change_rows"] = _table_rows(b_store, ["notes"], f"WHERE id IN ({quoted})")
            out["local_edit_s"] = _median(edits)
            out["incremental"] = {"rows": CHANGES, "s": _median(trips), "best_s": min(trips), "push_s": _median(pushes),
                                  "pull_s": _median(pulls), "pulled": pull.pulled, "a_pulled_back": push.pulled}
    finally:
        for c in clients:
            c.close()
        for s in stores:
            s.close()
        hub.storage.close()
    return out


# -- the ceiling ------------------------------------------------------------------------------------


def _insert_sql(table: str, cols: list[str], mark: str) -> str:
    return f'INSERT INTO {table} ({", ".join(chr(34) + c + chr(34) for c in cols)}) VALUES ({", ".join([mark] * len(cols))})'


def raw_sqlite(path: Path, ddl: list[str], rows: dict) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    for sql in ddl:
        conn.execute(sql)
    t0 = time.perf_counter()
    conn.execute("BEGIN")
    for table, (cols, data) in rows.items():
        conn.executemany(_insert_sql(table, cols, "?"), data)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    conn.close()
    return elapsed


def _postgres_ddl(sql: str) -> str:
    """SQLite's DDL in PostgreSQL's words: its integers hold ms timestamps (64-bit), its reals
    are doubles, and its clustering (WITHOUT ROWID) has no equivalent."""
    return (sql.replace("WITHOUT ROWID", "").replace(" INTEGER", " BIGINT")
            .replace(" REAL", " DOUBLE PRECISION"))


def raw_postgres(dsn: str, ddl: list[str], rows: dict) -> float:
    import psycopg
    with psycopg.connect(dsn, autocommit=True) as conn:
        for sql in ddl:
            conn.execute(_postgres_ddl(sql))
        t0 = time.perf_counter()
        with conn.transaction(), conn.cursor() as cur:
            for table, (cols, data) in rows.items():
                cur.executemany(_insert_sql(table, cols, "%s"), data)
        return time.perf_counter() - t0


# -- the run ------------------------------------------------------------------------------------------


def run(profile: dict | None = None, repeat: int = REPEAT) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="emdesk-sync-bench-"))
    results: dict = {"rows": TOTAL_ROWS, "changes": CHANGES, "hubs": [], "raw": {}, "repeat": repeat}
    try:
        world, records = make_world()
        sqlite_hub = bench_hub("sqlite", lambda i: str(tmp / f"hub-{i}.db"), world, records, tmp, capture=True,
                               profile=profile, repeat=repeat)
        rows, ddl, change_rows = sqlite_hub.pop("rows"), sqlite_hub.pop("ddl"), sqlite_hub.pop("change_rows")
        results["hubs"].append(sqlite_hub)
        results["raw"]["sqlite"] = {
            "bootstrap_s": _median([raw_sqlite(tmp / f"raw-100k-{i}.db", ddl, rows) for i in range(repeat)]),
            "incremental_s": _median([raw_sqlite(tmp / f"raw-1k-{i}.db", ddl, change_rows) for i in range(repeat)]),
        }
        reason = _pg.unavailable_reason()
        if reason:
            results["postgres_skipped"] = reason
        else:
            from emdesk.sync.hub.postgres import init_postgres
            with _pg.PgCluster() as pg:
                raw100 = _median([raw_postgres(pg.dsn(pg.new_database("raw")), ddl, rows) for _ in range(repeat)])
                raw1 = _median([raw_postgres(pg.dsn(pg.new_database("raw")), ddl, change_rows) for _ in range(repeat)])
                results["raw"]["postgresql"] = {"bootstrap_s": raw100, "incremental_s": raw1}

                owners: dict[str, str] = {}

                def new_pg_hub(i: int) -> str:
                    db = pg.new_database("hub")
                    init_postgres(pg.dsn(db), HUB_ROLE)
                    owners[pg.dsn(db, HUB_ROLE)] = pg.dsn(db)
                    return pg.dsn(db, HUB_ROLE)

                def vacuum_analyze(url: str) -> None:
                    # After loading 100,000 rows: the statistics the planner needs, and no
                    # autovacuum of the fresh tables running during the timed bootstraps.
                    import psycopg
                    with psycopg.connect(owners[url], autocommit=True) as conn:
                        conn.execute("VACUUM ANALYZE")
                results["hubs"].append(bench_hub("postgresql", new_pg_hub, world, records, tmp, capture=False,
                                                 profile=profile, repeat=repeat, settle=vacuum_analyze))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    ceiling_boot = TOTAL_ROWS / results["raw"]["sqlite"]["bootstrap_s"]
    ceiling_inc = CHANGES / results["raw"]["sqlite"]["incremental_s"]
    goals = []
    for h in results["hubs"]:
        raw = results["raw"].get(h["storage"], results["raw"]["sqlite"])
        h["load"]["of_raw"] = raw["bootstrap_s"] / h["load"]["s"]
        goals.append((f"Hub.load of {TOTAL_ROWS:,} rows < {LOAD_GOAL_S:g} s ({h['storage']} hub)",
                      h["load"]["s"] < LOAD_GOAL_S, f"{h['load']['s']:.2f} s"))
        if "error" in h["bootstrap"]:
            goals.append((f"bootstrap >= {BOOTSTRAP_GOAL:.0%} of raw SQLite ({h['storage']} hub)", False,
                          f"failed after {h['bootstrap']['s']:.1f} s: {h['bootstrap']['error']}"))
            goals.append((f"incremental {CHANGES:,}-change round trip < {INCREMENTAL_GOAL_S:g} s ({h['storage']} hub)",
                          False, "not run (bootstrap failed)"))
            continue
        boot_rate = h["bootstrap"]["rows"] / h["bootstrap"]["s"]
        h["bootstrap"]["rows_s"] = boot_rate
        h["bootstrap"]["of_ceiling"] = boot_rate / ceiling_boot
        h["incremental"]["rows_s"] = CHANGES / h["incremental"]["s"]
        h["incremental"]["of_ceiling"] = h["incremental"]["rows_s"] / ceiling_inc
        goals.append((f"bootstrap >= {BOOTSTRAP_GOAL:.0%} of raw SQLite ({h['storage']} hub)",
                      h["bootstrap"]["of_ceiling"] >= BOOTSTRAP_GOAL, f"{h['bootstrap']['of_ceiling']:.1%}"))
        goals.append((f"incremental {CHANGES:,}-change round trip < {INCREMENTAL_GOAL_S:g} s ({h['storage']} hub)",
                      h["incremental"]["s"] < INCREMENTAL_GOAL_S, f"{h['incremental']['s']:.3f} s"))
    results["goals"] = goals
    results["ceiling_rows_s"] = {"bootstrap": ceiling_boot, "incremental": ceiling_inc}
    return results


def report(results: dict) -> str:
    ceiling = results["ceiling_rows_s"]
    lines = [f"median of {results['repeat']} repetitions (best in brackets)",
             f"{'scenario':<42} {'rows':>8} {'seconds':>9} {'(best)':>8} {'rows/s':>10} {'% raw SQLite':>13}"]

    def line(name, rows, s, base, best=None):
        rate = rows / s
        best_text = f"({best:.3f})" if best is not None else ""
        lines.append(f"{name:<42} {rows:>8,} {s:>9.3f} {best_text:>8} {rate:>10,.0f} {rate / base:>12.1%}")

    for kind, n, key in (("bootstrap", TOTAL_ROWS, "bootstrap_s"), ("incremental", CHANGES, "incremental_s")):
        for engine, raw in results["raw"].items():
            line(f"raw {engine} executemany ({kind})", n, raw[key], ceiling[kind])
        for h in results["hubs"]:
            r = h.get(kind)
            if r is None or "error" in r:
                lines.append(f"{kind + ' via ' + h['storage'] + ' hub':<42} {'FAILED':>8}")
                continue
            line(f"{kind} via {h['storage']} hub", r["rows"], r["s"], ceiling[kind], r["best_s"])
    for h in results["hubs"]:
        ld = h["load"]
        raw_name = h["storage"] if h["storage"] in results["raw"] else "sqlite"
        lines.append(f"  {h['storage']} hub: Hub.load {ld['s']:.2f} s (best {ld['best_s']:.2f} s), "
                     f"{TOTAL_ROWS / ld['s']:,.0f} rows/s = {ld['of_raw']:.1%} of raw {raw_name} executemany of the same rows")
        if "incremental" in h:
            inc = h["incremental"]
            lines.append(f"  {h['storage']} hub: local edit of {CHANGES:,} notes {h['local_edit_s']:.3f} s; push "
                         f"{inc['push_s']:.3f} s (A pulled back {inc['a_pulled_back']}), pull {inc['pull_s']:.3f} s "
                         f"({inc['pulled']} pulled)")
    if results.get("postgres_skipped"):
        lines.append(f"  PostgreSQL skipped: {results['postgres_skipped']}")
    lines.append("goals:")
    for name, met, value in results["goals"]:
        lines.append(f"  {'MET    ' if met else 'NOT MET'}  {name}: {value}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    profile: dict | None = {} if "--profile" in argv else None
    repeat = int(argv[argv.index("--repeat") + 1]) if "--repeat" in argv else REPEAT
    if "--profile-hub" in argv:
        global HUB_PROFILE_DIR
        HUB_PROFILE_DIR = Path(argv[argv.index("--profile-hub") + 1])
        HUB_PROFILE_DIR.mkdir(parents=True, exist_ok=True)
    results = run(profile, repeat)
    print(report(results), flush=True)
    if profile:
        import pstats
        for key, prof in profile.items():
            print(f"\n-- cProfile {key} (top 25 by cumulative time) --")
            pstats.Stats(prof).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
