"""An order compiled for watching: what the rules need, and nothing they would look up.

Built once per order by the service layer (from the order, its subject's curfew address
and its fitted kit), then handed to the pure rule functions with the order's events.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from emdesk.domain.conditions import Conditions
from emdesk.domain.devices import DeviceKind
from emdesk.domain.orders import Cohort, RiskLevel

__all__ = ["RiskLevel", "Settings", "Watch", "WatchedDevice"]


@dataclass(frozen=True)
class WatchedDevice:
    serial: str
    kind: DeviceKind | None          # None: the protected person's phone (not kit of ours)
    fitted_ms: int                   # events from before this are refused at ingest
    protected: bool = False          # the victim's phone of a moving exclusion zone


@dataclass(frozen=True)
class Settings:
    """Thresholds the service may tune; every rule reads its numbers from here."""

    curfew_grace_s: int = 300            # minutes of slack before a curfew alert is raised
    home_radius_m: float = 100.0         # GPS-only curfew: "at home" within this of the address
    hdop_max: float = 5.0                # a fix with worse HDOP is technical
    max_speed_mps: float = 70.0          # 250 km/h: faster than that between fixes is a jump
    gap_s: int = 300                     # no fix / no comms for longer is a gap alert
    silent_days: int = 14                # silent this long: the case is unmonitored
    battery_low_pct: float = 15.0        # AL21 at or below
    alcohol_threshold: float = 20.0      # mg/100 ml; an order's level threshold overrides it
    alcohol_sustain: int = 2             # consecutive readings over threshold to raise it
    proximity_max_age_s: int = 600       # a protected person's position older than this is stale
    merge_gap_s: int = 600               # alerts of one condition closer than this are one incident
    zone_dwell_s: int = 0                # ignore exclusion visits shorter than this (0: none)


@dataclass(frozen=True)
class Watch:
    order_id: str
    reference: str
    subject_id: str
    cohort: Cohort | None
    region: str
    conditions: Conditions
    devices: tuple[WatchedDevice, ...]
    home: tuple[float, float] | None = None        # the curfew address (lat, lon)
    risk: RiskLevel | None = None
    start_ms: int | None = None                    # the order's life (None: open)
    end_ms: int | None = None
    settings: Settings = field(default_factory=Settings)

    def device_index(self, kind: DeviceKind) -> list[int]:
        return [i for i, d in enumerate(self.devices) if d.kind is kind]

    @property
    def has_hmu(self) -> bool:
        return any(d.kind is DeviceKind.HMU for d in self.devices)

    @property
    def tracked(self) -> bool:
        """Whether the wearer carries a GPS tag (or a phone acting as a non-fitted device)."""
        return any(d.kind in (DeviceKind.GPS_TAG, DeviceKind.NON_FITTED) and not d.protected for d in self.devices)
