"""Orders: who is monitored, by whom, under which conditions, and the lifecycle."""
from __future__ import annotations

from datetime import date, datetime
from enum import Enum

import msgspec

from .conditions import Conditions
from .devices import DeviceKind
from .people import Address
from .records import Record
from .validation.problems import Problem


class Cohort(str, Enum):
    POST_RELEASE = "post_release"
    COURT_BAIL = "court_bail"
    IMMIGRATION = "immigration"
    COURT_SENTENCE = "court_sentence"
    SPECIALS = "specials"

    @property
    def label(self) -> str:
        return {
            "post_release": "Post-release",
            "court_bail": "Court bail",
            "immigration": "Immigration bail",
            "court_sentence": "Court sentence",
            "specials": "Specials",
        }[self.value]


class Responder(str, Enum):
    """Who acts on a breach (NAO Figure 1)."""

    POLICE = "police"
    PROBATION = "probation"
    HOME_OFFICE = "home_office"


class OrderType(str, Enum):
    """The legal basis, finer than the cohort; some rules depend on it (HDC)."""

    LICENCE = "licence"
    HDC = "hdc"                       # home detention curfew
    COURT_BAIL = "court_bail"
    IMMIGRATION_BAIL = "immigration_bail"
    COMMUNITY_ORDER = "community_order"
    SUSPENDED_SENTENCE = "suspended_sentence"
    MAPPA = "mappa"
    TPIM = "tpim"
    SIAC = "siac"

    @property
    def cohort(self) -> Cohort:
        return _TYPE_COHORT[self]


_TYPE_COHORT = {
    OrderType.LICENCE: Cohort.POST_RELEASE,
    OrderType.HDC: Cohort.POST_RELEASE,
    OrderType.COURT_BAIL: Cohort.COURT_BAIL,
    OrderType.IMMIGRATION_BAIL: Cohort.IMMIGRATION,
    OrderType.COMMUNITY_ORDER: Cohort.COURT_SENTENCE,
    OrderType.SUSPENDED_SENTENCE: Cohort.COURT_SENTENCE,
    OrderType.MAPPA: Cohort.SPECIALS,
    OrderType.TPIM: Cohort.SPECIALS,
    OrderType.SIAC: Cohort.SPECIALS,
}

# Specials are answered by whichever agency leads the case.
_SPECIALS_RESPONDER = {
    OrderType.MAPPA: Responder.PROBATION,
    OrderType.TPIM: Responder.POLICE,
    OrderType.SIAC: Responder.HOME_OFFICE,
}

_COHORT_RESPONDER = {
    Cohort.POST_RELEASE: Responder.PROBATION,
    Cohort.COURT_BAIL: Responder.POLICE,
    Cohort.IMMIGRATION: Responder.HOME_OFFICE,
    Cohort.COURT_SENTENCE: Responder.PROBATION,
    Cohort.SPECIALS: Responder.POLICE,
}


def responder_for(cohort: Cohort, order_type: OrderType | None = None) -> Responder:
    if cohort is Cohort.SPECIALS and order_type in _SPECIALS_RESPONDER:
        return _SPECIALS_RESPONDER[order_type]
    return _COHORT_RESPONDER[cohort]


class RequestType(str, Enum):
    NEW = "new"
    VARIATION = "variation"
    REINSTALL = "reinstall"
    END = "end"


class RiskLevel(str, Enum):
    """The wearer's assessed risk of serious harm (probation's RoSH scale), where known."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    VERY_HIGH = "very_high"


class OrderStatus(str, Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    ACTIVE = "active"
    ENDED = "ended"
    REVOKED = "revoked"


# Allowed lifecycle moves; anything else is refused by ``transition``.
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.DRAFT: frozenset({OrderStatus.SUBMITTED, OrderStatus.REVOKED}),
    OrderStatus.SUBMITTED: frozenset({OrderStatus.ACTIVE, OrderStatus.DRAFT, OrderStatus.REVOKED}),
    OrderStatus.ACTIVE: frozenset({OrderStatus.ENDED, OrderStatus.REVOKED}),
    OrderStatus.ENDED: frozenset(),
    OrderStatus.REVOKED: frozenset(),
}


class ResponsibleOfficer(msgspec.Struct, frozen=True, kw_only=True):
    name: str = ""
    organisation: str = ""
    phone: str = ""
    email: str = ""


class DocumentKind(str, Enum):
    LICENCE = "licence"
    PHOTO = "photo"
    COURT_ORDER = "court_order"
    BAIL_NOTICE = "bail_notice"
    OTHER = "other"


class Document(msgspec.Struct, frozen=True, kw_only=True):
    kind: DocumentKind
    name: str
    sha256: str = ""
    received_at: datetime | None = None


class Appointment(msgspec.Struct, frozen=True, kw_only=True):
    at: datetime
    place: str = ""
    purpose: str = ""


class Installation(msgspec.Struct, frozen=True, kw_only=True):
    address: Address | None = None
    appointment: datetime | None = None


class Variation(msgspec.Struct, frozen=True, kw_only=True):
    """What a variation changes on an existing order, and from when."""

    changes: str = ""
    effective_from: datetime | None = None
    recorded_at: datetime | None = None


class StatusChange(msgspec.Struct, frozen=True, kw_only=True):
    at: datetime
    from_status: OrderStatus
    to_status: OrderStatus
    by: str = ""
    reason: str = ""


class Order(Record, frozen=True, kw_only=True):
    table = "orders"

    reference: str = ""                 # the notifying body's own reference
    subject_id: str = ""
    cohort: Cohort | None = None
    order_type: OrderType | None = None
    issuing_body: str = ""
    notifying_organisation: str = ""
    responsible_officer: ResponsibleOfficer = msgspec.field(default_factory=ResponsibleOfficer)
    request_type: RequestType = RequestType.NEW
    varies_order_id: str | None = None
    variation: Variation | None = None
    installation: Installation = msgspec.field(default_factory=Installation)
    attendance_appointments: tuple[Appointment, ...] = ()
    documents: tuple[Document, ...] = ()
    received_at: datetime | None = None
    start: date | None = None
    end: date | None = None
    status: OrderStatus = OrderStatus.DRAFT
    history: tuple[StatusChange, ...] = ()
    variations: tuple[Variation, ...] = ()
    conditions: Conditions = msgspec.field(default_factory=Conditions)
    device_kinds: tuple[DeviceKind, ...] = ()
    # Serials of the equipment fitted for this order, as recorded at installation.
    device_serials: tuple[str, ...] = ()
    assigned_officer_id: str | None = None   # the EM field officer holding the case
    region: str = ""
    risk_level: RiskLevel | None = None      # drives the priority of this wearer's incidents
    # What intake found wrong, kept with the order so a draft shows why it is a draft.
    problems: tuple[Problem, ...] = ()

    @property
    def responder(self) -> Responder | None:
        return responder_for(self.cohort, self.order_type) if self.cohort else None

    def has_document(self, kind: DocumentKind) -> bool:
        return any(d.kind == kind for d in self.documents)


class TransitionError(ValueError):
    pass


def transition(order: Order, to: OrderStatus, *, at: datetime, by: str = "", reason: str = "") -> Order:
    """Move an order along its lifecycle, keeping the history; refuses illegal moves."""
    if to not in TRANSITIONS[order.status]:
        allowed = ", ".join(s.value for s in sorted(TRANSITIONS[order.status], key=lambda s: s.value)) or "none"
        raise TransitionError(
            f"order {order.reference or order.id}: cannot go from {order.status.value} to {to.value} "
            f"(allowed: {allowed})"
        )
    change = StatusChange(at=at, from_status=order.status, to_status=to, by=by, reason=reason)
    return order.evolve(status=to, history=(*order.history, change))


def apply_variation(order: Order, variation: Variation, **changes) -> Order:
    """An active order varied in place, the variation kept in its history."""
    if order.status is not OrderStatus.ACTIVE:
        raise TransitionError(f"order {order.reference or order.id}: only an active order can be varied")
    return order.evolve(variations=(*order.variations, variation), **changes)
