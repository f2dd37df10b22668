"""Intake rules about the order itself: dates, cohort, issuer, officer (see rules.py)."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from ..orders import Cohort, OrderType, RequestType
from .draft import Draft, text_of, tuple_of
from .table import COMMUNITY_ORDER_MIN_AGE, CURFEW_MAX_YEARS, EM_BAIL_MIN_AGE, MIN_AGE, age_on, Finding, rule

# Order details ------------------------------------------------------------------


@rule("ORD-REFERENCE-MISSING", "reference", "The notifying body's own reference for the order.")
def _reference_missing(d: Draft) -> Iterator[Finding]:
    if not text_of(d.of_order("reference")):
        yield ("Order reference is missing: enter the notifying body's reference so breaches can be "
               "reported against it.")


@rule("ORD-COHORT-MISSING", "order.cohort", "The cohort (post-release, court bail, immigration, ...).")
def _cohort_missing(d: Draft) -> Iterator[Finding]:
    if d.cohort is None:
        # Labels for the form, codes for whoever writes import files.
        allowed = ", ".join(f"{c.label.lower()} ({c.value})" for c in Cohort)
        yield f"Cohort is missing: choose one of {allowed}; it decides who responds to breaches."


@rule("ORD-TYPE-COHORT", "order.order_type", "The order type, if given, belongs to the cohort.")
def _type_cohort(d: Draft) -> Iterator[Finding]:
    if d.cohort is not None and d.order_type is not None and d.order_type.cohort is not d.cohort:
        fitting = ", ".join(t.value for t in OrderType if t.cohort is d.cohort)
        yield (f"Order type {d.order_type.value} is a {d.order_type.cohort.label.lower()} order, not "
               f"{d.cohort.label.lower()}: choose one of {fitting}, or correct the cohort.")


@rule("ORD-ISSUER-MISSING", "order.issuing_body",
       "The court, prison, Parole Board or Home Office that made the order.")
def _issuer_missing(d: Draft) -> Iterator[Finding]:
    if not text_of(d.of_order("issuing_body")):
        yield "Issuing body is missing: enter the court, prison or authority that made the order."


@rule("ORD-NOTIFIER-MISSING", "order.notifying_organisation", "The organisation that sent the order.")
def _notifier_missing(d: Draft) -> Iterator[Finding]:
    if not text_of(d.of_order("notifying_organisation")):
        yield "Notifying organisation is missing: enter who sent the order, so queries go back to them."


@rule("ORD-CONDITIONS-MISSING", "order.conditions",
       "A new order, variation or reinstall imposes at least one monitored condition.")
def _conditions_missing(d: Draft) -> Iterator[Finding]:
    if d.restates_conditions and not d.monitors_something:
        yield ("The order imposes nothing to monitor: add its curfew, zones, location monitoring, alcohol "
               "monitoring or check-ins as written on the order.")


@rule("ORD-START-MISSING", "order.start", "The start date (not needed on an end request).")
def _start_missing(d: Draft) -> Iterator[Finding]:
    if d.start is None and d.restates_conditions:
        yield "Start date is missing: enter the date monitoring starts, from the order."


@rule("ORD-END-MISSING", "order.end",
       "The end date, on an end request and on a curfew order that is not bail (bail runs to the next hearing).")
def _end_missing(d: Draft) -> Iterator[Finding]:
    if d.end is not None:
        return
    if d.request is RequestType.END:
        yield "End date is missing: an end request must say on which date monitoring ends."
    elif d.curfew is not None and d.cohort in (Cohort.POST_RELEASE, Cohort.COURT_SENTENCE, Cohort.SPECIALS):
        yield (f"End date is missing: a curfew order must say when it ends (at most {CURFEW_MAX_YEARS} "
               f"years after the start); enter it from the order.")


@rule("ORD-DATES-ORDER", "order.end", "The end date is after the start date.")
def _dates_order(d: Draft) -> Iterator[Finding]:
    if d.start and d.end and d.end <= d.start:
        yield (f"End date {d.end.isoformat()} is not after start date {d.start.isoformat()}: check both "
               f"dates against the order.")


@rule("ORD-START-PAST", "order.start", "A new order does not start in the past.")
def _start_past(d: Draft) -> Iterator[Finding]:
    if d.request is RequestType.NEW and d.start and d.start < d.today:
        yield (f"Start date {d.start.isoformat()} is in the past: a new order starts today or later; check "
               f"the date, or treat it as a late order with the notifying body.")


def _age_at_start(d: Draft) -> tuple[int, date] | None:
    on = d.start or d.today
    age = age_on(d, on)
    if age is None or d.dob > d.today or age < MIN_AGE:
        return None          # SUBJ-DOB-MISSING or SUBJ-DOB-IMPLAUSIBLE says what is wrong
    return age, on


@rule("ORD-COMMUNITY-UNDER-18", "order.order_type",
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


@rule("ORD-BAIL-UNDER-12", "order.order_type",
       f"Electronically monitored bail is for a child aged {EM_BAIL_MIN_AGE} or over (Bail Act 1976 s.3AA).")
def _bail_under_12(d: Draft) -> Iterator[Finding]:
    found = _age_at_start(d)
    bail = d.order_type is OrderType.COURT_BAIL or (d.order_type is None and d.cohort is Cohort.COURT_BAIL)
    if bail and found and found[0] < EM_BAIL_MIN_AGE:
        age, on = found
        yield (f"A child on bail can only be electronically monitored from the age of {EM_BAIL_MIN_AGE} (Bail "
               f"Act 1976 s.3AA), but the wearer is {age} on {on.isoformat()}: check the date of birth with "
               f"the court, or return the order to the court.")


@rule("ORD-APPOINTMENT-PURPOSE-MISSING", "order.attendance_appointments[i].purpose",
       "Every attendance appointment says what it is for.")
def _appointment_purpose(d: Draft) -> Iterator[Finding]:
    for i, appointment in enumerate(tuple_of(d.of_order("attendance_appointments"))):
        if not text_of(getattr(appointment, "purpose", None)):
            yield (f"order.attendance_appointments[{i}].purpose",
                   f"Attendance appointment {i + 1} has no purpose: enter what it is for as the order says "
                   f"(e.g. 'induction at the probation office'), so the wearer and officer know why to attend.")
