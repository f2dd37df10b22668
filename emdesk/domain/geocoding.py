"""Finding where an address is, behind one small interface.

Intake must place every address on the map (to check it is in England and Wales and
outside its own exclusion zones).  Deployments plug in a real address service; the
built-in ``GazetteerGeocoder`` works offline: it knows the towns of the demo world and
every postcode district of England and Wales (from OS Code-Point Open), at the precision
of a town centre or of a district.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, Protocol

import msgspec

from .gazetteer import TOWNS, District, Town, postcode_districts
from .geography import is_outward_code, normalise_postcode, postcode_district
from .people import Address

Precision = Literal["address", "postcode", "postcode_district", "town"]


class GeoResult(msgspec.Struct, frozen=True, kw_only=True):
    lat: float
    lon: float
    precision: Precision
    matched: str          # what was matched, e.g. "LS1 (Leeds)" or "Cardiff"


class Geocoder(Protocol):
    def locate(self, address: Address) -> GeoResult | None:
        """Where an address is, or None when it cannot be found."""
        ...


class GazetteerGeocoder:
    """Locates by postcode district first, then by town name; None when neither is known.

    A district of a known town is placed at the centre of that town (as the demo world
    draws it); any other district of England and Wales at a postcode near the middle of
    its units.  Good to a few km, enough to tell England from Scotland, not enough to
    find a front door.  A district with homes on both sides of the Scottish border is
    not placed from the postcode alone: nobody can say which side the home is.
    """

    def __init__(self, towns: Iterable[Town] = TOWNS, districts: dict[str, District] | None = None):
        self._by_district: dict[str, Town] = {}
        self._by_name: dict[str, Town] = {}
        self._districts = districts
        for town in towns:
            self._by_name.setdefault(_key(town.name), town)
            for district in town.districts:
                self._by_district.setdefault(district.upper(), town)

    @property
    def districts(self) -> dict[str, District]:
        if self._districts is None:
            self._districts = postcode_districts()
        return self._districts

    def locate(self, address: Address) -> GeoResult | None:
        district = _district_of(getattr(address, "postcode", "") or "")
        if district and (town := self._by_district.get(district)):
            return GeoResult(lat=town.lat, lon=town.lon, precision="postcode_district",
                             matched=f"{district} ({town.name})")
        if district and (known := self.districts.get(district)) and not known.crosses_scottish_border:
            return GeoResult(lat=known.lat, lon=known.lon, precision="postcode_district", matched=district)
        for name in _town_candidates(address):
            if town := self._by_name.get(_key(name)):
                return GeoResult(lat=town.lat, lon=town.lon, precision="town", matched=town.name)
        return None


def _key(name: str) -> str:
    return " ".join(name.casefold().replace("-", " ").split())


def _district_of(postcode: str) -> str | None:
    """The district of a full postcode, or a bare outward code typed on its own."""
    district = postcode_district(postcode)
    if district:
        return district
    bare = normalise_postcode(postcode).replace(" ", "")
    return bare if is_outward_code(bare) else None


def _town_candidates(address: Address) -> list[str]:
    # The town field first; failing that the last address line, where people often
    # write the town when the form has no separate box for it.
    out = []
    if town := (getattr(address, "town", "") or "").strip():
        out.append(town)
    lines = [line for line in (getattr(address, "lines", ()) or ()) if isinstance(line, str) and line.strip()]
    if lines:
        out.append(lines[-1])
    return out
