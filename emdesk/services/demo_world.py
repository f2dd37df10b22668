"""The deterministic demo world: staff, wearers, orders, kit, visits and telemetry from one seed.

Generation is pure: no store, no files, no wall clock. The same seed and ``now`` give
byte-identical records, so a demo, a test and a bug report all see the same world.
Shares follow the NAO report: cohorts as in Figure 1, about one order in five with
the kinds of error found at intake (2.16), installs fitted within two attempts about
62% of the time (2.11), only about 60% of kit collected after an order ends.
An order is active from its start whether or not the tag is on, so about a quarter of
active orders are unmonitored (2.13): never fitted yet (failed or booked installs), or
fitted but silent for 14 days or more (a ``COMMS_LOST`` and nothing since).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from emdesk.domain.clock import utc
from emdesk.domain.devices import Device, DeviceState
from emdesk.domain.gazetteer import TOWNS, Town
from emdesk.domain.monitoring import Note, TelemetryEvent
from emdesk.domain.orders import Cohort, Order, OrderStatus, OrderType
from emdesk.domain.people import Subject
from emdesk.domain.records import Record
from emdesk.domain.users import Role, User
from emdesk.domain.visits import Visit

from .demo_data import kit
from .demo_data.cases import Case, CasePlan, Removal, Staff, build_case
from .demo_data.errors import ERROR_KINDS
from .demo_data.gen import Gen
from .demo_data.orders import ORDER_TYPES
from .demo_data.schedule import officer_days
from .demo_data.staff import demo_password, make_staff
from .demo_data.telemetry import world_telemetry

__all__ = ["DemoWorld", "generate_world", "demo_password", "ERROR_KINDS", "COHORT_SHARES"]

# Figure 1, March 2026. Specials are under 0.5%: at least one in any world.
COHORT_SHARES = {Cohort.POST_RELEASE: 0.37, Cohort.COURT_BAIL: 0.34, Cohort.IMMIGRATION: 0.15,
                 Cohort.COURT_SENTENCE: 0.14}
ERROR_SHARE = 0.20          # of all orders (NAO: ~21% in May 2026)
PREVIOUS_SHARE = 0.08       # wearers with an earlier, ended order

# Where wearers live, roughly by size: the core cities and London boroughs carry the
# caseload, market towns a few cases each.
_CITIES = {"Birmingham", "Leeds", "Manchester", "Liverpool", "Sheffield", "Bristol", "Newcastle upon Tyne",
           "Nottingham", "Leicester", "Bradford", "Kingston upon Hull", "Cardiff", "Coventry"}
_SMALL = {"Durham", "Darlington", "Carlisle", "Lincoln", "Chesterfield", "Shrewsbury", "Hereford", "Worcester",
          "Bath", "Taunton", "Cheltenham", "Canterbury", "Llandudno", "Pontypridd", "Bridgend"}


def _town_weight(town: Town) -> float:
    if town.region == "London":
        return 2.5
    return 3.0 if town.name in _CITIES else 1.0 if town.name in _SMALL else 1.6


@dataclass
class DemoWorld:
    seed: int
    now: datetime
    users: list[tuple[User, str]] = field(default_factory=list)     # (user, demo password)
    subjects: list[Subject] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    devices: list[Device] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    telemetry: list[TelemetryEvent] = field(default_factory=list)   # recent tail from installed kit
    seeded_errors: dict[str, list[str]] = field(default_factory=dict)   # order id -> error kinds

    def user(self, username: str) -> User:
        return next(u for u, _ in self.users if u.username == username)

    def records(self) -> list[Record]:
        """Every record, users first, in a stable order (for saving or comparing)."""
        return [*(u for u, _ in self.users), *self.subjects, *self.orders, *self.devices, *self.visits,
                *self.notes, *self.telemetry]

    def counts(self) -> dict[str, int]:
        by_status = {s.value: sum(o.status is s for o in self.orders) for s in OrderStatus}
        return {"users": len(self.users), "subjects": len(self.subjects), "orders": len(self.orders),
                "devices": len(self.devices), "visits": len(self.visits), "notes": len(self.notes),
                "telemetry": len(self.telemetry),
                "orders_with_errors": len(self.seeded_errors), **{f"orders_{k}": v for k, v in by_status.items()}}


def _largest_remainder(n: int, weights: dict) -> dict:
    total = sum(weights.values())
    exact = {k: n * w / total for k, w in weights.items()}
    counts = {k: int(v) for k, v in exact.items()}
    for k in sorted(exact, key=lambda k: exact[k] - counts[k], reverse=True)[: n - sum(counts.values())]:
        counts[k] += 1
    return counts


def _cohorts(n: int) -> list[Cohort]:
    """Cohorts for n current orders in the Figure 1 shares."""
    specials = max(1, round(n * 0.005))
    counts = _largest_remainder(n - specials, COHORT_SHARES)
    counts[Cohort.SPECIALS] = specials
    return [c for c, k in counts.items() for _ in range(k)]


def _towns(gen: Gen, n: int, staff: Staff) -> list[Town]:
    """Homes for n wearers: by town size, but every officer's patch gets a working caseload."""
    patches: dict[str, list[Town]] = {}
    for town in TOWNS:
        patches.setdefault(staff.officer_for(town).id, []).append(town)
    weight = {k: sum(_town_weight(t) for t in towns) for k, towns in patches.items()}
    floor = 0.7 * sum(weight.values()) / len(weight)
    counts = _largest_remainder(n, {k: max(w, floor) for k, w in weight.items()})
    out = []
    for k, towns in patches.items():
        out += gen.rng.choices(towns, weights=[_town_weight(t) for t in towns], k=counts[k])
    gen.rng.shuffle(out)
    return out


def _plans(gen: Gen, n: int, staff: Staff) -> list[CasePlan]:
    cohorts = _cohorts(n)
    gen.rng.shuffle(cohorts)
    towns = _towns(gen, n, staff)
    previous_count = round(n * PREVIOUS_SHARE)
    error_count = round((n + previous_count) * ERROR_SHARE)
    erroneous = set(gen.rng.sample(range(n), error_count))
    valid = [i for i in range(n) if i not in erroneous]
    previous = set(gen.rng.sample(valid, previous_count))
    # About 1 in 20 on court bail is 16 or 17 (bail with a tag instead of youth remand).
    bailed = [i for i, c in enumerate(cohorts) if c is Cohort.COURT_BAIL]
    youths = set(gen.rng.sample(bailed, min(len(bailed), max(1, round(0.05 * len(bailed))))))
    plans = []
    specials_seen = 0
    for i, (cohort, town) in enumerate(zip(cohorts, towns)):
        if cohort is Cohort.SPECIALS:
            order_type = (OrderType.MAPPA, OrderType.TPIM)[specials_seen % 2]
            specials_seen += 1
        else:
            order_type = gen.weighted(ORDER_TYPES[cohort])
        if i in erroneous:
            status = OrderStatus.DRAFT if gen.chance(0.8) else OrderStatus.SUBMITTED
        else:
            status = gen.weighted(((OrderStatus.ACTIVE, 82), (OrderStatus.SUBMITTED, 10), (OrderStatus.ENDED, 8)))
        plans.append(CasePlan(cohort=cohort, order_type=order_type, town=town, status=status,
                              erroneous=i in erroneous, previous=i in previous,
                              youth=i in youths,
                              no_fixed_abode=cohort is not Cohort.COURT_SENTENCE and gen.chance(0.025)))
    return plans


def generate_world(seed: int = 2026, *, now: datetime, subjects: int = 300) -> DemoWorld:
    """A whole, realistic EM caseload as at ``now`` (an aware datetime)."""
    if subjects < 1:
        raise ValueError("subjects: at least 1")
    gen = Gen(seed, utc(now))
    world = DemoWorld(seed=seed, now=gen.now)
    world.users = make_staff(gen)
    staff_users = [u for u, _ in world.users]
    staff = Staff(officers=[u for u in staff_users if u.role is Role.FIELD_OFFICER],
                  operators=[u for u in staff_users if u.role is Role.MONITORING_OPERATOR])
    serials = kit.Serials(gen)

    cases: list[Case] = [build_case(gen, plan, staff, serials) for plan in _plans(gen, subjects, staff)]
    booked: dict[str, list[datetime]] = {}
    removals: dict[str, list[Removal]] = {}
    active: dict[str, list[Order]] = {}
    for case in cases:
        world.subjects.append(case.subject)
        world.orders += case.orders
        world.devices += case.devices
        world.visits += case.visits
        world.notes += case.notes
        current = case.orders[-1]
        if case.errors:
            world.seeded_errors[current.id] = list(case.errors)
        officer = current.assigned_officer_id or ""
        booked.setdefault(officer, []).extend(case.booked)
        removals.setdefault(officer, []).extend(case.removals)
        if current.status is OrderStatus.ACTIVE:
            active.setdefault(officer, []).append(current)

    fitted: dict[str, list[str]] = {}
    for d in world.devices:
        if d.order_id and d.state is DeviceState.INSTALLED:
            fitted.setdefault(d.order_id, []).append(d.serial)
    # Checks are for kit that is on: an order still awaiting its install gets install visits instead.
    active = {k: [o for o in orders if o.id in fitted] for k, orders in active.items()}
    day_visits, day_notes = officer_days(gen, staff.officers, booked=booked, removals=removals, active=active,
                                         serials={k: tuple(v) for k, v in fitted.items()},
                                         subjects={s.id: s for s in world.subjects})
    world.visits += day_visits
    world.notes += day_notes
    technicians = {u.region: u.id for u in staff_users if u.role is Role.TECHNICIAN}
    world.devices += kit.hand_out(kit.shelf_stock(gen, serials, technicians), staff.officers)
    homes = {}
    for case in cases:
        for o in case.orders:
            home = o.installation.address or (case.subject.addresses[0] if case.subject.addresses else None)
            if o.status is OrderStatus.ACTIVE and home is not None and home.located:
                homes[o.id] = (home.lat, home.lon)
    world.telemetry = world_telemetry(gen, world.orders, world.devices, homes)
    # Orders carry the serials fitted for them, as an installation records them.
    world.orders = [o.evolve(device_serials=tuple(fitted[o.id])) if o.id in fitted else o for o in world.orders]
    return world
