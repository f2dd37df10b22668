"""The order and subject under validation, read defensively: rules share what it works out once."""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property

from ..clock import UTC, local_date
from ..conditions import AlcoholMonitoring, CheckIns, Curfew, LocationMonitoring, Zone
from ..devices import DeviceKind
from ..geocoding import GazetteerGeocoder, Geocoder
from ..orders import Cohort, Order, OrderType, RequestType
from ..people import Address, AddressKind, Subject


@dataclass(frozen=True)
class ValidationContext:
    now: datetime                                      # aware; "today" is London's date
    geocoder: Geocoder = field(default_factory=GazetteerGeocoder)
    find_order: Callable[[str], Order | None] = lambda _id: None



def text_of(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def tuple_of(value: object) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else ()


def finite(*values: object) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values)


@dataclass(frozen=True)
class Where:
    lat: float
    lon: float
    how: str        # "given" or what the geocoder matched


class Draft:
    """The order and subject being checked, with what several rules need worked out once."""

    def __init__(self, order: Order, subject: Subject, ctx: ValidationContext):
        self.order = order
        self.subject = subject
        self.ctx = ctx
        self._where: dict[str, Where | str | None] = {}

    def of_order(self, name: str, default: object = None) -> object:
        return getattr(self.order, name, default)

    def of_subject(self, name: str, default: object = None) -> object:
        return getattr(self.subject, name, default)

    @cached_property
    def now(self) -> datetime:
        now = self.ctx.now
        return now.replace(tzinfo=UTC) if now.tzinfo is None else now

    @cached_property
    def today(self) -> date:
        return local_date(self.now)

    @cached_property
    def dob(self) -> date | None:
        value = self.of_subject("date_of_birth")
        if isinstance(value, datetime):
            return value.date()
        return value if isinstance(value, date) else None

    @cached_property
    def request(self) -> RequestType:
        value = self.of_order("request_type")
        return value if isinstance(value, RequestType) else RequestType.NEW

    @cached_property
    def cohort(self) -> Cohort | None:
        value = self.of_order("cohort")
        return value if isinstance(value, Cohort) else None

    @cached_property
    def order_type(self) -> OrderType | None:
        value = self.of_order("order_type")
        return value if isinstance(value, OrderType) else None

    @cached_property
    def start(self) -> date | None:
        value = self.of_order("start")
        return value if isinstance(value, date) and not isinstance(value, datetime) else None

    @cached_property
    def end(self) -> date | None:
        value = self.of_order("end")
        return value if isinstance(value, date) and not isinstance(value, datetime) else None

    @cached_property
    def conditions(self) -> object:
        return self.of_order("conditions")

    @cached_property
    def curfew(self) -> Curfew | None:
        value = getattr(self.conditions, "curfew", None)
        return value if isinstance(value, Curfew) else None

    @cached_property
    def windows(self) -> tuple:
        return tuple_of(getattr(self.curfew, "windows", None))

    @cached_property
    def zones(self) -> list[tuple[str, Zone]]:
        return [(f"order.conditions.zones[{i}]", z)
                for i, z in enumerate(tuple_of(getattr(self.conditions, "zones", None))) if isinstance(z, Zone)]

    @cached_property
    def location(self) -> bool:
        return isinstance(getattr(self.conditions, "location", None), LocationMonitoring)

    @cached_property
    def alcohol(self) -> bool:
        return isinstance(getattr(self.conditions, "alcohol", None), AlcoholMonitoring)

    @cached_property
    def checkins(self) -> bool:
        return isinstance(getattr(self.conditions, "checkins", None), CheckIns)

    @cached_property
    def devices(self) -> set[DeviceKind]:
        return {d for d in tuple_of(self.of_order("device_kinds")) if isinstance(d, DeviceKind)}

    @cached_property
    def monitors_something(self) -> bool:
        return bool(self.curfew is not None or self.zones or self.location or self.alcohol or self.checkins)

    @cached_property
    def restates_conditions(self) -> bool:
        # An END request only names the order to end; the others carry conditions.
        return self.request is not RequestType.END

    @cached_property
    def addresses(self) -> list[tuple[str, Address]]:
        out = [(f"subject.addresses[{i}]", a)
               for i, a in enumerate(tuple_of(self.of_subject("addresses"))) if isinstance(a, Address)]
        install = getattr(self.of_order("installation"), "address", None)
        if isinstance(install, Address):
            out.append(("order.installation.address", install))
        return out

    @cached_property
    def installation_address(self) -> tuple[str, Address] | None:
        for path, a in reversed(self.addresses):   # the order's own installation address wins
            if path == "order.installation.address" or a.kind is AddressKind.INSTALLATION:
                return path, a
        return None

    @cached_property
    def home(self) -> tuple[str, Address] | None:
        """Where the wearer lives under the order: installation, else primary, else first."""
        if self.installation_address:
            return self.installation_address
        subject_addresses = [(p, a) for p, a in self.addresses if p.startswith("subject.")]
        for path, a in subject_addresses:
            if a.kind is AddressKind.PRIMARY:
                return path, a
        return subject_addresses[0] if subject_addresses else None

    def where(self, path: str, address: Address) -> Where | str | None:
        """Coordinates given or found; a string says why the geocoder failed."""
        if path not in self._where:
            self._where[path] = self._locate(address)
        return self._where[path]

    def _locate(self, address: Address) -> Where | str | None:
        if finite(address.lat, address.lon):
            return Where(address.lat, address.lon, "given")
        try:
            found = self.ctx.geocoder.locate(address)
        except Exception as exc:  # a plug-in geocoder's failure is a finding, not a crash
            return f"the address service failed ({exc.__class__.__name__}: {exc})"
        if found is None or not finite(found.lat, found.lon):
            return None
        return Where(found.lat, found.lon, found.matched)

    @cached_property
    def home_where(self) -> Where | None:
        if not self.home:
            return None
        found = self.where(*self.home)
        return found if isinstance(found, Where) else None
