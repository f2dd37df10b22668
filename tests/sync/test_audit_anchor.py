"""The audit log anchored on the hub: a tail cut off with the store key, and the head rewritten
to match, passes the local chain check but not the anchor -- on both hub storages."""
from __future__ import annotations

from synckit import NOW, OFFICER, own_open_visit

from emdesk.sync import audit_anchor


def cut_tail(store, keep: int) -> None:
    """What someone holding the store key can do: drop the guard, cut entries, fix the head."""
    with store.transaction() as db:
        db.execute("DROP TRIGGER audit_log_no_delete")
        db.execute("DELETE FROM audit_log WHERE seq > ?", [keep])
        digest = db.execute("SELECT hash FROM audit_log WHERE seq = ?", [keep]).fetchone()[0]
        db.execute("UPDATE meta SET value = ? WHERE key = 'audit_head'", [f"{keep}:{digest}"])


def work(desk, n: int) -> None:
    visit = own_open_visit(desk, desk.user.id)
    for i in range(n):
        desk.store.audit_view(actor=desk.user.id, entity="visits", entity_id=visit.id, subject_id=visit.subject_id,
                              detail={"i": i})


def test_a_cut_tail_is_caught_against_the_hubs_anchor(kit):
    desk = kit.desk(OFFICER)
    work(desk, 5)
    desk.sync()
    anchored, _ = desk.store.audit_head()
    assert kit.hub and anchored >= 5
    ok = audit_anchor.check(desk.store, lambda: desk.client, now=NOW)
    assert ok.ok and f"entries 1-{anchored} match" in ok.lines[0]
    work(desk, 3)                                                   # not yet anchored
    cut_tail(desk.store, anchored - 2)
    assert desk.store.verify_audit().ok                             # the local chain cannot tell
    verdict = audit_anchor.check(desk.store, lambda: desk.client, now=NOW)
    assert not verdict.ok and "entries were removed" in verdict.lines[0]
    # The next sync tells the hub, which keeps it: verify reports it from then on.
    report = desk.sync()
    assert "removed" in report.audit_alarm
    again = audit_anchor.check(desk.store, lambda: desk.client, now=NOW)
    assert not again.ok and "the hub recorded a problem" in again.lines[0]


def test_entries_since_the_last_sync_are_reported_as_not_anchored(kit):
    desk = kit.desk(OFFICER)
    work(desk, 2)
    desk.sync()
    anchored, _ = desk.store.audit_head()
    work(desk, 4)
    verdict = audit_anchor.check(desk.store, lambda: desk.client, now=NOW)
    assert verdict.ok
    assert verdict.lines[1].startswith(f"entries {anchored + 1}-{anchored + 4} were written since")
    # Offline, the desktop's own copy of the anchor is used, and the check says so.
    kit.http.fail = lambda path, phase: True
    offline = audit_anchor.check(desk.store, lambda: desk.client, now=NOW)
    kit.http.fail = None
    assert offline.ok and "was not reached" in offline.lines[0]
