"""The monitoring configuration a device holds, as a TLV blob (WRITE_CONFIG).

Record: TAG(u8) LEN(u16) VALUE.  Tags with bit 0x80 set are optional: a device that does
not know one skips it; an unknown tag without the bit makes the blob invalid.  Layouts
are in hardware/PROTOCOL.md.  Times of day are minutes after midnight, Europe/London
wall clock (TIMEZONE record); coordinates are degrees x 1e7 as i32.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timezone
from enum import IntEnum

from emdesk.domain.conditions import (
    AlcoholMode, AlcoholMonitoring, CheckIns, Circle, Conditions, CurfewWindow, Polygon,
    ReleaseDayWindow, Zone, ZoneKind,
)
from emdesk.domain.devices import DeviceKind

from .wire import PayloadError, Reader, Writer

OPTIONAL_BIT = 0x80
DEFAULT_TIMEZONE = "Europe/London"
DEFAULT_FIX_INTERVAL_S = 60


class ConfigTag(IntEnum):
    TIMEZONE = 0x01
    CURFEW_WINDOW = 0x02
    RELEASE_DAY = 0x03
    FIX_INTERVAL = 0x04
    ZONE = 0x05
    ALCOHOL = 0x06
    CHECKINS = 0x07


# Which records each kind of device accepts (others: CONFIG_NOT_SUPPORTED).
SUPPORTED: dict[DeviceKind, frozenset[ConfigTag]] = {
    DeviceKind.HMU: frozenset({ConfigTag.TIMEZONE, ConfigTag.CURFEW_WINDOW, ConfigTag.RELEASE_DAY}),
    DeviceKind.RF_TAG: frozenset({ConfigTag.TIMEZONE}),
    DeviceKind.GPS_TAG: frozenset({ConfigTag.TIMEZONE, ConfigTag.FIX_INTERVAL, ConfigTag.ZONE}),
    DeviceKind.ALCOHOL_TAG: frozenset({ConfigTag.TIMEZONE, ConfigTag.ALCOHOL}),
    DeviceKind.NON_FITTED: frozenset({ConfigTag.TIMEZONE, ConfigTag.CHECKINS}),
}

_ZONE_KIND = {ZoneKind.EXCLUSION: 0, ZoneKind.INCLUSION: 1}
_ALCOHOL_MODE = {AlcoholMode.ABSTINENCE: 0, AlcoholMode.LEVEL: 1}


@dataclass(frozen=True, slots=True)
class DeviceConfig:
    timezone: str = DEFAULT_TIMEZONE
    curfew: tuple[CurfewWindow, ...] = ()
    release_day: ReleaseDayWindow | None = None
    fix_interval_s: int | None = None
    zones: tuple[Zone, ...] = ()
    alcohol: AlcoholMonitoring | None = None
    checkins: CheckIns | None = None

    def tags(self) -> set[ConfigTag]:
        out = {ConfigTag.TIMEZONE}
        if self.curfew:
            out.add(ConfigTag.CURFEW_WINDOW)
        if self.release_day:
            out.add(ConfigTag.RELEASE_DAY)
        if self.fix_interval_s is not None:
            out.add(ConfigTag.FIX_INTERVAL)
        if self.zones:
            out.add(ConfigTag.ZONE)
        if self.alcohol:
            out.add(ConfigTag.ALCOHOL)
        if self.checkins:
            out.add(ConfigTag.CHECKINS)
        return out

    def encode(self) -> bytes:
        out = bytearray()

        def rec(tag: ConfigTag, value: bytes) -> None:
            out.extend(Writer().u8(tag).u16(len(value)).raw(value).bytes())

        rec(ConfigTag.TIMEZONE, self.timezone.encode("ascii"))
        for w in self.curfew:
            rec(ConfigTag.CURFEW_WINDOW, _window(Writer(), w).bytes())
        if self.release_day:
            rd = self.release_day
            rec(ConfigTag.RELEASE_DAY, Writer().u16(rd.day.year).u8(rd.day.month).u8(rd.day.day)
                .u16(_minutes(rd.start)).u16(_minutes(rd.end)).bytes())
        if self.fix_interval_s is not None:
            rec(ConfigTag.FIX_INTERVAL, Writer().u16(self.fix_interval_s).bytes())
        for z in self.zones:
            rec(ConfigTag.ZONE, _zone(z))
        if self.alcohol:
            t = self.alcohol.threshold
            rec(ConfigTag.ALCOHOL, Writer().u8(_ALCOHOL_MODE[self.alcohol.mode])
                .u16(0xFFFF if t is None else round(t * 10)).bytes())
        if self.checkins:
            rec(ConfigTag.CHECKINS, Writer().u8(self.checkins.per_week).u8(int(self.checkins.biometric)).bytes())
        return bytes(out)

    def crc32(self) -> int:
        return zlib.crc32(self.encode())

    @classmethod
    def decode(cls, blob: bytes) -> DeviceConfig:
        """Parse and validate; raises PayloadError naming the bad record."""
        r = Reader(blob)
        tz = None
        curfew: list[CurfewWindow] = []
        release = fix = alcohol = checkins = None
        zones: list[Zone] = []
        while r.remaining:
            tag, length = r.u8(), r.u16()
            value = Reader(r.raw(length))
            try:
                known = ConfigTag(tag)
            except ValueError:
                if tag & OPTIONAL_BIT:
                    continue
                raise PayloadError(f"unknown mandatory config record 0x{tag:02X}") from None
            if known is ConfigTag.TIMEZONE:
                try:
                    tz = value.rest().decode("ascii")
                except UnicodeDecodeError:
                    raise PayloadError("time zone name is not ASCII") from None
                if not tz:
                    raise PayloadError("empty time zone name")
            elif known is ConfigTag.CURFEW_WINDOW:
                curfew.append(_read_window(value))
            elif known is ConfigTag.RELEASE_DAY:
                try:
                    day = date(value.u16(), value.u8(), value.u8())
                except ValueError as e:
                    raise PayloadError(f"release day: {e}") from None
                release = ReleaseDayWindow(day=day, start=_time(value.u16()), end=_time(value.u16()))
            elif known is ConfigTag.FIX_INTERVAL:
                fix = value.u16()
                if not 10 <= fix <= 3600:
                    raise PayloadError(f"fix interval {fix} s outside 10..3600")
            elif known is ConfigTag.ZONE:
                zones.append(_read_zone(value))
            elif known is ConfigTag.ALCOHOL:
                mode = {0: AlcoholMode.ABSTINENCE, 1: AlcoholMode.LEVEL}.get(value.u8())
                if mode is None:
                    raise PayloadError("unknown alcohol mode")
                t = value.u16()
                alcohol = AlcoholMonitoring(mode=mode, threshold=None if t == 0xFFFF else t / 10)
            elif known is ConfigTag.CHECKINS:
                per_week, bio = value.u8(), value.u8()
                if not 1 <= per_week <= 70:
                    raise PayloadError(f"{per_week} check-ins a week is outside 1..70")
                checkins = CheckIns(per_week=per_week, biometric=bool(bio))
            value.end()
        if tz is None:
            raise PayloadError("config has no TIMEZONE record")
        return cls(timezone=tz, curfew=tuple(curfew), release_day=release, fix_interval_s=fix,
                   zones=tuple(zones), alcohol=alcohol, checkins=checkins)


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _time(m: int) -> time:
    if m >= 24 * 60:
        raise PayloadError(f"minute of day {m} outside 0..1439")
    return time(m // 60, m % 60)


def _window(w: Writer, cw: CurfewWindow) -> Writer:
    return w.u8(cw.weekday).u16(_minutes(cw.start)).u16(_minutes(cw.end))


def _read_window(r: Reader) -> CurfewWindow:
    day = r.u8()
    if day > 6:
        raise PayloadError(f"weekday {day} outside 0..6")
    return CurfewWindow(weekday=day, start=_time(r.u16()), end=_time(r.u16()))


def _deg(v: float, limit: float, what: str) -> int:
    if not -limit <= v <= limit:
        raise ValueError(f"{what} {v} outside +-{limit}")
    return round(v * 1e7)


def _read_deg(r: Reader, limit: float, what: str) -> float:
    v = r.i32() / 1e7
    if not -limit <= v <= limit:
        raise PayloadError(f"{what} {v} outside +-{limit}")
    return v


def _unix(dt: datetime | None) -> int:
    return 0 if dt is None else int(dt.timestamp())


def _zone(z: Zone) -> bytes:
    w = Writer().u8(_ZONE_KIND[z.kind])
    if isinstance(z.shape, Circle):
        w.u8(1).str8(z.name).i32(_deg(z.shape.lat, 90, "latitude")).i32(_deg(z.shape.lon, 180, "longitude"))
        w.u32(round(z.shape.radius_m * 10))
    else:
        w.u8(2).str8(z.name).u16(len(z.shape.points))
        for lat, lon in z.shape.points:
            w.i32(_deg(lat, 90, "latitude")).i32(_deg(lon, 180, "longitude"))
    w.u8(len(z.active_windows))
    for aw in z.active_windows:
        _window(w, aw)
    return w.u32(_unix(z.active_from)).u32(_unix(z.active_until)).bytes()


def _read_zone(r: Reader) -> Zone:
    kind = {0: ZoneKind.EXCLUSION, 1: ZoneKind.INCLUSION}.get(r.u8())
    if kind is None:
        raise PayloadError("unknown zone kind")
    shape_code = r.u8()
    name = r.str8()
    if shape_code == 1:
        lat, lon = _read_deg(r, 90, "latitude"), _read_deg(r, 180, "longitude")
        radius = r.u32() / 10
        if radius <= 0:
            raise PayloadError(f"zone {name!r}: radius must be positive")
        shape: Circle | Polygon = Circle(lat=lat, lon=lon, radius_m=radius)
    elif shape_code == 2:
        n = r.u16()
        if n < 3:
            raise PayloadError(f"zone {name!r}: a polygon needs at least 3 points, got {n}")
        shape = Polygon(points=tuple((_read_deg(r, 90, "latitude"), _read_deg(r, 180, "longitude")) for _ in range(n)))
    else:
        raise PayloadError(f"zone {name!r}: unknown shape 0x{shape_code:02X}")
    windows = tuple(_read_window(r) for _ in range(r.u8()))
    frm, until = r.u32(), r.u32()
    return Zone(name=name, kind=kind, shape=shape, active_windows=windows,
                active_from=datetime.fromtimestamp(frm, timezone.utc) if frm else None,
                active_until=datetime.fromtimestamp(until, timezone.utc) if until else None)


class UnplaceableCondition(ValueError):
    """A condition of the order that none of the connected devices can enforce."""


def configs_for(conditions: Conditions, kinds: list[DeviceKind], *, tz: str = DEFAULT_TIMEZONE) -> dict[DeviceKind, DeviceConfig]:
    """Split an order's conditions into one configuration per connected device kind.

    Raises UnplaceableCondition naming the condition that no connected device accepts
    (a curfew with no home unit, zones without a GPS tag, ...).
    """
    out = {k: DeviceConfig(timezone=tz) for k in kinds}
    need: list[tuple[str, ConfigTag, dict]] = []
    c = conditions
    if c.curfew and (c.curfew.windows or c.curfew.release_day):
        need.append(("a curfew", ConfigTag.CURFEW_WINDOW,
                     {"curfew": tuple(c.curfew.windows), "release_day": c.curfew.release_day}))
    if c.zones:
        need.append(("zones", ConfigTag.ZONE, {"zones": tuple(c.zones)}))
    if c.location:
        need.append(("location monitoring", ConfigTag.FIX_INTERVAL, {"fix_interval_s": c.location.fix_interval_s}))
    if c.alcohol:
        need.append(("alcohol monitoring", ConfigTag.ALCOHOL, {"alcohol": c.alcohol}))
    if c.checkins:
        need.append(("check-ins", ConfigTag.CHECKINS, {"checkins": c.checkins}))
    if DeviceKind.GPS_TAG in kinds and not c.location:
        out[DeviceKind.GPS_TAG] = _with(out[DeviceKind.GPS_TAG], fix_interval_s=DEFAULT_FIX_INTERVAL_S)
    for label, tag, fields in need:
        homes = [k for k in kinds if tag in SUPPORTED[k]]
        if not homes:
            raise UnplaceableCondition(label)
        for k in homes:
            out[k] = _with(out[k], **fields)
    return out


def _with(cfg: DeviceConfig, **changes) -> DeviceConfig:
    return replace(cfg, **changes)
