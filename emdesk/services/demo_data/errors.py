"""The mistakes real orders arrive with (NAO 2.16, Figure 8), injected on purpose.

About one order in five carries one (sometimes two) of these, so intake validation has
something true to find; each kind is one that ``validation.rules`` reports. Each kind
belongs to a group, and an order never gets two kinds from the same group, so every
injected mistake stays visible on its own.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import msgspec

from emdesk.domain.conditions import Circle, Conditions, Curfew, Zone, ZoneKind
from emdesk.domain.devices import DeviceKind
from emdesk.domain.orders import Cohort, DocumentKind, Installation, Order, OrderType, ResponsibleOfficer
from emdesk.domain.people import Identifiers, Subject

from . import places
from .conditions import curfew_window
from .gen import Gen

# kind -> (NAO category, group, weight)
ERROR_KINDS: dict[str, tuple[str, str, float]] = {
    "missing_date_of_birth": ("missing personal details", "identity", 10),
    "missing_identifiers": ("missing personal details", "ids", 8),
    "missing_family_name": ("missing personal details", "name", 3),
    "interpreter_without_language": ("missing personal details", "language", 4),
    "under_18_without_responsible_adult": ("missing personal details", "identity", 2),
    "missing_officer_contact": ("missing order details", "officer", 8),
    "missing_responsible_officer": ("missing order details", "officer", 4),
    "end_before_start": ("missing order details", "dates", 3),
    "order_over_two_years": ("missing order details", "dates", 3),
    "start_in_past": ("missing order details", "dates", 3),
    "missing_licence": ("missing paperwork", "paperwork", 12),
    "malformed_postcode": ("wrong address", "address", 5),
    "scottish_postcode": ("wrong address", "address", 4),
    "missing_postcode": ("wrong address", "address", 3),
    "curfew_over_weekly_limit": ("conditions over statute", "curfew", 4),
    "curfew_over_20_hours": ("conditions over statute", "curfew", 2),
    "hdc_curfew_under_9_hours": ("conditions over statute", "curfew", 4),
    "exclusion_zone_contains_home": ("zone contains home", "zones", 4),
    "device_inconsistent": ("device type inconsistent", "devices", 5),
}

_SCOTTISH = ("EH6 5QA", "G31 2XT", "AB24 3FX", "DD1 4HN", "KY1 1XR", "PA1 1JS", "IV2 3PY", "ML3 6BT")


def _applies(kind: str, order: Order, subject: Subject) -> bool:
    c = order.conditions
    post_release = order.order_type in (OrderType.HDC, OrderType.LICENCE)
    return {
        "under_18_without_responsible_adult": order.cohort is Cohort.COURT_BAIL,
        "missing_licence": post_release,
        "order_over_two_years": c.curfew is not None,   # the two-year limit is the curfew's
        "curfew_over_weekly_limit": c.curfew is not None,
        "curfew_over_20_hours": c.curfew is not None,
        "hdc_curfew_under_9_hours": order.order_type is OrderType.HDC,
        "exclusion_zone_contains_home": bool(c.location or c.zones) and _home(order, subject) is not None,
    }.get(kind, True)


# A wrong postcode moves the home to the town centre, which may then miss a zone drawn
# on the true home: the two mistakes would hide each other.
_EXCLUSIVE = {"address": {"zones"}, "zones": {"address"}}


def choose_kinds(gen: Gen, order: Order, subject: Subject) -> list[str]:
    count = 2 if gen.chance(0.2) else 1
    chosen: list[str] = []
    for _ in range(count):
        taken = {ERROR_KINDS[k][1] for k in chosen}
        taken |= {g for t in list(taken) for g in _EXCLUSIVE.get(t, ())}
        pool = [(k, w) for k, (_, group, w) in ERROR_KINDS.items()
                if group not in taken and _applies(k, order, subject)]
        chosen.append(gen.weighted(pool))
    return chosen


def _home(order: Order, subject: Subject):
    address = order.installation.address or (subject.addresses[0] if subject.addresses else None)
    return (address.lat, address.lon) if address is not None and address.located else None


def _readdress(order: Order, subject: Subject, **changes) -> tuple[Order, Subject]:
    """Change the home (installation) address on both the subject and the order."""
    first = subject.addresses[0]
    moved = msgspec.structs.replace(first, lat=None, lon=None, **changes)
    subject = subject.evolve(addresses=(moved, *subject.addresses[1:]))
    order = order.evolve(installation=Installation(address=moved, appointment=order.installation.appointment))
    return order, subject


def _malformed(gen: Gen, postcode: str) -> str:
    outward, inward = postcode.split()
    return gen.pick((f"{outward} {inward[:2]}", f"{outward} {inward[0]}CI", f"{outward}{inward}X"))


def _zone_on_home(gen: Gen, lat: float, lon: float) -> Zone:
    centre = places.offset(lat, lon, gen.rng.uniform(50, 300), gen.rng.uniform(0, 360))
    return Zone(name="Victim's home address", kind=ZoneKind.EXCLUSION,
                shape=Circle(lat=centre[0], lon=centre[1], radius_m=float(gen.rng.randrange(500, 1000, 50))))


def _wrong_devices(gen: Gen, order: Order) -> tuple[DeviceKind, ...]:
    kinds = list(order.device_kinds)
    if DeviceKind.GPS_TAG in kinds:
        return tuple(DeviceKind.RF_TAG if k is DeviceKind.GPS_TAG else k for k in kinds)
    if DeviceKind.ALCOHOL_TAG in kinds:
        return tuple(k for k in kinds if k is not DeviceKind.ALCOHOL_TAG) or (DeviceKind.HMU,)
    if DeviceKind.NON_FITTED in kinds:
        return (DeviceKind.RF_TAG,)
    # A curfew order sent out with a non-fitted device: immigration kit, and no tag.
    return gen.pick(((DeviceKind.NON_FITTED, DeviceKind.HMU), (DeviceKind.RF_TAG,)))


def _with_curfew(order: Order, curfew: Curfew) -> Order:
    conditions: Conditions = msgspec.structs.replace(order.conditions, curfew=curfew)
    return order.evolve(conditions=conditions)


def inject(gen: Gen, kind: str, order: Order, subject: Subject) -> tuple[Order, Subject]:
    officer = order.responsible_officer
    apply: dict[str, Callable[[], tuple[Order, Subject]]] = {
        "missing_date_of_birth": lambda: (order, subject.evolve(date_of_birth=None)),
        "missing_identifiers": lambda: (order, subject.evolve(identifiers=Identifiers())),
        "missing_family_name": lambda: (order, subject.evolve(family_name="")),
        "interpreter_without_language": lambda: (order, subject.evolve(interpreter_needed=True, language=None)),
        "under_18_without_responsible_adult": lambda: (order, subject.evolve(
            date_of_birth=gen.today - timedelta(days=gen.rng.randint(16 * 365 + 40, 17 * 365 + 300)),
            responsible_adult=None)),
        "missing_officer_contact": lambda: (order.evolve(
            responsible_officer=msgspec.structs.replace(officer, phone="", email="")), subject),
        "missing_responsible_officer": lambda: (order.evolve(
            responsible_officer=ResponsibleOfficer(organisation=officer.organisation)), subject),
        "end_before_start": lambda: (order.evolve(end=order.start - timedelta(days=gen.rng.randint(7, 60))), subject),
        "order_over_two_years": lambda: (order.evolve(
            end=order.start + timedelta(days=2 * 365 + gen.rng.randint(30, 200))), subject),
        "start_in_past": lambda: (order.evolve(start=order.start - timedelta(days=gen.rng.randint(5, 20))), subject),
        "missing_licence": lambda: (order.evolve(
            documents=tuple(d for d in order.documents if d.kind is not DocumentKind.LICENCE)), subject),
        "malformed_postcode": lambda: _readdress(
            order, subject, postcode=_malformed(gen, subject.addresses[0].postcode)),
        "scottish_postcode": lambda: _readdress(order, subject, postcode=gen.pick(_SCOTTISH)),
        "missing_postcode": lambda: _readdress(order, subject, postcode=""),
        "curfew_over_weekly_limit": lambda: (_with_curfew(order, Curfew(windows=curfew_window(16, 9))), subject),
        "curfew_over_20_hours": lambda: (_with_curfew(order, Curfew(
            windows=curfew_window(19, 7, range(5)) + curfew_window(11, 8, (5, 6)))), subject),
        "hdc_curfew_under_9_hours": lambda: (_with_curfew(order, Curfew(windows=curfew_window(23, 6))), subject),
        "exclusion_zone_contains_home": lambda: (order.evolve(conditions=msgspec.structs.replace(
            order.conditions, zones=(*order.conditions.zones, _zone_on_home(gen, *_home(order, subject))))), subject),
        "device_inconsistent": lambda: (order.evolve(device_kinds=_wrong_devices(gen, order)), subject),
    }
    return apply[kind]()


