"""The wearer (subject) and the people around an order."""
from __future__ import annotations

from datetime import date
from enum import Enum

import msgspec

from .records import Record


class Sex(str, Enum):
    FEMALE = "female"
    MALE = "male"
    INTERSEX = "intersex"
    NOT_STATED = "not_stated"


class AddressKind(str, Enum):
    PRIMARY = "primary"
    SECONDARY = "secondary"
    INSTALLATION = "installation"


class RiskFlag(str, Enum):
    """Facts that change how a visit is done (pairing, two-officer visit, warnings)."""

    DANGEROUS_DOG = "dangerous_dog"
    CHILDREN_AT_ADDRESS = "children_at_address"
    VIOLENCE_TO_STAFF = "violence_to_staff"
    WEAPONS = "weapons"
    DRUG_USE = "drug_use"
    DOMESTIC_ABUSE = "domestic_abuse"
    MENTAL_HEALTH = "mental_health"
    SELF_HARM = "self_harm"
    LONE_WORKING_RISK = "lone_working_risk"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Address(msgspec.Struct, frozen=True, kw_only=True):
    kind: AddressKind = AddressKind.PRIMARY
    lines: tuple[str, ...] = ()
    town: str = ""
    postcode: str = ""
    lat: float | None = None
    lon: float | None = None
    # Hazards of the place itself (a dog kept there, a violent household member), whoever
    # the wearer: they decide crewing as the wearer's own flags do.
    risk_flags: tuple[RiskFlag, ...] = ()

    @property
    def located(self) -> bool:
        return self.lat is not None and self.lon is not None

    def one_line(self) -> str:
        return ", ".join(p for p in (*self.lines, self.town, self.postcode) if p)


class Identifiers(msgspec.Struct, frozen=True, kw_only=True):
    pnc: str | None = None            # Police National Computer
    nomis: str | None = None          # prison case record
    delius_crn: str | None = None     # probation case reference
    prison_number: str | None = None
    home_office_ref: str | None = None
    cro: str | None = None

    def any(self) -> bool:
        return any(msgspec.structs.astuple(self))


class ResponsibleAdult(msgspec.Struct, frozen=True, kw_only=True):
    name: str = ""
    relationship: str = ""
    phone: str = ""


class Subject(Record, frozen=True, kw_only=True):
    table = "subjects"

    identifiers: Identifiers = msgspec.field(default_factory=Identifiers)
    given_name: str = ""
    family_name: str = ""
    aliases: tuple[str, ...] = ()
    date_of_birth: date | None = None
    sex: Sex | None = None
    gender: str | None = None
    phone: str | None = None
    language: str | None = None
    interpreter_needed: bool = False
    disabilities: tuple[str, ...] = ()
    responsible_adult: ResponsibleAdult | None = None
    no_fixed_abode: bool = False
    addresses: tuple[Address, ...] = ()
    risk_flags: tuple[RiskFlag, ...] = ()
    risk_notes: str = ""

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.given_name, self.family_name) if p)

    def address(self, kind: AddressKind) -> Address | None:
        return next((a for a in self.addresses if a.kind == kind), None)

    @property
    def primary_address(self) -> Address | None:
        return self.address(AddressKind.PRIMARY)

    def age_on(self, day: date) -> int | None:
        if self.date_of_birth is None:
            return None
        dob = self.date_of_birth
        return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))
