"""Building the demo world into a fresh store (the generation itself is pure)."""
from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

from emdesk.domain.clock import FixedClock, local_date
from emdesk.domain.engine.events import ms
from emdesk.domain.geocoding import GazetteerGeocoder
from emdesk.domain.orders import Order, OrderStatus
from emdesk.domain.users import Role
from emdesk.domain.validation.rules import ValidationContext, validate
from emdesk.domain.visits import Visit
from emdesk.store import Store, StoreError

from .auth import add_user
from .context import DEMO_MARK   # in meta: this store was made by `emdesk demo` (may be rebuilt at will)
from .day_plan import DayPlanService
from .demo_world import DemoWorld, generate_world


def intake_checked(world: DemoWorld) -> list[Order]:
    """Each open order validated as at its receipt, as intake would have done."""
    geocoder = GazetteerGeocoder()
    by_id = {o.id: o for o in world.orders}
    subjects = {s.id: s for s in world.subjects}
    out = []
    for order in world.orders:
        if order.status in (OrderStatus.DRAFT, OrderStatus.SUBMITTED):
            at = order.received_at or world.now
            ctx = ValidationContext(now=at, geocoder=geocoder, find_order=by_id.get)
            order = order.evolve(problems=tuple(validate(order, subjects[order.subject_id], ctx)))
        out.append(order)
    return out




def is_demo_store(path: str | Path) -> bool:
    """Whether the store at ``path`` is a demo store (plain, marked as made by the demo)."""
    try:
        store = Store.open(path)
    except StoreError:
        return False          # encrypted, damaged, not a store: not ours to replace
    try:
        return store.meta(DEMO_MARK) is not None
    finally:
        store.close()


def build_demo(path: str | Path, *, seed: int = 2026, now: datetime, subjects: int = 300,
               plan_seconds: float = 2.0) -> tuple[Store, DemoWorld]:
    """A plain (explicitly unencrypted) store holding the seeded demo world, with today's
    routes planned (as a supervisor would each morning) unless ``plan_seconds`` is 0."""
    world = generate_world(seed, now=now, subjects=subjects)
    store = _fill(path, world)
    with store.transaction():
        store.set_meta(DEMO_MARK, str(seed))
    if plan_seconds > 0:
        plan_day(store, world, plan_seconds)
    return store, world


def _fill(path: str | Path, world: DemoWorld) -> Store:
    store, _ = Store.create(path, plain=True, clock=FixedClock(world.now))
    with store.transaction():
        for user, password in world.users:
            add_user(store, user, password, actor="demo")
        store.put_many(world.subjects, actor="demo")
        store.put_many(intake_checked(world), actor="demo")
        store.put_many(world.devices, actor="demo")
        store.put_many(world.visits, actor="demo")
        store.put_many(world.notes, actor="demo")
    append_events(store, world.telemetry)
    return store


def append_events(store: Store, events) -> int:
    """Typed telemetry events (the demo world's tail) into the store's device-event log.

    Not marked for the engine: the tail is the world's background, made before monitoring
    began; what the fleet simulator sends later is what gets evaluated."""
    rows = [(e.order_id, e.device_serial, ms(e.at), e.kind.value, e.lat, e.lon, e.hdop, None, e.value, e.id,
             ms(e.at), 0) for e in events]
    return store.telemetry.append(rows, [])


def plan_day(store: Store, world: DemoWorld, seconds: float) -> None:
    """Today's routes for every region, planned by the demo's supervisor."""
    planner = next(u for u, _ in world.users if u.role is Role.SUPERVISOR)
    DayPlanService(store, planner, store.clock).plan(local_date(world.now), time_limit=seconds)


def planned_visits(world: DemoWorld, seconds: float = 2.0) -> list[Visit]:
    """The world's visits with today's routes planned (for a hub, which has no local store
    to plan on): planned in a scratch demo store, read back."""
    with tempfile.TemporaryDirectory(prefix="emdesk-plan-") as tmp:
        store = _fill(Path(tmp) / "plan.db", world)
        try:
            plan_day(store, world, seconds)
            return store.find(Visit)
        finally:
            store.close()
