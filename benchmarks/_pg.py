"""A throwaway PostgreSQL cluster for benchmarks (the same recipe as the hub tests' ``pg_cluster``).

    with throwaway_cluster() as pg:          # None when PostgreSQL is not installed
        if pg:
            owner_dsn, hub_dsn = pg.new_database(hub_role="emdesk_hub")

``initdb`` + ``pg_ctl`` (as the ``postgres`` user when running as root) on a random loopback
port with its socket in its own directory, fsync off (a benchmark, not a deployment: the
same settings the tests use); stopped and removed on exit.  ``EMDESK_BENCH_PG_DSN`` (an owner
DSN that may CREATE DATABASE and CREATE ROLE) uses an existing server instead.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


def pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    owner_dsn_base: dict                       # conninfo parts for the owner (no dbname)
    created: list[str] = field(default_factory=list)

    def dsn(self, dbname: str, user: str | None = None) -> str:
        import psycopg.conninfo as ci
        parts = dict(self.owner_dsn_base, dbname=dbname)
        if user:
            parts["user"] = user
            parts.pop("password", None)
        return ci.make_conninfo(**parts)

    def new_database(self, *, hub_role: str | None = None) -> tuple[str, str | None]:
        """A fresh database: its owner DSN, and (with ``hub_role``) the hub schema made by the
        owner and a DSN for the non-owner hub role (row-level security applies to it)."""
        import psycopg
        name = "bench_" + uuid.uuid4().hex[:10]
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        if hub_role is None:
            return self.dsn(name), None
        from emdesk.sync.hub.postgres import init_postgres
        init_postgres(self.dsn(name), hub_role)
        return self.dsn(name), self.dsn(name, hub_role)

    def drop_created(self) -> None:
        import psycopg
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()


@contextmanager
def throwaway_cluster() -> Iterator[Cluster | None]:
    """A running cluster for the duration, or None if PostgreSQL is not installed."""
    dsn = os.environ.get("EMDESK_BENCH_PG_DSN")
    if dsn:
        import psycopg.conninfo as ci
        base = ci.conninfo_to_dict(dsn)
        base.pop("dbname", None)
        cluster = Cluster(base)
        try:
            yield cluster
        finally:
            cluster.drop_created()
        return
    initdb, pg_ctl = pg_bin("initdb"), pg_bin("pg_ctl")
    if not (initdb and pg_ctl):
        yield None
        return
    root = os.geteuid() == 0
    base = Path(tempfile.mkdtemp(prefix="emdesk-bench-pg-"))
    as_pg = ["runuser", "-u", "postgres", "--"] if root else []
    if root:
        shutil.chown(base, "postgres", "postgres")
    port = free_port()
    data, log = base / "data", base / "log"
    try:
        subprocess.run([*as_pg, initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8",
                        "--locale=C.UTF-8"], check=True, capture_output=True)
        subprocess.run([*as_pg, pg_ctl, "-D", str(data), "-l", str(log), "-w", "-t", "30", "-o",
                        f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
                        "-c synchronous_commit=off -c full_page_writes=off", "start"], check=True, capture_output=True)
        yield Cluster({"host": "127.0.0.1", "port": str(port), "user": "postgres"})
    finally:
        subprocess.run([*as_pg, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"], capture_output=True,
                       check=False)
        shutil.rmtree(base, ignore_errors=True)


# -- the interface ``sync_bench`` uses -------------------------------------------------------------------
# (This module was rewritten by a concurrent session; these keep that caller working.)


def unavailable_reason() -> str | None:
    """Why no PostgreSQL can be had (None if one can)."""
    if os.environ.get("EMDESK_BENCH_PG_DSN"):
        return None
    if not (pg_bin("initdb") and pg_bin("pg_ctl")):
        return "PostgreSQL binaries (initdb, pg_ctl) not found: apt-get install postgresql"
    return None


class PgCluster:
    """``with PgCluster() as pg``: ``pg.new_database(prefix) -> name``, ``pg.dsn(name, user=None)``."""

    def __enter__(self) -> PgCluster:
        self._cm = throwaway_cluster()
        self._cluster = self._cm.__enter__()
        if self._cluster is None:
            self._cm.__exit__(None, None, None)
            raise RuntimeError(unavailable_reason() or "PostgreSQL is not available")
        return self

    def __exit__(self, *exc) -> None:
        self._cm.__exit__(*exc)

    def new_database(self, prefix: str = "bench") -> str:
        import psycopg
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self._cluster.dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self._cluster.created.append(name)
        return name

    def dsn(self, dbname: str, user: str | None = None) -> str:
        return self._cluster.dsn(dbname, user)
