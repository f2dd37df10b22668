"""Reading intake records: friendly forms in, domain structs out, problems instead of errors."""
import csv
import io
import json
import re
from datetime import date, datetime, time, timezone
from pathlib import Path

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emdesk.domain.conditions import Circle, Polygon, ZoneKind
from emdesk.domain.devices import DeviceKind
from emdesk.domain.orders import Cohort, DocumentKind, RequestType
from emdesk.domain.validation import (
    FORMAT_CODES,
    RULE_TABLE,
    RULES,
    ValidationContext,
    flatten,
    parse_intake,
    unflatten,
    validate,
)

ROOT = Path(__file__).parents[2]
CORPUS = ROOT / "tests" / "corpus" / "orders"
DOC = ROOT / "docs" / "order-import.md"
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc)
UTC = timezone.utc


def read(subject=None, order=None, **top):
    return parse_intake({"reference": "R1", "subject": subject or {}, "order": order or {}, **top})


def problems(parsed):
    return [(p.code, p.field) for p in parsed.problems]


# --- Values ------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "value", "problem"), [
    ("2026-12-01", date(2026, 12, 1), None),
    ("31/02/2026", None, "'31/02/2026' is not a date; use YYYY-MM-DD"),
    ("2026-02-31", None, "'2026-02-31' is not a date; use YYYY-MM-DD"),
    ("2026-12-01T10:00", None, "not a date"),
    (20261201, None, "a number (20261201) is not a date"),
])
def test_dates(raw, value, problem):
    parsed = read(order={"start": raw})
    assert parsed.order.start == value
    if problem:
        [p] = parsed.problems
        assert (p.code, p.field) == ("FORMAT-DATE", "order.start") and problem in p.message
    else:
        assert parsed.problems == []


def test_the_date_problem_reads_as_the_format_promises():
    [p] = read(order={"start": "31/02/2026"}).problems
    assert str(p) == "order.start: '31/02/2026' is not a date; use YYYY-MM-DD [FORMAT-DATE]"


@pytest.mark.parametrize(("raw", "utc"), [
    ("2026-12-01T10:00", datetime(2026, 12, 1, 10, 0, tzinfo=UTC)),         # GMT
    ("2026-07-01T10:00", datetime(2026, 7, 1, 9, 0, tzinfo=UTC)),           # BST
    ("2026-07-01 10:00:30", datetime(2026, 7, 1, 9, 0, 30, tzinfo=UTC)),
    ("2026-03-29T01:30", datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),         # in the spring gap: read as 02:30 BST
    ("2026-10-25T01:30", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),        # repeated hour: the first
    ("2026-07-01T10:00Z", datetime(2026, 7, 1, 10, 0, tzinfo=UTC)),
    ("2026-07-01T10:00+02:00", datetime(2026, 7, 1, 8, 0, tzinfo=UTC)),
])
def test_datetimes_without_offset_are_uk_local(raw, utc):
    parsed = read(order={"installation": {"appointment": raw}})
    assert parsed.problems == []
    assert parsed.order.installation.appointment == utc
    assert parsed.order.installation.appointment.utcoffset().total_seconds() == 0


@pytest.mark.parametrize("raw", ["tomorrow", "2026-07-01", "2026-13-01T10:00", 1764583200])
def test_bad_datetimes(raw):
    assert problems(read(order={"received_at": raw})) == [("FORMAT-DATETIME", "order.received_at")]


@pytest.mark.parametrize(("raw", "cohort"), [
    ("post_release", Cohort.POST_RELEASE), ("Post-release", Cohort.POST_RELEASE), ("POST_RELEASE", Cohort.POST_RELEASE),
    ("court bail", Cohort.COURT_BAIL), ("immigration", Cohort.IMMIGRATION),
])
def test_enums_are_forgiving_about_case_and_spacing(raw, cohort):
    parsed = read(order={"cohort": raw})
    assert parsed.problems == [] and parsed.order.cohort is cohort


def test_unknown_enum_lists_allowed_values():
    [p] = read(order={"cohort": "probation"}).problems
    assert p.code == "FORMAT-ENUM" and p.field == "order.cohort"
    assert "post_release, court_bail, immigration, court_sentence, specials" in p.message


@pytest.mark.parametrize(("subject", "expected"), [
    ({"interpreter_needed": "yes"}, []),
    ({"interpreter_needed": "maybe"}, [("FORMAT-TYPE", "subject.interpreter_needed")]),
    ({"given_name": 42}, [("FORMAT-TYPE", "subject.given_name")]),
    ({"addresses": [{"lat": "53.8", "lon": "-1.5"}]}, []),
    ({"addresses": [{"lat": "north"}]}, [("FORMAT-TYPE", "subject.addresses[0].lat")]),
    ({"addresses": {"postcode": "LS1 1AB"}}, [("FORMAT-TYPE", "subject.addresses")]),
    ({"nickname": "Danny"}, [("FORMAT-FIELD", "subject.nickname")]),
    ({"id": "abc"}, [("FORMAT-FIELD", "subject.id")]),                     # emdesk's own, not the sender's
    ({"risk_flags": ["weapons", "angry_cat"]}, [("FORMAT-ENUM", "subject.risk_flags[1]")]),
    ({"sex": None}, []),
])
def test_subject_values(subject, expected):
    assert problems(read(subject=subject)) == expected


def test_values_are_kept_where_they_can_be():
    parsed = read(subject={"given_name": " Ann ", "sex": "F", "date_of_birth": "1990-01-02",
                           "addresses": [{"lines": "1 Briggate; Flat 2", "postcode": "ls11ab", "lat": 53.8, "lon": -1.5}],
                           "risk_flags": ["weapons", "angry_cat"]})
    s = parsed.subject
    assert (s.given_name, s.sex, s.date_of_birth) == ("Ann", None, date(1990, 1, 2))
    assert s.addresses[0].lines == ("1 Briggate", "Flat 2") and s.addresses[0].postcode == "LS1 1AB"
    assert [p.code for p in parsed.problems] == ["FORMAT-ENUM", "FORMAT-ENUM"]
    assert len(s.risk_flags) == 1


def test_the_order_is_linked_to_its_subject_and_reference():
    parsed = read(order={"request_type": "variation"})
    assert parsed.order.subject_id == parsed.subject.id
    assert parsed.order.reference == "R1" and parsed.order.request_type is RequestType.VARIATION


@pytest.mark.parametrize(("record", "expected"), [
    (None, [("FORMAT-RECORD", "")]),
    ([1, 2], [("FORMAT-RECORD", "")]),
    ({}, [("FORMAT-RECORD", "subject"), ("FORMAT-RECORD", "order")]),
    ({"subject": {}, "order": {}, "notes": "x"}, [("FORMAT-FIELD", "notes")]),
    ({"subject": "Ann", "order": {}}, [("FORMAT-TYPE", "subject")]),
    ({"subject": {}, "order": {}, "reference": 7}, [("FORMAT-TYPE", "reference")]),
])
def test_record_shape(record, expected):
    assert problems(parse_intake(record)) == expected


# --- Curfews, zones, documents -----------------------------------------------------

@pytest.mark.parametrize(("curfew", "days"), [
    ("Mon-Fri 19:00-07:00; Sat-Sun 20:00-06:00", [0, 1, 2, 3, 4, 5, 6]),
    ({"windows": "Sat,Sun 20:00-06:00"}, [5, 6]),
    ({"windows": [{"weekday": "Tue", "start": "19:00", "end": "07:00"}, {"weekday": 3, "start": "19:00", "end": "07:00"}]}, [1, 3]),
    ({"windows": ["Mon-Tue 19:00-07:00", {"weekday": "Fri", "start": "20:00", "end": "06:00"}]}, [0, 1, 4]),
    ({"windows": [{"weekday": 7, "start": "19:00", "end": "07:00"}]}, [7]),     # kept for CURFEW-WINDOW-DAY
])
def test_curfew_forms(curfew, days):
    parsed = read(order={"conditions": {"curfew": curfew}})
    assert parsed.problems == []
    assert [w.weekday for w in parsed.order.conditions.curfew.windows] == days


@pytest.mark.parametrize(("curfew", "expected"), [
    ("Mon-Fry 19:00-07:00", [("FORMAT-CURFEW", "order.conditions.curfew")]),
    ({"windows": "Mon 7pm-7am"}, [("FORMAT-CURFEW", "order.conditions.curfew.windows")]),
    ({"windows": [{"weekday": "Mon", "start": "19:00"}]}, [("FORMAT-MISSING", "order.conditions.curfew.windows[0]")]),
    ({"windows": [{"weekday": "Mon", "start": "7pm", "end": "07:00"}]}, [("FORMAT-TIME", "order.conditions.curfew.windows[0].start")]),
    ({"windows": [{"day": "Mon", "start": "19:00", "end": "07:00"}]},
     [("FORMAT-FIELD", "order.conditions.curfew.windows[0].day"), ("FORMAT-MISSING", "order.conditions.curfew.windows[0]")]),
    ({"release_day": {"day": "2026-12-01", "start": "15:00", "end": "07:00"}, "hours": 12},
     [("FORMAT-FIELD", "order.conditions.curfew.hours")]),
    (12, [("FORMAT-CURFEW", "order.conditions.curfew")]),
])
def test_curfew_problems(curfew, expected):
    assert problems(read(order={"conditions": {"curfew": curfew}})) == expected


def test_release_day():
    parsed = read(order={"conditions": {"curfew": {"windows": "daily 19:00-07:00",
                                                   "release_day": {"day": "2026-12-02", "start": "15:00", "end": "07:00"}}}})
    release = parsed.order.conditions.curfew.release_day
    assert (release.day, release.start, release.end) == (date(2026, 12, 2), time(15), time(7))


@pytest.mark.parametrize(("zone", "shape"), [
    ({"name": "A", "kind": "exclusion", "circle": {"lat": 53.8, "lon": -1.5, "radius_m": 200}}, Circle(lat=53.8, lon=-1.5, radius_m=200)),
    ({"name": "A", "kind": "exclusion", "polygon": [[53.8, -1.5], [53.81, -1.5], [53.81, -1.49]]},
     Polygon(points=((53.8, -1.5), (53.81, -1.5), (53.81, -1.49)))),
    ({"name": "A", "kind": "exclusion", "polygon": {"points": [[53.8, -1.5], [53.81, -1.5], [53.81, -1.49]]}},
     Polygon(points=((53.8, -1.5), (53.81, -1.5), (53.81, -1.49)))),
    ({"name": "A", "kind": "exclusion", "shape": {"type": "circle", "lat": 53.8, "lon": -1.5, "radius_m": 200}},
     Circle(lat=53.8, lon=-1.5, radius_m=200)),
])
def test_zone_forms(zone, shape):
    parsed = read(order={"conditions": {"zones": [zone]}})
    assert parsed.problems == []
    [z] = parsed.order.conditions.zones
    assert (z.name, z.kind, z.shape) == ("A", ZoneKind.EXCLUSION, shape)


@pytest.mark.parametrize(("zones", "expected"), [
    ([{"name": "A", "kind": "exclusion"}], [("FORMAT-ZONE", "order.conditions.zones[0]")]),
    ([{"name": "A", "kind": "exclusion", "circle": {"lat": 1, "lon": 1, "radius_m": 5}, "polygon": []}],
     [("FORMAT-ZONE", "order.conditions.zones[0]")]),
    ([{"name": "A", "kind": "exclusion", "circle": {"lat": 53.8, "lon": -1.5}}], [("FORMAT-MISSING", "order.conditions.zones[0].circle")]),
    ([{"name": "A", "kind": "exclusion", "polygon": [[53.8, -1.5], [53.81]]}], [("FORMAT-TYPE", "order.conditions.zones[0].polygon[1]")]),
    ([{"kind": "exclusion", "circle": {"lat": 53.8, "lon": -1.5, "radius_m": 100}}], [("FORMAT-MISSING", "order.conditions.zones[0]")]),
    ("[{not json", [("FORMAT-JSON", "order.conditions.zones")]),
    ("", []),
])
def test_zone_problems(zones, expected):
    assert problems(read(order={"conditions": {"zones": zones}})) == expected


@pytest.mark.parametrize(("documents", "kinds", "expected"), [
    (["licence:licence.pdf", {"kind": "photo", "name": "me.jpg"}], [DocumentKind.LICENCE, DocumentKind.PHOTO], []),
    ("licence:l.pdf;court_order:c.pdf", [DocumentKind.LICENCE, DocumentKind.COURT_ORDER], []),
    (["licence.pdf"], [], [("FORMAT-MISSING", "order.documents[0]")]),
    (["passport:p.pdf"], [], [("FORMAT-ENUM", "order.documents[0].kind")]),
])
def test_documents(documents, kinds, expected):
    parsed = read(order={"documents": documents})
    assert [d.kind for d in parsed.order.documents] == kinds
    assert problems(parsed) == expected


def test_device_kinds_from_a_cell():
    parsed = read(order={"device_kinds": "GPS tag; hmu"})
    assert parsed.order.device_kinds == (DeviceKind.GPS_TAG, DeviceKind.HMU)


# --- CSV rows ----------------------------------------------------------------------

def _corpus_records():
    for path in sorted((CORPUS / "valid").glob("*.json")) + sorted((CORPUS / "invalid").glob("*.json")):
        yield path.stem, json.loads(path.read_text())["intake"]


def _same(a, b):
    def plain(parsed):
        order = msgspec.structs.replace(parsed.order, id="", subject_id="")
        return msgspec.to_builtins(order), msgspec.to_builtins(msgspec.structs.replace(parsed.subject, id="")), parsed.problems
    return plain(a) == plain(b)


@pytest.mark.parametrize(("name", "record"), list(_corpus_records()), ids=[n for n, _ in _corpus_records()])
def test_a_csv_row_carries_the_same_order(name, record):
    row = flatten(record)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in row.items())
    assert _same(parse_intake(unflatten(row)), parse_intake(record))


def test_flatten_columns():
    record = {"reference": "R", "subject": {"addresses": [{"lines": ["1 High St", "Flat 2"], "postcode": "LS1 1AB"}],
                                             "interpreter_needed": True},
              "order": {"device_kinds": ["gps_tag", "hmu"], "documents": [{"kind": "licence", "name": "l.pdf"}],
                        "conditions": {"curfew": {"windows": [{"weekday": "Mon", "start": "19:00", "end": "07:00"},
                                                              {"weekday": "Tue", "start": "19:00", "end": "07:00"}]},
                                       "zones": [{"name": "Z", "kind": "exclusion", "circle": {"lat": 53.8, "lon": -1.5, "radius_m": 300}}]},
                        "attendance_appointments": [{"at": "2026-12-01T10:00", "place": "Probation office"}]}}
    assert flatten(record) == {
        "reference": "R",
        "subject.addresses[0].lines": "1 High St;Flat 2",
        "subject.addresses[0].postcode": "LS1 1AB",
        "subject.interpreter_needed": "true",
        "order.device_kinds": "gps_tag;hmu",
        "order.documents": "licence:l.pdf",
        "order.conditions.curfew": "Mon-Tue 19:00-07:00",
        "order.conditions.zones": '[{"name": "Z", "kind": "exclusion", "circle": {"lat": 53.8, "lon": -1.5, "radius_m": 300}}]',
        "order.attendance_appointments[0].at": "2026-12-01T10:00",
        "order.attendance_appointments[0].place": "Probation office",
    }


def test_unflatten_skips_blanks_and_closes_gaps():
    row = {"reference": "R", "subject.given_name": "", "subject.addresses[1].postcode": "LS1 1AB",
           "subject.addresses[3].postcode": "CF10 1EP", None: ["extra"], "order.conditions.curfew": "daily 19:00-07:00"}
    assert unflatten(row) == {"reference": "R",
                              "subject": {"addresses": [{"postcode": "LS1 1AB"}, {"postcode": "CF10 1EP"}]},
                              "order": {"conditions": {"curfew": {"windows": "daily 19:00-07:00"}}}}


def test_a_curfew_that_compact_text_cannot_say_goes_as_json():
    record = {"order": {"conditions": {"curfew": {"windows": [{"weekday": 9, "start": "19:00", "end": "07:00"}]}}}}
    row = flatten(record)
    assert json.loads(row["order.conditions.curfew"]) == record["order"]["conditions"]["curfew"]
    assert unflatten(row)["order"]["conditions"]["curfew"] == record["order"]["conditions"]["curfew"]


# --- Never raises ------------------------------------------------------------------

_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8),
              st.sampled_from(["2026-12-01", "19:00", "Mon-Fri 19:00-07:00", "gps_tag", "LS1 1AB", "licence:x"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(
                                ["reference", "subject", "order", "conditions", "curfew", "zones", "windows", "circle",
                                 "polygon", "addresses", "start", "end", "weekday", "lat", "lon", "radius_m", "documents",
                                 "kind", "name", "identifiers", "installation", "appointment", "release_day", "shape",
                                 "type", "points", "device_kinds", "variation", "x"]), inner, max_size=4)),
    max_leaves=25)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_json)
def test_parse_never_raises_and_its_result_validates(data):
    parsed = parse_intake(data)
    assert all(p.code in FORMAT_CODES for p in parsed.problems)
    validate(parsed.order, parsed.subject, ValidationContext(now=NOW))
    unflatten(flatten(data if isinstance(data, dict) else {}))


# --- The format's documentation ----------------------------------------------------

def _doc_block(language):
    return re.search(rf"```{language}\n(.*?)\n```", DOC.read_text(), re.S)[1]


def test_the_documented_json_example_is_a_clean_order():
    for record in json.loads(_doc_block("json"))["orders"]:
        parsed = parse_intake(record)
        assert parsed.problems == []
        assert validate(parsed.order, parsed.subject, ValidationContext(now=NOW)) == []


def test_the_documented_csv_example_holds_clean_orders():
    rows = list(csv.DictReader(io.StringIO(_doc_block("csv"))))
    assert len(rows) >= 2
    for row in rows:
        parsed = parse_intake(unflatten(row))
        assert parsed.problems == []
        assert validate(parsed.order, parsed.subject, ValidationContext(now=NOW)) == []


def test_the_documented_rule_tables_match_the_code():
    text = DOC.read_text()
    rows = re.findall(r"^\| `([A-Z]+(?:-[A-Z0-9]+)+)` \| `[^`]*` \| (.*?) \| (error|warning) \|$", text, re.M)
    assert {code: rule for code, rule, _ in rows} == RULES
    assert {code: severity for code, _, severity in rows} == {r.code: r.severity.value for r in RULE_TABLE}
    assert "warning" in {severity for _, _, severity in rows}
    fields = dict(re.findall(r"^\| `([A-Z]+(?:-[A-Z0-9]+)+)` \| `([^`]*)` \|", text, re.M))
    assert fields == {r.code: r.field for r in RULE_TABLE}
    formats = dict(re.findall(r"^\| `(FORMAT-[A-Z]+)` \| (.*?) \|$", text, re.M))
    assert formats == FORMAT_CODES
