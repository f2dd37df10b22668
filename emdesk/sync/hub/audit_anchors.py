"""Each desktop's audit-log head, kept on the hub as it syncs (mixed into ``Hub``)."""
from __future__ import annotations

from datetime import datetime, timezone

from .. import protocol as p
from .accounts import Account, HubError



class AuditAnchors:
    """The hub side of ``emdesk.sync.audit_anchor`` (mixed into ``Hub``)."""

    # -- audit anchors ------------------------------------------------------------------

    def anchor_audit(self, who: Account, req: p.AuditAnchorRequest) -> p.AuditAnchorResponse:
        """Keep a desktop's audit-log head outside its store.  A head must extend the last one
        the hub holds for that desktop (the desktop proves it still has that entry, with the
        same hash); a log that comes back shorter or rewritten is recorded as an alarm, which
        ``emdesk audit verify`` reports.  ``head_seq`` -1 only asks for the last anchor."""
        self.check_schema(req.schema_version)
        if req.device_id != who.device_id:
            raise HubError(403, "wrong_device", "This sign-in belongs to another desktop.")
        now = self.now_ms()
        with self.storage.bookkeeping() as tx:
            last = tx.one("SELECT seq, hash, at_ms FROM audit_anchors WHERE device_id = ? AND alarm = '' "
                          "ORDER BY seq DESC, at_ms DESC LIMIT 1", [who.device_id])
            alarms = tx.one("SELECT alarm FROM audit_anchors WHERE device_id = ? AND alarm <> '' "
                            "ORDER BY at_ms DESC LIMIT 1", [who.device_id])
            anchor = p.AuditAnchor(seq=int(last[0]), hash=last[1], at_ms=int(last[2])) if last else p.AuditAnchor()
            alarm = ""
            if req.head_seq >= 0:
                alarm = self._audit_alarm(anchor, req)
                if alarm:
                    tx.execute("INSERT INTO audit_anchors (device_id, seq, hash, at_ms, alarm) VALUES (?, ?, ?, ?, ?)",
                               [who.device_id, req.head_seq, req.head_hash[:64], now, alarm])
                elif req.head_seq > anchor.seq and req.proof_seq == anchor.seq:
                    tx.execute("INSERT INTO audit_anchors (device_id, seq, hash, at_ms) VALUES (?, ?, ?, ?)",
                               [who.device_id, req.head_seq, req.head_hash, now])
                    anchor = p.AuditAnchor(seq=req.head_seq, hash=req.head_hash, at_ms=now)
        when = datetime.fromtimestamp(now / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        return p.AuditAnchorResponse(anchor=anchor, hub_time_ms=now,
                                     alarm=f"{alarm} (seen by the hub {when})" if alarm else (alarms[0] if alarms else ""))

    @staticmethod
    def _audit_alarm(anchor: p.AuditAnchor, req: p.AuditAnchorRequest) -> str:
        if len(req.head_hash) != 64 or any(c not in "0123456789abcdef" for c in req.head_hash):
            raise HubError(400, "bad_request", "head_hash must be 64 lowercase hex digits")
        if not anchor.seq:
            return ""
        if req.head_seq < anchor.seq:
            return (f"the audit log ends at entry {req.head_seq}, but the hub anchored entry {anchor.seq}: "
                    "entries were removed")
        if req.proof_seq == anchor.seq and req.proof_hash != anchor.hash:
            return f"entry {anchor.seq} of the audit log is not the one the hub anchored: the log was rewritten"
        return ""

