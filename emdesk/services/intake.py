"""Order intake: validate at entry, keep every order (invalid ones as drafts), report."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from emdesk.domain.clock import Clock
from emdesk.domain.gazetteer import TOWNS
from emdesk.domain.geocoding import Geocoder
from emdesk.domain.orders import Order, OrderStatus, RequestType, apply_variation, transition
from emdesk.domain.people import Address, Subject
from emdesk.domain.users import Permission, User
from emdesk.domain.validation import Problem, errors, warnings
from emdesk.domain.validation.intake_record import parse_intake
from emdesk.domain.validation.rules import ValidationContext, validate
from emdesk.store import Store

from .errors import AccessDenied
from .import_files import read_import_file


@dataclass(frozen=True)
class IntakeResult:
    order: Order
    subject: Subject
    problems: list[Problem]          # what keeps the order a draft
    source: str = ""
    warnings: list[Problem] = field(default_factory=list)   # to confirm; the order goes ahead

    @property
    def accepted(self) -> bool:
        return not self.problems


@dataclass
class ImportReport:
    file: str
    results: list[IntakeResult] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return sum(r.accepted for r in self.results)

    @property
    def drafts(self) -> int:
        return len(self.results) - self.accepted

    @property
    def ok(self) -> bool:
        return self.drafts == 0

    def as_json(self) -> dict:
        return {
            "file": self.file,
            "summary": {"orders": len(self.results), "accepted": self.accepted, "drafts": self.drafts},
            "orders": [
                {
                    "source": r.source, "reference": r.order.reference, "order_id": r.order.id,
                    "subject_id": r.subject.id, "status": r.order.status.value,
                    "accepted": r.accepted,
                    "problems": [msgspec.to_builtins(p) for p in r.problems],
                    "warnings": [msgspec.to_builtins(p) for p in r.warnings],
                }
                for r in self.results
            ],
        }

    def as_text(self) -> str:
        lines = []
        for r in self.results:
            ref = r.order.reference or "(no reference)"
            if r.accepted:
                lines.append(f"OK     {r.source}  {ref}: accepted as {r.order.status.value}")
                lines.extend(f"         ! {p.field}: {p.message} [{p.code}] (warning)" for p in r.warnings)
            else:
                lines.append(f"DRAFT  {r.source}  {ref}: {len(r.problems)} problem(s), kept as draft")
                lines.extend(f"         - {p.field}: {p.message} [{p.code}]" for p in r.problems)
        lines.append(f"{len(self.results)} order(s): {self.accepted} accepted, {self.drafts} kept as drafts")
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
               extra_problems: list[Problem] = ()) -> IntakeResult:
        if not self.user.can(Permission.ENTER_ORDERS):
            raise AccessDenied(f"{self.user.role.label} accounts cannot enter orders")
        subject = self._locate(subject)
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
            saved_subject = self.store.put(subject, actor=self.user.id)
            saved = self.store.put(order, actor=self.user.id)
            if not problems and order.request_type is RequestType.VARIATION and order.variation:
                varied = self.store.get(Order, order.varies_order_id)
                self.store.put(apply_variation(varied, order.variation), actor=self.user.id)
        return IntakeResult(order=saved, subject=saved_subject, problems=problems, source=source,
                            warnings=to_confirm)

    def import_file(self, path: str | Path) -> ImportReport:
        report = ImportReport(file=str(path))
        for source, data in read_import_file(path):
            parsed = parse_intake(data)
            report.results.append(self.submit(parsed.order, parsed.subject, source=source,
                                              extra_problems=list(parsed.problems)))
        return report

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
