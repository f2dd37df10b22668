"""Wearers: names, dates of birth, identifiers by cohort, needs, risks, where they live."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from emdesk.domain.clock import local_date

from emdesk.domain.gazetteer import Town
from emdesk.domain.orders import Cohort
from emdesk.domain.people import (
    Address, AddressKind, Identifiers, ResponsibleAdult, RiskFlag, Sex, Subject,
)

from . import names, places
from .gen import Gen

# Ages of people on EM: mostly 20s and 30s (bands: (low, high, weight)).
_AGE_BANDS = ((18, 25, 25), (26, 35, 35), (36, 45, 22), (46, 55, 11), (56, 65, 7))

_DISABILITIES = (
    "Hearing impairment: uses hearing aids; face the subject when explaining conditions",
    "Visual impairment: read the conditions aloud",
    "Wheelchair user: step-free access needed; fit the tag with the subject seated",
    "Below-knee amputation (right leg): fit the tag on the left ankle",
    "Lymphoedema in the left ankle: fit the tag on the right ankle",
    "Learning disability: explain conditions in plain words; easy-read leaflet",
    "Type 1 diabetes",
    "Epilepsy",
    "Autism: prefers a visit booked in advance and a quiet room",
    "Dyslexia: explain written conditions aloud",
)

_RISK_NOTES = {
    RiskFlag.DANGEROUS_DOG: "Large dog at the address; ask for it to be shut away before entering.",
    RiskFlag.CHILDREN_AT_ADDRESS: "Young children live at the address.",
    RiskFlag.VIOLENCE_TO_STAFF: "Assaulted a police officer at arrest; two-officer visit.",
    RiskFlag.WEAPONS: "Knife found at the address on arrest.",
    RiskFlag.DRUG_USE: "Known class A drug use; needles may be present.",
    RiskFlag.DOMESTIC_ABUSE: "Domestic abuse history; do not discuss the victim's whereabouts.",
    RiskFlag.MENTAL_HEALTH: "Under the community mental health team.",
    RiskFlag.SELF_HARM: "History of self-harm; open an ACCT-style welfare note if distressed.",
    RiskFlag.LONE_WORKING_RISK: "Isolated address down an unlit track; check in with control on arrival.",
}

_RELATIONSHIPS = (("Mother", True), ("Father", False), ("Grandmother", True), ("Aunt", True),
                  ("Foster carer", True), ("Stepfather", False))


def _background(gen: Gen, town: Town, cohort: Cohort) -> names.Background:
    if cohort is Cohort.IMMIGRATION:
        return gen.weighted(names.IMMIGRATION)
    return gen.weighted(names.BACKGROUNDS_WALES if town.country == "Wales" else names.BACKGROUNDS)


def _dob(gen: Gen, youth: bool, first_order: date) -> date:
    """Youths are 16-17 today; adults were already adults when their first order came."""
    if youth:
        return gen.today - timedelta(days=gen.rng.randint(16 * 365 + 40, 17 * 365 + 320))
    low, high, _ = gen.weighted([(b, b[2]) for b in _AGE_BANDS])
    return first_order - timedelta(days=gen.rng.randint(int(low * 365.25) + 20, int((high + 1) * 365.25) - 20))


def _identifiers(gen: Gen, cohort: Cohort, dob: date) -> Identifiers:
    year = names.first_record_year(gen, dob, gen.today)
    ids: dict[str, str] = {}
    if cohort is Cohort.IMMIGRATION:
        ids["home_office_ref"] = names.home_office_ref(gen)
        if gen.chance(0.4):   # foreign national offenders have a police record too
            ids["pnc"] = names.pnc(gen, year)
        if gen.chance(0.3):
            ids["nomis"] = names.nomis(gen)
    else:
        ids["pnc"] = names.pnc(gen, year)
        if gen.chance(0.3):
            ids["cro"] = names.cro(gen, year)
        if cohort in (Cohort.POST_RELEASE, Cohort.SPECIALS):
            ids["nomis"] = names.nomis(gen)
            ids["prison_number"] = names.prison_number(gen)
        if cohort in (Cohort.POST_RELEASE, Cohort.COURT_SENTENCE, Cohort.SPECIALS):
            ids["delius_crn"] = names.delius_crn(gen)
    return Identifiers(**ids)


def _no_fixed_abode_address(gen: Gen, town: Town, cohort: Cohort) -> Address:
    if cohort in (Cohort.POST_RELEASE, Cohort.SPECIALS):
        name = f"{gen.pick(town.streets)} Approved Premises"
    elif cohort is Cohort.IMMIGRATION:
        name = "Home Office accommodation (initial)"
    else:
        name = "CAS2 bail accommodation"
    return places.premises(gen, town, name)


def make_subject(gen: Gen, *, town: Town, cohort: Cohort, created_at: datetime, youth: bool = False,
                 no_fixed_abode: bool = False) -> Subject:
    background = _background(gen, town, cohort)
    female = gen.chance(0.08 if cohort is Cohort.IMMIGRATION else 0.11)
    given = names.given_name(background, gen, female)
    family = names.family_name(background, gen, female)
    dob = _dob(gen, youth, local_date(created_at))
    sex = Sex.FEMALE if female else Sex.MALE
    if gen.chance(0.01):
        sex = Sex.NOT_STATED

    language = background.language if background.language != "English" or gen.chance(0.75) else None
    interpreter = gen.chance(background.interpreter_share)
    if background is names.WELSH and gen.chance(0.12):
        language = "Welsh"   # a preference, not a need: Welsh speakers are bilingual

    adult = None
    if youth:
        relationship, adult_female = gen.pick(_RELATIONSHIPS)
        adult_given = names.given_name(background, gen, adult_female)
        adult_family = family if relationship not in ("Foster carer",) else names.family_name(
            background, gen, adult_female)
        adult = ResponsibleAdult(name=f"{adult_given} {adult_family}", relationship=relationship,
                                 phone=gen.mobile())

    if no_fixed_abode:
        addresses: tuple[Address, ...] = (_no_fixed_abode_address(gen, town, cohort),)
    else:
        addresses = (places.home(gen, town),)
        if gen.chance(0.05):
            addresses += (places.home(gen, town, AddressKind.SECONDARY),)

    flags: tuple[RiskFlag, ...] = ()
    if gen.quota("risk flags", 0.2):
        flags = tuple(gen.rng.sample(list(RiskFlag), gen.pick((1, 1, 2))))
    aliases: tuple[str, ...] = ()
    if (nick := names.nickname(given)) and gen.chance(0.35):
        aliases = (f"{nick} {family}",)

    return Subject(
        id=gen.id_at(created_at), created_at=created_at, updated_at=created_at,
        identifiers=_identifiers(gen, cohort, dob),
        given_name=given, family_name=family, aliases=aliases, date_of_birth=dob, sex=sex,
        phone=gen.mobile() if gen.chance(0.85) else None,
        language=language, interpreter_needed=interpreter,
        disabilities=(gen.pick(_DISABILITIES),) if gen.chance(0.08) else (),
        responsible_adult=adult, no_fixed_abode=no_fixed_abode, addresses=addresses,
        risk_flags=flags, risk_notes=" ".join(_RISK_NOTES[f] for f in flags),
    )
