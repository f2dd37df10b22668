"""Order intake: validate at entry, keep every order (invalid ones as drafts), report."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from emdesk.domain.clock import Clock
from emdesk.domain.gazetteer import TOWNS
from emdesk.domain.geocoding import Geocoder
from emdesk.domain.orders import Installation, Order, OrderStatus, RequestType, apply_variation, transition
from emdesk.domain.people import Address, Subject
from emdesk.domain.users import Permission, User
from emdesk.domain.validation import Problem, errors, warnings
from emdesk.domain.validation.intake_record import parse_intake
from emdesk.domain.validation.rules import ValidationContext, validate
from emdesk.store import Store

from .errors import AccessDenied
from .import_files import ImportFile
from .visit_making import VisitMaker

Progress = Callable[[int, int, int], None]


IMPORTED, ALREADY_IMPORTED = "imported", "already_imported"
# Identifiers that name one person, in the order they are trusted for matching.
PERSON_KEYS = ("pnc", "nomis", "delius_crn", "prison_number", "home_office_ref", "cro")


@dataclass(frozen=True)
class IntakeResult:
    order: Order
    subject: Subject
    problems: list[Problem]          # what keeps the order a draft
    source: str = ""
    outcome: str = IMPORTED              # or ALREADY_IMPORTED: held before, nothing written
    person_match: str = ""               # "pnc 2024/0012345A": the person was already held
    warnings: list[Problem] = field(default_factory=list)   # to confirm; the order goes ahead

    @property
    def accepted(self) -> bool:
        return self.outcome == IMPORTED and not self.problems


@dataclass
class ImportReport:
    file: str
    results: list[IntakeResult] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return sum(r.accepted for r in self.results)

    @property
    def already_imported(self) -> int:
        return sum(r.outcome == ALREADY_IMPORTED for r in self.results)

    @property
    def drafts(self) -> int:
        return len(self.results) - self.accepted - self.already_imported

    @property
    def ok(self) -> bool:
        return self.drafts == 0

    def as_json(self) -> dict:
        return {
            "file": self.file,
            "summary": {"orders": len(self.results), "accepted": self.accepted, "drafts": self.drafts,
                        "already_imported": self.already_imported},
            "orders": [
                {
                    "source": r.source, "reference": r.order.reference, "order_id": r.order.id,
                    "subject_id": r.subject.id, "status": r.order.status.value,
                    "accepted": r.accepted,
                    "problems": [msgspec.to_builtins(p) for p in r.problems],
                    "outcome": r.outcome, "person_match": r.person_match,
                    "warnings": [msgspec.to_builtins(p) for p in r.warnings],
                }
                for r in self.results
            ],
        }

    def as_text(self) -> str:
        lines = []
        for r in self.results:
            ref = r.order.reference or "(no reference)"
            matched = f" (person already held: {r.person_match})" if r.person_match else ""
            if r.outcome == ALREADY_IMPORTED:
                lines.append(f"HELD   {r.source}  {ref}: already imported as {r.order.status.value} "
                             f"({r.order.id}); not imported again")
            elif r.accepted:
                lines.append(f"OK     {r.source}  {ref}: accepted as {r.order.status.value}{matched}")
                lines.extend(f"         ! {p.field}: {p.message} [{p.code}] (warning)" for p in r.warnings)
            else:
                lines.append(f"DRAFT  {r.source}  {ref}: {len(r.problems)} problem(s), kept as draft{matched}")
                lines.extend(f"         - {p.field}: {p.message} [{p.code}]" for p in r.problems)
        held = f", {self.already_imported} already imported" if self.already_imported else ""
        lines.append(f"{len(self.results)} order(s): {self.accepted} accepted, {self.drafts} kept as drafts{held}")
        return "\n".join(lines)


class IntakeService:
    def __init__(self, store: Store, user: User, clock: Clock, geocoder: Geocoder):
        self.store, self.user, self.clock, self.geocoder = store, user, clock, geocoder

    def _context(self) -> ValidationContext:
        return ValidationContext(now=self.clock.now(), geocoder=self.geocoder,
                                 find_order=lambda order_id: self.store.get(Order, order_id))

    def blank(self) -> tuple[Order, Subject]:
        subject = Subject()
        return Order(subject_id=subject.id, received_at=self.clock.now()), subject

    def check(self, order: Order, subject: Subject) -> list[Problem]:
        """Validation only: fast and side-effect free, for live messages in the form."""
        return validate(order, subject, self._context())

    def submit(self, order: Order, subject: Subject, *, source: str = "form",
               extra_problems: list[Problem] = (), held_person: str = "") -> IntakeResult:
        """``held_person``: ``subject`` is a person already held (matched by that identifier),
        whose record stays as it is."""
        if not self.user.can(Permission.ENTER_ORDERS):
            raise AccessDenied(f"{self.user.role.label} accounts cannot enter orders")
        subject = subject if held_person else self._locate(subject)
        order = order.evolve(subject_id=subject.id, received_at=order.received_at or self.clock.now())
        if order.installation.address and not order.installation.address.located:
            order = order.evolve(installation=order.installation.__class__(
                address=self._located(order.installation.address), appointment=order.installation.appointment))
        found = [*extra_problems, *self.check(order, subject)]
        # Warnings stay on the order for the officer to confirm; only errors keep it a draft.
        problems, to_confirm = errors(found), warnings(found)
        order = order.evolve(problems=tuple(found), region=order.region or self._region(order, subject))
        now = self.clock.now()
        if order.status is OrderStatus.DRAFT and not problems:
            order = transition(order, OrderStatus.SUBMITTED, at=now, by=self.user.id, reason=f"accepted at intake ({source})")
        with self.store.transaction():
            saved_subject = subject if held_person else self.store.put(subject, actor=self.user.id)
            saved = self.store.put(order, actor=self.user.id)
            maker = VisitMaker(self.store, self.clock, self.user.id)
            if not problems and order.request_type is RequestType.VARIATION and order.variation:
                varied = self.store.get(Order, order.varies_order_id)
                moved = _new_address(order, varied, self.store.get(Subject, varied.subject_id))
                changes = {"installation": Installation(address=moved)} if moved else {}
                varied = self.store.put(apply_variation(varied, order.variation, **changes), actor=self.user.id)
                # A variation checks the new conditions at the door; a new address is a reinstall.
                maker.varied(varied, address_changed=moved is not None, key=saved.id)
            elif not problems:
                maker.accepted(saved)
        return IntakeResult(order=saved, subject=saved_subject, problems=problems, source=source,
                            person_match=held_person, warnings=to_confirm)

    def import_file(self, path: str | Path, progress: Progress | None = None) -> ImportReport:
        """Import a file in ONE transaction: an interrupted import (Ctrl-C, a crash) leaves the
        store as it was, and running it again is harmless: an order already held (same reference
        from the same issuing body) is reported, not imported twice, and a person already held
        (same PNC, NOMIS, nDelius, prison or Home Office number, or CRO) is matched, not doubled.
        ``progress(orders, bytes_read, bytes_total)`` is called as it goes."""
        if not self.user.can(Permission.ENTER_ORDERS):
            raise AccessDenied(f"{self.user.role.label} accounts cannot enter orders")
        report = ImportReport(file=str(path))
        source_file = ImportFile(path)
        with self.store.transaction():
            for source, data in source_file:
                parsed = parse_intake(data)
                held = self._held_order(parsed.order)
                if held is not None:
                    person = self.store.get(Subject, held.subject_id) or parsed.subject
                    report.results.append(IntakeResult(order=held, subject=person, problems=[], source=source,
                                                       outcome=ALREADY_IMPORTED))
                else:
                    subject, match = self._held_person(parsed.subject)
                    report.results.append(self.submit(parsed.order, subject, source=source,
                                                      extra_problems=list(parsed.problems), held_person=match))
                if progress:
                    progress(len(report.results), source_file.done, source_file.size)
        return report

    def _held_order(self, order: Order) -> Order | None:
        if not order.reference.strip():
            return None
        for held in self.store.find(Order, where={"reference": order.reference}, order_by="id"):
            if held.issuing_body.strip().casefold() == order.issuing_body.strip().casefold():
                return held
        return None

    def _held_person(self, subject: Subject) -> tuple[Subject, str]:
        """The person already held with one of this person's identifiers, and which one."""
        for key in PERSON_KEYS:
            value = getattr(subject.identifiers, key)
            if value and value.strip():
                found = self.store.find_by_field(Subject, f"identifiers.{key}", value.strip(), limit=1)
                if found:
                    return found[0], f"{key} {value.strip()}"
        return subject, ""

    # -- locating addresses ----------------------------------------------------

    def _located(self, address: Address) -> Address:
        if address.located:
            return address
        hit = self.geocoder.locate(address)
        return address.__class__(**{**msgspec.structs.asdict(address), "lat": hit.lat, "lon": hit.lon}) if hit else address

    def _locate(self, subject: Subject) -> Subject:
        return subject.evolve(addresses=tuple(self._located(a) for a in subject.addresses))

    @staticmethod
    def _region(order: Order, subject: Subject) -> str:
        addr = order.installation.address or subject.primary_address
        if addr is None or not addr.located:
            return ""
        nearest = min(TOWNS, key=lambda t: (t.lat - addr.lat) ** 2 + ((t.lon - addr.lon) * 0.6) ** 2)
        return nearest.region


def _address_key(address: Address | None) -> tuple:
    if address is None:
        return ()
    return (tuple(x.strip().casefold() for x in address.lines), address.postcode.replace(" ", "").upper())


def _new_address(variation: Order, varied: Order, subject: Subject | None) -> Address | None:
    """The installation address a variation moves the wearer to, or None if it does not move them."""
    new = variation.installation.address
    if new is None or not (new.lines or new.postcode):
        return None
    held = varied.installation.address or (subject.primary_address if subject else None)
    return None if _address_key(new) == _address_key(held) else new
