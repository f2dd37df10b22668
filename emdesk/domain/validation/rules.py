"""Every intake rule in one table: a stable code, a field, a plain message, a pure check.

About one order in four reaches the service with something wrong (NAO 2.16).  Each rule
below says exactly what is wrong and what to do, against the field the person must fix.

Field paths
-----------
A problem's ``field`` is a dotted path into the intake record (the JSON/CSV import
format, see docs/order-import.md), which mirrors the domain structs:

- ``reference``: the notifying body's reference (top level of the record);
- ``subject.<field>``, e.g. ``subject.date_of_birth``, ``subject.identifiers``,
  ``subject.identifiers.pnc``, ``subject.responsible_adult.phone``;
- ``subject.addresses[i]`` (a whole address) and ``subject.addresses[i].postcode``;
  ``i`` counts from 0 in the order the addresses were given;
- ``order.<field>``, e.g. ``order.start``, ``order.device_kinds``, ``order.documents``,
  ``order.responsible_officer.phone``, ``order.installation.address.postcode``,
  ``order.installation.appointment``, ``order.variation.changes``;
- ``order.conditions.curfew.windows[i]``: the i-th weekly window, counting the windows
  a compact string like ``"Mon-Fri 19:00-07:00"`` stands for, day by day, in the order
  written; ``order.conditions.curfew.windows`` for the schedule as a whole;
- ``order.conditions.zones[i]``, ``order.conditions.zones[i].name``,
  ``order.conditions.zones[i].circle.radius_m``, ``order.conditions.zones[i].polygon``.

A path that names a struct (``subject.addresses[0]``) means the problem is with the
whole group; the UI shows it on the group's box.

Every check copes with a draft that is mostly empty (fields None or missing): it reports
what is missing and never raises.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from ..clock import LONDON
from ..conditions import AlcoholMode, Circle, Polygon, Zone, ZoneKind
from ..curfew import day_hours, describe_day, hours_in_any_7_days, is_usable, overlapping_windows
from ..devices import DeviceKind
from ..geography import (
    ENGLAND_OR_SCOTLAND,
    ENGLAND_OR_WALES,
    in_england_and_wales,
    is_valid_postcode,
    normalise_postcode,
    postcode_country,
    postcode_district,
    zone_area_m2,
    zone_contains,
    zone_defect,
)
from ..orders import Cohort, DocumentKind, Order, OrderStatus, OrderType, RequestType
from ..people import Subject
from .draft import Draft, ValidationContext, Where, finite, text_of, tuple_of
from .phones import phone_defect
from .problems import Problem, Severity

# Statute and service limits.
CURFEW_DAY_MIN_H = 2
CURFEW_DAY_MAX_H = 20
CURFEW_WEEK_MAX_H = 112
CURFEW_MAX_YEARS = 2
HDC_DAY_MIN_H = 9
ADULT_AGE = 18
COMMUNITY_ORDER_MIN_AGE = 18    # Sentencing Act 2020 s.202(1): "a person aged 18 or over"
EM_BAIL_MIN_AGE = 12            # Bail Act 1976 s.3AA(2): "has attained the age of twelve years"
MIN_AGE = 10            # the age of criminal responsibility in England and Wales
MAX_AGE = 110
CIRCLE_RADIUS_M = (50.0, 20_000.0)
POLYGON_AREA_M2 = (2_000.0, 500_000_000.0)


# --- The table ---------------------------------------------------------------------

Finding = str | tuple[str, str]      # a message on the rule's field, or (field, message)


@dataclass(frozen=True)
class Rule:
    code: str
    field: str              # the path, or path pattern, the rule reports on
    description: str        # what the rule demands, for lists of rules
    check: Callable[[Draft], Iterable[Finding]]
    # An error keeps the order a draft; a warning goes with it for someone to confirm.
    severity: Severity = Severity.ERROR


_TABLE: list[Rule] = []


def _rule(code: str, field_path: str, description: str, severity: Severity = Severity.ERROR):
    def register(check: Callable[[Draft], Iterable[Finding]]):
        _TABLE.append(Rule(code, field_path, description, check, severity))
        return check
    return register


# Identity -----------------------------------------------------------------------

_ID_FIELDS = ("pnc", "nomis", "delius_crn", "prison_number", "home_office_ref")
_ID_FORMATS = {
    "pnc": (re.compile(r"^(\d{2}|\d{4})/\d{1,7}[A-Z]$"), "a PNC ID like 2019/0123456A"),
    "nomis": (re.compile(r"^[A-Z]\d{4}[A-Z]{2}$"), "a NOMIS number like A1234BC"),
    "delius_crn": (re.compile(r"^[A-Z]\d{6}$"), "a Delius CRN like X123456"),
}


@_rule("SUBJ-ID-MISSING", "subject.identifiers",
       "At least one case identifier: PNC, NOMIS, Delius CRN, prison number or Home Office reference.")
def _ids_missing(d: Draft) -> Iterator[Finding]:
    ids = d.of_subject("identifiers")
    if not any(text_of(getattr(ids, name, None)) for name in _ID_FIELDS):
        yield ("No case identifier given: enter at least one of PNC ID, NOMIS number, Delius CRN, "
               "prison number or Home Office reference, from the order paperwork.")


@_rule("SUBJ-ID-FORMAT", "subject.identifiers.{pnc,nomis,delius_crn}",
       "PNC IDs, NOMIS numbers and Delius CRNs are in their standard formats.")
def _ids_format(d: Draft) -> Iterator[Finding]:
    ids = d.of_subject("identifiers")
    for name, (pattern, example) in _ID_FORMATS.items():
        value = text_of(getattr(ids, name, None))
        if value and not pattern.match(value.upper()):
            yield (f"subject.identifiers.{name}",
                   f"'{value}' is not {example}: check it against the order paperwork.")


@_rule("SUBJ-HOREF-MISSING", "subject.identifiers.home_office_ref",
       "Immigration bail orders carry the Home Office reference.")
def _horef_missing(d: Draft) -> Iterator[Finding]:
    if d.cohort is Cohort.IMMIGRATION and not text_of(getattr(d.of_subject("identifiers"), "home_office_ref", None)):
        yield ("Immigration bail needs the Home Office reference, which the Home Office uses to act on "
               "breaches: copy it from the bail notice.")


@_rule("SUBJ-GIVEN-NAME-MISSING", "subject.given_name", "The wearer's given name.")
def _given_missing(d: Draft) -> Iterator[Finding]:
    if not text_of(d.of_subject("given_name")):
        yield "Given name is missing: enter it as on the order."


@_rule("SUBJ-FAMILY-NAME-MISSING", "subject.family_name", "The wearer's family name.")
def _family_missing(d: Draft) -> Iterator[Finding]:
    if not text_of(d.of_subject("family_name")):
        yield "Family name is missing: enter it as on the order."


@_rule("SUBJ-DOB-MISSING", "subject.date_of_birth", "The wearer's date of birth.")
def _dob_missing(d: Draft) -> Iterator[Finding]:
    if d.dob is None:
        yield ("Date of birth is missing: enter it from the order paperwork; officers need it to "
               "confirm who they are fitting.")


def _age_on(d: Draft, day: date) -> int | None:
    dob = d.dob
    if dob is None:
        return None
    return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


@_rule("SUBJ-DOB-IMPLAUSIBLE", "subject.date_of_birth",
       f"The date of birth makes the wearer between {MIN_AGE} and {MAX_AGE} years old.")
def _dob_implausible(d: Draft) -> Iterator[Finding]:
    dob = d.dob
    age = _age_on(d, d.start or d.today)
    if age is None:
        return
    if dob > d.today:
        yield f"Date of birth {dob.isoformat()} is in the future: check the day, month and year."
    elif age < MIN_AGE or age > MAX_AGE:
        yield (f"Date of birth {dob.isoformat()} makes the wearer {age}: nobody under {MIN_AGE} or over "
               f"{MAX_AGE} is tagged; check the year.")


@_rule("SUBJ-SEX-MISSING", "subject.sex", "The wearer's sex (officers of the same sex may be needed to fit).")
def _sex_missing(d: Draft) -> Iterator[Finding]:
    if d.of_subject("sex") is None:
        yield ("Sex is missing: choose female, male, intersex or not stated; it decides who may "
               "fit the tag.")


@_rule("SUBJ-RA-MISSING", "subject.responsible_adult",
       f"A responsible adult (name and phone) for a wearer under {ADULT_AGE} on the start date.")
def _ra_missing(d: Draft) -> Iterator[Finding]:
    dob = d.dob
    on = d.start or d.today
    age = _age_on(d, on)
    if age is None or dob > d.today or not (0 <= age < ADULT_AGE):
        return
    adult = d.of_subject("responsible_adult")
    why = f"the wearer is {age} on {on.isoformat()}, so a responsible adult must be present at the fitting"
    if adult is None:
        yield f"No responsible adult: {why}; enter their name, relationship and phone."
        return
    if not text_of(getattr(adult, "name", None)):
        yield ("subject.responsible_adult.name", f"Responsible adult's name is missing: {why}.")
    if not text_of(getattr(adult, "phone", None)):
        yield ("subject.responsible_adult.phone",
               f"Responsible adult's phone is missing: {why}, and officers call ahead to arrange it.")


@_rule("SUBJ-LANGUAGE-MISSING", "subject.language", "The language, when an interpreter is needed.")
def _language_missing(d: Draft) -> Iterator[Finding]:
    if d.of_subject("interpreter_needed") is True and not text_of(d.of_subject("language")):
        yield "An interpreter is needed but no language is given: enter the language so one can be booked."


# Addresses ----------------------------------------------------------------------


@_rule("ADDR-MISSING", "subject.addresses", "The wearer has an address, unless of no fixed abode.")
def _address_missing(d: Draft) -> Iterator[Finding]:
    if d.of_subject("no_fixed_abode") is True:
        return
    if not any(p.startswith("subject.") for p, _ in d.addresses):
        yield ("No address given: enter the wearer's address, or mark them of no fixed abode and give "
               "the installation address.")


@_rule("ADDR-NFA-INSTALL-MISSING", "order.installation.address",
       "A wearer of no fixed abode has an installation address (e.g. approved premises).")
def _nfa_install(d: Draft) -> Iterator[Finding]:
    if d.of_subject("no_fixed_abode") is True and d.installation_address is None:
        yield ("The wearer has no fixed abode, so the order must say where to fit the equipment: enter "
               "the installation address (e.g. approved premises or a hostel).")


@_rule("ADDR-LINES-MISSING", "<address>", "Every address has at least a house and street line.")
def _address_lines(d: Draft) -> Iterator[Finding]:
    for path, a in d.addresses:
        if not any(text_of(line) for line in tuple_of(a.lines)):
            yield (path, "Address has no street lines: enter the house number or name and the street, "
                         "so the officer can find the door.")


@_rule("ADDR-TOWN-MISSING", "<address>.town",
       "Every address has its town or city (the order service's 'Town or city' field).")
def _town_missing(d: Draft) -> Iterator[Finding]:
    for path, a in d.addresses:
        if not text_of(a.town):
            yield (f"{path}.town", "Town or city is missing: enter it as on the order (e.g. Leeds), so the "
                                   "officer and the breach pack name the place, not only the postcode.")


@_rule("ADDR-POSTCODE-MISSING", "<address>.postcode", "Every address has a postcode.")
def _postcode_missing(d: Draft) -> Iterator[Finding]:
    for path, a in d.addresses:
        if not text_of(a.postcode):
            yield (f"{path}.postcode", "Postcode is missing: enter the full postcode, e.g. LS1 4DY.")


@_rule("ADDR-POSTCODE-FORMAT", "<address>.postcode", "Every postcode is a well-formed UK postcode.")
def _postcode_format(d: Draft) -> Iterator[Finding]:
    for path, a in d.addresses:
        text = text_of(a.postcode)
        if text and not is_valid_postcode(text):
            yield (f"{path}.postcode",
                   f"'{text}' is not a UK postcode: it should look like LS1 4DY or CF10 1EP; check it "
                   f"with the notifying body.")


@_rule("ADDR-POSTCODE-OUTSIDE", "<address>.postcode",
       "No postcode in Scotland, Northern Ireland, the Isle of Man or the Channel Islands.")
def _postcode_outside(d: Draft) -> Iterator[Finding]:
    for path, a in d.addresses:
        country = postcode_country(text_of(a.postcode))
        if country not in (None, ENGLAND_OR_WALES, ENGLAND_OR_SCOTLAND):
            yield (f"{path}.postcode",
                   f"{normalise_postcode(a.postcode)} is a postcode in {country}, outside England and Wales "
                   f"where this service monitors: check the address, or return the order to the "
                   f"notifying body for the right service.")


@_rule("ADDR-NOT-LOCATED", "<address>",
       "Every address has coordinates or can be found from its postcode or town; if not, the officer "
       "confirms it on the map (a warning: the order still goes ahead).", Severity.WARNING)
def _not_located(d: Draft) -> Iterator[Finding]:
    for path, a in d.addresses:
        if postcode_country(text_of(a.postcode)) not in (None, ENGLAND_OR_WALES, ENGLAND_OR_SCOTLAND):
            continue   # ADDR-POSTCODE-OUTSIDE has said why
        if finite(a.lat) != finite(a.lon):
            yield (path, "Address has only one of latitude and longitude: give both, or neither and "
                         "let the postcode place it; until then confirm the address on the map.")
            continue
        found = d.where(path, a)
        if isinstance(found, Where):
            continue
        if isinstance(found, str):
            yield (path, f"Address could not be looked up: {found}; confirm it on the map, or enter its "
                         f"latitude and longitude.")
        else:
            yield (path, f"Address could not be placed from its postcode{_unplaced_why(a)} or town: confirm "
                         f"it on the map before the visit (or enter its latitude and longitude), and check "
                         f"the postcode with the notifying body.")


def _unplaced_why(a) -> str:
    district = postcode_district(text_of(a.postcode))
    if district and postcode_country(text_of(a.postcode)) == ENGLAND_OR_SCOTLAND:
        return f" ({district} lies on both sides of the Scottish border)"
    return ""


@_rule("ADDR-OUTSIDE-EW", "<address>", "Every address lies in England or Wales.")
def _outside_ew(d: Draft) -> Iterator[Finding]:
    for path, a in d.addresses:
        found = d.where(path, a)
        if isinstance(found, Where) and not in_england_and_wales(found.lat, found.lon):
            yield (path, f"Address is at ({found.lat:.4f}, {found.lon:.4f}), outside England and Wales where "
                         f"this service monitors: check the coordinates, or return the order to the "
                         f"notifying body.")


# Order details ------------------------------------------------------------------


@_rule("ORD-REFERENCE-MISSING", "reference", "The notifying body's own reference for the order.")
def _reference_missing(d: Draft) -> Iterator[Finding]:
    if not text_of(d.of_order("reference")):
        yield ("Order reference is missing: enter the notifying body's reference so breaches can be "
               "reported against it.")


@_rule("ORD-COHORT-MISSING", "order.cohort", "The cohort (post-release, court bail, immigration, ...).")
def _cohort_missing(d: Draft) -> Iterator[Finding]:
    if d.cohort is None:
        # Labels for the form, codes for whoever writes import files.
        allowed = ", ".join(f"{c.label.lower()} ({c.value})" for c in Cohort)
        yield f"Cohort is missing: choose one of {allowed}; it decides who responds to breaches."


@_rule("ORD-TYPE-COHORT", "order.order_type", "The order type, if given, belongs to the cohort.")
def _type_cohort(d: Draft) -> Iterator[Finding]:
    if d.cohort is not None and d.order_type is not None and d.order_type.cohort is not d.cohort:
        fitting = ", ".join(t.value for t in OrderType if t.cohort is d.cohort)
        yield (f"Order type {d.order_type.value} is a {d.order_type.cohort.label.lower()} order, not "
               f"{d.cohort.label.lower()}: choose one of {fitting}, or correct the cohort.")


@_rule("ORD-ISSUER-MISSING", "order.issuing_body",
       "The court, prison, Parole Board or Home Office that made the order.")
def _issuer_missing(d: Draft) -> Iterator[Finding]:
    if not text_of(d.of_order("issuing_body")):
        yield "Issuing body is missing: enter the court, prison or authority that made the order."


@_rule("ORD-NOTIFIER-MISSING", "order.notifying_organisation", "The organisation that sent the order.")
def _notifier_missing(d: Draft) -> Iterator[Finding]:
    if not text_of(d.of_order("notifying_organisation")):
        yield "Notifying organisation is missing: enter who sent the order, so queries go back to them."


@_rule("ORD-CONDITIONS-MISSING", "order.conditions",
       "A new order, variation or reinstall imposes at least one monitored condition.")
def _conditions_missing(d: Draft) -> Iterator[Finding]:
    if d.restates_conditions and not d.monitors_something:
        yield ("The order imposes nothing to monitor: add its curfew, zones, location monitoring, alcohol "
               "monitoring or check-ins as written on the order.")


@_rule("ORD-START-MISSING", "order.start", "The start date (not needed on an end request).")
def _start_missing(d: Draft) -> Iterator[Finding]:
    if d.start is None and d.restates_conditions:
        yield "Start date is missing: enter the date monitoring starts, from the order."


@_rule("ORD-END-MISSING", "order.end",
       "The end date, on an end request and on a curfew order that is not bail (bail runs to the next hearing).")
def _end_missing(d: Draft) -> Iterator[Finding]:
    if d.end is not None:
        return
    if d.request is RequestType.END:
        yield "End date is missing: an end request must say on which date monitoring ends."
    elif d.curfew is not None and d.cohort in (Cohort.POST_RELEASE, Cohort.COURT_SENTENCE, Cohort.SPECIALS):
        yield (f"End date is missing: a curfew order must say when it ends (at most {CURFEW_MAX_YEARS} "
               f"years after the start); enter it from the order.")


@_rule("ORD-DATES-ORDER", "order.end", "The end date is after the start date.")
def _dates_order(d: Draft) -> Iterator[Finding]:
    if d.start and d.end and d.end <= d.start:
        yield (f"End date {d.end.isoformat()} is not after start date {d.start.isoformat()}: check both "
               f"dates against the order.")


@_rule("ORD-START-PAST", "order.start", "A new order does not start in the past.")
def _start_past(d: Draft) -> Iterator[Finding]:
    if d.request is RequestType.NEW and d.start and d.start < d.today:
        yield (f"Start date {d.start.isoformat()} is in the past: a new order starts today or later; check "
               f"the date, or treat it as a late order with the notifying body.")


def _age_at_start(d: Draft) -> tuple[int, date] | None:
    on = d.start or d.today
    age = _age_on(d, on)
    if age is None or d.dob > d.today or age < MIN_AGE:
        return None          # SUBJ-DOB-MISSING or SUBJ-DOB-IMPLAUSIBLE says what is wrong
    return age, on


@_rule("ORD-COMMUNITY-UNDER-18", "order.order_type",
       f"A community order is for someone aged {COMMUNITY_ORDER_MIN_AGE} or over (Sentencing Act 2020 s.202).")
def _community_under_18(d: Draft) -> Iterator[Finding]:
    # The Act counts age at conviction, which is on or before the start date: someone
    # under 18 at the start was under 18 when convicted.
    found = _age_at_start(d)
    if d.order_type is OrderType.COMMUNITY_ORDER and found and found[0] < COMMUNITY_ORDER_MIN_AGE:
        age, on = found
        yield (f"A community order is only for someone aged {COMMUNITY_ORDER_MIN_AGE} or over (Sentencing Act "
               f"2020 s.202), but the wearer is {age} on {on.isoformat()}: check the date of birth and the "
               f"order type with the court (under 18 it is a youth rehabilitation order).")


@_rule("ORD-BAIL-UNDER-12", "order.order_type",
       f"Electronically monitored bail is for a child aged {EM_BAIL_MIN_AGE} or over (Bail Act 1976 s.3AA).")
def _bail_under_12(d: Draft) -> Iterator[Finding]:
    found = _age_at_start(d)
    bail = d.order_type is OrderType.COURT_BAIL or (d.order_type is None and d.cohort is Cohort.COURT_BAIL)
    if bail and found and found[0] < EM_BAIL_MIN_AGE:
        age, on = found
        yield (f"A child on bail can only be electronically monitored from the age of {EM_BAIL_MIN_AGE} (Bail "
               f"Act 1976 s.3AA), but the wearer is {age} on {on.isoformat()}: check the date of birth with "
               f"the court, or return the order to the court.")


@_rule("ORD-APPOINTMENT-PURPOSE-MISSING", "order.attendance_appointments[i].purpose",
       "Every attendance appointment says what it is for.")
def _appointment_purpose(d: Draft) -> Iterator[Finding]:
    for i, appointment in enumerate(tuple_of(d.of_order("attendance_appointments"))):
        if not text_of(getattr(appointment, "purpose", None)):
            yield (f"order.attendance_appointments[{i}].purpose",
                   f"Attendance appointment {i + 1} has no purpose: enter what it is for as the order says "
                   f"(e.g. 'induction at the probation office'), so the wearer and officer know why to attend.")


# Curfew -------------------------------------------------------------------------


def _first_window_of(d: Draft, weekday: int) -> str:
    for i, w in enumerate(d.windows):
        if is_usable(w) and w.weekday == weekday:
            return f"order.conditions.curfew.windows[{i}]"
    return "order.conditions.curfew.windows"


@_rule("CURFEW-EMPTY", "order.conditions.curfew", "A curfew has at least one window.")
def _curfew_empty(d: Draft) -> Iterator[Finding]:
    if d.curfew is not None and not d.windows and d.curfew.release_day is None:
        yield ("Curfew has no hours: enter its windows, e.g. 'Mon-Sun 19:00-07:00', or remove the curfew.")


@_rule("CURFEW-WINDOW-DAY", "order.conditions.curfew.windows[i]", "Each curfew window starts on a day of the week.")
def _window_day(d: Draft) -> Iterator[Finding]:
    for i, w in enumerate(d.windows):
        if not is_usable(w):
            yield (f"order.conditions.curfew.windows[{i}]",
                   f"Curfew window {i + 1} has no proper day and times (weekday "
                   f"{getattr(w, 'weekday', None)!r}): give a day Mon..Sun and times like 19:00-07:00.")


@_rule("CURFEW-WINDOW-OVERLAP", "order.conditions.curfew.windows[i]", "Curfew windows do not overlap.")
def _window_overlap(d: Draft) -> Iterator[Finding]:
    for i, j in overlapping_windows(d.curfew):
        yield (f"order.conditions.curfew.windows[{j}]",
               f"Curfew window {j + 1} overlaps window {i + 1}: each hour may be in one window only; "
               f"merge them or correct the times.")


@_rule("CURFEW-DAY-TOO-SHORT", "order.conditions.curfew.windows[i]",
       f"Each curfew day has at least {CURFEW_DAY_MIN_H} hours of curfew.")
def _day_short(d: Draft) -> Iterator[Finding]:
    for day, hours in day_hours(d.curfew).items():
        if 0 < hours < CURFEW_DAY_MIN_H:
            yield (_first_window_of(d, day),
                   f"{describe_day(day)} has {hours:g} h of curfew: the law allows {CURFEW_DAY_MIN_H} to "
                   f"{CURFEW_DAY_MAX_H} hours on a curfew day; check the times.")


@_rule("CURFEW-DAY-TOO-LONG", "order.conditions.curfew.windows[i]",
       f"No curfew day has more than {CURFEW_DAY_MAX_H} hours of curfew.")
def _day_long(d: Draft) -> Iterator[Finding]:
    for day, hours in day_hours(d.curfew).items():
        if hours > CURFEW_DAY_MAX_H:
            yield (_first_window_of(d, day),
                   f"{describe_day(day)} has {hours:g} h of curfew: the law allows at most "
                   f"{CURFEW_DAY_MAX_H} hours on a curfew day; check the times.")


@_rule("CURFEW-WEEK-HOURS", "order.conditions.curfew.windows",
       f"At most {CURFEW_WEEK_MAX_H} hours of curfew in any 7 days.")
def _week_hours(d: Draft) -> Iterator[Finding]:
    hours = hours_in_any_7_days(d.curfew)
    if hours > CURFEW_WEEK_MAX_H:
        yield (f"The curfew adds up to {hours:g} h in 7 days: the law allows at most {CURFEW_WEEK_MAX_H}; "
               f"check the windows against the order.")


@_rule("CURFEW-HDC-HOURS", "order.conditions.curfew.windows[i]",
       f"A home detention curfew has at least {HDC_DAY_MIN_H} hours every day.")
def _hdc_hours(d: Draft) -> Iterator[Finding]:
    if d.order_type is not OrderType.HDC or not d.windows:
        return      # no curfew, or an empty one (CURFEW-EMPTY says so)
    for day, hours in day_hours(d.curfew).items():
        if hours < HDC_DAY_MIN_H:
            yield (_first_window_of(d, day),
                   f"{describe_day(day)} has {hours:g} h of curfew: home detention curfew needs at least "
                   f"{HDC_DAY_MIN_H} hours every day; check the licence.")


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:        # 29 February
        return day.replace(year=day.year + years, day=28)


@_rule("CURFEW-ORDER-LENGTH", "order.end", f"A curfew order lasts at most {CURFEW_MAX_YEARS} years.")
def _curfew_length(d: Draft) -> Iterator[Finding]:
    if d.curfew is None or not (d.start and d.end) or d.end <= d.start:
        return
    limit = _add_years(d.start, CURFEW_MAX_YEARS)
    if d.end > limit:
        yield (f"A curfew may last at most {CURFEW_MAX_YEARS} years, so it must end by {limit.isoformat()}, "
               f"not {d.end.isoformat()}: check the end date.")


# Zones --------------------------------------------------------------------------


def _shape_path(path: str, zone: Zone) -> str:
    return f"{path}.circle.radius_m" if isinstance(zone.shape, Circle) else f"{path}.polygon"


def _sound(zone: Zone) -> bool:
    return zone_defect(zone.shape) is None


@_rule("ZONE-NAME-MISSING", "order.conditions.zones[i].name", "Every zone has a name (it appears in breach packs).")
def _zone_name(d: Draft) -> Iterator[Finding]:
    for path, zone in d.zones:
        if not text_of(zone.name):
            yield (f"{path}.name", "Zone has no name: name it as the order does (e.g. 'Victim's home, "
                                   "Roundhay'); breach packs quote it.")


@_rule("ZONE-SHAPE-INVALID", "order.conditions.zones[i]", "Every zone is a drawable circle or simple polygon.")
def _zone_shape(d: Draft) -> Iterator[Finding]:
    for path, zone in d.zones:
        defect = zone_defect(zone.shape)
        if defect:
            yield (path, f"Zone '{text_of(zone.name)}' cannot be drawn: {defect}; redraw it on the map.")


@_rule("ZONE-DATES-ORDER", "order.conditions.zones[i].active_until",
       "A zone that applies between dates ends after it starts.")
def _zone_dates(d: Draft) -> Iterator[Finding]:
    for path, zone in d.zones:
        start, until = zone.active_from, zone.active_until
        if not (isinstance(start, datetime) and isinstance(until, datetime)):
            continue
        if _aware(until) <= _aware(start):
            yield (f"{path}.active_until",
                   f"Zone '{text_of(zone.name)}' ends ({_shown_at(until)}) before it starts ({_shown_at(start)}): "
                   f"check both dates against the order.")


def _aware(at: datetime) -> datetime:
    return at.replace(tzinfo=LONDON) if at.tzinfo is None else at


def _shown_at(at: datetime) -> str:
    return f"{_aware(at).astimezone(LONDON):%d %b %Y %H:%M}"


@_rule("ZONE-CIRCLE-SIZE", "order.conditions.zones[i].circle.radius_m",
       f"A circular zone's radius is {CIRCLE_RADIUS_M[0]:g} m to {CIRCLE_RADIUS_M[1] / 1000:g} km.")
def _circle_size(d: Draft) -> Iterator[Finding]:
    low, high = CIRCLE_RADIUS_M
    for path, zone in d.zones:
        if isinstance(zone.shape, Circle) and _sound(zone) and not (low <= zone.shape.radius_m <= high):
            yield (_shape_path(path, zone),
                   f"Zone '{text_of(zone.name)}' has a radius of {zone.shape.radius_m:g} m: GPS cannot police "
                   f"a zone outside {low:g} m to {high / 1000:g} km; check the units (metres).")


@_rule("ZONE-POLYGON-SIZE", "order.conditions.zones[i].polygon",
       f"A polygon zone covers {POLYGON_AREA_M2[0]:,.0f} m² to {POLYGON_AREA_M2[1] / 1e6:g} km².")
def _polygon_size(d: Draft) -> Iterator[Finding]:
    low, high = POLYGON_AREA_M2
    for path, zone in d.zones:
        if isinstance(zone.shape, Polygon) and _sound(zone):
            area = zone_area_m2(zone.shape)
            if not (low <= area <= high):
                yield (_shape_path(path, zone),
                       f"Zone '{text_of(zone.name)}' covers {area:,.0f} m²: a zone must cover {low:,.0f} m² to "
                       f"{high / 1e6:g} km² to be policed by GPS; check the corners.")


@_rule("ZONE-EXCLUDES-HOME", "order.conditions.zones[i]", "No exclusion zone contains the wearer's home.")
def _zone_excludes_home(d: Draft) -> Iterator[Finding]:
    home = d.home_where
    if home is None:
        return
    for path, zone in d.zones:
        if zone.kind is ZoneKind.EXCLUSION and _sound(zone) and zone_contains(zone.shape, home.lat, home.lon):
            yield (path, f"Exclusion zone '{text_of(zone.name)}' contains the wearer's home "
                         f"({_home_label(d)}): they could not go home without a breach; check the zone "
                         f"and the address with the responsible officer.")


@_rule("ZONE-INCLUSION-HOME", "order.conditions.zones[i]", "Every inclusion zone contains the wearer's home.")
def _zone_includes_home(d: Draft) -> Iterator[Finding]:
    home = d.home_where
    if home is None:
        return
    for path, zone in d.zones:
        if zone.kind is ZoneKind.INCLUSION and _sound(zone) and not zone_contains(zone.shape, home.lat, home.lon):
            yield (path, f"Inclusion zone '{text_of(zone.name)}' does not contain the wearer's home "
                         f"({_home_label(d)}): they would breach by being at home; check the zone and the "
                         f"address with the responsible officer.")


def _home_label(d: Draft) -> str:
    path, address = d.home
    where = d.home_where
    parts = [text_of(x) for x in (*tuple_of(address.lines), address.town, address.postcode)]
    place = ", ".join(p for p in parts if p) or path
    return place if where is None or where.how == "given" else f"{place}, placed by {where.how}"


@_rule("COND-ALCOHOL-MODE-MISSING", "order.conditions.alcohol.mode",
       "Alcohol monitoring says which kind: abstinence or a level.")
def _alcohol_mode(d: Draft) -> Iterator[Finding]:
    if d.alcohol and not isinstance(getattr(d.conditions.alcohol, "mode", None), AlcoholMode):
        yield ("Alcohol monitoring does not say which kind: choose abstinence (no alcohol at all) or level "
               "(a limit), as the order requires; it is never assumed.")


# Devices ------------------------------------------------------------------------


def _kinds(*kinds: DeviceKind) -> str:
    return " and ".join(k.label for k in kinds)


@_rule("DEV-GPS-MISSING", "order.device_kinds", "Zones or location monitoring need a GPS tag.")
def _gps_missing(d: Draft) -> Iterator[Finding]:
    if d.restates_conditions and (d.zones or d.location) and DeviceKind.GPS_TAG not in d.devices:
        yield "The order has zones or location monitoring, which need a GPS tag: add a GPS tag."


@_rule("DEV-ALCOHOL-MISSING", "order.device_kinds", "Alcohol monitoring needs an alcohol tag.")
def _alcohol_missing(d: Draft) -> Iterator[Finding]:
    if d.restates_conditions and d.alcohol and DeviceKind.ALCOHOL_TAG not in d.devices:
        yield "The order has alcohol monitoring, which needs an alcohol tag: add an alcohol tag."


@_rule("DEV-CURFEW-MISSING", "order.device_kinds",
       "A curfew needs a home monitoring unit and an RF or GPS tag.")
def _curfew_devices(d: Draft) -> Iterator[Finding]:
    if not d.restates_conditions or d.curfew is None:
        return
    missing = []
    if not d.devices & {DeviceKind.RF_TAG, DeviceKind.GPS_TAG}:
        missing.append("an RF tag (or a GPS tag)")
    if DeviceKind.HMU not in d.devices:
        missing.append("a home monitoring unit")
    if missing:
        yield f"A curfew is checked by a tag and a home monitoring unit at the address: add {' and '.join(missing)}."


@_rule("DEV-CHECKINS-MISSING", "order.device_kinds", "Check-ins need a non-fitted device.")
def _checkins_missing(d: Draft) -> Iterator[Finding]:
    if d.restates_conditions and d.checkins and DeviceKind.NON_FITTED not in d.devices:
        yield "The order has biometric check-ins, which need a non-fitted device: add one."


@_rule("DEV-NONFITTED-COHORT", "order.device_kinds", "Non-fitted devices are for immigration bail only.")
def _nonfitted_cohort(d: Draft) -> Iterator[Finding]:
    if DeviceKind.NON_FITTED in d.devices and d.cohort is not None and d.cohort is not Cohort.IMMIGRATION:
        yield (f"A non-fitted device is only used for immigration bail, not {d.cohort.label.lower()}: "
               f"use a fitted tag, or correct the cohort.")


@_rule("DEV-NOT-NEEDED", "order.device_kinds", "Every device kind is needed by one of the conditions.")
def _not_needed(d: Draft) -> Iterator[Finding]:
    if not d.restates_conditions:
        return
    needed = {
        DeviceKind.RF_TAG: d.curfew is not None,
        DeviceKind.HMU: d.curfew is not None,
        DeviceKind.GPS_TAG: bool(d.zones or d.location or d.curfew is not None),
        DeviceKind.ALCOHOL_TAG: d.alcohol,
        DeviceKind.NON_FITTED: d.checkins,
    }
    extra = [k for k in DeviceKind if k in d.devices and not needed[k]]
    if extra:
        yield (f"No condition needs the {_kinds(*extra)}: remove it, or add the condition it is for; "
               f"equipment not needed is equipment not recovered.")


# People around the order --------------------------------------------------------

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@_rule("SUBJ-PHONE-INVALID", "subject.{phone,responsible_adult.phone}",
       "The wearer's and the responsible adult's phone numbers are numbers that can be rung (libphonenumber).")
def _subject_phones(d: Draft) -> Iterator[Finding]:
    numbers = [("subject.phone", d.of_subject("phone"), "The wearer's phone"),
               ("subject.responsible_adult.phone", getattr(d.of_subject("responsible_adult"), "phone", None),
                "The responsible adult's phone")]
    for path, raw, whose in numbers:
        phone = text_of(raw)
        defect = phone_defect(phone) if phone else None
        if defect:
            yield (path, f"{whose} '{phone}' {defect}: check it with the notifying body and enter it in full, "
                         f"e.g. 07700 900123 or 0113 496 0000 (+ and the country code for a number abroad).")


@_rule("OFFICER-NAME-MISSING", "order.responsible_officer.name", "The responsible officer's name.")
def _officer_name(d: Draft) -> Iterator[Finding]:
    if not text_of(getattr(d.of_order("responsible_officer"), "name", None)):
        yield "Responsible officer's name is missing: enter who the monitoring centre reports breaches to."


@_rule("OFFICER-ORG-MISSING", "order.responsible_officer.organisation", "The responsible officer's organisation.")
def _officer_org(d: Draft) -> Iterator[Finding]:
    if not text_of(getattr(d.of_order("responsible_officer"), "organisation", None)):
        yield "Responsible officer's organisation is missing: enter their probation office, police force or team."


@_rule("OFFICER-CONTACT-MISSING", "order.responsible_officer.phone",
       "A phone number or email for the responsible officer.")
def _officer_contact(d: Draft) -> Iterator[Finding]:
    officer = d.of_order("responsible_officer")
    if not text_of(getattr(officer, "phone", None)) and not text_of(getattr(officer, "email", None)):
        yield "No way to reach the responsible officer: enter their phone number or email."


@_rule("OFFICER-CONTACT-FORMAT", "order.responsible_officer.{phone,email}",
       "The responsible officer's phone is a UK number and the email an address.")
def _officer_contact_format(d: Draft) -> Iterator[Finding]:
    officer = d.of_order("responsible_officer")
    phone = text_of(getattr(officer, "phone", None))
    email = text_of(getattr(officer, "email", None))
    defect = phone_defect(phone) if phone else None
    if defect:
        yield ("order.responsible_officer.phone",
               f"'{phone}' {defect}, so it is not a UK phone number that can be rung: check it and enter it "
               f"in full, e.g. 0113 496 0000.")
    if email and not _EMAIL.match(email):
        yield ("order.responsible_officer.email",
               f"'{email}' is not an email address: check it, e.g. name@justice.gov.uk.")


# Installation and paperwork -----------------------------------------------------


@_rule("INSTALL-APPT-PAST", "order.installation.appointment", "The installation appointment is not in the past.")
def _appointment_past(d: Draft) -> Iterator[Finding]:
    at = getattr(d.of_order("installation"), "appointment", None)
    if not isinstance(at, datetime):
        return
    aware = at.replace(tzinfo=LONDON) if at.tzinfo is None else at
    if aware < d.now:
        yield (f"Installation appointment {aware.astimezone(LONDON):%d %b %Y %H:%M} has already passed: "
               f"book a new appointment.")


@_rule("DOC-LICENCE-MISSING", "order.documents", "A post-release order (new or varied) comes with its licence.")
def _licence_missing(d: Draft) -> Iterator[Finding]:
    if d.cohort is not Cohort.POST_RELEASE or d.request not in (RequestType.NEW, RequestType.VARIATION):
        return
    if not any(getattr(doc, "kind", None) is DocumentKind.LICENCE for doc in tuple_of(d.of_order("documents"))):
        yield ("The licence is missing: attach the licence document; it states the conditions officers "
               "enforce.")


# Request types ------------------------------------------------------------------

_NEEDS_EXISTING = (RequestType.VARIATION, RequestType.END, RequestType.REINSTALL)


def _existing(d: Draft) -> Order | None:
    ref = text_of(d.of_order("varies_order_id"))
    if not ref:
        return None
    try:
        return d.ctx.find_order(ref)
    except Exception:    # a failing look-up reads as "not found", reported below
        return None


@_rule("REQ-VARIES-MISSING", "order.varies_order_id",
       "A variation, end or reinstall request names the order it applies to.")
def _varies_missing(d: Draft) -> Iterator[Finding]:
    if d.request in _NEEDS_EXISTING and not text_of(d.of_order("varies_order_id")):
        yield (f"A {d.request.value} request must name the existing order it applies to: enter that "
               f"order's id.")


@_rule("REQ-VARIES-UNKNOWN", "order.varies_order_id", "The order named by a variation, end or reinstall exists.")
def _varies_unknown(d: Draft) -> Iterator[Finding]:
    ref = text_of(d.of_order("varies_order_id"))
    if d.request in _NEEDS_EXISTING and ref and _existing(d) is None:
        yield f"No order '{ref}' is known: check the id with the notifying body."


@_rule("REQ-VARIES-NOT-ACTIVE", "order.varies_order_id",
       "The order named by a variation, end or reinstall is active.")
def _varies_not_active(d: Draft) -> Iterator[Finding]:
    if d.request not in _NEEDS_EXISTING:
        return
    existing = _existing(d)
    status = getattr(existing, "status", None)
    if existing is not None and status is not OrderStatus.ACTIVE:
        shown = status.value if isinstance(status, OrderStatus) else status
        yield (f"Order '{text_of(d.of_order('varies_order_id'))}' is {shown}, not active: only an active order can "
               f"be varied, ended or reinstalled; a new order is needed instead.")


@_rule("REQ-VARIATION-CHANGES", "order.variation.changes", "A variation says what it changes.")
def _variation_changes(d: Draft) -> Iterator[Finding]:
    if d.request is RequestType.VARIATION and not text_of(getattr(d.of_order("variation"), "changes", None)):
        yield "The variation does not say what changes: describe it, e.g. 'curfew now 20:00-06:00'."


@_rule("REQ-VARIATION-EFFECTIVE", "order.variation.effective_from", "A variation says from when it applies.")
def _variation_effective(d: Draft) -> Iterator[Finding]:
    effective = getattr(d.of_order("variation"), "effective_from", None)
    if d.request is RequestType.VARIATION and not isinstance(effective, datetime):
        yield "The variation does not say when it takes effect: enter the date and time from the order."


# --- Public ------------------------------------------------------------------------

RULE_TABLE: tuple[Rule, ...] = tuple(_TABLE)
RULES: dict[str, str] = {r.code: r.description for r in RULE_TABLE}


def validate(order: Order, subject: Subject, ctx: ValidationContext) -> list[Problem]:
    """Everything wrong with an intake, in table order; empty when the order can go ahead."""
    draft = Draft(order, subject, ctx)
    problems = []
    for rule in RULE_TABLE:
        for finding in rule.check(draft):
            path, message = finding if isinstance(finding, tuple) else (rule.field, finding)
            problems.append(Problem(code=rule.code, field=path, message=message, severity=rule.severity))
    return problems


__all__ = ["RULES", "RULE_TABLE", "Rule", "ValidationContext", "validate"]
