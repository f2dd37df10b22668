"""Equipment: serials, models, firmware, and each device's life from stock to recovery.

Only about 60% of devices come back after an order ends (NAO 2.16), so ended orders
leave kit awaiting collection, and some of it is eventually written off as lost.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from emdesk.domain.devices import Device, DeviceKind, DeviceState, move_device
from emdesk.domain.gazetteer import REGIONS
from emdesk.domain.users import User

from .gen import Gen

_PREFIX = {DeviceKind.RF_TAG: "RF", DeviceKind.HMU: "HMU", DeviceKind.GPS_TAG: "GPS",
           DeviceKind.ALCOHOL_TAG: "ALC", DeviceKind.NON_FITTED: "NFD"}
_MODELS: dict[DeviceKind, tuple[tuple[str, tuple[str, ...]], ...]] = {
    DeviceKind.RF_TAG: (("Sentinel RF-3", ("3.1.4", "3.2.0", "3.2.2")), ("Sentinel RF-4", ("4.0.7", "4.1.1"))),
    DeviceKind.HMU: (("HomeBase H4 (4G)", ("7.4.2", "7.5.0")), ("HomeBase H3 (3G/PSTN)", ("6.9.8",))),
    DeviceKind.GPS_TAG: (("Trackline GT-5", ("5.3.1", "5.4.0")), ("Trackline GT-6", ("6.0.2", "6.1.0"))),
    DeviceKind.ALCOHOL_TAG: (("Transdermal TA-2", ("2.8.1", "2.9.0")),),
    DeviceKind.NON_FITTED: (("CheckPoint NF-1", ("1.6.3", "1.7.0")),),
}
# Spare stock each region keeps on the shelf, per kind.
_STOCK = {DeviceKind.RF_TAG: (8, 14), DeviceKind.HMU: (8, 14), DeviceKind.GPS_TAG: (4, 9),
          DeviceKind.ALCOHOL_TAG: (1, 4), DeviceKind.NON_FITTED: (1, 3)}
_FAULTS = ("Strap sensor reports open when closed", "Battery will not hold charge",
           "No mobile signal after firmware update", "Case cracked on return", "GPS fix takes over 10 minutes")
_TAGS = (DeviceKind.RF_TAG, DeviceKind.GPS_TAG, DeviceKind.ALCOHOL_TAG)


class Serials:
    """Unique, increasing serials per kind, starting at a random point in each range."""

    def __init__(self, gen: Gen):
        self._next = {k: gen.rng.randrange(100_000, 400_000) if k is not DeviceKind.HMU
                      else gen.rng.randrange(100, 5000) for k in _PREFIX}
        self._gen = gen

    def new(self, kind: DeviceKind) -> str:
        self._next[kind] += self._gen.rng.randint(1, 37)
        return f"{_PREFIX[kind]}-{self._next[kind]:06d}"


def _blank(gen: Gen, serials: Serials, kind: DeviceKind, region: str, arrived: datetime) -> Device:
    model, firmwares = gen.pick(_MODELS[kind])
    return Device(id=gen.id_at(arrived), created_at=arrived, updated_at=arrived, kind=kind,
                  serial=serials.new(kind), model=model, firmware=gen.pick(firmwares), region=region)


def _move(device: Device, to: DeviceState, at: datetime, by: str = "", reason: str = "", **changes) -> Device:
    return move_device(device, to, at=at, by=by, reason=reason, updated_at=at, **changes)


def kit_for_order(gen: Gen, serials: Serials, *, kinds, region: str, order_id: str, subject_id: str,
                  allocated_at: datetime, installed_at: datetime | None, officer_id: str) -> list[Device]:
    """Devices allocated to an order, and installed if ``installed_at`` is given, tag paired to HMU."""
    arrived = allocated_at - timedelta(days=gen.rng.randint(20, 500))
    devices = [_blank(gen, serials, k, region, arrived) for k in kinds]
    tag = next((d for d in devices if d.kind in _TAGS), None)
    hmu = next((d for d in devices if d.kind is DeviceKind.HMU), None)
    out = []
    for d in devices:
        partner = hmu if d is tag else tag if d is hmu else None
        d = _move(d, DeviceState.ALLOCATED, allocated_at, officer_id, "allocated for install",
                  order_id=order_id, subject_id=subject_id)
        if installed_at is not None:
            d = _move(d, DeviceState.INSTALLED, installed_at, officer_id, "installed",
                      paired_with=partner.serial if partner else None)
        out.append(d)
    return out


def end_of_order(gen: Gen, devices: list[Device], *, ended_at: datetime, removed_at: datetime | None,
                 officer_id: str) -> list[Device]:
    """Kit after an order ends: recovered at removal, else awaiting collection (or lost, if long ago)."""
    out = []
    for d in devices:
        if removed_at is not None:
            d = _move(d, DeviceState.RECOVERED, removed_at, officer_id, "removed at end of order")
            if (gen.now - removed_at).days > 14:
                d = _move(d, DeviceState.IN_STOCK, removed_at + timedelta(days=gen.rng.randint(3, 10)),
                          reason="cleaned, tested and re-stocked", order_id=None, subject_id=None, paired_with=None)
        else:
            d = _move(d, DeviceState.AWAITING_COLLECTION, ended_at, reason="order ended")
            if (gen.now - ended_at).days > 45 and gen.chance(0.6):
                d = _move(d, DeviceState.LOST, ended_at + timedelta(days=gen.rng.randint(30, 45)),
                          reason="not recovered after repeated visits")
        out.append(d)
    return out


# What a field officer keeps in the car to fit on the day, per kind.
CARRIED = {DeviceKind.RF_TAG: 3, DeviceKind.HMU: 3, DeviceKind.GPS_TAG: 2, DeviceKind.ALCOHOL_TAG: 1}


def hand_out(devices: list[Device], officers: list[User]) -> list[Device]:
    """Working spare kit of each region handed to its field officers (``held_by``), so the
    planner knows who can fit what.  No random draws: the rest of the world is unchanged."""
    wanted = {o.id: dict(CARRIED) for o in officers}
    by_region: dict[str, list[User]] = {}
    for o in sorted(officers, key=lambda u: u.username):
        by_region.setdefault(o.region, []).append(o)
    out = []
    for d in devices:
        if d.state is DeviceState.IN_STOCK and d.held_by is None:
            taker = next((o for o in by_region.get(d.region, []) if wanted[o.id].get(d.kind, 0) > 0), None)
            if taker is not None:
                wanted[taker.id][d.kind] -= 1
                d = d.evolve(held_by=taker.id)
        out.append(d)
    return out


def shelf_stock(gen: Gen, serials: Serials, technician_ids: dict[str, str]) -> list[Device]:
    """Spare kit in every region, a few faulty units waiting to go back to the supplier."""
    out = []
    for region in REGIONS:
        for kind, (low, high) in _STOCK.items():
            for _ in range(gen.rng.randint(low, high)):
                arrived = gen.days_ago(10, 700)
                d = _blank(gen, serials, kind, region, arrived)
                if gen.chance(0.06):
                    d = _move(d, DeviceState.FAULTY, gen.between(arrived, gen.now),
                              technician_ids.get(region, ""), gen.pick(_FAULTS))
                out.append(d)
    return out
