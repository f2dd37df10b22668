"""The audit log checked against its anchor on the hub.

A local hash chain cannot prove its own completeness: whoever holds the store key can cut
entries off the end and rewrite the head kept beside them, and the chain still verifies.
So every sync hands the hub the log's head (``SyncClient._anchor_audit``), proving that the
log still holds the previous anchor with the same hash, and ``emdesk audit verify`` checks
the local log against the last anchor the hub holds.

What this detects: any entry up to the last anchor removed or altered (the anchored entry
is missing or has another hash), whether found by ``audit verify`` or by the hub at the next
sync (kept there as an alarm).  What it does not: entries written since the last sync and
removed before the next one -- the check says how many entries and how much time that is.
Offline, the desktop's own copy of the last anchor is used, and the check says so: someone
with the store key could change that copy too.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from emdesk.store import Store

from . import protocol as p
from .errors import SyncError


@dataclass
class AnchorCheck:
    ok: bool
    lines: list[str] = field(default_factory=list)


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _age(ms: int, now: datetime) -> str:
    minutes = max(0, int((now.timestamp() * 1000 - ms) // 60_000))
    if minutes < 120:
        return f"{minutes} minutes"
    if minutes < 48 * 60:
        return f"{minutes // 60} hours"
    return f"{minutes // (24 * 60)} days"


def check_against(store: Store, anchor: p.AuditAnchor, *, alarm: str = "", now: datetime,
                  from_hub: bool = True) -> AnchorCheck:
    head, _ = store.audit_head()
    where = "the hub" if from_hub else "this desktop's copy of the hub's answer (the hub was not reached)"
    if alarm:
        return AnchorCheck(False, [f"the hub recorded a problem with this desktop's audit log: {alarm}"])
    if not anchor.seq:
        return AnchorCheck(True, ["no entry is anchored at a hub yet (this desktop has not synced its audit log): "
                                  "entries removed from the end would not be detected"])
    held = store.audit_hash_at(anchor.seq)
    if not held:
        return AnchorCheck(False, [f"entry {anchor.seq}, anchored at the hub on {_when(anchor.at_ms)}, is no longer "
                                   f"in the log (it ends at entry {head}): entries were removed"])
    if held != anchor.hash:
        return AnchorCheck(False, [f"entry {anchor.seq} is not the one anchored at the hub on {_when(anchor.at_ms)}: "
                                   "the log was rewritten"])
    lines = [f"entries 1-{anchor.seq} match the anchor from {where}, taken {_when(anchor.at_ms)} "
             f"({_age(anchor.at_ms, now)} ago)"]
    if head > anchor.seq:
        lines.append(f"entries {anchor.seq + 1}-{head} were written since and are not anchored yet: removing them "
                     "would not be detected until the next sync")
    return AnchorCheck(True, lines)


def check(store: Store, client_factory, *, now: datetime) -> AnchorCheck:
    """Against the hub's own record when it can be reached, else the desktop's copy of it.
    ``client_factory()`` makes a ``SyncClient`` (the store must have joined a hub)."""
    client = client_factory()
    try:
        try:
            answer = client.hub_audit_anchor()
        except SyncError:
            return check_against(store, client.audit_anchor(), now=now, from_hub=False)
        return check_against(store, answer.anchor, alarm=answer.alarm, now=now)
    finally:
        client.close()


__all__ = ["AnchorCheck", "check", "check_against"]
