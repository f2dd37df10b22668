"""Hub fixtures: one suite, two storages (a SQLite file and a real PostgreSQL).

PostgreSQL: ``EMDESK_TEST_PG_DSN`` (an owner DSN that may CREATE DATABASE and CREATE ROLE)
if set; otherwise a throwaway cluster started for the session with initdb/pg_ctl (as the
``postgres`` user when running as root), on a random loopback port with its socket in
its own directory, stopped and removed at the end.  Missing binaries skip the
PostgreSQL half, or fail it when CI is set.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from synckit import (
    HUB_ROLE,
    NOW,
    ASGIClient,
    HubKit,
    PgCluster,
    _free_port,
    _pg_bin,
    make_hub,
    new_pg_database,
)

from emdesk.domain.clock import FixedClock
from emdesk.sync.hub import create_app


@pytest.fixture(scope="session")
def pg_cluster():
    dsn = os.environ.get("EMDESK_TEST_PG_DSN")
    if dsn:
        import psycopg.conninfo as ci
        base = ci.conninfo_to_dict(dsn)

        def with_db(db, user=None):
            parts = dict(base, dbname=db)
            if user:
                parts["user"] = user
                parts.pop("password", None)
            return ci.make_conninfo(**parts)
        cluster = PgCluster(lambda db: with_db(db), lambda db: with_db(db, HUB_ROLE))
        yield cluster
        import psycopg
        with psycopg.connect(with_db(base.get("dbname", "postgres")), autocommit=True) as conn:
            for name in cluster.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not (initdb and pg_ctl):
        # Never a skip: the hub is tested on a real PostgreSQL everywhere (./dev installs it).
        pytest.fail("PostgreSQL binaries (initdb, pg_ctl) not found: run ./dev setup, or apt-get install postgresql")
    root = os.geteuid() == 0
    base = Path(tempfile.mkdtemp(prefix="emdesk-pg-"))
    as_pg = ["runuser", "-u", "postgres", "--"] if root else []
    if root:
        shutil.chown(base, "postgres", "postgres")
    port = _free_port()
    data, log = base / "data", base / "log"
    subprocess.run([*as_pg, initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8",
                    "--locale=C.UTF-8"], check=True, capture_output=True)
    subprocess.run([*as_pg, pg_ctl, "-D", str(data), "-l", str(log), "-w", "-t", "30", "-o",
                    f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
                    "-c synchronous_commit=off -c full_page_writes=off", "start"], check=True, capture_output=True)
    try:
        yield PgCluster(lambda db: f"postgresql://postgres@127.0.0.1:{port}/{db}",
                        lambda db: f"postgresql://{HUB_ROLE}@127.0.0.1:{port}/{db}")
    finally:
        subprocess.run([*as_pg, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def hub_store(request, tmp_path) -> str:
    """A fresh hub database: a SQLite path, or a PostgreSQL DSN for the (non-owner) hub role."""
    if request.param == "sqlite":
        return str(tmp_path / "hub.db")
    return new_pg_database(request.getfixturevalue("pg_cluster"))[1]


@pytest.fixture(scope="session")
def small_world():
    from emdesk.services.demo_world import generate_world
    return generate_world(2026, now=NOW, subjects=24)


@pytest.fixture
def kit(hub_store, small_world, tmp_path):
    clock = FixedClock(NOW)
    hub = make_hub(hub_store, clock)
    hub.load(small_world.users, small_world.records())
    app = create_app(hub)
    http = ASGIClient(app)
    k = HubKit(hub, app, clock, small_world, tmp_path, http)
    yield k
    for desk in k.desks:
        desk.store.close()
    http.close()
    hub.storage.close()
