"""Everything a signed-in session needs, built once at sign-in and handed to the UI."""
from __future__ import annotations

from dataclasses import dataclass, field

from emdesk.domain.clock import Clock
from emdesk.domain.geocoding import Geocoder
from emdesk.domain.users import User
from emdesk.store import Store

from .audit import AuditService
from .cases import CaseService
from .intake import IntakeService


@dataclass
class AppContext:
    user: User
    clock: Clock
    cases: CaseService
    intake: IntakeService
    audit: AuditService
    store_label: str
    encrypted: bool
    desktop_id: str
    _store: Store = field(repr=False)

    @classmethod
    def for_user(cls, store: Store, user: User, clock: Clock, geocoder: Geocoder) -> "AppContext":
        mode = "encrypted" if store.encrypted else "UNENCRYPTED"
        return cls(
            user=user, clock=clock,
            cases=CaseService(store, user, clock),
            intake=IntakeService(store, user, clock, geocoder),
            audit=AuditService(store, user),
            store_label=f"{store.path} ({mode})", encrypted=store.encrypted,
            desktop_id=store.desktop_id, _store=store,
        )

    def close(self) -> None:
        self._store.close()
