"""Intake rules about the case around the order: people, installation, paperwork, requests (see rules.py)."""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

from ..clock import LONDON
from ..orders import Cohort, DocumentKind, Order, OrderStatus, RequestType
from .draft import Draft, text_of, tuple_of
from .phones import phone_defect
from .table import Finding, rule

# People around the order --------------------------------------------------------

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@rule("SUBJ-PHONE-INVALID", "subject.{phone,responsible_adult.phone}",
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


@rule("OFFICER-NAME-MISSING", "order.responsible_officer.name", "The responsible officer's name.")
def _officer_name(d: Draft) -> Iterator[Finding]:
    if not text_of(getattr(d.of_order("responsible_officer"), "name", None)):
        yield "Responsible officer's name is missing: enter who the monitoring centre reports breaches to."


@rule("OFFICER-ORG-MISSING", "order.responsible_officer.organisation", "The responsible officer's organisation.")
def _officer_org(d: Draft) -> Iterator[Finding]:
    if not text_of(getattr(d.of_order("responsible_officer"), "organisation", None)):
        yield "Responsible officer's organisation is missing: enter their probation office, police force or team."


@rule("OFFICER-CONTACT-MISSING", "order.responsible_officer.phone",
       "A phone number or email for the responsible officer.")
def _officer_contact(d: Draft) -> Iterator[Finding]:
    officer = d.of_order("responsible_officer")
    if not text_of(getattr(officer, "phone", None)) and not text_of(getattr(officer, "email", None)):
        yield "No way to reach the responsible officer: enter their phone number or email."


@rule("OFFICER-CONTACT-FORMAT", "order.responsible_officer.{phone,email}",
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


@rule("INSTALL-APPT-PAST", "order.installation.appointment", "The installation appointment is not in the past.")
def _appointment_past(d: Draft) -> Iterator[Finding]:
    at = getattr(d.of_order("installation"), "appointment", None)
    if not isinstance(at, datetime):
        return
    aware = at.replace(tzinfo=LONDON) if at.tzinfo is None else at
    if aware < d.now:
        yield (f"Installation appointment {aware.astimezone(LONDON):%d %b %Y %H:%M} has already passed: "
               f"book a new appointment.")


@rule("DOC-LICENCE-MISSING", "order.documents", "A post-release order (new or varied) comes with its licence.")
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


@rule("REQ-VARIES-MISSING", "order.varies_order_id",
       "A variation, end or reinstall request names the order it applies to.")
def _varies_missing(d: Draft) -> Iterator[Finding]:
    if d.request in _NEEDS_EXISTING and not text_of(d.of_order("varies_order_id")):
        yield (f"A {d.request.value} request must name the existing order it applies to: enter that "
               f"order's id.")


@rule("REQ-VARIES-UNKNOWN", "order.varies_order_id", "The order named by a variation, end or reinstall exists.")
def _varies_unknown(d: Draft) -> Iterator[Finding]:
    ref = text_of(d.of_order("varies_order_id"))
    if d.request in _NEEDS_EXISTING and ref and _existing(d) is None:
        yield f"No order '{ref}' is known: check the id with the notifying body."


@rule("REQ-VARIES-NOT-ACTIVE", "order.varies_order_id",
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


@rule("REQ-VARIATION-CHANGES", "order.variation.changes", "A variation says what it changes.")
def _variation_changes(d: Draft) -> Iterator[Finding]:
    if d.request is RequestType.VARIATION and not text_of(getattr(d.of_order("variation"), "changes", None)):
        yield "The variation does not say what changes: describe it, e.g. 'curfew now 20:00-06:00'."


@rule("REQ-VARIATION-EFFECTIVE", "order.variation.effective_from", "A variation says from when it applies.")
def _variation_effective(d: Draft) -> Iterator[Finding]:
    effective = getattr(d.of_order("variation"), "effective_from", None)
    if d.request is RequestType.VARIATION and not isinstance(effective, datetime):
        yield "The variation does not say when it takes effect: enter the date and time from the order."
