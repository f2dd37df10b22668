"""Breach packs written straight into a store, as the pack builder would leave them (issued or
not), for the responses tests: no builder needed."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from emdesk.domain.deadlines import deadlines
from emdesk.domain.monitoring import BreachPack, BreachPackStatus, PackTemplate
from emdesk.domain.orders import Responder
from emdesk.domain.packs import Agency, PackDocument, PackIncident, PackOrder, PackSubject, Summary
from emdesk.domain.users import Role, User
from emdesk.services.pack_json import canonical_json

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)     # the tests' clock (tests/conftest.py)
AGENCY_NAMES = {"police": "Police", "probation": "Probation Service", "home_office": "Home Office"}


def agency_users() -> dict[str, User]:
    people = [
        User(username="police.northwest", display_name="PC North", role=Role.POLICE, region="North West"),
        User(username="police.yorkshire", display_name="PC York", role=Role.POLICE, region="Yorkshire and the Humber"),
        User(username="probation.northwest", display_name="PO North", role=Role.PROBATION, region="North West"),
        User(username="homeoffice", display_name="HO Caseworker", role=Role.HOME_OFFICE),
        User(username="police.national", display_name="PC Anywhere", role=Role.POLICE),
        User(username="monitor.northwest", display_name="Mon North", role=Role.MONITORING_OPERATOR,
             region="North West"),
        User(username="monitor.london", display_name="Mon London", role=Role.MONITORING_OPERATOR, region="London"),
        User(username="supervisor", display_name="Sup", role=Role.SUPERVISOR),
        User(username="officer", display_name="FO", role=Role.FIELD_OFFICER, region="North West"),
        User(username="tech", display_name="Tech", role=Role.TECHNICIAN, region="North West"),
        User(username="admin", display_name="Admin", role=Role.ADMIN),
    ]
    return {u.username: u for u in people}


def document(pack: BreachPack, name: str = "Dafydd Llŷr", breach_at: datetime | None = None) -> str:
    at = breach_at or pack.breach_at
    template = pack.template.value
    decision = ("RADU: decide whether to arrest, re-bail or take no further action" if template == "bail"
                else "Decide the response: engage, warn, adjust conditions, recall or return to court")
    doc = PackDocument(
        pack_id=pack.pack_id, version=pack.version, template=template, generated_at=pack.built_at or at,
        generated_by="Mon North",
        agency=Agency(responder=pack.responder.value, name=AGENCY_NAMES[pack.responder.value]),
        subject=PackSubject(subject_id=pack.subject_id or "s1", name=name),
        order=PackOrder(order_id=pack.order_id, reference=pack.reference, cohort="Court bail"),
        summary=Summary(headline=f"{name} left home during curfew for 2 h 10 min", who=name,
                        condition="Curfew 19:00-07:00 at home", started_at=at, ended_at=at + timedelta(hours=2),
                        duration_seconds=7800, period_seconds=7800, not_technical="GPS fixes 2 km away; tag in contact",
                        confidence="high", risk="Medium risk", decision=decision, respond_by=None,
                        notification_due=pack.notification_due, pack_due=pack.pack_due, special=pack.special),
        incidents=(PackIncident(incident_id=pack.incident_id, condition="curfew", period_start=at, started_at=at),))
    return canonical_json(doc).decode("utf-8")


def make_pack(*, pack_id: str, responder: Responder | str, region: str, sent_at: datetime | None,
              breach_at: datetime, status: BreachPackStatus | None = None, version: int = 1,
              order_id: str = "o1", incident_id: str = "i1", subject_id: str = "s1", reference: str = "",
              special: bool = False, name: str = "Dafydd Llŷr", **extra) -> BreachPack:
    responder = Responder(responder)
    due = deadlines(breach_at, special=special, breach_at=breach_at)
    if status is None:
        status = BreachPackStatus.SENT if sent_at is not None else BreachPackStatus.DRAFT
    pack = BreachPack(
        id=f"{pack_id}-v{version}", pack_id=pack_id, version=version, incident_id=incident_id,
        incident_ids=(incident_id,), order_id=order_id, subject_id=subject_id, reference=reference or f"REF-{pack_id}",
        region=region, responder=responder,
        template=PackTemplate.BAIL if responder is Responder.POLICE else PackTemplate.NON_BAIL, special=special,
        breach_at=breach_at, notification_due=due.notify_by, pack_due=due.pack_by, status=status,
        notified_at=breach_at + timedelta(hours=1), built_at=breach_at + timedelta(hours=3), built_by="mon",
        sent_at=sent_at, issued_to=f"{AGENCY_NAMES[responder.value]} duty desk" if sent_at else "",
        issued_by="mon" if sent_at else "", **extra)
    return pack.evolve(document=document(pack, name))
