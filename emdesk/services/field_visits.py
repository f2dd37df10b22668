"""Which visits an officer may record field work on: her own, of the right kind."""
from __future__ import annotations

from emdesk.domain.users import Permission, User
from emdesk.domain.visits import Visit, VisitKind
from emdesk.store import Store

from .errors import AccessDenied, ServiceError


def own_visit(store: Store, user: User, visit_id: str, kind: VisitKind, work: str,
              wrong_kind: type[ServiceError]) -> Visit:
    """The visit, if ``user`` may record ``work`` ("installations") on it; else why not."""
    if not user.can(Permission.RECORD_VISITS):
        raise AccessDenied(f"{user.role.label} accounts cannot record {work}")
    visit = store.get(Visit, visit_id)
    if visit is None:
        raise AccessDenied("no such visit")
    if visit.officer_id != user.id:
        raise AccessDenied("that visit is booked to another officer: only she can record it")
    if visit.kind is not kind:
        raise wrong_kind(f"this is a {visit.kind.value} visit, not {'an' if kind.value[0] in 'aeiou' else 'a'} "
                         f"{kind.value}")
    return visit
