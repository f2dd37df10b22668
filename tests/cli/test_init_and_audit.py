"""``emdesk init``, ``emdesk users add`` and ``emdesk audit verify`` on real files."""
from __future__ import annotations

import sqlite3

import pytest


def test_init_creates_an_encrypted_store_by_default(emdesk, tmp_path):
    db = tmp_path / "e.db"
    out = emdesk("init", "--db", str(db), "--admin", "root", password="admin-password", check=True)
    assert "encrypted store" in out.stdout
    assert not db.read_bytes().startswith(b"SQLite format 3")
    # The admin's password opens it; verifying the audit chain needs it.
    ok = emdesk("--user", "root", "audit", "verify", "--db", str(db), password="admin-password")
    assert ok.returncode == 0 and "audit log intact" in ok.stdout
    bad = emdesk("--user", "root", "audit", "verify", "--db", str(db), password="wrong-password")
    assert bad.returncode == 2 and "wrong password" in bad.stderr
    locked = emdesk("audit", "verify", "--db", str(db))
    assert locked.returncode == 2 and "--user" in locked.stderr


def test_users_add_lets_the_new_account_unlock_the_store(emdesk, tmp_path):
    db = tmp_path / "e.db"
    emdesk("init", "--db", str(db), password="admin-password", check=True)
    emdesk("--user", "admin", "users", "add", "officer.leeds", "--db", str(db), "--name", "Officer",
           "--role", "field_officer", "--region", "Yorkshire and the Humber", password="admin-password",
           new_password="officer-password", check=True)
    # The new account has its own password (never the administrator's), and it unlocks the store.
    ok = emdesk("--user", "officer.leeds", "audit", "verify", "--db", str(db), password="officer-password")
    assert ok.returncode == 0, ok.stderr
    wrong = emdesk("--user", "officer.leeds", "audit", "verify", "--db", str(db), password="admin-password")
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr


@pytest.mark.parametrize(("role", "region", "refused"), [
    ("police", [], True),                 # no region would see no breach pack at all
    ("probation", ["--region", ""], True),
    ("police", ["--region", "North West"], False),
    ("home_office", [], False),           # the Home Office is national
])
def test_users_add_needs_a_region_for_police_and_probation(emdesk, tmp_path, role, region, refused):
    db = tmp_path / "e.db"
    emdesk("init", "--db", str(db), "--plain", password="admin-password", check=True)
    out = emdesk("--user", "admin", "users", "add", "agency.one", "--db", str(db), "--name", "Agency", "--role",
                 role, *region, password="admin-password", new_password="agency-password")
    assert out.returncode == (2 if refused else 0), out.stderr
    assert (f"--region: a {role} account works one region's breach packs: give its region" in out.stderr) is refused


def test_audit_verify_detects_tampering_in_a_plain_store(emdesk, tmp_path):
    db = tmp_path / "p.db"
    emdesk("init", "--db", str(db), "--plain", password="admin-password", check=True)
    assert emdesk("audit", "verify", "--db", str(db)).returncode == 0
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("UPDATE audit_log SET actor = 'someone else' WHERE seq = 1")
    conn.commit()
    conn.close()
    broken = emdesk("audit", "verify", "--db", str(db))
    assert broken.returncode == 1 and "BROKEN at entry 1" in broken.stdout


def test_missing_store_says_what_to_do(emdesk, tmp_path):
    r = emdesk("audit", "verify", "--db", str(tmp_path / "none.db"))
    assert r.returncode == 2 and "emdesk init" in r.stderr
