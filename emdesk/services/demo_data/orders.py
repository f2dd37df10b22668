"""Orders: legal basis, who sent them, who answers for them, dates and paperwork."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from emdesk.domain.clock import local_date
from emdesk.domain.conditions import Conditions
from emdesk.domain.devices import DeviceKind
from emdesk.domain.gazetteer import Town
from emdesk.domain.orders import (
    Appointment, Cohort, Document, DocumentKind, Installation, Order, OrderStatus, OrderType,
    ResponsibleOfficer, StatusChange,
)
from emdesk.domain.people import Subject

from . import names, places
from .gen import Gen

ORDER_TYPES: dict[Cohort, tuple[tuple[OrderType, float], ...]] = {
    Cohort.POST_RELEASE: ((OrderType.HDC, 40), (OrderType.LICENCE, 60)),
    Cohort.COURT_BAIL: ((OrderType.COURT_BAIL, 1),),
    Cohort.IMMIGRATION: ((OrderType.IMMIGRATION_BAIL, 1),),
    Cohort.COURT_SENTENCE: ((OrderType.COMMUNITY_ORDER, 60), (OrderType.SUSPENDED_SENTENCE, 40)),
    Cohort.SPECIALS: ((OrderType.MAPPA, 60), (OrderType.TPIM, 40)),
}

# Length of monitoring in days; nobody is tagged for under 30 days, nobody here for over a year.
_DAYS: dict[OrderType, tuple[int, int]] = {
    OrderType.HDC: (30, 180), OrderType.LICENCE: (60, 365), OrderType.COURT_BAIL: (30, 180),
    OrderType.IMMIGRATION_BAIL: (90, 365), OrderType.COMMUNITY_ORDER: (30, 365),
    OrderType.SUSPENDED_SENTENCE: (60, 365), OrderType.MAPPA: (180, 365), OrderType.TPIM: (180, 365),
    OrderType.SIAC: (180, 365),
}


@dataclass(frozen=True)
class Timeline:
    received_at: datetime
    start: date
    end: date


def duration_days(gen: Gen, order_type: OrderType) -> int:
    low, high = _DAYS[order_type]
    return gen.rng.randint(low, high)


def _lead_days(gen: Gen, order_type: OrderType) -> int:
    # Release orders arrive a day or two before the gate opens; court orders the same day.
    return gen.pick((0, 1, 1, 2)) if order_type in (OrderType.HDC, OrderType.LICENCE, OrderType.MAPPA) else 0


def timeline(gen: Gen, order_type: OrderType, status: OrderStatus) -> Timeline:
    days = duration_days(gen, order_type)
    if status is OrderStatus.ACTIVE:
        received = gen.days_ago(2.5, min(days - 2, 300))
        start = min(local_date(received) + timedelta(days=_lead_days(gen, order_type)), gen.today)
    elif status is OrderStatus.ENDED:
        end = gen.today - timedelta(days=gen.rng.randint(1, 21))
        start = end - timedelta(days=days)
        received = gen.between(gen.at_local(start - timedelta(days=1), 9), gen.at_local(start, 16))
        return Timeline(received, start, end)
    else:
        received = gen.hours_ago(0.5, 30) if status is OrderStatus.SUBMITTED else gen.hours_ago(0.3, 72)
        start = local_date(received) + timedelta(days=_lead_days(gen, order_type))
    return Timeline(received, start, start + timedelta(days=days))


def in_force_at(gen: Gen, order_type: OrderType, tl: Timeline) -> datetime:
    """When an order comes into force: its start date (an HDC wearer leaves the gate about
    13:00), never before intake accepted it. In force means ACTIVE, fitted or not (NAO 2.13)."""
    gate = gen.at_local(tl.start, 13 if order_type is OrderType.HDC else 0)
    return max(tl.received_at + timedelta(minutes=13), gate)


def earlier_timeline(gen: Gen, order_type: OrderType, before: datetime) -> Timeline:
    """An order that ran and ended well before ``before``."""
    days = duration_days(gen, order_type)
    end = local_date(before) - timedelta(days=gen.rng.randint(40, 600))
    start = end - timedelta(days=days)
    received = gen.between(gen.at_local(start - timedelta(days=1), 9), gen.at_local(start, 16))
    return Timeline(received, start, end)


# -- Who sent it and who answers for it -------------------------------------------


def _issuer(gen: Gen, order_type: OrderType, town: Town, female: bool) -> tuple[str, str]:
    """(issuing body, notifying organisation)."""
    if order_type in (OrderType.HDC, OrderType.LICENCE):
        gaol = places.prison(gen, town.region, female)
        if order_type is OrderType.LICENCE and gen.chance(0.15):
            return "Parole Board for England and Wales", f"Offender Management Unit, {gaol}"
        return gaol, f"Offender Management Unit, {gaol}"
    if order_type is OrderType.COURT_BAIL:
        court = places.crown_court(town) if gen.chance(0.2) else places.magistrates_court(town)
        return court, court
    if order_type in (OrderType.COMMUNITY_ORDER, OrderType.SUSPENDED_SENTENCE):
        court = places.crown_court(town) if gen.chance(0.45) else places.magistrates_court(town)
        return court, court
    if order_type is OrderType.IMMIGRATION_BAIL:
        if gen.chance(0.25):
            return "First-tier Tribunal (Immigration and Asylum Chamber)", "Home Office Immigration Enforcement"
        return "Home Office Immigration Enforcement", "Home Office Immigration Enforcement"
    if order_type is OrderType.MAPPA:
        gaol = places.prison(gen, town.region, female)
        return gaol, f"MAPPA Co-ordination Unit, {town.region}"
    return "Home Office (Secretary of State for the Home Department)", "Counter Terrorism Policing"


def _officer(gen: Gen, order_type: OrderType, town: Town) -> ResponsibleOfficer:
    female = gen.chance(0.55)
    background = names.WELSH if town.country == "Wales" and gen.chance(0.5) else gen.weighted(
        ((names.BRITISH, 80), (names.SOUTH_ASIAN, 10), (names.BLACK_BRITISH, 10)))
    given = names.given_name(background, gen, female)
    family = names.family_name(background, gen, female)
    handle = f"{given}.{family}".lower().replace("'", "").replace(" ", "")
    phone = gen.landline(town.name, town.region)
    if order_type is OrderType.COURT_BAIL or order_type is OrderType.TPIM:
        force = places.police_force(town)
        rank = gen.pick(("PC", "PC", "DC", "DS")) if order_type is OrderType.COURT_BAIL else gen.pick(("DS", "DI"))
        org = force if order_type is OrderType.COURT_BAIL else f"Counter Terrorism Policing ({force})"
        return ResponsibleOfficer(name=f"{rank} {given} {family}", organisation=org, phone=phone,
                                  email=f"{handle}@{places.FORCES[force][1]}")
    if order_type is OrderType.IMMIGRATION_BAIL:
        return ResponsibleOfficer(name=f"{given} {family}", organisation="Home Office Immigration Enforcement",
                                  phone=phone, email=f"{handle}@homeoffice.gov.uk")
    return ResponsibleOfficer(name=f"{given} {family}", organisation=f"The Probation Service, {town.name}",
                              phone=phone, email=f"{handle}@justice.gov.uk")


def _reference(gen: Gen, order_type: OrderType, town: Town, subject: Subject, year: int, issuing: str) -> str:
    ids = subject.identifiers
    if order_type in (OrderType.HDC, OrderType.LICENCE):
        prefix = "HDC" if order_type is OrderType.HDC else "LIC"
        return f"{prefix}/{ids.nomis or names.nomis(gen)}/{gen.rng.randint(1, 4):02d}"
    if order_type is OrderType.COURT_BAIL:
        return places.police_urn(gen, town, year)
    if order_type in (OrderType.COMMUNITY_ORDER, OrderType.SUSPENDED_SENTENCE):
        # The Crown Court numbers its cases (T2026...); magistrates use the police URN.
        if issuing.endswith("Crown Court"):
            return f"T{year}{gen.rng.randrange(1000, 9999)}"
        return places.police_urn(gen, town, year)
    if order_type is OrderType.IMMIGRATION_BAIL:
        return f"IB/{(ids.home_office_ref or names.home_office_ref(gen)).split('/')[-1]}/{gen.rng.randint(1, 3):02d}"
    return f"{order_type.value.upper()}/{year}/{gen.rng.randrange(100, 999)}"


def _documents(gen: Gen, order_type: OrderType, reference: str, received: datetime) -> tuple[Document, ...]:
    slug = reference.replace("/", "-")
    main = {
        OrderType.HDC: (DocumentKind.LICENCE, f"HDC licence {slug}.pdf"),
        OrderType.LICENCE: (DocumentKind.LICENCE, f"Licence {slug}.pdf"),
        OrderType.MAPPA: (DocumentKind.LICENCE, f"Licence with MAPPA conditions {slug}.pdf"),
        OrderType.COURT_BAIL: (DocumentKind.BAIL_NOTICE, f"Record of bail decision {slug}.pdf"),
        OrderType.IMMIGRATION_BAIL: (DocumentKind.BAIL_NOTICE, f"BAIL 201 grant of immigration bail {slug}.pdf"),
        OrderType.COMMUNITY_ORDER: (DocumentKind.COURT_ORDER, f"Community order {slug}.pdf"),
        OrderType.SUSPENDED_SENTENCE: (DocumentKind.COURT_ORDER, f"Suspended sentence order {slug}.pdf"),
        OrderType.TPIM: (DocumentKind.OTHER, f"TPIM notice {slug}.pdf"),
    }[order_type]
    docs = [Document(kind=main[0], name=main[1], sha256=gen.sha256(), received_at=received)]
    if gen.chance(0.7):
        docs.append(Document(kind=DocumentKind.PHOTO, name=f"Photo {slug}.jpg", sha256=gen.sha256(),
                             received_at=received))
    return tuple(docs)


def _history(received: datetime, status: OrderStatus, *, operator_id: str, in_force: datetime | None,
             ended_at: datetime | None) -> tuple[StatusChange, ...]:
    if status is OrderStatus.DRAFT:
        return ()
    steps = [StatusChange(at=received + timedelta(minutes=12), from_status=OrderStatus.DRAFT,
                          to_status=OrderStatus.SUBMITTED, by=operator_id, reason="accepted at intake")]
    if status in (OrderStatus.ACTIVE, OrderStatus.ENDED) and in_force:
        # In force from its start, whether or not the tag is on yet (the install backlog).
        steps.append(StatusChange(at=in_force, from_status=OrderStatus.SUBMITTED, to_status=OrderStatus.ACTIVE,
                                  by=operator_id, reason="order start date reached"))
    if status is OrderStatus.ENDED and ended_at:
        steps.append(StatusChange(at=ended_at, from_status=OrderStatus.ACTIVE, to_status=OrderStatus.ENDED,
                                  by=operator_id, reason="order end date reached"))
    return tuple(steps)


def make_order(gen: Gen, *, subject: Subject, town: Town, order_type: OrderType, status: OrderStatus,
               tl: Timeline, conditions: Conditions, kinds: tuple[DeviceKind, ...], officer_id: str,
               operator_id: str, installed_at: datetime | None = None,
               appointment: datetime | None = None) -> Order:
    female = subject.sex is not None and subject.sex.value == "female"
    issuing, notifying = _issuer(gen, order_type, town, female)
    year = tl.received_at.year
    reference = _reference(gen, order_type, town, subject, year, issuing)
    ended_at = gen.at_local(tl.end, 23, 59) if status is OrderStatus.ENDED else None
    appointments: tuple[Appointment, ...] = ()
    if order_type in (OrderType.HDC, OrderType.LICENCE, OrderType.MAPPA):
        appointments = (Appointment(at=gen.at_local(tl.start + timedelta(days=1), gen.rng.randint(9, 15)),
                                    place=f"Probation office, {town.name}", purpose="Initial supervision appointment"),)
    install_address = subject.addresses[0] if subject.addresses else None
    in_force = in_force_at(gen, order_type, tl) if status in (OrderStatus.ACTIVE, OrderStatus.ENDED) else None
    updated = max(t for t in (tl.received_at, in_force, installed_at, ended_at) if t is not None)
    return Order(
        id=gen.id_at(tl.received_at), created_at=tl.received_at, updated_at=min(updated, gen.now),
        reference=reference, subject_id=subject.id, cohort=order_type.cohort, order_type=order_type,
        issuing_body=issuing, notifying_organisation=notifying,
        responsible_officer=_officer(gen, order_type, town),
        installation=Installation(address=install_address, appointment=appointment or installed_at),
        attendance_appointments=appointments,
        documents=_documents(gen, order_type, reference, tl.received_at),
        received_at=tl.received_at, start=tl.start, end=tl.end, status=status,
        history=_history(tl.received_at, status, operator_id=operator_id, in_force=in_force, ended_at=ended_at),
        conditions=conditions, device_kinds=kinds, assigned_officer_id=officer_id, region=town.region,
    )
