"""A real hub: uvicorn on a loopback port (TLS with a private CA), the CLI, and a desktop
process killed with SIGKILL in the middle of a large sync."""
from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from synckit import FAST_HASHER, ServerThread

from emdesk.domain.monitoring import Note
from emdesk.domain.orders import Order
from emdesk.services.auth import sign_in
from emdesk.store import Store, StoreLocked
from emdesk.sync.cli import join_main, sync_main
from emdesk.sync.client import SyncClient
from emdesk.sync.hub import Hub, create_app, open_storage

OFFICER = "officer.leeds"


def _private_ca(where: Path) -> tuple[Path, Path, Path]:
    """A CA certificate and a server certificate for 127.0.0.1 signed by it (PEM files)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "emdesk test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = where / "ca.pem", where / "hub.pem", where / "hub.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


def _hub(tmp_path: Path, world) -> Hub:
    hub = Hub(open_storage(tmp_path / "hub.db"), hasher=FAST_HASHER)
    hub.load(world.users, world.records())
    return hub


def _password(world, username: str) -> str:
    return next(pw for u, pw in world.users if u.username == username)


def test_join_and_sync_over_tls_with_a_private_ca(tmp_path, small_world, monkeypatch, capsys):
    ca, cert, key = _private_ca(tmp_path)
    hub = _hub(tmp_path, small_world)
    db = tmp_path / "laptop.db"
    monkeypatch.setenv("EMDESK_PASSWORD", _password(small_world, OFFICER))
    with ServerThread(create_app(hub), cert=cert, key=key) as server:
        assert server.url.startswith("https://")
        # Without the private CA the hub's certificate is not trusted: nothing is created.
        assert join_main(["--hub", server.url, "--user", OFFICER, "--db", str(db)]) == 3
        assert "Cannot reach the hub" in capsys.readouterr().err and not db.exists()
        assert join_main(["--hub", server.url, "--user", OFFICER, "--db", str(db), "--ca", str(ca)]) == 0
        assert "(encrypted)" in capsys.readouterr().out
        with pytest.raises(StoreLocked):
            Store.open(db)
        store = Store.unlock(db, OFFICER, _password(small_world, OFFICER))
        user = sign_in(store, OFFICER, _password(small_world, OFFICER))      # offline sign-in works
        assert store.sync_value("hub_url") == server.url and store.sync_value("refresh_token")
        order = store.find(Order, order_by="id")[0]
        store.put(order.evolve(reference="EDITED-AT-THE-DOOR"), actor=user.id)
        store.close()
        assert sync_main(["--db", str(db), "--ca", str(ca)]) == 0
        out = capsys.readouterr().out
        assert out.startswith("pushed 0, refused 1, pulled 1, evicted 0, cursor ")
        assert f"refused orders/{order.id}: orders: orders are kept by the monitoring centre" in out
        store = Store.unlock(db, OFFICER, _password(small_world, OFFICER))
        assert store.get(Order, order.id).reference == order.reference
        store.close()
    # The hub has gone away: the desktop says so and keeps working offline.
    assert sync_main(["--db", str(db), "--ca", str(ca)]) == 3
    assert "Working offline" in capsys.readouterr().err


def _slow(app, delay: float):
    """The hub, slower per page, so a page-by-page sync takes long enough to be killed mid-way."""
    async def wrapped(scope, receive, send):
        if scope["type"] == "http" and scope["path"] in ("/v1/pull", "/v1/bootstrap"):
            await asyncio.sleep(delay)
        await app(scope, receive, send)
    return wrapped


def _state(db: Path, key: str) -> str | None:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            row = conn.execute("SELECT value FROM sync_state WHERE key = ?", [key]).fetchone()
            return row[0] if row else None
    except sqlite3.Error:
        return None


def _run_until(args: list[str], db: Path, key: str, enough, env: dict) -> int:
    """Run an emdesk sync command in a process and SIGKILL it once ``enough(value of key)``."""
    code = ("import sys; from emdesk.sync.cli import join_main, sync_main; "
            "sys.exit({'join': join_main, 'sync': sync_main}[sys.argv[1]](sys.argv[2:]))")
    proc = subprocess.Popen([sys.executable, "-c", code, *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"finished before it could be killed: {proc.communicate()}")
            if enough(_state(db, key)):
                proc.send_signal(signal.SIGKILL)
                return proc.wait(10)
            time.sleep(0.01)
        raise AssertionError("no progress to kill in")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def _local_counts(store: Store) -> dict[str, int]:
    out = {}
    with store.reading() as db:
        for table in ("users", "subjects", "orders", "devices", "visits", "notes"):
            n = db.execute(f"SELECT count(*) FROM {table} WHERE deleted = 0").fetchone()[0]
            if n:
                out[table] = n
    return out


def _check_file(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


@pytest.mark.slow
def test_a_desktop_killed_mid_sync_loses_nothing(tmp_path, monkeypatch):
    from emdesk.services.demo_world import generate_world
    world = generate_world(2026, now=dt.datetime.now(dt.UTC), subjects=200)
    hub = _hub(tmp_path, world)
    db = tmp_path / "boss.db"
    env = dict(os.environ, EMDESK_PASSWORD=_password(world, "supervisor"))
    with ServerThread(_slow(create_app(hub), 0.02)) as server:
        # 1. Killed in the middle of the first (large) load.
        killed = _run_until(["join", "--hub", server.url, "--user", "supervisor", "--db", str(db), "--plain",
                             "--page", "25"], db, "bootstrap_done", lambda v: v is not None and int(v) >= 300, env)
        assert killed == -signal.SIGKILL
        _check_file(db)
        store = Store.open(db)
        partial = sum(_local_counts(store).values())
        assert partial % 25 == 0 and partial >= 300                   # whole pages only
        assert store.sync_value("cursor") in (None, "")
        store.close()
        monkeypatch.setenv("EMDESK_PASSWORD", env["EMDESK_PASSWORD"])
        assert sync_main(["--db", str(db), "--page", "500"]) == 0
        store = Store.open(db)
        assert _local_counts(store) == hub.visible_counts("all")
        # 2. Local edits waiting in the outbox, a large incoming change set, killed while pulling.
        order = store.find(Order, order_by="id")[0]
        mine = [store.put(Note(subject_id=order.subject_id, order_id=order.id, at=order.created_at,
                               text=f"supervisor note {i}")) for i in range(5)]
        assert store.outbox_count() == 5
        cursor_before = int(store.sync_value("cursor"))
        store.close()
        monitor, _ = Store.create(tmp_path / "monitor.db", plain=True)
        with SyncClient(monitor, server.url) as client:
            client.register("monitor.northwest", _password(world, "monitor.northwest"))
            client.sync_once()
            o = monitor.find(Order, order_by="id")[0]
            monitor.put_many([Note(subject_id=o.subject_id, order_id=o.id, at=o.created_at, text=f"centre {i}")
                              for i in range(400)])
            assert client.sync_once().pushed == 400
        killed = _run_until(["sync", "--db", str(db), "--page", "20"], db, "cursor",
                            lambda v: bool(v) and int(v) > cursor_before + 60, env)
        assert killed == -signal.SIGKILL
        _check_file(db)
        store = Store.open(db)
        assert 0 < int(store.sync_value("cursor")) - cursor_before < 400
        pending = {r["row_id"] for r in store.outbox()}
        with hub.storage.read("all") as tx:
            on_hub = {r[0] for r in tx.all("SELECT id FROM hub_rows WHERE tbl = 'notes'")}
        assert all(m.id in pending or m.id in on_hub for m in mine)          # each edit kept somewhere
        store.close()
        assert sync_main(["--db", str(db)]) == 0
        store = Store.open(db)
        assert _local_counts(store) == hub.visible_counts("all")
        assert store.outbox_count() == 0
        texts = {n.text for n in store.find(Note)}
        assert {f"supervisor note {i}" for i in range(5)} <= texts and {f"centre {i}" for i in range(400)} <= texts
        with hub.storage.read("all") as tx:
            assert tx.scalar("SELECT count(*) FROM hub_rows WHERE tbl = 'notes' AND data LIKE '%supervisor note%'") == 5
        store.close()
        monitor.close()
