"""The command line under careless hands: options anywhere, passwords never borrowed, stores
never overwritten or half made, no display, interrupted imports."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from emdesk.domain.orders import Order
from emdesk.domain.users import User
from emdesk.store import Store

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "orders" / "valid"


def init(emdesk, db: Path, *extra):
    emdesk("init", "--db", str(db), *extra, password="admin-password", check=True)


def test_global_options_work_in_any_position(emdesk, tmp_path):
    db = tmp_path / "laptop.db"
    init(emdesk, db, "--plain")
    for args in (("--db", str(db), "sync"), ("sync", "--db", str(db)), ("--user", "admin", "sync", "--db", str(db)),
                 ("--db=" + str(db), "audit", "verify"), ("audit", "verify", "--db", str(db))):
        done = emdesk(*args, password="admin-password")
        assert "Traceback" not in done.stderr and "unrecognized" not in done.stderr, (args, done.stderr)
        if "sync" in args:
            assert done.returncode == 2 and "emdesk join" in done.stderr, (args, done.stderr)   # not the GUI
        else:
            assert done.returncode == 0, (args, done.stderr)


def test_users_add_never_gives_the_new_account_the_administrators_password(emdesk, tmp_path):
    db = tmp_path / "laptop.db"
    init(emdesk, db)
    add = ("--db", str(db), "users", "add", "ann", "--name", "Ann", "--role", "field-officer", "--user", "admin")
    refused = emdesk(*add, password="admin-password")
    assert refused.returncode == 2 and "EMDESK_NEW_PASSWORD" in refused.stderr
    wrong = emdesk(*add, password="not the password", new_password="ann-password")
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr and "nothing was changed" in wrong.stderr
    done = emdesk(*add, password="admin-password", new_password="ann-password")
    assert done.returncode == 0, done.stderr
    store = Store.unlock(db, "ann", "ann-password")
    assert [u.username for u in store.find(User, order_by="username")] == ["admin", "ann"]
    store.close()


def test_adding_an_account_to_a_plain_store_needs_the_administrator(emdesk, tmp_path):
    db = tmp_path / "plain.db"
    init(emdesk, db, "--plain")
    add = ("users", "add", "eve", "--db", str(db), "--name", "Eve", "--role", "admin")
    anonymous = emdesk(*add, new_password="eve-password")
    assert anonymous.returncode == 2 and "--user ADMIN" in anonymous.stderr
    guessed = emdesk(*add, "--user", "admin", password="a guess", new_password="eve-password")
    assert guessed.returncode == 2
    store = Store.open(db)
    assert [u.username for u in store.find(User)] == ["admin"]
    store.close()


@pytest.mark.parametrize("role", ["field-officer", "field_officer", "monitoring", "monitoring_operator"])
def test_one_spelling_of_role_names_everywhere_and_the_stored_one_too(emdesk, tmp_path, role):
    db = tmp_path / "laptop.db"
    init(emdesk, db, "--plain")
    done = emdesk("--user", "admin", "users", "add", "x.y", "--db", str(db), "--name", "X", "--role", role,
                  password="admin-password", new_password="xy-password")
    assert done.returncode == 0, done.stderr
    shot = emdesk("--db", str(db), "--screenshot", str(tmp_path / "s.png"), "--as", role)
    assert "invalid" not in shot.stderr and "Traceback" not in shot.stderr


def test_a_short_password_creates_nothing_and_the_retry_works(emdesk, tmp_path):
    db = tmp_path / "laptop.db"
    short = emdesk("init", "--db", str(db), password="short")
    assert short.returncode == 2 and "at least 8 characters" in short.stderr
    assert not any(tmp_path.glob("laptop.db*"))
    init(emdesk, db)


def test_demo_never_overwrites_a_store_that_is_not_a_demo(emdesk, tmp_path):
    db = tmp_path / "laptop.db"
    init(emdesk, db)
    before = db.read_bytes()
    refused = emdesk("demo", "--db", str(db), "--subjects", "5", "--screenshot", str(tmp_path / "s.png"),
                     "--as", "supervisor")
    assert refused.returncode == 2 and "--replace" in refused.stderr
    assert db.read_bytes() == before and Path(f"{db}.keys").exists()
    replaced = emdesk("demo", "--db", str(db), "--subjects", "5", "--replace", "--screenshot",
                      str(tmp_path / "s.png"), "--as", "supervisor")
    assert replaced.returncode == 0, replaced.stderr
    backups = [p for p in tmp_path.iterdir() if ".bak-" in p.name]
    assert {p.name.endswith(".keys") for p in backups} == {True, False}
    kept = next(p for p in backups if not p.name.endswith(".keys"))
    assert kept.read_bytes() == before


def test_no_display_says_how_to_get_one(emdesk, tmp_path):
    db = tmp_path / "laptop.db"
    init(emdesk, db, "--plain")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    done = subprocess.run([sys.executable, "-m", "emdesk", "--db", str(db)], capture_output=True, text=True,
                          env={**env, "HOME": str(tmp_path)}, stdin=subprocess.DEVNULL, timeout=120)
    assert done.returncode == 2
    assert "no display" in done.stderr and "xvfb-run" in done.stderr and "--screenshot" in done.stderr


def test_ctrl_c_in_a_large_import_commits_nothing_and_exits_130(emdesk, tmp_path):
    db = tmp_path / "centre.db"
    init(emdesk, db, "--plain")
    base = json.loads(sorted(CORPUS.glob("*.json"))[0].read_text())["intake"]
    big = tmp_path / "orders.json"
    with big.open("w") as f:
        f.write("[")
        for i in range(30_000):
            f.write(("," if i else "") + json.dumps({**base, "reference": f"BIG-{i}"}))
        f.write("]")
    env = {**os.environ, "HOME": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.Popen([sys.executable, "-m", "emdesk", "orders", "import", str(big), "--db", str(db)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            stdin=subprocess.DEVNULL)
    time.sleep(4)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted: nothing" in err and "Traceback" not in err
    store = Store.open(db)
    assert store.count(Order) == 0
    store.close()
