"""OsmAnd requests (Traccar Client's two forms) to telemetry lines: case tables."""
from __future__ import annotations

import json

import pytest

from emdesk.domain.telemetry_lines import Line, Placed, check, decode_many
from emdesk.gateway.osmand import KNOT_MPS, OsmAndError, encode, lines_from_json, parse_query, parse_request

NOW_S = 1795683600                 # 2026-11-26T09:00:00Z
BASE = f"id=GPS-1&timestamp={NOW_S}&lat=51.5&lon=-0.12"


def _query(text: str) -> list[dict]:
    return parse_request(text, b"")


def _fix(lines: list[dict]) -> dict:
    return lines[0]


# (query, what the first line must hold)
QUERY_CASES = [
    ("unix seconds", BASE, {"device": "GPS-1", "kind": "position", "at": "2026-11-26T09:00:00.000Z",
                            "lat": 51.5, "lon": -0.12, "speed": None, "hdop": None, "value": None}),
    ("unix ms", f"id=GPS-1&timestamp={NOW_S}123&lat=51.5&lon=-0.12", {"at": "2026-11-26T09:00:00.123Z"}),
    ("unix seconds with a fraction", f"id=GPS-1&timestamp={NOW_S}.5&lat=51.5&lon=-0.12",
     {"at": "2026-11-26T09:00:00.500Z"}),
    ("ISO UTC", "id=GPS-1&timestamp=2026-11-26T09:00:00Z&lat=51.5&lon=-0.12", {"at": "2026-11-26T09:00:00.000Z"}),
    ("ISO with ms and an offset", "id=GPS-1&timestamp=2026-11-26T10:00:00.250%2B01:00&lat=51.5&lon=-0.12",
     {"at": "2026-11-26T09:00:00.250Z"}),
    ("yyyy-MM-dd HH:mm:ss is UTC", "id=GPS-1&timestamp=2026-11-26+09:00:00&lat=51.5&lon=-0.12",
     {"at": "2026-11-26T09:00:00.000Z"}),
    ("summer time is still UTC", "id=GPS-1&timestamp=2026-07-01+12:00:00&lat=51.5&lon=-0.12",
     {"at": "2026-07-01T12:00:00.000Z"}),
    ("deviceid for id", f"deviceid=NFD-9&timestamp={NOW_S}&lat=51.5&lon=-0.12", {"device": "NFD-9"}),
    ("location=lat,lon", f"id=GPS-1&timestamp={NOW_S}&location=52.25,-1.5", {"lat": 52.25, "lon": -1.5}),
    ("speed in knots to m/s", BASE + "&speed=10", {"speed": pytest.approx(5.14444, abs=1e-4)}),
    ("a knot", BASE + "&speed=1", {"speed": pytest.approx(0.514444, abs=1e-6)}),
    ("negative speed: unknown", BASE + "&speed=-1", {"speed": None}),
    ("accuracy to hdop (/5)", BASE + "&accuracy=12", {"hdop": 2.4}),
    ("hdop wins over accuracy", BASE + "&accuracy=12&hdop=1.1", {"hdop": 1.1}),
    ("accuracy 0: unknown", BASE + "&accuracy=0", {"hdop": None}),
    ("a cell-tower fix, 9 km out: the poorest HDOP", BASE + "&accuracy=9000", {"hdop": 1000.0}),
    ("other fields read past", BASE + "&bearing=90&altitude=31&driverUniqueId=x&foo=bar", {"kind": "position"}),
    ("the other side of the world", f"id=GPS-1&timestamp={NOW_S}&lat=-33.86&lon=151.21",
     {"lat": -33.86, "lon": 151.21}),
    ("valid=false: no fix", BASE + "&valid=false", {"kind": "no_fix", "lat": None, "lon": None}),
    ("valid=1: a fix", BASE + "&valid=1", {"kind": "position"}),
    ("0,0 is no fix", f"id=GPS-1&timestamp={NOW_S}&lat=0&lon=0", {"kind": "no_fix"}),
    ("spaces round the id", f"id=%20GPS-1%20&timestamp={NOW_S}&lat=51.5&lon=-0.12", {"device": "GPS-1"}),
]


@pytest.mark.parametrize("query, expected", [c[1:] for c in QUERY_CASES], ids=[c[0] for c in QUERY_CASES])
def test_query_form(query, expected):
    line = _fix(_query(query))
    for key, value in expected.items():
        assert line[key] == value, key


# (query, the kinds and values of the lines it gives)
EXTRA_CASES = [
    ("a fix alone", BASE, [("position", None)]),
    ("battery percent", BASE + "&batt=87", [("position", None), ("battery_level", 87.0)]),
    ("battery unknown (-1)", BASE + "&batt=-1", [("position", None)]),
    ("battery 0", BASE + "&batt=0", [("position", None), ("battery_level", 0.0)]),
    ("on charge", BASE + "&batt=40&charge=true", [("position", None), ("battery_level", 40.0), ("charging", None)]),
    ("off charge", BASE + "&charge=false", [("position", None)]),
    ("no fix still reports its battery", BASE + "&valid=false&batt=12", [("no_fix", None), ("battery_level", 12.0)]),
]


@pytest.mark.parametrize("query, kinds", [c[1:] for c in EXTRA_CASES], ids=[c[0] for c in EXTRA_CASES])
def test_lines_per_request(query, kinds):
    lines = _query(query)
    assert [(line["kind"], line["value"]) for line in lines] == kinds
    assert {line["at"] for line in lines} == {"2026-11-26T09:00:00.000Z"}


# (query, the field named, words the reason must hold)
QUERY_ERRORS = [
    ("no id", f"timestamp={NOW_S}&lat=51.5&lon=-0.12", "id", "missing"),
    ("empty id", f"id=&timestamp={NOW_S}&lat=51.5&lon=-0.12", "id", "empty"),
    ("id twice, differently", BASE + "&id=GPS-2", "id", "send it once"),
    ("id and deviceid differ", BASE + "&deviceid=GPS-2", "deviceid", "one device identifier"),
    ("no timestamp", "id=GPS-1&lat=51.5&lon=-0.12", "timestamp", "unix seconds"),
    ("timestamp not a time", "id=GPS-1&timestamp=yesterday&lat=51.5&lon=-0.12", "timestamp", "ISO 8601"),
    ("timestamp past 9999", "id=GPS-1&timestamp=1e30&lat=51.5&lon=-0.12", "timestamp", "1970..9999"),
    ("timestamp negative", "id=GPS-1&timestamp=-5&lat=51.5&lon=-0.12", "timestamp", "1970..9999"),
    ("timestamp infinite", "id=GPS-1&timestamp=1e400&lat=51.5&lon=-0.12", "timestamp", "1970..9999"),
    ("missing lat", f"id=GPS-1&timestamp={NOW_S}&lon=-0.12", "lat", "missing"),
    ("missing lon", f"id=GPS-1&timestamp={NOW_S}&lat=51.5", "lon", "missing"),
    ("lat 91", f"id=GPS-1&timestamp={NOW_S}&lat=91&lon=-0.12", "lat", "-90..90"),
    ("lat -90.5", f"id=GPS-1&timestamp={NOW_S}&lat=-90.5&lon=-0.12", "lat", "-90..90"),
    ("lon 181", f"id=GPS-1&timestamp={NOW_S}&lat=51.5&lon=181", "lon", "-180..180"),
    ("lat not a number", f"id=GPS-1&timestamp={NOW_S}&lat=north&lon=-0.12", "lat", "not a number"),
    ("lat nan", f"id=GPS-1&timestamp={NOW_S}&lat=nan&lon=-0.12", "lat", "not a number"),
    ("location one number", f"id=GPS-1&timestamp={NOW_S}&location=51.5", "location", "lat,lon"),
    ("location off Earth", f"id=GPS-1&timestamp={NOW_S}&location=95,1", "lat", "-90..90"),
    ("speed words", BASE + "&speed=fast", "speed", "knots"),
    ("battery over 100", BASE + "&batt=150", "batt", "0..100"),
    ("hdop negative", BASE + "&hdop=-1", "hdop", "negative"),
    ("valid neither", BASE + "&valid=maybe", "valid", "true or false"),
    ("nothing at all", "", "query", "send id, timestamp, lat and lon"),
]


@pytest.mark.parametrize("query, field, words", [c[1:] for c in QUERY_ERRORS], ids=[c[0] for c in QUERY_ERRORS])
def test_query_refusals_name_the_field(query, field, words):
    with pytest.raises(OsmAndError) as caught:
        _query(query)
    assert caught.value.field == field
    assert words in caught.value.words


def test_refusal_after_the_id_names_the_device():
    with pytest.raises(OsmAndError) as caught:
        _query(f"id=GPS-7&timestamp={NOW_S}&lat=91&lon=0")
    assert caught.value.device == "GPS-7"


def test_too_many_fields_is_refused():
    with pytest.raises(OsmAndError) as caught:
        parse_query("&".join(f"f{i}=1" for i in range(200)))
    assert caught.value.field == "query"


# -- the JSON body (newer Traccar Client) ---------------------------------------------

def traccar_client_body(**changes) -> dict:
    """The shape Traccar Client's location template posts (one fix, device_id at the root)."""
    location = {
        "timestamp": "2026-11-26T08:59:30.120Z",
        "coords": {"latitude": 51.5014, "longitude": -0.1419, "accuracy": 15.0, "speed": 1.4, "heading": 270.0,
                   "altitude": 22.0},
        "is_moving": True, "odometer": 1234.5, "event": "motionchange",
        "battery": {"level": 0.87, "is_charging": False},
        "activity": {"type": "walking"}, "extras": {},
        "_": "&id=NFD-1&lat=51.5014&lon=-0.1419&timestamp=2026-11-26T08:59:30.120Z&",
    }
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = location
        for p in parents:
            target = target[p]
        if value is _DROP:
            del target[last]
        else:
            target[last] = value
    return {"location": location, "device_id": "NFD-1"}


_DROP = object()
_JSON = "application/json"

# (changes to the template, the lines it gives: (kind, field checks))
JSON_CASES = [
    ("the template", {}, [("position", {"device": "NFD-1", "at": "2026-11-26T08:59:30.120Z", "lat": 51.5014,
                                        "lon": -0.1419, "speed": 1.4, "hdop": 3.0}),
                          ("battery_level", {"value": 87.0})]),
    ("speed is m/s, not knots", {"coords__speed": 10.0}, [("position", {"speed": 10.0}), ("battery_level", {})]),
    ("speed -1: unknown", {"coords__speed": -1}, [("position", {"speed": None}), ("battery_level", {})]),
    ("no accuracy", {"coords__accuracy": _DROP}, [("position", {"hdop": None}), ("battery_level", {})]),
    ("battery -1: unknown", {"battery__level": -1}, [("position", {})]),
    ("no battery", {"battery": _DROP}, [("position", {})]),
    ("charging", {"battery__is_charging": True, "battery__level": 0.1},
     [("position", {}), ("battery_level", {"value": 10.0}), ("charging", {})]),
    ("an offset timestamp", {"timestamp": "2026-11-26T09:59:30+01:00"},
     [("position", {"at": "2026-11-26T08:59:30.000Z"}), ("battery_level", {})]),
    ("nulls where the phone has none", {"coords__heading": None, "coords__altitude": None, "coords__speed": None},
     [("position", {"speed": None}), ("battery_level", {})]),
]


@pytest.mark.parametrize("changes, expected", [c[1:] for c in JSON_CASES], ids=[c[0] for c in JSON_CASES])
def test_json_body(changes, expected):
    lines = parse_request("", json.dumps(traccar_client_body(**changes)).encode(), _JSON)
    assert [line["kind"] for line in lines] == [kind for kind, _ in expected]
    for line, (_, checks) in zip(lines, expected):
        for key, value in checks.items():
            assert line[key] == value, key


def test_json_batch_and_numeric_device_id():
    body = traccar_client_body()
    second = json.loads(json.dumps(body["location"]))
    second["timestamp"] = "2026-11-26T08:59:40.000Z"
    lines = lines_from_json(json.dumps({"device_id": 12345678, "location": [body["location"], second]}).encode())
    assert [(line["kind"], line["at"]) for line in lines if line["kind"] == "position"] == [
        ("position", "2026-11-26T08:59:30.120Z"), ("position", "2026-11-26T08:59:40.000Z")]
    assert {line["device"] for line in lines} == {"12345678"}


def _json_error(body: bytes | dict) -> OsmAndError:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    with pytest.raises(OsmAndError) as caught:
        parse_request("", raw, _JSON)
    return caught.value


JSON_ERRORS = [
    ("no location", {"device_id": "NFD-1"}, "location", "missing"),
    ("no device_id", {"location": traccar_client_body()["location"]}, "device_id", "missing"),
    ("no latitude", traccar_client_body(coords__latitude=_DROP), "location.coords.latitude", "missing"),
    ("no coords", traccar_client_body(coords=_DROP), "location.coords", "missing"),
    ("latitude 91", traccar_client_body(coords__latitude=91), "location.coords.latitude", "-90..90"),
    ("longitude -200", traccar_client_body(coords__longitude=-200), "location.coords.longitude", "-180..180"),
    ("latitude a string", traccar_client_body(coords__latitude="51.5"), "location.coords.latitude", "float"),
    ("timestamp not a time", traccar_client_body(timestamp="soon"), "location.timestamp", "ISO 8601"),
    ("battery level a percent", traccar_client_body(battery__level=87), "location.battery.level", "0..1"),
    ("empty batch", {"device_id": "NFD-1", "location": []}, "location", "empty"),
    ("not JSON", b"{nope", "body", "not JSON"),
]


@pytest.mark.parametrize("body, field, words", [c[1:] for c in JSON_ERRORS], ids=[c[0] for c in JSON_ERRORS])
def test_json_refusals_name_the_field(body, field, words):
    error = _json_error(body)
    assert error.field == field
    assert words in error.words


# -- which form, and what ingest makes of the lines -------------------------------------

FORM_CASES = [
    ("JSON by content type", "", json.dumps(traccar_client_body()).encode(), "application/json; charset=utf-8",
     "NFD-1"),
    ("JSON without a content type", "", json.dumps(traccar_client_body()).encode(), None, "NFD-1"),
    ("a form body", "", BASE.encode(), "application/x-www-form-urlencoded", "GPS-1"),
    ("the URL's query before the body", BASE, b"id=OTHER", "application/x-www-form-urlencoded", "GPS-1"),
]


@pytest.mark.parametrize("query, body, content_type, device", [c[1:] for c in FORM_CASES],
                         ids=[c[0] for c in FORM_CASES])
def test_which_form(query, body, content_type, device):
    assert parse_request(query, body, content_type)[0]["device"] == device


def test_ids_are_the_same_for_a_resend_and_differ_otherwise():
    first, again = _query(BASE + "&batt=50"), _query(BASE + "&batt=50&speed=3")
    later = _query(f"id=GPS-1&timestamp={NOW_S + 1}&lat=51.5&lon=-0.12")
    other = _query(f"id=GPS-2&timestamp={NOW_S}&lat=51.5&lon=-0.12")
    assert [line["id"] for line in first] == [line["id"] for line in again]
    assert len({first[0]["id"], first[1]["id"], later[0]["id"], other[0]["id"]}) == 4


@pytest.mark.parametrize("lines", [
    _query(BASE + "&speed=4&accuracy=9&batt=33&charge=true"),
    _query(BASE + "&valid=false"),
    lines_from_json(json.dumps(traccar_client_body(battery__is_charging=True)).encode()),
], ids=["query", "no fix", "json"])
def test_lines_meet_the_telemetry_contract(lines):
    decoded = decode_many(encode(lines))
    assert all(isinstance(line, Line) for line in decoded)
    for line in decoded:
        assert not hasattr(check(line, Placed("order", 0), NOW_S * 1000), "reason"), line
