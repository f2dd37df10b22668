"""Intake rules about the person: identity and addresses (see rules.py)."""
from __future__ import annotations

import re
from collections.abc import Iterator

from ..geography import (
    ENGLAND_OR_SCOTLAND,
    ENGLAND_OR_WALES,
    in_england_and_wales,
    is_valid_postcode,
    normalise_postcode,
    postcode_country,
    postcode_district,
)
from ..orders import Cohort
from .draft import Draft, Where, finite, text_of, tuple_of
from .problems import Severity
from .table import ADULT_AGE, MAX_AGE, MIN_AGE, age_on, Finding, rule

# Identity -----------------------------------------------------------------------

_ID_FIELDS = ("pnc", "nomis", "delius_crn", "prison_number", "home_office_ref")
_ID_FORMATS = {
    "pnc": (re.compile(r"^(\d{2}|\d{4})/\d{1,7}[A-Z]$"), "a PNC ID like 2019/0123456A"),
    "nomis": (re.compile(r"^[A-Z]\d{4}[A-Z]{2}$"), "a NOMIS number like A1234BC"),
    "delius_crn": (re.compile(r"^[A-Z]\d{6}$"), "a Delius CRN like X123456"),
}


@rule("SUBJ-ID-MISSING", "subject.identifiers",
       "At least one case identifier: PNC, NOMIS, Delius CRN, prison number or Home Office reference.")
def _ids_missing(d: Draft) -> Iterator[Finding]:
    ids = d.of_subject("identifiers")
    if not any(text_of(getattr(ids, name, None)) for name in _ID_FIELDS):
        yield ("No case identifier given: enter at least one of PNC ID, NOMIS number, Delius CRN, "
               "prison number or Home Office reference, from the order paperwork.")


@rule("SUBJ-ID-FORMAT", "subject.identifiers.{pnc,nomis,delius_crn}",
       "PNC IDs, NOMIS numbers and Delius CRNs are in their standard formats.")
def _ids_format(d: Draft) -> Iterator[Finding]:
    ids = d.of_subject("identifiers")
    for name, (pattern, example) in _ID_FORMATS.items():
        value = text_of(getattr(ids, name, None))
        if value and not pattern.match(value.upper()):
            yield (f"subject.identifiers.{name}",
                   f"'{value}' is not {example}: check it against the order paperwork.")


@rule("SUBJ-HOREF-MISSING", "subject.identifiers.home_office_ref",
       "Immigration bail orders carry the Home Office reference.")
def _horef_missing(d: Draft) -> Iterator[Finding]:
    if d.cohort is Cohort.IMMIGRATION and not text_of(getattr(d.of_subject("identifiers"), "home_office_ref", None)):
        yield ("Immigration bail needs the Home Office reference, which the Home Office uses to act on "
               "breaches: copy it from the bail notice.")


@rule("SUBJ-GIVEN-NAME-MISSING", "subject.given_name", "The wearer's given name.")
def _given_missing(d: Draft) -> Iterator[Finding]:
    if not text_of(d.of_subject("given_name")):
        yield "Given name is missing: enter it as on the order."


@rule("SUBJ-FAMILY-NAME-MISSING", "subject.family_name", "The wearer's family name.")
def _family_missing(d: Draft) -> Iterator[Finding]:
    if not text_of(d.of_subject("family_name")):
        yield "Family name is missing: enter it as on the order."


@rule("SUBJ-DOB-MISSING", "subject.date_of_birth", "The wearer's date of birth.")
def _dob_missing(d: Draft) -> Iterator[Finding]:
    if d.dob is None:
        yield ("Date of birth is missing: enter it from the order paperwork; officers need it to "
               "confirm who they are fitting.")


@rule("SUBJ-DOB-IMPLAUSIBLE", "subject.date_of_birth",
       f"The date of birth makes the wearer between {MIN_AGE} and {MAX_AGE} years old.")
def _dob_implausible(d: Draft) -> Iterator[Finding]:
    dob = d.dob
    age = age_on(d, d.start or d.today)
    if age is None:
        return
    if dob > d.today:
        yield f"Date of birth {dob.isoformat()} is in the future: check the day, month and year."
    elif age < MIN_AGE or age > MAX_AGE:
        yield (f"Date of birth {dob.isoformat()} makes the wearer {age}: nobody under {MIN_AGE} or over "
               f"{MAX_AGE} is tagged; check the year.")


@rule("SUBJ-SEX-MISSING", "subject.sex", "The wearer's sex (officers of the same sex may be needed to fit).")
def _sex_missing(d: Draft) -> Iterator[Finding]:
    if d.of_subject("sex") is None:
        yield ("Sex is missing: choose female, male, intersex or not stated; it decides who may "
               "fit the tag.")


@rule("SUBJ-RA-MISSING", "subject.responsible_adult",
       f"A responsible adult (name and phone) for a wearer under {ADULT_AGE} on the start date.")
def _ra_missing(d: Draft) -> Iterator[Finding]:
    dob = d.dob
    on = d.start or d.today
    age = age_on(d, on)
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


@rule("SUBJ-LANGUAGE-MISSING", "subject.language", "The language, when an interpreter is needed.")
def _language_missing(d: Draft) -> Iterator[Finding]:
    if d.of_subject("interpreter_needed") is True and not text_of(d.of_subject("language")):
        yield "An interpreter is needed but no language is given: enter the language so one can be booked."


# Addresses ----------------------------------------------------------------------


@rule("ADDR-MISSING", "subject.addresses", "The wearer has an address, unless of no fixed abode.")
def _address_missing(d: Draft) -> Iterator[Finding]:
    if d.of_subject("no_fixed_abode") is True:
        return
    if not any(p.startswith("subject.") for p, _ in d.addresses):
        yield ("No address given: enter the wearer's address, or mark them of no fixed abode and give "
               "the installation address.")


@rule("ADDR-NFA-INSTALL-MISSING", "order.installation.address",
       "A wearer of no fixed abode has an installation address (e.g. approved premises).")
def _nfa_install(d: Draft) -> Iterator[Finding]:
    if d.of_subject("no_fixed_abode") is True and d.installation_address is None:
        yield ("The wearer has no fixed abode, so the order must say where to fit the equipment: enter "
               "the installation address (e.g. approved premises or a hostel).")


@rule("ADDR-LINES-MISSING", "<address>", "Every address has at least a house and street line.")
def _address_lines(d: Draft) -> Iterator[Finding]:
    for path, a in d.addresses:
        if not any(text_of(line) for line in tuple_of(a.lines)):
            yield (path, "Address has no street lines: enter the house number or name and the street, "
                         "so the officer can find the door.")


@rule("ADDR-TOWN-MISSING", "<address>.town",
       "Every address has its town or city (the order service's 'Town or city' field).")
def _town_missing(d: Draft) -> Iterator[Finding]:
    for path, a in d.addresses:
        if not text_of(a.town):
            yield (f"{path}.town", "Town or city is missing: enter it as on the order (e.g. Leeds), so the "
                                   "officer and the breach pack name the place, not only the postcode.")


@rule("ADDR-POSTCODE-MISSING", "<address>.postcode", "Every address has a postcode.")
def _postcode_missing(d: Draft) -> Iterator[Finding]:
    for path, a in d.addresses:
        if not text_of(a.postcode):
            yield (f"{path}.postcode", "Postcode is missing: enter the full postcode, e.g. LS1 4DY.")


@rule("ADDR-POSTCODE-FORMAT", "<address>.postcode", "Every postcode is a well-formed UK postcode.")
def _postcode_format(d: Draft) -> Iterator[Finding]:
    for path, a in d.addresses:
        text = text_of(a.postcode)
        if text and not is_valid_postcode(text):
            yield (f"{path}.postcode",
                   f"'{text}' is not a UK postcode: it should look like LS1 4DY or CF10 1EP; check it "
                   f"with the notifying body.")


@rule("ADDR-POSTCODE-OUTSIDE", "<address>.postcode",
       "No postcode in Scotland, Northern Ireland, the Isle of Man or the Channel Islands.")
def _postcode_outside(d: Draft) -> Iterator[Finding]:
    for path, a in d.addresses:
        country = postcode_country(text_of(a.postcode))
        if country not in (None, ENGLAND_OR_WALES, ENGLAND_OR_SCOTLAND):
            yield (f"{path}.postcode",
                   f"{normalise_postcode(a.postcode)} is a postcode in {country}, outside England and Wales "
                   f"where this service monitors: check the address, or return the order to the "
                   f"notifying body for the right service.")


@rule("ADDR-NOT-LOCATED", "<address>",
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


@rule("ADDR-OUTSIDE-EW", "<address>", "Every address lies in England or Wales.")
def _outside_ew(d: Draft) -> Iterator[Finding]:
    for path, a in d.addresses:
        found = d.where(path, a)
        if isinstance(found, Where) and not in_england_and_wales(found.lat, found.lon):
            yield (path, f"Address is at ({found.lat:.4f}, {found.lon:.4f}), outside England and Wales where "
                         f"this service monitors: check the coordinates, or return the order to the "
                         f"notifying body.")
