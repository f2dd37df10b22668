"""Reading and checking the audit trail."""
from __future__ import annotations

from emdesk.domain.users import Permission, User
from emdesk.store import Store
from emdesk.store.audit import AuditEntry, AuditVerdict

from .errors import AccessDenied


class AuditService:
    def __init__(self, store: Store, user: User | None):
        self.store, self.user = store, user

    def entries(self, *, subject_id: str | None = None, limit: int | None = 500) -> list[AuditEntry]:
        if self.user is not None and not self.user.can(Permission.VIEW_AUDIT):
            raise AccessDenied(f"{self.user.role.label} accounts cannot read the audit trail")
        return self.store.audit_entries(subject_id=subject_id, limit=limit)

    def verify(self) -> AuditVerdict:
        return self.store.verify_audit()
