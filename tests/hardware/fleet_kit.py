"""A small demo store for the fleet simulator's tests, built once per session, and
readers for what the simulator writes."""
from __future__ import annotations

import atexit
import functools
import json
import math
import shutil
import tempfile
from datetime import date, datetime, timezone
from pathlib import Path

import msgspec

from emdesk.domain.conditions import Circle, Zone, ZoneKind
from emdesk.domain.devices import DeviceKind
from emdesk.domain.orders import Order
from emdesk.services.demo import build_demo
from hardware.fleet import NOISE, VIOLATIONS, load_wearers, simulate, violation_period
from hardware.fleet.episodes import feasible_noise, feasible_violations
from hardware.fleet.sim import context

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
DAY = date(2026, 12, 1)
SEED = 7
SUBJECTS = 120


def _scratch() -> Path:
    path = Path(tempfile.mkdtemp(prefix="emdesk-fleet-test-"))
    atexit.register(shutil.rmtree, path, True)
    return path


@functools.cache
def fleet_store() -> Path:
    """A demo store; one GPS wearer without exclusion zones gets a 5 km inclusion zone
    round home (the demo world has none, and ``inclusion_exit`` needs one)."""
    path = _scratch() / "demo.db"
    store, _ = build_demo(path, seed=2026, now=NOW, subjects=SUBJECTS, plan_seconds=0)
    try:
        for w in load_wearers(path, violation_period(DAY)):
            if w.device(DeviceKind.GPS_TAG) and not w.order.conditions.zones:
                zone = Zone(name="Home town", kind=ZoneKind.INCLUSION,
                            shape=Circle(lat=w.home[0], lon=w.home[1], radius_m=5000.0))
                conditions = msgspec.structs.replace(w.order.conditions, zones=(zone,))
                store.put(store.get(Order, w.order.id).evolve(conditions=conditions), actor="test")
                break
    finally:
        store.close()
    return path


@functools.cache
def fleet_store_october() -> Path:
    """A smaller store as at the autumn clock change."""
    path = _scratch() / "october.db"
    store, _ = build_demo(path, seed=2026, now=datetime(2026, 10, 24, 9, 0, tzinfo=timezone.utc), subjects=40,
                          plan_seconds=0)
    store.close()
    return path


def _assign(kinds, feasible) -> dict[str, str]:
    """A distinct wearer (order reference) for each kind, by the rarest first."""
    wearers = load_wearers(fleet_store(), violation_period(DAY))
    able = {k: [w.reference for w in wearers if k in feasible(context(w, violation_period(DAY), SEED))]
            for k in kinds}
    out: dict[str, str] = {}
    for kind in sorted(kinds, key=lambda k: len(able[k])):
        ref = next(r for r in able[kind] if r not in out)
        out[ref] = kind
    return out


@functools.cache
def forced_violations():
    force = _assign(VIOLATIONS, feasible_violations)
    return simulate(fleet_store(), DAY, seed=SEED, force=force), force


@functools.cache
def forced_noise():
    force = _assign(NOISE, feasible_noise)
    return simulate(fleet_store(), DAY, seed=SEED, force=force), force


@functools.cache
def plain_day():
    return simulate(fleet_store(), DAY, seed=SEED)


def ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    return math.hypot((lon2 - lon1) * 111_320 * math.cos(math.radians(lat1)), (lat2 - lat1) * 111_320)


def devices_of(reference: str) -> dict[DeviceKind, str]:
    w = next(w for w in load_wearers(fleet_store(), violation_period(DAY)) if w.reference == reference)
    return {k: d.serial for k, d in w.devices.items()}


def wearer(reference: str):
    return next(w for w in load_wearers(fleet_store(), violation_period(DAY)) if w.reference == reference)
