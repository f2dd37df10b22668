"""Telemetry, alerts, incidents, breach packs and breach outcomes.

The monitoring engine and breach packs come in later work; the types are fixed now
so the store and sync carry them from the start.
"""
from __future__ import annotations

from datetime import datetime
from enum import Enum

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
    table = "alerts"

    order_id: str
    subject_id: str
    kind: EventKind
    raised_at: datetime
    status: AlertStatus = AlertStatus.NEW
    risk_score: float = 0.0
    reasons: tuple[str, ...] = ()       # why it ranks where it does, in words
    technical_cause: bool = False       # likely equipment/software, not the wearer
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None


class Incident(Record, frozen=True, kw_only=True):
    """A violation in one rolling 07:00-06:59 period, built from alerts."""

    table = "incidents"

    order_id: str
    subject_id: str
    condition: str
    period_start: datetime
    started_at: datetime
    ended_at: datetime | None = None
    alert_ids: tuple[str, ...] = ()
    serious: bool = False


class PackTemplate(str, Enum):
    BAIL = "bail"
    NON_BAIL = "non_bail"


class BreachPackStatus(str, Enum):
    DRAFT = "draft"
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"


class BreachPack(Record, frozen=True, kw_only=True):
    table = "breach_packs"

    incident_id: str
    order_id: str
    responder: Responder
    template: PackTemplate
    notification_due: datetime
    pack_due: datetime
    status: BreachPackStatus = BreachPackStatus.DRAFT
    notified_at: datetime | None = None
    sent_at: datetime | None = None
    document_sha256: str = ""


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


class BreachOutcome(Record, frozen=True, kw_only=True):
    table = "outcomes"

    incident_id: str
    order_id: str
    responder: Responder
    code: BreachOutcomeCode
    decided_at: datetime
    notes: str = ""


class Note(Record, frozen=True, kw_only=True):
    """Free-text case notes: append-only, never edited."""

    table = "notes"

    subject_id: str
    order_id: str | None = None
    author_id: str = ""
    at: datetime
    text: str
