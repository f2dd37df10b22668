"""The first screens, chosen by what the signed-in user may do (least privilege)."""
from __future__ import annotations

from emdesk.domain.users import Permission, User
from emdesk.services.equipment import may_see as sees_outstanding_kit

from .base import Workspace
from .bench import BenchWorkspace
from .caseload import CaseloadWorkspace
from .conflicts import ConflictsWorkspace
from .equipment import EquipmentWorkspace
from .management import ManagementWorkspace
from .monitoring import MonitoringWorkspace
from .orders import OrdersWorkspace
from .overview import OverviewWorkspace
from .responses import ResponsesWorkspace
from .stock import StockWorkspace
from .today import TodayWorkspace

P = Permission


def workspaces_for(user: User, *, synced: bool = False) -> list[type[Workspace]]:
    """Tabs in the order a user works: figures, orders, the day, cases, kit.

    Field officer: Today, Caseload. Technician: Stock, Bench, Outstanding kit. Monitoring
    operator: Monitoring, Breaches, Orders, Caseload. Supervisor: Overview, Management, Monitoring, Breaches, Orders,
    Caseload (and Sync conflicts when synced), Outstanding kit. Police, probation, Home Office:
    Breaches. An account with none of these (an administrator) still gets the device list it may view.
    """
    can = user.can
    chosen: list[type[Workspace]] = []
    if can(P.RESPOND_TO_BREACHES):
        # An agency's account: the packs issued to it, and its response; nothing else.
        return [ResponsesWorkspace]
    if can(P.WORK_ALERTS):
        # The centre works from the queue: first for an operator, after the figures for a supervisor.
        chosen.append(MonitoringWorkspace)
        # ... and follows the packs it issued: the agencies' responses, the 5-day prompts,
        # outcomes reported by phone.
        chosen.append(ResponsesWorkspace)
    if can(P.VIEW_MANAGEMENT_FIGURES):
        # Overview first (the day's numbers), then the full management picture.
        chosen[:0] = [OverviewWorkspace, ManagementWorkspace]
    if can(P.ENTER_ORDERS) or can(P.VIEW_ALL_CASES):
        chosen.append(OrdersWorkspace)
    if can(P.RECORD_VISITS):
        chosen.append(TodayWorkspace)
    if can(P.VIEW_OWN_CASELOAD) or can(P.VIEW_REGION_CASES) or can(P.VIEW_ALL_CASES):
        chosen.append(CaseloadWorkspace)
    if synced and can(P.VIEW_ALL_CASES):
        # Merge losers only exist on a desktop that syncs with a hub.
        chosen.append(ConflictsWorkspace)
    if can(P.MANAGE_DEVICES) or (not chosen and can(P.VIEW_DEVICES)):
        chosen.append(StockWorkspace)
    if can(P.MANAGE_DEVICES):
        chosen.append(BenchWorkspace)
    if sees_outstanding_kit(user):
        # Kit not recovered when orders ended: the service decides who sees it.
        chosen.append(EquipmentWorkspace)
    return chosen


__all__ = ["Workspace", "workspaces_for", "BenchWorkspace", "CaseloadWorkspace", "ConflictsWorkspace", "EquipmentWorkspace",
           "ManagementWorkspace", "MonitoringWorkspace", "OrdersWorkspace", "OverviewWorkspace", "ResponsesWorkspace",
           "StockWorkspace", "TodayWorkspace"]
