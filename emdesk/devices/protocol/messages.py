"""Typed payloads for each command and response (layouts in hardware/PROTOCOL.md).

Every ``decode`` raises :class:`PayloadError` on a malformed payload and nothing else.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import IntEnum, IntFlag

from emdesk.domain.devices import DeviceKind

from .codes import CODE_KINDS, KIND_CODES, CheckOutcome, EventCode, SelfTestId, Status
from .wire import PayloadError, Reader, Writer

PROTOCOL_VERSION = 2
NONCE_LEN = 16
MAC_LEN = 32
SHARE_LEN = 32                   # an X25519 public key
SIGNATURE_LEN = 64               # an Ed25519 signature
PAIRING_ID_LEN = 8
LINK_KEY_LEN = 16
SEALED_LINK_KEY_LEN = 12 + LINK_KEY_LEN + 16     # AES-GCM nonce, ciphertext, tag
NO_PAIRING = bytes(PAIRING_ID_LEN)


def _kind(code: int) -> DeviceKind:
    try:
        return CODE_KINDS[code]
    except KeyError:
        raise PayloadError(f"unknown device kind code 0x{code:02X}") from None


def _enum(cls, value, what: str):
    try:
        return cls(value)
    except ValueError:
        raise PayloadError(f"unknown {what} 0x{value:02X}") from None


def _fixed(r: Reader, n: int) -> bytes:
    return r.raw(n)


# -- responses -------------------------------------------------------------------------

def encode_response(status: Status, body: bytes = b"") -> bytes:
    return bytes((int(status),)) + body


def decode_response(payload: bytes) -> tuple[Status | int, bytes]:
    """(status, body).  An unknown status byte is returned as a bare int."""
    if not payload:
        raise PayloadError("empty response payload: no status byte")
    try:
        status: Status | int = Status(payload[0])
    except ValueError:
        status = payload[0]
    return status, payload[1:]


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """Body of a non-OK response: a short text (for ALREADY_PAIRED, the partner serial)."""

    text: str = ""

    def encode(self) -> bytes:
        return Writer().str8(self.text[:255]).bytes()

    @classmethod
    def decode(cls, body: bytes) -> ErrorDetail:
        if not body:
            return cls("")
        r = Reader(body)
        text = r.str8()
        r.end()
        return cls(text)


# -- HELLO ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Hello:
    host_version: int = PROTOCOL_VERSION

    def encode(self) -> bytes:
        return Writer().u8(self.host_version).bytes()

    @classmethod
    def decode(cls, b: bytes) -> Hello:
        r = Reader(b)
        v = r.u8()
        r.end()
        return cls(v)


@dataclass(frozen=True, slots=True)
class DeviceIdentity:
    kind: DeviceKind
    serial: str
    model: str
    firmware: str
    hardware_rev: str = ""
    protocol_version: int = PROTOCOL_VERSION
    max_payload: int = 1024

    def encode(self) -> bytes:
        return (Writer().u8(self.protocol_version).u8(KIND_CODES[self.kind]).str8(self.serial)
                .str8(self.model).str8(self.firmware).str8(self.hardware_rev).u16(self.max_payload).bytes())

    @classmethod
    def decode(cls, b: bytes) -> DeviceIdentity:
        r = Reader(b)
        version = r.u8()
        kind = _kind(r.u8())
        out = cls(protocol_version=version, kind=kind, serial=r.str8(), model=r.str8(),
                  firmware=r.str8(), hardware_rev=r.str8(), max_payload=r.u16())
        r.end()
        return out


# -- STATUS --------------------------------------------------------------------------

class StatusFlag(IntFlag):
    CHARGING = 0x0001
    STRAP_OPEN = 0x0002
    CASE_OPEN = 0x0004
    MAINS_POWER = 0x0008
    GPS_FIX = 0x0010
    PARTNER_IN_RANGE = 0x0020
    AUTHENTICATED = 0x0040
    CLOCK_SET = 0x0080


class PairingState(IntEnum):
    NONE = 0
    PENDING = 1
    PAIRED = 2


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    battery_pct: int
    battery_mv: int
    flags: StatusFlag
    battery_cycles: int = 0
    battery_health_pct: int = 100      # full-charge capacity as a share of design capacity
    temperature_c: int = 20
    pairing_state: PairingState = PairingState.NONE
    pairing_id: bytes = NO_PAIRING
    partner_kind: DeviceKind | None = None
    partner_serial: str = ""
    config_crc: int = 0
    last_event_seq: int = 0
    uptime_s: int = 0
    device_time: int = 0               # unix seconds; 0 when the clock was never set

    @property
    def charging(self) -> bool:
        return StatusFlag.CHARGING in self.flags

    @property
    def strap_open(self) -> bool:
        return StatusFlag.STRAP_OPEN in self.flags

    @property
    def case_open(self) -> bool:
        return StatusFlag.CASE_OPEN in self.flags

    @property
    def paired(self) -> bool:
        return self.pairing_state is PairingState.PAIRED

    def encode(self) -> bytes:
        w = (Writer().u8(self.battery_pct).u16(self.battery_mv).u16(int(self.flags))
             .u16(self.battery_cycles).u8(self.battery_health_pct).i8(self.temperature_c)
             .u8(int(self.pairing_state)).raw(self.pairing_id)
             .u8(KIND_CODES[self.partner_kind] if self.partner_kind else 0).str8(self.partner_serial)
             .u32(self.config_crc).u32(self.last_event_seq).u32(self.uptime_s).u32(self.device_time))
        return w.bytes()

    @classmethod
    def decode(cls, b: bytes) -> DeviceStatus:
        r = Reader(b)
        pct, mv, flags = r.u8(), r.u16(), StatusFlag(r.u16())
        cycles, health, temp = r.u16(), r.u8(), r.i8()
        state = _enum(PairingState, r.u8(), "pairing state")
        pid = _fixed(r, PAIRING_ID_LEN)
        pk = r.u8()
        out = cls(battery_pct=pct, battery_mv=mv, flags=flags, battery_cycles=cycles,
                  battery_health_pct=health, temperature_c=temp, pairing_state=state, pairing_id=pid,
                  partner_kind=_kind(pk) if pk else None, partner_serial=r.str8(),
                  config_crc=r.u32(), last_event_seq=r.u32(), uptime_s=r.u32(), device_time=r.u32())
        r.end()
        return out


# -- SET_TIME ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SetTime:
    unix: int

    def encode(self) -> bytes:
        return Writer().u32(self.unix).bytes()

    @classmethod
    def decode(cls, b: bytes) -> SetTime:
        r = Reader(b)
        out = cls(r.u32())
        r.end()
        return out


# -- AUTH ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class AuthChallenge:
    host_nonce: bytes
    host_share: bytes = bytes(SHARE_LEN)       # the host's ephemeral X25519 public key

    def encode(self) -> bytes:
        if len(self.host_nonce) != NONCE_LEN or len(self.host_share) != SHARE_LEN:
            raise ValueError("host nonce must be 16 bytes and the host share 32")
        return self.host_nonce + self.host_share

    @classmethod
    def decode(cls, b: bytes) -> AuthChallenge:
        r = Reader(b)
        out = cls(r.raw(NONCE_LEN), r.raw(SHARE_LEN))
        r.end()
        return out


@dataclass(frozen=True, slots=True)
class AuthResponse:
    """The device's proof: its certificate, and its signature over the session."""

    device_nonce: bytes
    device_share: bytes                         # the device's ephemeral X25519 public key
    certificate: bytes                          # signed by the manufacturer (see ``auth``)
    signature: bytes                            # by the device key, over serial, firmware and both nonces

    def encode(self) -> bytes:
        return (Writer().raw(self.device_nonce).raw(self.device_share).u16(len(self.certificate))
                .raw(self.certificate).raw(self.signature).bytes())

    @classmethod
    def decode(cls, b: bytes) -> AuthResponse:
        r = Reader(b)
        nonce, share = r.raw(NONCE_LEN), r.raw(SHARE_LEN)
        cert = r.raw(r.u16())
        out = cls(nonce, share, cert, r.raw(SIGNATURE_LEN))
        r.end()
        return out


@dataclass(frozen=True, slots=True)
class AuthConfirm:
    mac: bytes

    def encode(self) -> bytes:
        return self.mac

    @classmethod
    def decode(cls, b: bytes) -> AuthConfirm:
        r = Reader(b)
        out = cls(r.raw(MAC_LEN))
        r.end()
        return out


# -- PAIRING -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PairPrepare:
    pairing_id: bytes
    partner_kind: DeviceKind | None       # None: standalone installation, no partner
    partner_serial: str
    sealed_link_key: bytes                # the link key, sealed with the session key (``auth.seal_link_key``)
    ttl_s: int = 300

    def encode(self) -> bytes:
        return (Writer().raw(self.pairing_id).u8(KIND_CODES[self.partner_kind] if self.partner_kind else 0)
                .str8(self.partner_serial).raw(self.sealed_link_key).u16(self.ttl_s).bytes())

    @classmethod
    def decode(cls, b: bytes) -> PairPrepare:
        r = Reader(b)
        pid = r.raw(PAIRING_ID_LEN)
        pk = r.u8()
        out = cls(pid, _kind(pk) if pk else None, r.str8(), r.raw(SEALED_LINK_KEY_LEN), r.u16())
        r.end()
        return out


@dataclass(frozen=True, slots=True)
class PairingRef:
    """PAIR_COMMIT and PAIR_ABORT requests (zeros in PAIR_ABORT: whatever is pending)."""

    pairing_id: bytes

    def encode(self) -> bytes:
        return self.pairing_id

    @classmethod
    def decode(cls, b: bytes) -> PairingRef:
        r = Reader(b)
        out = cls(r.raw(PAIRING_ID_LEN))
        r.end()
        return out


@dataclass(frozen=True, slots=True)
class PairCommitted:
    pairing_id: bytes
    partner_serial: str
    config_crc: int
    partner_config_crc: int = 0

    def encode(self) -> bytes:
        return (Writer().raw(self.pairing_id).str8(self.partner_serial).u32(self.config_crc)
                .u32(self.partner_config_crc).bytes())

    @classmethod
    def decode(cls, b: bytes) -> PairCommitted:
        r = Reader(b)
        out = cls(r.raw(PAIRING_ID_LEN), r.str8(), r.u32(), r.u32())
        r.end()
        return out


# -- WRITE_CONFIG --------------------------------------------------------------------

CONFIG_CHUNK_MAX = 960
CONFIG_CHUNK_HEADER = PAIRING_ID_LEN + 4     # pairing id, u16 total, u16 offset


@dataclass(frozen=True, slots=True)
class ConfigChunk:
    pairing_id: bytes
    total: int
    offset: int
    data: bytes

    def encode(self) -> bytes:
        return Writer().raw(self.pairing_id).u16(self.total).u16(self.offset).raw(self.data).bytes()

    @classmethod
    def decode(cls, b: bytes) -> ConfigChunk:
        r = Reader(b)
        return cls(r.raw(PAIRING_ID_LEN), r.u16(), r.u16(), r.rest())


@dataclass(frozen=True, slots=True)
class ConfigAck:
    received: int
    complete: bool
    crc32: int = 0

    def encode(self) -> bytes:
        return Writer().u16(self.received).u8(int(self.complete)).u32(self.crc32).bytes()

    @classmethod
    def decode(cls, b: bytes) -> ConfigAck:
        r = Reader(b)
        out = cls(r.u16(), bool(r.u8()), r.u32())
        r.end()
        return out


# -- SELF_TEST -----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class CheckResult:
    check: SelfTestId
    outcome: CheckOutcome
    value: int = 0

    @property
    def passed(self) -> bool:
        return self.outcome is not CheckOutcome.FAIL


@dataclass(frozen=True, slots=True)
class SelfTestReport:
    results: tuple[CheckResult, ...]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failures(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.results if not r.passed)

    def get(self, check: SelfTestId) -> CheckResult | None:
        return next((r for r in self.results if r.check is check), None)

    def encode(self) -> bytes:
        w = Writer().u8(len(self.results))
        for res in self.results:
            w.u8(int(res.check)).u8(int(res.outcome)).i32(res.value)
        return w.bytes()

    @classmethod
    def decode(cls, b: bytes) -> SelfTestReport:
        r = Reader(b)
        n = r.u8()
        out = tuple(CheckResult(_enum(SelfTestId, r.u8(), "self-test"), _enum(CheckOutcome, r.u8(), "outcome"), r.i32())
                    for _ in range(n))
        r.end()
        return cls(out)


# -- EVENTS --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class DeviceEvent:
    seq: int
    at: int                 # unix seconds, device clock
    code: EventCode
    value: int = 0
    text: str = ""

    @property
    def when(self) -> datetime:
        return datetime.fromtimestamp(self.at, timezone.utc)

    def write(self, w: Writer) -> Writer:
        return w.u32(self.seq).u32(self.at).u8(int(self.code)).i32(self.value).str16(self.text)

    def encode(self) -> bytes:
        return self.write(Writer()).bytes()

    @classmethod
    def read(cls, r: Reader) -> DeviceEvent:
        return cls(r.u32(), r.u32(), _enum(EventCode, r.u8(), "event code"), r.i32(), r.str16())

    @classmethod
    def decode(cls, b: bytes) -> DeviceEvent:
        r = Reader(b)
        out = cls.read(r)
        r.end()
        return out


@dataclass(frozen=True, slots=True)
class EventNotice:
    """An EVENT frame: the event, and the oldest event the device still holds
    unacknowledged (anything older that the host has not seen was lost to overflow)."""

    oldest_unacked: int
    event: DeviceEvent

    def encode(self) -> bytes:
        return self.event.write(Writer().u32(self.oldest_unacked)).bytes()

    @classmethod
    def decode(cls, b: bytes) -> EventNotice:
        r = Reader(b)
        oldest = r.u32()
        out = cls(oldest, DeviceEvent.read(r))
        r.end()
        return out


@dataclass(frozen=True, slots=True)
class EventAck:
    """EVENT_ACK (host -> device, request id 0, never answered): every event up to and
    including ``seq`` is stored; the device stops sending them."""

    seq: int

    def encode(self) -> bytes:
        return Writer().u32(self.seq).bytes()

    @classmethod
    def decode(cls, b: bytes) -> EventAck:
        r = Reader(b)
        out = cls(r.u32())
        r.end()
        return out


@dataclass(frozen=True, slots=True)
class GetEvents:
    from_seq: int
    max_count: int = 16

    def encode(self) -> bytes:
        return Writer().u32(self.from_seq).u8(self.max_count).bytes()

    @classmethod
    def decode(cls, b: bytes) -> GetEvents:
        r = Reader(b)
        out = cls(r.u32(), r.u8())
        r.end()
        return out


@dataclass(frozen=True, slots=True)
class EventsPage:
    next_seq: int
    remaining: int
    events: tuple[DeviceEvent, ...] = field(default_factory=tuple)

    def encode(self) -> bytes:
        w = Writer().u32(self.next_seq).u32(self.remaining).u8(len(self.events))
        for e in self.events:
            e.write(w)
        return w.bytes()

    @classmethod
    def decode(cls, b: bytes) -> EventsPage:
        r = Reader(b)
        nxt, remaining, n = r.u32(), r.u32(), r.u8()
        events = tuple(DeviceEvent.read(r) for _ in range(n))
        r.end()
        return cls(nxt, remaining, events)


# -- text bodies (GET_POSITION) and FACTORY_RESET ---------------------------------------

@dataclass(frozen=True, slots=True)
class Text:
    text: str

    def encode(self) -> bytes:
        return Writer().str16(self.text).bytes()

    @classmethod
    def decode(cls, b: bytes) -> Text:
        r = Reader(b)
        out = cls(r.str16())
        r.end()
        return out


@dataclass(frozen=True, slots=True)
class FactoryReset:
    confirm_serial: str

    def encode(self) -> bytes:
        return Writer().str8(self.confirm_serial).bytes()

    @classmethod
    def decode(cls, b: bytes) -> FactoryReset:
        r = Reader(b)
        out = cls(r.str8())
        r.end()
        return out


def empty(b: bytes) -> None:
    if b:
        raise PayloadError(f"expected an empty payload, got {len(b)} bytes")
