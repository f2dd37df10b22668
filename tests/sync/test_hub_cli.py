"""`emdesk hub` as an operator meets it: revoke, enrol, devices, and the traps (a typo'd
store, a second load-demo, serving on a connection that row-level security does not bind)."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid

import psycopg
import psycopg.conninfo
import pytest
from synckit import FAST_HASHER, HUB_ROLE, NOW, OFFICER, _free_port, make_hub, new_pg_database

from emdesk.domain.clock import FixedClock
from emdesk.store.migrations import LATEST
from emdesk.sync import protocol as p
from emdesk.sync.cli import hub_main
from emdesk.sync.hub import open_storage
from emdesk.sync.hub.postgres import init_postgres


def demo_source(seed, subjects, now):
    from emdesk.services.demo_world import generate_world
    world = generate_world(seed, now=now, subjects=subjects)
    return world.users, world.records()


def _stores(request, tmp_path) -> tuple[str, str]:
    """(the hub's --store, the owner's --store): the same file on SQLite."""
    if request.param == "sqlite":
        path = str(tmp_path / "hub.db")
        assert hub_main(["init", "--store", path]) == 0
        return path, path
    owner, url = new_pg_database(request.getfixturevalue("pg_cluster"))
    return url, owner


@pytest.fixture(params=["sqlite", "postgresql"])
def stores(request, tmp_path):
    return _stores(request, tmp_path)


def test_load_demo_refuses_a_hub_that_holds_records_every_time(stores, capsys):
    url, _ = stores
    load = ["load-demo", "--store", url, "--subjects", "4"]
    assert hub_main(load, demo_world=demo_source, hasher=FAST_HASHER) == 0
    loaded = capsys.readouterr().out
    for _ in range(2):
        assert hub_main(load, demo_world=demo_source, hasher=FAST_HASHER) == 2
        err = capsys.readouterr().err
        assert "already holds records" in err and "emdesk hub init --store NEW" in err
    hub = make_hub(url, FixedClock(NOW))
    try:
        counts = hub.visible_counts("all")
    finally:
        hub.storage.close()
    assert f"{counts['subjects']} subjects" in loaded and counts["subjects"] == 4


def test_revoke_enrol_and_devices_say_what_they_did(stores, capsys, small_world):
    url, owner = stores
    hub = make_hub(url, FixedClock(NOW))
    try:
        hub.load(small_world.users, small_world.records())
        password = next(pw for u, pw in small_world.users if u.username == OFFICER)
        hub.token(p.TokenRequest(device_id="desk-42", device_name="Leeds laptop", username=OFFICER,
                                 password=password, schema_version=LATEST))
    finally:
        hub.storage.close()
    assert hub_main(["devices", "--store", url]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["DEVICE", "USER", "NAME", "LAST", "SEEN", "(UTC)", "STATUS"]
    assert out[1].split() == ["desk-42", OFFICER, "Leeds", "laptop", "2026-11-26", "09:00", "active"]

    assert hub_main(["revoke", "--store", url, "desk-42"]) == 0
    said = capsys.readouterr().out
    assert said.startswith(f"revoked desktop desk-42 (Leeds laptop) of {OFFICER} (user ")
    assert "its tokens stop working at once" in said and f"emdesk hub enrol --store {url} desk-42" in said
    assert hub_main(["devices", "--store", url]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[-1] == "revoked"

    assert hub_main(["revoke", "--store", url, "desk-43"]) == 2
    assert "no desktop desk-43 on this hub" in capsys.readouterr().err
    if url != owner:      # PostgreSQL: lifting a revocation is the owner's
        assert hub_main(["enrol", "--store", url, "desk-42"]) == 2
        assert "owner" in capsys.readouterr().err
    assert hub_main(["enrol", "--store", owner, "desk-42"]) == 0
    assert capsys.readouterr().out.startswith(f"re-enrolled desktop desk-42 (Leeds laptop) of {OFFICER}")
    assert hub_main(["enrol", "--store", owner, "desk-43"]) == 2


@pytest.mark.parametrize("command", [["serve"], ["gc"], ["devices"], ["revoke", "desk-1"], ["enrol", "desk-1"]])
def test_a_mistyped_store_is_not_made_into_an_empty_hub(tmp_path, capsys, command):
    typo = tmp_path / "typo.db"
    assert hub_main([command[0], "--store", str(typo), *command[1:]]) == 2
    assert f"create one with `emdesk hub init --store {typo}`" in capsys.readouterr().err
    assert not typo.exists()


# -- serving on a connection row-level security does not bind ----------------------------------------


def _dsn(dsn: str, **changes) -> str:
    parts = psycopg.conninfo.conninfo_to_dict(dsn)
    parts.pop("password", None)
    return psycopg.conninfo.make_conninfo(**{**parts, **changes})


def test_the_hub_warns_when_row_level_security_would_not_apply(pg_cluster):
    owner, url = new_pg_database(pg_cluster)
    tag = uuid.uuid4().hex[:8]
    with psycopg.connect(owner, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE bypass_{tag} LOGIN BYPASSRLS IN ROLE {HUB_ROLE}")
        conn.execute(f"CREATE ROLE owner_{tag} LOGIN CREATEROLE")
        conn.execute(f"CREATE DATABASE db_{tag} OWNER owner_{tag}")
    pg_cluster.created.append(f"db_{tag}")
    own = _dsn(owner, user=f"owner_{tag}", dbname=f"db_{tag}")
    init_postgres(own, HUB_ROLE)
    cases = [(url, None), (owner, "a superuser"), (_dsn(url, user=f"bypass_{tag}"), "BYPASSRLS"),
             (own, "the owner of the hub's tables")]
    for dsn, why in cases:
        storage = open_storage(dsn)
        try:
            warning = storage.rls_warning()
        finally:
            storage.close()
        if why is None:
            assert warning is None
        else:
            assert why in warning and "row-level security does not apply" in warning


def test_hub_serve_prints_the_warning(pg_cluster):
    owner, url = new_pg_database(pg_cluster)
    for dsn, warned in ((owner, True), (url, False)):
        proc = subprocess.Popen([sys.executable, "-m", "emdesk", "hub", "serve", "--store", dsn, "--port",
                                 str(_free_port()), "--gc-interval", "0", "--log-level", "warning"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
        try:
            line = proc.stdout.readline()          # printed once the warning (if any) is out
            assert line.startswith("emdesk hub on http://127.0.0.1:"), line
        finally:
            proc.terminate()
            try:
                _, err = proc.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate()
        assert ("row-level security does not apply" in err) is warned, err
