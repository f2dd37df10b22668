"""The breach pack as a document: what a pack says, independent of how it is printed.

The pack service (``services/packs.py``) fills a ``PackDocument`` from the store; the
renderers turn the same document into the JSON for systems and the PDF for people, so the
two never disagree.  Times are aware datetimes (UTC in the JSON; the PDF prints UK time).

The JSON form is the canonical form (RFC 8785) of this document; its ``sha256`` is the
SHA-256 of that canonical form without the ``sha256`` field.
"""
from __future__ import annotations

from datetime import date, datetime

import msgspec

SCHEMA = "emdesk.breach-pack/1"


class Fact(msgspec.Struct, frozen=True, kw_only=True):
    """One line of the decision summary: a label and what it says."""

    label: str
    value: str


class Agency(msgspec.Struct, frozen=True, kw_only=True):
    """Who must decide, from the order: the responsible agency and its contact."""

    responder: str                  # "police" | "probation" | "home_office"
    name: str                       # "Police", "Probation Service", "Home Office"
    organisation: str = ""          # the order's responsible officer's organisation
    contact: str = ""               # the responsible officer's name
    phone: str = ""
    email: str = ""


class PackSubject(msgspec.Struct, frozen=True, kw_only=True):
    subject_id: str
    name: str
    date_of_birth: date | None = None
    address: str = ""               # the curfew address, one line
    aliases: tuple[str, ...] = ()
    risk_level: str = ""
    risk_notes: str = ""


class PackOrder(msgspec.Struct, frozen=True, kw_only=True):
    order_id: str
    reference: str
    cohort: str                     # label ("Court bail"...)
    order_type: str = ""
    issuing_body: str = ""
    start: date | None = None
    end: date | None = None
    conditions: tuple[str, ...] = ()    # each condition in words ("Curfew 19:00-07:00 every day at ...")
    devices: tuple[str, ...] = ()       # "GPS tag T-123", "Home unit H-456"


class Summary(msgspec.Struct, frozen=True, kw_only=True):
    """The one-page decision summary."""

    headline: str                   # one sentence: who breached what, when, for how long
    who: str
    condition: str                  # the condition breached, in words
    started_at: datetime
    ended_at: datetime | None       # None: still going when the pack was built
    duration_seconds: int           # this breach (all the pack's incidents), less excuses
    period_seconds: int             # the accumulated violation over the period(s)
    not_technical: str              # how sure we are it is not technical, and why
    confidence: str                 # "high" | "medium" | "low"
    risk: str                       # the wearer's risk and why this breach matters
    decision: str                   # what the responsible agency must decide
    respond_by: datetime | None     # by when (None: no deadline applies)
    notification_due: datetime
    pack_due: datetime
    special: bool = False
    facts: tuple[Fact, ...] = ()    # extra summary lines in order


class PackIncident(msgspec.Struct, frozen=True, kw_only=True):
    incident_id: str
    condition: str
    codes: tuple[str, ...] = ()
    period_start: datetime
    started_at: datetime
    ended_at: datetime | None = None
    seconds: int = 0
    period_seconds: int = 0
    status: str = ""
    priority: int = 0
    reasons: tuple[str, ...] = ()
    detail: str = ""
    excuses: tuple[str, ...] = ()    # each excuse in words
    decided_by: str = ""             # who escalated it (display name)


class TimelineEntry(msgspec.Struct, frozen=True, kw_only=True):
    at: datetime
    kind: str                        # "fix" | "alert" | "incident" | "device" | "zone" | "note" | "action"
    text: str


class HealthReading(msgspec.Struct, frozen=True, kw_only=True):
    """Device health around the incident: what rules a technical cause in or out."""

    serial: str
    kind: str
    battery: str = ""                # "82% at 06:10, not low"
    comms: str = ""                  # "in contact throughout (last 06:58)"
    tamper: str = ""                 # "no strap, body or case tamper"
    home_unit: str = ""              # "on mains, in range" (RF)
    verdict: str = ""                # "rules out a technical cause" / "a technical cause is possible: ..."


class PastBreach(msgspec.Struct, frozen=True, kw_only=True):
    incident_id: str
    started_at: datetime
    condition: str
    seconds: int = 0
    pack_id: str = ""
    outcome: str = ""                # the recorded outcome in words, or "" (none yet)


class PackMap(msgspec.Struct, frozen=True, kw_only=True):
    """The map of the trail and zones over the violation window (a PNG, base64)."""

    start: datetime
    end: datetime
    png_base64: str = ""             # "" when no map could be drawn: ``note`` says why
    caption: str = ""
    note: str = ""


class Amendment(msgspec.Struct, frozen=True, kw_only=True):
    previous_version: int
    reason: str


class PackDocument(msgspec.Struct, frozen=True, kw_only=True):
    schema: str = SCHEMA
    pack_id: str
    version: int
    template: str                    # "bail" | "non_bail"
    generated_at: datetime
    generated_by: str                # display name of who built it
    agency: Agency
    subject: PackSubject
    order: PackOrder
    summary: Summary
    incidents: tuple[PackIncident, ...]
    timeline: tuple[TimelineEntry, ...] = ()
    device_health: tuple[HealthReading, ...] = ()
    history: tuple[PastBreach, ...] = ()
    map: PackMap | None = None
    amendment: Amendment | None = None
    sha256: str = ""                 # set last, over the canonical form without this field


__all__ = ["Agency", "Amendment", "Fact", "HealthReading", "PackDocument", "PackIncident", "PackMap",
           "PackOrder", "PackSubject", "PastBreach", "SCHEMA", "Summary", "TimelineEntry"]
