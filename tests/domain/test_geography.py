"""England and Wales, postcodes, and zones measured on the British National Grid."""
import math

import pytest
from pyproj import Geod

from emdesk.domain.conditions import Circle, Polygon
from emdesk.domain.gazetteer import TOWNS, Town, postcode_districts
from emdesk.domain.geocoding import GazetteerGeocoder
from emdesk.domain.geography import (
    ENGLAND_OR_SCOTLAND,
    ENGLAND_OR_WALES,
    GUERNSEY,
    ISLE_OF_MAN,
    JERSEY,
    NORTHERN_IRELAND,
    SCOTLAND,
    distance_m,
    england_and_wales,
    from_bng,
    in_england_and_wales,
    is_outward_code,
    is_valid_postcode,
    lonlat_to_bng,
    normalise_postcode,
    postcode_area,
    postcode_country,
    postcode_district,
    to_bng,
    zone_area_m2,
    zone_contains,
    zone_defect,
    zone_geometry,
)
from emdesk.domain.people import Address

# (place, lat, lon, inside England and Wales)
PLACES = [
    ("Leeds", 53.7997, -1.5492, True),
    ("Cardiff", 51.4816, -3.1791, True),
    ("London, Westminster", 51.5007, -0.1246, True),
    ("Carlisle", 54.8925, -2.9329, True),
    ("Berwick-upon-Tweed", 55.7710, -2.0070, True),
    ("The Cheviot", 55.4780, -2.1460, True),
    ("Kielder", 55.2330, -2.5800, True),
    ("Holyhead, Anglesey", 53.3090, -4.6330, True),
    ("Newport, Isle of Wight", 50.7000, -1.2900, True),
    ("St Mary's, Isles of Scilly", 49.9150, -6.3100, True),
    ("Land's End", 50.0660, -5.7140, True),
    ("Lowestoft", 52.4800, 1.7500, True),
    ("Dover", 51.1250, 1.3100, True),
    ("Whitby", 54.4860, -0.6150, True),
    ("Blackpool", 53.8170, -3.0500, True),
    ("St Davids", 51.8820, -5.2690, True),
    ("Holy Island", 55.6680, -1.8000, True),
    ("Walney Island", 54.1000, -3.2550, True),
    ("Gretna", 54.9950, -3.0650, False),
    ("Kelso", 55.5980, -2.4330, False),
    ("Eyemouth", 55.8700, -2.0900, False),
    ("Dumfries", 55.0700, -3.6100, False),
    ("Annan", 54.9880, -3.2600, False),
    ("Edinburgh", 55.9533, -3.1883, False),
    ("Glasgow", 55.8642, -4.2518, False),
    ("Lerwick, Shetland", 60.1550, -1.1450, False),
    ("Belfast", 54.5970, -5.9300, False),
    ("Douglas, Isle of Man", 54.1500, -4.4800, False),
    ("St Helier, Jersey", 49.1860, -2.1100, False),
    ("Dublin", 53.3500, -6.2600, False),
    ("Calais", 50.9500, 1.8600, False),
    ("English Channel", 50.5000, -1.0000, False),
    ("Irish Sea", 53.5000, -4.0000, False),
    ("The Wash", 52.9500, 0.2500, False),
]


@pytest.mark.parametrize(("place", "lat", "lon", "inside"), PLACES, ids=[p[0] for p in PLACES])
def test_in_england_and_wales(place, lat, lon, inside):
    assert in_england_and_wales(lat, lon) is inside


@pytest.mark.parametrize(("lat", "lon"), [(math.nan, -1.5), (53.8, math.inf), (-91.0, 0.0)])
def test_nonsense_coordinates_are_outside(lat, lon):
    assert in_england_and_wales(lat, lon) is False


def test_outline_is_valid_and_about_the_size_of_england_and_wales():
    outline = england_and_wales()
    assert outline.is_valid
    area_km2 = lonlat_to_bng(outline).area / 1e6
    # England 130,300 km² + Wales 20,800 km², plus the 2 km coastal margin.
    assert 151_000 < area_km2 < 162_000


@pytest.mark.parametrize(("text", "normal"), [
    ("ls11ab", "LS1 1AB"),
    ("LS1 1AB", "LS1 1AB"),
    ("  cf10   1ep ", "CF10 1EP"),
    ("sw1a1aa", "SW1A 1AA"),
    ("ec1a 1bb", "EC1A 1BB"),
    ("m11ae", "M1 1AE"),
    ("not a postcode", "NOT A POSTCODE"),
    ("", ""),
])
def test_normalise_postcode(text, normal):
    assert normalise_postcode(text) == normal


@pytest.mark.parametrize(("text", "valid"), [
    ("LS1 1AB", True), ("ls11ab", True), ("CF10 1EP", True), ("SW1A 1AA", True), ("W1A 0AX", True),
    ("M1 1AE", True), ("B33 8TH", True), ("CR2 6XH", True), ("DN55 1PT", True), ("GIR 0AA", True),
    ("LS1 1A", False),        # inward code too short
    ("LS1 1CB", False),       # C is never a unit letter
    ("QS1 1AB", False),       # no area starts with Q
    ("L11 1AB1", False),
    ("12345", False),
    ("", False),
])
def test_is_valid_postcode(text, valid):
    assert is_valid_postcode(text) is valid


@pytest.mark.parametrize(("text", "district", "area"), [
    ("LS1 1AB", "LS1", "LS"), ("ls111ab", "LS11", "LS"), ("CF10 1EP", "CF10", "CF"),
    ("SW1A 1AA", "SW1A", "SW"), ("M1 1AE", "M1", "M"), ("nonsense", None, None),
])
def test_postcode_district_and_area(text, district, area):
    assert postcode_district(text) == district
    assert postcode_area(text) == area


@pytest.mark.parametrize(("text", "outward"), [("LS1", True), ("CF10", True), ("SW1A", True), ("LS1 1AB", False), ("1LS", False)])
def test_is_outward_code(text, outward):
    assert is_outward_code(text) is outward


@pytest.mark.parametrize(("text", "country"), [
    ("LS1 1AB", ENGLAND_OR_WALES), ("CF10 1EP", ENGLAND_OR_WALES), ("CH1 1AA", ENGLAND_OR_WALES),
    ("CA6 5AA", ENGLAND_OR_WALES), ("NE66 1AA", ENGLAND_OR_WALES),
    ("EH1 1YZ", SCOTLAND), ("G1 1AA", SCOTLAND), ("AB10 1AA", SCOTLAND), ("ZE1 0AA", SCOTLAND),
    ("DG16 5AA", SCOTLAND), ("KW15 1AA", SCOTLAND), ("TD9 7AA", SCOTLAND),
    ("TD15 1AA", ENGLAND_OR_SCOTLAND), ("TD12 4AA", ENGLAND_OR_SCOTLAND),
    ("BT1 1AA", NORTHERN_IRELAND), ("IM1 1AA", ISLE_OF_MAN), ("JE2 3AB", JERSEY), ("GY1 1AA", GUERNSEY),
    ("GL1 1AA", ENGLAND_OR_WALES),   # Gloucester: starts with G but is not Glasgow
    ("KT1 1AA", ENGLAND_OR_WALES),   # Kingston: starts with K but is not Kilmarnock
    ("nonsense", None),
])
def test_postcode_country(text, country):
    assert postcode_country(text) == country


def test_bng_round_trip_and_known_point():
    # Ordnance Survey's own example: Caister water tower, TG 51409 13177.
    e, n = to_bng(52.658007833, 1.716073973)
    assert e == pytest.approx(651409, abs=5) and n == pytest.approx(313177, abs=5)
    lat, lon = from_bng(e, n)
    assert (lat, lon) == pytest.approx((52.658007833, 1.716073973), abs=1e-7)


@pytest.mark.parametrize(("a", "b"), [
    ((53.7997, -1.5492), (51.4816, -3.1791)),   # Leeds - Cardiff
    ((51.5007, -0.1246), (51.5033, -0.1196)),   # across Westminster Bridge
    ((50.0660, -5.7140), (55.7710, -2.0070)),   # Land's End - Berwick
])
def test_distance_agrees_with_the_ellipsoid(a, b):
    _, _, geodesic = Geod(ellps="WGS84").inv(a[1], a[0], b[1], b[0])
    assert distance_m(*a, *b) == pytest.approx(geodesic, rel=1e-3)


def _square(lat, lon, side_m):
    e, n = to_bng(lat, lon)
    corners = [(e, n), (e + side_m, n), (e + side_m, n + side_m), (e, n + side_m)]
    return Polygon(points=tuple(from_bng(x, y) for x, y in corners))


@pytest.mark.parametrize(("shape", "area"), [
    (Circle(lat=53.8, lon=-1.55, radius_m=1000), math.pi * 1e6),
    (Circle(lat=51.48, lon=-3.18, radius_m=50), math.pi * 2500),
    (_square(53.8, -1.55, 1000), 1e6),
    (_square(51.48, -3.18, 45), 2025),
])
def test_zone_area(shape, area):
    assert zone_area_m2(shape) == pytest.approx(area, rel=2e-3)
    assert zone_geometry(shape).area == pytest.approx(area, rel=2e-3)


CIRCLE = Circle(lat=53.8, lon=-1.55, radius_m=500)


@pytest.mark.parametrize(("east_m", "inside"), [(0, True), (490, True), (510, False), (5000, False)])
def test_circle_contains(east_m, inside):
    e, n = to_bng(CIRCLE.lat, CIRCLE.lon)
    assert zone_contains(CIRCLE, *from_bng(e + east_m, n)) is inside


@pytest.mark.parametrize(("offset", "inside"), [((500, 500), True), ((10, 990), True), ((-10, 500), False), ((500, 1010), False)])
def test_polygon_contains(offset, inside):
    square = _square(53.8, -1.55, 1000)
    e, n = to_bng(*square.points[0])
    assert zone_contains(square, *from_bng(e + offset[0], n + offset[1])) is inside


@pytest.mark.parametrize(("shape", "defect"), [
    (CIRCLE, None),
    (_square(53.8, -1.55, 100), None),
    (Circle(lat=53.8, lon=-1.55, radius_m=0), "radius"),
    (Circle(lat=53.8, lon=-1.55, radius_m=math.nan), "radius"),
    (Circle(lat=153.8, lon=-1.55, radius_m=100), "latitude"),
    (Polygon(points=((53.8, -1.55), (53.81, -1.55))), "fewer than 3"),
    (Polygon(points=((53.8, -1.55), (53.8, -1.55), (53.8, -1.55), (53.81, -1.54))), "fewer than 3"),
    (Polygon(points=((53.80, -1.55), (53.81, -1.54), (53.81, -1.55), (53.80, -1.54))), "cross"),
    (Polygon(points=((53.8, -1.55), (99.0, -1.54), (53.81, -1.54))), "point 2"),
    (None, "no shape"),
])
def test_zone_defect(shape, defect):
    found = zone_defect(shape)
    if defect is None:
        assert found is None
    else:
        assert defect in found


# --- The built-in geocoder ---------------------------------------------------------



@pytest.mark.parametrize("town", TOWNS, ids=[t.name for t in TOWNS])
def test_every_gazetteer_town_is_in_england_and_wales_and_found_by_its_districts(town):
    assert in_england_and_wales(town.lat, town.lon)
    geocoder = GazetteerGeocoder()
    for district in town.districts:
        assert is_outward_code(district), district
        assert postcode_country(f"{district} 1AA") in (ENGLAND_OR_WALES, None)
        found = geocoder.locate(Address(postcode=f"{district} 1AA"))
        assert found is not None and found.precision == "postcode_district"
        assert (found.lat, found.lon) == (town.lat, town.lon)


@pytest.mark.parametrize(("address", "matched", "precision"), [
    (Address(postcode="LS1 1AB"), "LS1 (Leeds)", "postcode_district"),
    (Address(postcode="ls11ab", town="Cardiff"), "LS1 (Leeds)", "postcode_district"),   # postcode first
    (Address(postcode="CF10"), "CF10 (Cardiff)", "postcode_district"),                 # an outward code alone
    (Address(postcode="YY1 1AA", town="  leeds "), "Leeds", "town"),
    (Address(lines=("1 Albany Road", "Cardiff")), "Cardiff", "town"),
    (Address(postcode="YY1 1AA", town="Nowhereton"), None, None),
    (Address(), None, None),
])
def test_gazetteer_geocoder(address, matched, precision):
    found = GazetteerGeocoder().locate(address)
    if matched is None:
        assert found is None
    else:
        assert (found.matched, found.precision) == (matched, precision)


def test_gazetteer_geocoder_takes_any_towns():
    town = Town(name="Testham", county="T", region="Wales", country="Wales", lat=52.0, lon=-3.5, districts=("LD9",))
    geocoder = GazetteerGeocoder([town], districts={})
    assert geocoder.locate(Address(postcode="LD9 9ZZ")).matched == "LD9 (Testham)"
    assert geocoder.locate(Address(postcode="LS1 1AB")) is None


# --- Every postcode district (OS Code-Point Open) ------------------------------------


def test_every_england_and_wales_district_is_known_once_and_lies_in_england_and_wales():
    districts = postcode_districts()
    assert len(districts) >= 2_400          # about 2,300 geographic districts, and the London sub-districts
    for code, district in districts.items():
        assert is_outward_code(code), code
        assert district.code == code and district.units > 0
        if not district.crosses_scottish_border:
            assert postcode_country(f"{code} 1AA") == ENGLAND_OR_WALES, code
            assert in_england_and_wales(district.lat, district.lon), code
    # every district the demo towns name is one of them
    assert {d for town in TOWNS for d in town.districts} <= set(districts)


@pytest.mark.parametrize(("postcode", "near", "km"), [
    ("LD1 5EY", (52.241, -3.379), 15),      # Llandrindod Wells, Powys
    ("TR22 0PL", (49.893, -6.343), 5),      # St Agnes, Isles of Scilly
    ("NE66 1AA", (55.414, -1.706), 15),     # Alnwick, Northumberland
    ("LL53 5AA", (52.889, -4.415), 20),     # Pwllheli, Lleyn peninsula
    ("SW1A 1AA", (51.501, -0.142), 3),      # a London sub-district
    ("CH4 0AA", (53.17, -2.95), 15),        # a district on both sides of the Welsh border
])
def test_rural_districts_no_town_lists_are_placed_near_where_they_are(postcode, near, km):
    found = GazetteerGeocoder().locate(Address(postcode=postcode))
    assert found is not None and found.precision == "postcode_district"
    assert found.matched == postcode.split()[0]
    assert distance_m(found.lat, found.lon, *near) < km * 1000


@pytest.mark.parametrize("postcode", ["TD15 1AA", "TD12 4AA", "DG16 5AA", "EN77 1AA", "YY1 1AA"])
def test_districts_that_cannot_say_where_the_home_is_are_not_placed(postcode):
    # across the Scottish border, without a position, or not a district at all
    assert GazetteerGeocoder().locate(Address(postcode=postcode)) is None
