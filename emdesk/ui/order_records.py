"""The Order and Subject an order form holds, built from its fields as typed so far."""
from __future__ import annotations

from PySide6.QtWidgets import QLineEdit

from emdesk.domain.conditions import AlcoholMode, AlcoholMonitoring, CheckIns, Conditions, LocationMonitoring
from emdesk.domain.devices import DeviceKind
from emdesk.domain.orders import Cohort, Document, DocumentKind, Installation, Order, OrderType, ResponsibleOfficer
from emdesk.domain.people import Address, AddressKind, Identifiers, ResponsibleAdult, Sex, Subject
from emdesk.domain.validation.problems import Problem

from .form_parsing import FormValueError, form_problem, parse_curfew_text, parse_date, parse_local_datetime
from .form_widgets import chosen as _chosen
from .form_widgets import opt as _opt
from .form_widgets import text as _text


def build_records(form) -> tuple[Order, Subject, list[Problem]]:
    """The records as typed so far, and what could not even be read."""
    unreadable: list[Problem] = []

    def read(path: str, parse, edit: QLineEdit):
        try:
            return parse(edit.text())
        except FormValueError as exc:
            unreadable.append(form_problem(path, exc))
            return None

    lines = tuple(t for t in (_text(form.address_1), _text(form.address_2)) if t)
    address = Address(kind=AddressKind.PRIMARY, lines=lines, town=_text(form.town),
                      postcode=_text(form.postcode).upper())
    has_address = bool(lines or address.town or address.postcode)
    adult = ResponsibleAdult(name=_text(form.adult_name), relationship=_text(form.adult_relationship),
                             phone=_text(form.adult_phone))
    subject = form._subject.evolve(
        given_name=_text(form.given_name), family_name=_text(form.family_name),
        date_of_birth=read("subject.date_of_birth", parse_date, form.date_of_birth),
        sex=_chosen(form.sex, Sex), phone=_opt(form.phone),
        identifiers=Identifiers(pnc=_opt(form.pnc), nomis=_opt(form.nomis), delius_crn=_opt(form.delius),
                                prison_number=_opt(form.prison_number),
                                home_office_ref=_opt(form.home_office_ref)),
        language=_opt(form.language), interpreter_needed=form.interpreter.isChecked(),
        responsible_adult=adult if (adult.name or adult.relationship or adult.phone) else None,
        addresses=(address,) if has_address else (),
    )

    kinds = tuple(k for k, box in form.device_boxes.items() if box.isChecked())
    curfew = read("order.conditions.curfew", parse_curfew_text, form.curfew)
    # The devices chosen imply what is monitored beyond the curfew.
    conditions = Conditions(
        curfew=curfew,
        location=LocationMonitoring() if DeviceKind.GPS_TAG in kinds else None,
        alcohol=AlcoholMonitoring(mode=_chosen(form.alcohol_mode, AlcoholMode))
        if DeviceKind.ALCOHOL_TAG in kinds else None,
        checkins=CheckIns() if DeviceKind.NON_FITTED in kinds else None,
    )
    documents = ()
    if form.licence.isChecked():
        documents = (Document(kind=DocumentKind.LICENCE, name="Licence (received with the order)",
                              received_at=form.ctx.clock.now()),)
    order = form._order.evolve(
        subject_id=subject.id,
        reference=_text(form.reference),
        order_type=_chosen(form.order_type, OrderType), cohort=_chosen(form.cohort, Cohort),
        issuing_body=_text(form.issuing_body), notifying_organisation=_text(form.notifying_org),
        responsible_officer=ResponsibleOfficer(
            name=_text(form.officer_name), organisation=_text(form.officer_org),
            phone=_text(form.officer_phone), email=_text(form.officer_email)),
        start=read("order.start", parse_date, form.start),
        end=read("order.end", parse_date, form.end),
        installation=Installation(appointment=read("order.installation.appointment",
                                                   parse_local_datetime, form.appointment)),
        conditions=conditions, device_kinds=kinds, documents=documents,
    )
    return order, subject, unreadable
