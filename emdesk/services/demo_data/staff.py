"""The demo's staff: who signs in, in which role and region, and where officers start from.

Usernames say the role and the place (``officer.leeds``) so a demonstrator can pick the
right account from the printed list; every demo password is ``demo-`` + the username.
"""
from __future__ import annotations

import hashlib
from datetime import time

from emdesk.domain.gazetteer import Town, town_by_name
from emdesk.domain.people import AddressKind
from emdesk.domain.users import Role, User

from . import names
from .gen import Gen
from .places import premises

# Where region-wide staff sit: the monitoring centre for the region.
_HUB = {"North West": "Manchester", "Yorkshire and the Humber": "Leeds", "London": "London", "Wales": "Cardiff"}

# (username, role, base town or None, region override)
_STAFF: tuple[tuple[str, Role, str | None, str | None], ...] = (
    ("admin", Role.ADMIN, None, None),
    ("supervisor", Role.SUPERVISOR, None, None),
    ("supervisor.deputy", Role.SUPERVISOR, None, None),
    ("monitor.northwest", Role.MONITORING_OPERATOR, None, "North West"),
    ("monitor.yorkshire", Role.MONITORING_OPERATOR, None, "Yorkshire and the Humber"),
    ("monitor.london", Role.MONITORING_OPERATOR, None, "London"),
    ("monitor.wales", Role.MONITORING_OPERATOR, None, "Wales"),
    ("tech.leeds", Role.TECHNICIAN, "Leeds", None),
    ("tech.cardiff", Role.TECHNICIAN, "Cardiff", None),
    ("tech.london", Role.TECHNICIAN, "Islington", None),
    ("officer.newcastle", Role.FIELD_OFFICER, "Newcastle upon Tyne", None),
    ("officer.manchester", Role.FIELD_OFFICER, "Manchester", None),
    ("officer.liverpool", Role.FIELD_OFFICER, "Liverpool", None),
    ("officer.leeds", Role.FIELD_OFFICER, "Leeds", None),
    ("officer.sheffield", Role.FIELD_OFFICER, "Sheffield", None),
    ("officer.nottingham", Role.FIELD_OFFICER, "Nottingham", None),
    ("officer.birmingham", Role.FIELD_OFFICER, "Birmingham", None),
    ("officer.cambridge", Role.FIELD_OFFICER, "Cambridge", None),
    ("officer.lewisham", Role.FIELD_OFFICER, "Lewisham", None),
    ("officer.hackney", Role.FIELD_OFFICER, "Hackney", None),
    ("officer.reading", Role.FIELD_OFFICER, "Reading", None),
    ("officer.bristol", Role.FIELD_OFFICER, "Bristol", None),
    ("officer.cardiff", Role.FIELD_OFFICER, "Cardiff", None),
)


# The responsible agencies' accounts (NAO Figure 1): each receives the breach packs issued to
# its agency in its region; the Home Office's caseworkers every region.
_AGENCIES: tuple[tuple[str, Role, str], ...] = (
    ("police.northwest", Role.POLICE, "North West"),
    ("police.yorkshire", Role.POLICE, "Yorkshire and the Humber"),
    ("police.london", Role.POLICE, "London"),
    ("police.wales", Role.POLICE, "Wales"),
    ("probation.northwest", Role.PROBATION, "North West"),
    ("probation.yorkshire", Role.PROBATION, "Yorkshire and the Humber"),
    ("probation.london", Role.PROBATION, "London"),
    ("probation.wales", Role.PROBATION, "Wales"),
    ("homeoffice", Role.HOME_OFFICE, ""),
    # Every other region's force and probation too (after the first ones, so their draws stay
    # what they were): a pack is always issued to someone who can answer it.
    *((f"{agency}.{slug}", role, region) for slug, region in (
        ("northeast", "North East"), ("eastmidlands", "East Midlands"), ("westmidlands", "West Midlands"),
        ("east", "East of England"), ("southeast", "South East"), ("southwest", "South West"))
      for agency, role in (("police", Role.POLICE), ("probation", Role.PROBATION))),
)


# Late shifts (curfews start in the evening, so installs run late): where a region has
# two officers one works late; an officer alone in her region works a long day.
_LATE = (time(12, 0), time(22, 0))
_LONG = (time(8, 0), time(21, 30))
_SHIFTS = {"officer.liverpool": _LATE, "officer.sheffield": _LATE, "officer.hackney": _LATE,
           "officer.newcastle": _LONG, "officer.nottingham": _LONG, "officer.birmingham": _LONG,
           "officer.cambridge": _LONG, "officer.reading": _LONG, "officer.bristol": _LONG,
           "officer.cardiff": _LONG}
_LATE_BREAK = (time(16, 0), time(19, 0))


def demo_password(username: str) -> str:
    return f"demo-{username}"


def make_staff(gen: Gen) -> list[tuple[User, str]]:
    out = []
    for username, role, base_name, region in _STAFF:
        town: Town | None = town_by_name(base_name) if base_name else None
        background = names.WELSH if town is not None and town.region == "Wales" else names.BRITISH
        female = gen.chance(0.45)
        display = f"{names.given_name(background, gen, female)} {names.family_name(background, gen, female)}"
        base = None
        if town is not None:
            what = "EM equipment depot" if role is Role.TECHNICIAN else "EM field base"
            base = premises(gen, town, what, kind=AddressKind.PRIMARY, max_m=800)
        region = region or (town.region if town else "")
        created = gen.days_ago(200, 900)
        shift = _SHIFTS.get(username, (None, None)) if role is Role.FIELD_OFFICER else (None, None)
        breaks = _LATE_BREAK if shift == _LATE else (None, None)
        user = User(id=gen.id_at(created), created_at=created, updated_at=created, username=username,
                    display_name=display, role=role, region=region,
                    phone=gen.landline(town.name if town else _HUB.get(region, "London"), region), base=base,
                    shift_start=shift[0], shift_end=shift[1], break_from=breaks[0], break_until=breaks[1])
        out.append((user, demo_password(username)))
    return out + _agency_staff(gen)


def _agency_staff(gen: Gen) -> list[tuple[User, str]]:
    """The agencies' accounts, from their own stream of randomness: the draws of the rest of the
    world (its people, cases and kit) stay what they were before agencies had accounts."""
    own = Gen(int.from_bytes(hashlib.sha256(repr(gen.rng.getstate()).encode()).digest()[:8], "big"), gen.now)
    out = []
    for username, role, region in _AGENCIES:
        background = names.WELSH if region == "Wales" else names.BRITISH
        female = own.chance(0.45)
        display = f"{names.given_name(background, own, female)} {names.family_name(background, own, female)}"
        created = own.days_ago(200, 900)
        user = User(id=own.id_at(created), created_at=created, updated_at=created, username=username,
                    display_name=display, role=role, region=region, phone=own.landline(_HUB.get(region, "London"), region))
        out.append((user, demo_password(username)))
    return out


def officers(staff: list[tuple[User, str]]) -> list[User]:
    return [u for u, _ in staff if u.role is Role.FIELD_OFFICER]


def first_with_role(staff: list[tuple[User, str]], role: Role, region: str = "") -> User:
    matching = [u for u, _ in staff if u.role is role]
    return next((u for u in matching if u.region == region), matching[0])
