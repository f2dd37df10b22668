"""Real English and Welsh towns the demo world and the built-in geocoder know.

Coordinates are town centres (WGS84); postcode districts are real outward codes
that serve each town; regions are the EM service's regions.
"""
from __future__ import annotations

import msgspec

REGIONS = (
    "North East", "North West", "Yorkshire and the Humber", "East Midlands",
    "West Midlands", "East of England", "London", "South East", "South West", "Wales",
)


class Town(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    county: str
    region: str                       # one of REGIONS
    country: str                      # "England" or "Wales"
    lat: float
    lon: float
    districts: tuple[str, ...]        # postcode outward codes, e.g. ("LS1", "LS2")
    streets: tuple[str, ...] = ()     # real street names, for demo addresses


TOWNS: tuple[Town, ...] = (
    Town(name="Leeds", county="West Yorkshire", region="Yorkshire and the Humber", country="England",
         lat=53.7997, lon=-1.5492, districts=("LS1", "LS2", "LS6", "LS7", "LS8", "LS9", "LS11"),
         streets=("Briggate", "Kirkstall Road", "Harehills Lane", "Roundhay Road", "Dewsbury Road")),
    Town(name="Cardiff", county="Cardiff", region="Wales", country="Wales",
         lat=51.4816, lon=-3.1791, districts=("CF10", "CF11", "CF14", "CF23", "CF24"),
         streets=("Cowbridge Road East", "City Road", "Albany Road", "Whitchurch Road", "Clifton Street")),
)
