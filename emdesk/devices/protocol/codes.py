"""Numbers on the wire: commands, status (error) codes, event codes, self-test ids."""
from __future__ import annotations

from enum import IntEnum

from emdesk.domain.devices import DeviceKind

RESPONSE_BIT = 0x80


class Command(IntEnum):
    HELLO = 0x01            # identify; starts a session (discards any uncommitted pairing)
    STATUS = 0x02
    SET_TIME = 0x03         # privileged
    GET_POSITION = 0x04     # privileged; GPS tags only: NMEA RMC+GGA+GSA
    AUTH_CHALLENGE = 0x10
    AUTH_CONFIRM = 0x11
    PAIR_PREPARE = 0x20     # privileged
    PAIR_COMMIT = 0x21      # privileged
    PAIR_ABORT = 0x22
    UNPAIR = 0x23           # privileged
    WRITE_CONFIG = 0x30     # privileged
    SELF_TEST = 0x40
    GET_EVENTS = 0x50       # privileged
    EVENT = 0x60            # device -> host, request id 0, never answered
    EVENT_ACK = 0x61        # host -> device, request id 0, never answered: events stored up to a sequence number
    FACTORY_RESET = 0x7E    # privileged

    @property
    def response(self) -> int:
        return self | RESPONSE_BIT


PRIVILEGED = frozenset({
    Command.SET_TIME, Command.GET_POSITION, Command.PAIR_PREPARE, Command.PAIR_COMMIT,
    Command.UNPAIR, Command.WRITE_CONFIG, Command.GET_EVENTS, Command.FACTORY_RESET,
})


class Status(IntEnum):
    """First payload byte of every response.  Meanings and user actions: PROTOCOL.md."""

    OK = 0x00
    UNKNOWN_COMMAND = 0x01
    BAD_REQUEST = 0x02
    UNSUPPORTED_VERSION = 0x03
    BUSY = 0x04
    NOT_AUTHENTICATED = 0x10
    AUTH_FAILED = 0x11
    ALREADY_PAIRED = 0x20
    NOT_PREPARED = 0x21
    PARTNER_NOT_IN_RANGE = 0x22
    PARTNER_NOT_READY = 0x23
    WRONG_PARTNER_KIND = 0x24
    CONFIG_INVALID = 0x30
    CONFIG_NOT_SUPPORTED = 0x31
    CONFIG_INCOMPLETE = 0x32
    BATTERY_TOO_LOW = 0x40
    STRAP_OPEN = 0x41
    CASE_OPEN = 0x42
    NO_GPS_FIX = 0x43
    STORAGE_FAULT = 0x50
    CONFIRMATION_MISMATCH = 0x51


class EventCode(IntEnum):
    POSITION = 0x01          # text: NMEA RMC, GGA, GSA sentences
    HMU_RANGE_IN = 0x02
    HMU_RANGE_OUT = 0x03
    STRAP_TAMPER = 0x04      # strap opened
    STRAP_CLOSED = 0x05
    BODY_TAMPER = 0x06
    CASE_TAMPER = 0x07
    BATTERY_LOW = 0x08       # value: percent
    CHARGING = 0x09          # value: 1 started, 0 stopped
    COMMS_LOST = 0x0A
    COMMS_RESTORED = 0x0B
    ALCOHOL_READING = 0x0C   # value: tenths of mg/100 ml
    CHECKIN = 0x0D
    PAIRED = 0x20            # text: partner serial
    UNPAIRED = 0x21
    PAIRING_DISCARDED = 0x22 # an uncommitted pairing was dropped (timeout, new session, abort)
    CONFIG_APPLIED = 0x23    # value: config CRC-32 (signed view)
    FACTORY_RESET = 0x24
    POWER_ON = 0x25
    SELF_TEST = 0x26         # value: number of failed checks

    @property
    def domain_kind(self) -> str | None:
        """The ``emdesk.domain.monitoring.EventKind`` value, for monitoring events."""
        return _DOMAIN.get(self)


_DOMAIN = {
    EventCode.POSITION: "position", EventCode.HMU_RANGE_IN: "hmu_range_in",
    EventCode.HMU_RANGE_OUT: "hmu_range_out", EventCode.STRAP_TAMPER: "strap_tamper",
    EventCode.BODY_TAMPER: "body_tamper", EventCode.CASE_TAMPER: "case_tamper",
    EventCode.BATTERY_LOW: "battery_low", EventCode.CHARGING: "charging",
    EventCode.COMMS_LOST: "comms_lost", EventCode.COMMS_RESTORED: "comms_restored",
    EventCode.ALCOHOL_READING: "alcohol_reading", EventCode.CHECKIN: "checkin",
}


class SelfTestId(IntEnum):
    BATTERY = 0x01           # value: percent
    STRAP = 0x02
    CASE = 0x03
    PARTNER_RANGE = 0x04     # value: RSSI dBm
    GPS_FIX = 0x05           # value: time to first fix, seconds
    MEMORY = 0x06
    ALCOHOL_SENSOR = 0x07
    MAINS_POWER = 0x08
    BIOMETRIC_SENSOR = 0x09


class CheckOutcome(IntEnum):
    PASS = 0
    FAIL = 1
    SKIPPED = 2


KIND_CODES: dict[DeviceKind, int] = {
    DeviceKind.RF_TAG: 0x01,
    DeviceKind.GPS_TAG: 0x02,
    DeviceKind.HMU: 0x03,
    DeviceKind.ALCOHOL_TAG: 0x04,
    DeviceKind.NON_FITTED: 0x05,
}
CODE_KINDS: dict[int, DeviceKind] = {v: k for k, v in KIND_CODES.items()}


def command_name(cmd: int) -> str:
    base = cmd & ~RESPONSE_BIT if cmd not in (Command.EVENT, Command.EVENT_ACK) else cmd
    try:
        name = Command(base).name
    except ValueError:
        return f"0x{cmd:02X}"
    return name + ("(response)" if cmd & RESPONSE_BIT else "")
