"""Building the demo world into a fresh store (the generation itself is pure)."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from emdesk.domain.clock import FixedClock
from emdesk.domain.geocoding import GazetteerGeocoder
from emdesk.domain.orders import Order, OrderStatus
from emdesk.domain.validation.rules import ValidationContext, validate
from emdesk.store import Store, StoreError

from .auth import add_user
from .context import DEMO_MARK   # in meta: this store was made by `emdesk demo` (may be rebuilt at will)
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


def build_demo(path: str | Path, *, seed: int = 2026, now: datetime, subjects: int = 300) -> tuple[Store, DemoWorld]:
    """A plain (explicitly unencrypted) store holding the seeded demo world."""
    world = generate_world(seed, now=now, subjects=subjects)
    store, _ = Store.create(path, plain=True, clock=FixedClock(now))
    with store.transaction():
        for user, password in world.users:
            add_user(store, user, password, actor="demo")
        store.put_many(world.subjects, actor="demo")
        store.put_many(intake_checked(world), actor="demo")
        store.put_many(world.devices, actor="demo")
        store.put_many(world.visits, actor="demo")
        store.put_many(world.notes, actor="demo")
        store.put_many(world.telemetry, actor="demo")
        store.set_meta(DEMO_MARK, str(seed))
    return store, world
