"""What a rule raises: a Hit (one alert) with its code, and the codes in words.

Codes are the UK vocabulary where it has one (AL..); elsewhere emdesk's own named codes,
listed in ``docs/telemetry.md``.
"""
from __future__ import annotations

from dataclasses import dataclass

# code -> (condition it belongs to, what it means in words)
CODES: dict[str, tuple[str, str]] = {
    "AL04": ("home_unit", "home unit power off"),
    "AL05": ("home_unit", "home unit moved"),
    "AL08": ("curfew", "out past curfew start"),
    "AL09": ("curfew", "returned late"),
    "AL10": ("curfew", "left during curfew"),
    "AL11": ("curfew", "out at end of curfew"),
    "AL12": ("curfew", "absent for the entire curfew"),
    "AL21": ("device", "low battery"),
    "AL23": ("device", "battery dead"),
    "AL24": ("device", "device fault"),
    "TAMPER-STRAP": ("tamper", "strap tamper"),
    "TAMPER-BODY": ("tamper", "body tamper (lost skin contact)"),
    "TAMPER-CASE": ("tamper", "case tamper"),
    "ZONE-EXCLUSION-ENTRY": ("zone", "entered an exclusion zone"),
    "ZONE-INCLUSION-EXIT": ("zone", "left an inclusion zone during its hours"),
    "PROXIMITY": ("proximity", "came within the protected person's zone"),
    "COMMS-GAP": ("comms", "no contact from the device"),
    "NO-FIX": ("location", "no GPS fix"),
    "GPS-JUMP": ("location", "impossible jump between fixes"),
    "GPS-POOR": ("location", "poor GPS accuracy"),
    "UNMONITORED": ("comms", "silent 14 days or more: the case is unmonitored"),
    "ALCOHOL": ("alcohol", "alcohol over threshold, sustained"),
    "CHECKIN-MISSED": ("checkin", "missed check-in"),
    "CHECKIN-FAILED": ("checkin", "failed check-in (biometric did not match)"),
}


@dataclass(frozen=True)
class Hit:
    """One alert.  ``end_ms`` None: still going at the end of the evidence; ``end_ms`` equal
    to ``start_ms``: an instant (a tamper, a missed check-in).

    ``technical``: the engine believes equipment or software caused it, not the wearer,
    with ``confidence`` (0..1) in that belief; for a genuine hit ``confidence`` is how sure
    the engine is that the wearer really did it.  ``certain`` False marks a "possible"
    (a fix whose accuracy circle straddles a zone's boundary).
    """

    code: str
    start_ms: int
    end_ms: int | None
    condition: str = ""              # "curfew", "zone:<name>", ... (default from CODES)
    certain: bool = True
    technical: bool = False
    confidence: float = 1.0
    detail: str = ""                 # what happened, in words, for the operator
    depth_m: float = 0.0             # how far into a zone (or inside the protected radius)

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown alert code {self.code!r}")
        if not self.condition:
            object.__setattr__(self, "condition", CODES[self.code][0])

    @property
    def words(self) -> str:
        return CODES[self.code][1]


@dataclass(frozen=True)
class Span:
    """The window being evaluated: the violation period [start, end) and the clock.

    Rules may read events before ``start_ms`` for context (was the wearer home when the
    curfew began?) and raise only hits that start inside the span and before ``now_ms``.
    """

    start_ms: int
    end_ms: int
    now_ms: int
