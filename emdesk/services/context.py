"""Everything a signed-in session needs, built once at sign-in and handed to the UI."""
from __future__ import annotations

from dataclasses import dataclass, field
from emdesk.domain.clock import Clock
from emdesk.domain.geocoding import Geocoder
from emdesk.domain.users import Permission, Role, User
from emdesk.store import Store

from .audit import AuditService
from .bench_records import BenchService
from .cases import CaseService
from .checklists import ChecklistService
from .day_plan import DayPlanService
from .equipment import OutstandingEquipmentService
from .fleet_map import FleetMapService
from .equipment import may_see as may_see_equipment
from .incidents import IncidentService
from .installs import InstallService
from .intake import IntakeService
from .kpis import KpiService
from .live_feed import LiveFeed
from .mi import ManagementService
from .officer_day import OfficerDayService
from .queue import IncidentQueue
from .packs import PackService
from .removals import RemovalService
from .responses import ResponseService
from .subject_file import SubjectFileService
from .subject_file import may_read as may_read_subject_files
from .sync_port import SyncPort
from .trail_match import TrailMatchService
from .trails import TrailService
from .visit_making import VisitMakingService
from .visit_outcomes import VisitOutcomeService


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
    # The officer's day (Today) and the field work it records: outcomes, checklists,
    # removals.  Each service checks the role itself on every call.
    officer_day: OfficerDayService | None = None
    outcomes: VisitOutcomeService | None = None
    checklists: ChecklistService | None = None
    removals: RemovalService | None = None
    # Supervisors' and the centre's side: route plans, visits made from order events, and
    # (least privilege) the install KPIs and outstanding equipment only for the roles that
    # may see them; None for every other role, so the UI simply has no such view.
    planner: DayPlanService | None = None
    visit_making: VisitMakingService | None = None
    kpis: KpiService | None = None
    # The whole management picture (NAO Figure 5) with drill-down: supervisors only.
    mi: ManagementService | None = None
    equipment: OutstandingEquipmentService | None = None
    # Monitoring staff's file on one wearer (order, kit health, timeline); None for other roles.
    subject_files: SubjectFileService | None = None
    # The regional overview map (roles that see cases) and trail matching (MATCH_TRAILS only).
    fleet_map: FleetMapService | None = None
    trail_match: TrailMatchService | None = None
    # A wearer's trail on the map: the monitoring roles (their region or all), else None.
    trails: TrailService | None = None
    # `emdesk demo`'s moving fleet (set by the app's wiring, None otherwise): its
    # ``status_text()`` is for the status bar; the session's clock is its simulated one.
    live_feed: LiveFeed | None = None
    # Monitoring staff's incident queue and its triage actions (WORK_ALERTS only).
    queue: IncidentQueue | None = None
    incidents: IncidentService | None = None
    # Breach packs: built and issued by BUILD_PACKS roles, read by the agencies (RESPOND_TO_BREACHES).
    # Its ``map_image`` (the headless trail map, Qt) is set by the desktop's wiring, never here.
    packs: PackService | None = None
    # Breach responses: the agencies' inbox, RADU and outcomes; the centre's 5-day prompts.
    responses: ResponseService | None = None

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
            outcomes=VisitOutcomeService(store, user, clock),
            checklists=ChecklistService(store, user, clock),
            removals=RemovalService(store, user, clock),
            planner=(DayPlanService(store, user, clock)
                     if user.role in (Role.SUPERVISOR, Role.MONITORING_OPERATOR) else None),
            visit_making=VisitMakingService(store, user, clock),
            kpis=(KpiService(store, user, clock)
                  if user.can(Permission.VIEW_MANAGEMENT_FIGURES) else None),
            mi=(ManagementService(store, user, clock)
                if user.can(Permission.VIEW_MANAGEMENT_FIGURES) else None),
            equipment=OutstandingEquipmentService(store, user, clock) if may_see_equipment(user) else None,
            subject_files=SubjectFileService(store, user, clock) if may_read_subject_files(user) else None,
            fleet_map=(FleetMapService(store, user, clock) if user.can(Permission.VIEW_REGION_CASES)
                       or user.can(Permission.VIEW_ALL_CASES) else None),
            trail_match=TrailMatchService(store, user, clock) if user.can(Permission.MATCH_TRAILS) else None,
            trails=(TrailService(store, user, clock)
                    if user.can(Permission.VIEW_ALL_CASES) or user.can(Permission.VIEW_REGION_CASES) else None),
            queue=IncidentQueue(store, user, clock) if user.can(Permission.WORK_ALERTS) else None,
            incidents=IncidentService(store, user, clock) if user.can(Permission.WORK_ALERTS) else None,
            packs=(PackService(store, user, clock) if user.can(Permission.BUILD_PACKS)
                   or user.can(Permission.RESPOND_TO_BREACHES) else None),
            responses=(ResponseService(store, user, clock) if user.can(Permission.RESPOND_TO_BREACHES)
                       or user.can(Permission.WORK_ALERTS) else None),
        )

    def close(self) -> None:
        if self.sync is not None and hasattr(self.sync, "close"):
            self.sync.close()
        self._store.close()

