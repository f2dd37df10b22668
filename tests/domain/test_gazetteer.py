"""The built-in gazetteer: enough real towns, well-formed, unambiguous districts."""
import re
from collections import Counter

from emdesk.domain.gazetteer import (
    REGIONS, TOWNS, districts, outward_code, town_by_name, town_for_district, towns_in,
)

# UK outward codes: A9, A99, AA9, AA99, A9A, AA9A.
OUTWARD = re.compile(r"^[A-Z]{1,2}[0-9][0-9A-Z]?$")


def test_enough_towns_in_every_region():
    assert len(TOWNS) >= 70
    for region in REGIONS:
        assert len(towns_in(region)) >= 5, region
    assert {t.region for t in TOWNS} <= set(REGIONS)


def test_wales_and_london_are_well_covered():
    assert len(towns_in("Wales")) >= 8
    assert len(towns_in("London")) >= 8
    assert all(t.country == "Wales" for t in towns_in("Wales"))
    assert all(t.country == "England" for t in TOWNS if t.region != "Wales")


def test_districts_are_outward_codes():
    for town in TOWNS:
        assert 2 <= len(town.districts) <= 7, town.name
        for d in town.districts:
            assert OUTWARD.match(d), (town.name, d)


def test_no_district_is_shared_between_towns():
    counts = Counter(d for t in TOWNS for d in t.districts)
    assert [d for d, n in counts.items() if n > 1] == []


def test_coordinates_are_inside_england_and_wales():
    for town in TOWNS:
        assert 49.9 <= town.lat <= 55.9, town.name
        assert -5.8 <= town.lon <= 1.8, town.name
    for town in towns_in("Wales"):
        assert town.lon < -2.6, town.name


def test_every_town_has_streets_and_unique_name():
    assert len({t.name for t in TOWNS}) == len(TOWNS)
    for town in TOWNS:
        assert 4 <= len(town.streets) <= 6, town.name
        assert len(set(town.streets)) == len(town.streets), town.name


def test_lookups():
    assert town_by_name(" leeds ").name == "Leeds"
    assert town_by_name("Glasgow") is None
    assert town_for_district("LS7").name == "Leeds"
    assert town_for_district("cf24 3aa").name == "Cardiff"
    assert town_for_district("SW93RT").name == "Brixton"
    assert town_for_district("EH1 1YZ") is None
    assert outward_code("sw1a 1aa") == "SW1A"
    assert districts()["M14"].name == "Manchester"
