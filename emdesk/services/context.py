"""Everything a signed-in session needs, built once at sign-in and handed to the UI."""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from emdesk.domain.clock import Clock
from emdesk.domain.geocoding import Geocoder
from emdesk.domain.users import User
from emdesk.store import Store

from .audit import AuditService
from .bench_records import BenchService
from .cases import CaseService
from .installs import InstallService
from .intake import IntakeService
from .officer_day import OfficerDayService
from .sync_port import SyncPort


DEMO_MARK = "demo_seed"      # set in meta by the demo world's builder (services/demo.py)


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
    demo: bool = False          # a store made by `emdesk demo` (plain on purpose)
    # Device link: installs recorded by the pairing wizard (field officers, own visits),
    # and the technician's bench (check-in, unpair, reset).  Each checks the role itself.
    installs: InstallService | None = None
    bench: BenchService | None = None
    # Offline sync with the hub, when this store has joined one (wired by app.py).
    sync: SyncPort | None = None
    # The officer's day (Today), and the field-work services it calls: outcomes, checklists;
    # the supervisor's install KPIs.  None where the role has no use for them or the
    # service is not part of this build.
    officer_day: OfficerDayService | None = None
    outcomes: Any = None         # emdesk.services.visit_outcomes.VisitOutcomeService
    checklists: Any = None       # emdesk.services.checklists.ChecklistService
    kpis: Any = None             # emdesk.services.kpis.KpiService

    @classmethod
    def for_user(cls, store: Store, user: User, clock: Clock, geocoder: Geocoder) -> "AppContext":
        mode = "encrypted" if store.encrypted else "UNENCRYPTED"
        return cls(
            user=user, clock=clock,
            cases=CaseService(store, user, clock),
            intake=IntakeService(store, user, clock, geocoder),
            audit=AuditService(store, user),
            store_label=f"{store.path} ({mode})", encrypted=store.encrypted,
            demo=store.meta(DEMO_MARK) is not None,
            desktop_id=store.desktop_id, _store=store,
            installs=InstallService(store, user, clock),
            bench=BenchService(store, user, clock),
            officer_day=OfficerDayService(store, user, clock),
            outcomes=_optional("visit_outcomes", "VisitOutcomeService", store, user, clock),
            checklists=_optional("checklists", "ChecklistService", store, user, clock),
            kpis=_optional("kpis", "KpiService", store, user, clock),
        )

    def close(self) -> None:
        if self.sync is not None and hasattr(self.sync, "close"):
            self.sync.close()
        self._store.close()


def _optional(module: str, cls: str, store: Store, user: User, clock: Clock) -> Any:
    """A service built from ``emdesk.services.<module>`` if this build has that module."""
    name = f"{__package__}.{module}"
    try:
        found = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise                  # the module is there but broken: say so, do not hide it
        return None
    return getattr(found, cls)(store, user, clock)
