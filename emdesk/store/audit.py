"""An append-only, hash-chained log of who viewed or changed whose record.

Each entry's hash covers its content and the previous entry's hash, so editing or
removing any entry breaks the chain from there on.  The head (last seq and hash) is
kept in ``meta`` in the same transaction, so cutting entries off the end is caught too.
Triggers refuse UPDATE and DELETE; the chain catches edits made around them.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str
    actor: str
    action: str
    entity: str
    entity_id: str
    subject_id: str | None
    detail: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class AuditVerdict:
    ok: bool
    entries: int
    broken_at: int | None = None
    reason: str = ""


def _digest(prev_hash: str, seq: int, at: str, actor: str, action: str, entity: str,
            entity_id: str, subject_id: str | None, detail: str) -> str:
    body = json.dumps([prev_hash, seq, at, actor, action, entity, entity_id, subject_id, detail],
                      separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def _head(db: sqlite_utils.Database) -> tuple[int, str]:
    row = db.execute("SELECT value FROM meta WHERE key = 'audit_head'").fetchone()
    if not row:
        return 0, GENESIS
    seq, digest = row[0].split(":")
    return int(seq), digest


def append(db: sqlite_utils.Database, *, at: datetime, actor: str, action: str, entity: str,
           entity_id: str, subject_id: str | None = None, detail: dict | None = None) -> AuditEntry:
    """Add an entry; the caller holds the write transaction."""
    seq, prev = _head(db)
    seq += 1
    at_text = at.isoformat(timespec="milliseconds")
    detail_text = json.dumps(detail or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = _digest(prev, seq, at_text, actor, action, entity, entity_id, subject_id, detail_text)
    db.execute(
        "INSERT INTO audit_log (seq, at, actor, action, entity, entity_id, subject_id, detail, prev_hash, hash) "
        "VALUES (?,?,?,?,?,?,?,?,?,?)",
        [seq, at_text, actor, action, entity, entity_id, subject_id, detail_text, prev, digest],
    )
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('audit_head', ?)", [f"{seq}:{digest}"])
    return AuditEntry(seq, at_text, actor, action, entity, entity_id, subject_id, detail_text, prev, digest)


def head(db: sqlite_utils.Database) -> tuple[int, str]:
    """The last entry's seq and hash, as the log holds them (0 and the genesis hash if empty)."""
    row = db.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    return (int(row[0]), row[1]) if row else (0, GENESIS)


def hash_at(db: sqlite_utils.Database, seq: int) -> str:
    """The hash of entry ``seq``, or "" if the log does not hold it."""
    row = db.execute("SELECT hash FROM audit_log WHERE seq = ?", [seq]).fetchone()
    return row[0] if row else ""


def entries(db: sqlite_utils.Database, *, subject_id: str | None = None, limit: int | None = None) -> list[AuditEntry]:
    sql = "SELECT seq, at, actor, action, entity, entity_id, subject_id, detail, prev_hash, hash FROM audit_log"
    args: list = []
    if subject_id:
        sql += " WHERE subject_id = ?"
        args.append(subject_id)
    sql += " ORDER BY seq"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return [AuditEntry(*row) for row in db.execute(sql, args).fetchall()]


def verify(db: sqlite_utils.Database) -> AuditVerdict:
    prev, expected_seq, count = GENESIS, 1, 0
    for row in db.execute("SELECT seq, at, actor, action, entity, entity_id, subject_id, detail, prev_hash, hash "
                          "FROM audit_log ORDER BY seq"):
        e = AuditEntry(*row)
        if e.seq != expected_seq:
            return AuditVerdict(False, count, e.seq, f"entries {expected_seq}..{e.seq - 1} are missing")
        if e.prev_hash != prev:
            return AuditVerdict(False, count, e.seq, f"entry {e.seq} does not follow entry {e.seq - 1}")
        if _digest(prev, e.seq, e.at, e.actor, e.action, e.entity, e.entity_id, e.subject_id, e.detail) != e.hash:
            return AuditVerdict(False, count, e.seq, f"entry {e.seq} was altered after it was written")
        prev, expected_seq, count = e.hash, expected_seq + 1, count + 1
    head_seq, head_hash = _head(db)
    if (head_seq, head_hash) != (count, prev if count else GENESIS):
        return AuditVerdict(False, count, count + 1,
                            f"the log ends at entry {count} but {head_seq} were written: entries were removed from the end")
    return AuditVerdict(True, count)
