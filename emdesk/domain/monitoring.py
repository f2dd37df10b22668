"""Telemetry, alerts, incidents, breach packs and breach outcomes.

Telemetry is not a record: it lives in its own narrow log (see ``emdesk/store/telemetry.py``);
``TelemetryEvent`` remains as the typed form of one event for code that wants it.
"""
from __future__ import annotations

from datetime import datetime
from enum import Enum

import msgspec

from .orders import Responder
from .records import Record


class EventKind(str, Enum):
    """What a device can report (``docs/telemetry.md`` has an example of each).

    ``value`` carries: ``battery_level`` percent; ``alcohol_reading`` mg of alcohol per
    100 ml of blood equivalent; ``checkin`` 1 for a biometric match, 0 for a failed one.
    """

    POSITION = "position"
    HMU_RANGE_IN = "hmu_range_in"          # the tag came into its home unit's range
    HMU_RANGE_OUT = "hmu_range_out"        # ... and left it
    HMU_POWER_OFF = "hmu_power_off"        # home unit off mains (it runs on its battery)
    HMU_POWER_ON = "hmu_power_on"
    HMU_MOVED = "hmu_moved"                # the home unit's tilt/location sensor
    STRAP_TAMPER = "strap_tamper"
    BODY_TAMPER = "body_tamper"            # the tag lost skin contact / proximity
    CASE_TAMPER = "case_tamper"
    BATTERY_LEVEL = "battery_level"
    BATTERY_LOW = "battery_low"
    BATTERY_DEAD = "battery_dead"          # the last word of a device that is shutting down
    CHARGING = "charging"
    DEVICE_FAULT = "device_fault"
    COMMS_LOST = "comms_lost"
    COMMS_RESTORED = "comms_restored"
    NO_FIX = "no_fix"                      # the tag reports in but has no satellite fix
    ALCOHOL_READING = "alcohol_reading"
    CHECKIN = "checkin"


# Event kinds that carry a position (lat, lon, hdop, speed).
POSITIONED = frozenset({EventKind.POSITION})


class TelemetryEvent(Record, frozen=True, kw_only=True):
    """Append-only: ids are made by the device, so duplicates are ignored on sync."""

    table = "telemetry"

    device_serial: str
    order_id: str | None = None
    at: datetime
    kind: EventKind
    lat: float | None = None
    lon: float | None = None
    hdop: float | None = None
    value: float | None = None       # alcohol reading, battery level...
    detail: str = ""


class AlertStatus(str, Enum):
    """Forward-only: an alert never goes back to an earlier status."""

    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_REVIEW = "in_review"
    CLOSED = "closed"


ALERT_ORDER = [AlertStatus.NEW, AlertStatus.ACKNOWLEDGED, AlertStatus.IN_REVIEW, AlertStatus.CLOSED]


class Alert(Record, frozen=True, kw_only=True):
    """One rule's finding (a Hit, stored): the evidence an incident is built from."""

    table = "alerts"

    order_id: str
    subject_id: str
    kind: EventKind | None = None       # the device event behind it, where there is one
    code: str = ""                      # UK code (AL08...) or emdesk's own (ZONE-EXCLUSION-ENTRY...)
    condition: str = ""
    raised_at: datetime                 # when the violation began
    ended_at: datetime | None = None
    incident_id: str | None = None
    status: AlertStatus = AlertStatus.NEW
    risk_score: float = 0.0
    reasons: tuple[str, ...] = ()       # why it ranks where it does, in words
    technical_cause: bool = False       # likely equipment/software, not the wearer
    certain: bool = True
    confidence: float = 1.0
    detail: str = ""
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None


class IncidentStatus(str, Enum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    AUTO_CLOSED = "auto_closed"         # technical, closed by the engine (kept; can be reopened)
    CLOSED = "closed"
    ESCALATED = "escalated"


class ExcuseKind(str, Enum):
    REASONABLE_EXCUSE = "reasonable_excuse"
    AUTHORISED_ABSENCE = "authorised_absence"


class Excuse(msgspec.Struct, frozen=True, kw_only=True):
    """Time an operator accepted: it comes off the accumulated violation."""

    kind: ExcuseKind
    start: datetime
    end: datetime
    reason: str
    by: str = ""
    at: datetime | None = None


class IncidentChange(msgspec.Struct, frozen=True, kw_only=True):
    at: datetime
    status: IncidentStatus
    by: str = ""                        # "engine" for the engine's own decisions
    reason: str = ""


class Incident(Record, frozen=True, kw_only=True):
    """One continuous violation (or technical episode) in a 07:00-06:59 period."""

    table = "incidents"

    order_id: str
    subject_id: str
    reference: str = ""                 # the order's reference, for lists and packs
    region: str = ""
    condition: str
    codes: tuple[str, ...] = ()
    period_start: datetime
    started_at: datetime
    ended_at: datetime | None = None    # None: still going when last evaluated
    seconds: float = 0.0                # real elapsed time (clock changes count as they happened), less excuses
    period_seconds: float = 0.0         # the order's accumulated violation over this period (genuine, less excuses)
    status: IncidentStatus = IncidentStatus.OPEN
    priority: int = 0
    reasons: tuple[str, ...] = ()
    technical: bool = False
    classified_by: str = ""             # who judged it genuine or technical (then the engine keeps ``technical``)
    confidence: float = 1.0
    certain: bool = True
    depth_m: float = 0.0
    detail: str = ""
    alert_ids: tuple[str, ...] = ()
    serious: bool = False
    excuses: tuple[Excuse, ...] = ()
    history: tuple[IncidentChange, ...] = ()
    evaluated_at: datetime | None = None


class PackTemplate(str, Enum):
    BAIL = "bail"               # court bail: the police decide (RADU)
    NON_BAIL = "non_bail"       # licence, sentence, immigration: probation or the Home Office


class BreachPackStatus(str, Enum):
    DRAFT = "draft"             # built, not yet issued
    SENT = "sent"               # issued to the responsible agency
    ACKNOWLEDGED = "acknowledged"   # the agency has received it (RADU: Receive)
    SUPERSEDED = "superseded"   # an amended version replaced it (kept, never deleted)


class BreachPack(Record, frozen=True, kw_only=True):
    """One version of a breach pack.  Amending adds a row (``version`` + 1, the same
    ``pack_id``) and marks the old one superseded: an issued version is never rewritten."""

    table = "breach_packs"

    pack_id: str = ""                   # the same across versions ("BP-" + 8 characters)
    version: int = 1
    incident_id: str                    # the first incident (the deadlines run from it)
    incident_ids: tuple[str, ...] = ()  # every incident the pack covers, in time order
    order_id: str
    subject_id: str = ""
    reference: str = ""                 # the order's reference (file names use it)
    region: str = ""
    responder: Responder
    template: PackTemplate
    special: bool = False               # a specials case: the shorter contracted deadlines
    breach_at: datetime | None = None   # when the first incident started
    notification_due: datetime
    pack_due: datetime
    status: BreachPackStatus = BreachPackStatus.DRAFT
    notified_at: datetime | None = None     # the agency was told of the breach (escalation)
    built_at: datetime | None = None
    built_by: str = ""
    sent_at: datetime | None = None         # issued
    issued_to: str = ""                     # the agency contact it went to (from the order)
    issued_by: str = ""
    amends: str = ""                        # the id of the version this one replaces
    amend_reason: str = ""
    document_sha256: str = ""               # the JSON document's ``sha256`` field
    pdf_sha256: str = ""                    # the PDF's embedded hash
    document: str = ""                      # the JSON document itself (canonical, with its sha256)


class BreachOutcomeCode(str, Enum):
    NO_FURTHER_ACTION = "no_further_action"
    ENGAGE = "engage"
    ADJUST_CONDITIONS = "adjust_conditions"
    FORMAL_WARNING = "formal_warning"
    RECALL = "recall"
    RETURN_TO_COURT = "return_to_court"
    BAIL_SAME_CONDITIONS = "bail_same_conditions"
    BAIL_AMENDED = "bail_amended"
    REMAND = "remand"
    PRIORITISE_CASEWORK = "prioritise_casework"
    DETENTION = "detention"
    ARREST = "arrest"
    PROSECUTION = "prosecution"


class RaduStep(str, Enum):
    """The police's process for a breach (NAO note 4): Receive, Assess, Decide, Update."""

    RECEIVE = "receive"
    ASSESS = "assess"
    DECIDE = "decide"
    UPDATE = "update"


class ResponseStep(msgspec.Struct, frozen=True, kw_only=True):
    step: RaduStep
    at: datetime                        # the hub's/desktop's clock when recorded, never the client's say
    by: str = ""                        # user id
    note: str = ""


class BreachOutcome(Record, frozen=True, kw_only=True):
    """The responsible agency's response to one breach pack (all its versions): the RADU
    steps as they happen (police) and the decision.  ``code`` stays None until decided."""

    table = "outcomes"

    incident_id: str
    order_id: str
    pack_id: str = ""
    subject_id: str = ""
    region: str = ""
    responder: Responder
    code: BreachOutcomeCode | None = None
    decided_at: datetime | None = None
    decided_by: str = ""
    notes: str = ""
    steps: tuple[ResponseStep, ...] = ()


class Note(Record, frozen=True, kw_only=True):
    """Free-text case notes: append-only, never edited."""

    table = "notes"

    subject_id: str
    order_id: str | None = None
    author_id: str = ""
    at: datetime
    text: str
