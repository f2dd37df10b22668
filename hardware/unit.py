"""One emulated device: its state and its firmware's answers to each command.

``Unit.handle(frame) -> [response frames]`` is pure request handling (no I/O); the
server in ``emulator.py`` moves bytes and sends what ``take_event_frames`` gives it
(numbered events, sent until acknowledged).
Everything runs under the air's lock (see ``air.py``).
"""
from __future__ import annotations

import hmac
import logging
import random
import secrets
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from emdesk.devices import auth as spec
from emdesk.devices.protocol import messages as m
from emdesk.devices.protocol.codes import (
    PRIVILEGED, CheckOutcome, Command, EventCode, SelfTestId, Status,
)
from emdesk.devices.protocol.config import SUPPORTED, DeviceConfig
from emdesk.devices.protocol.frame import EVENT_RID, MAX_PAYLOAD, Frame
from emdesk.devices.protocol.wire import PayloadError
from emdesk.domain.devices import DeviceKind

from . import nmea
from .air import DEFAULT_AIR, Air
from .factory import EMULATOR_MANUFACTURER, MODELS, UNAPPROVED_FIRMWARE, Manufacturer, public_bytes
from .faults import Faults

log = logging.getLogger(__name__)

CACHE_SIZE = 32                  # answers remembered for replay to retried requests
EVENT_LOG_SIZE = 2000
EVENT_RESEND_S = 1.0             # unacknowledged events are sent again after this long
EVENT_WINDOW = 16                # ...this many at a time, oldest first
MIN_WRITE_BATTERY = 5            # below this the flash is not written
SELF_TEST_BATTERY = 20
HOME = (51.50135, -0.14189)      # where an emulated GPS tag thinks it is by default

TAG_KINDS = {DeviceKind.RF_TAG, DeviceKind.GPS_TAG, DeviceKind.ALCOHOL_TAG}
STANDALONE_OK = {DeviceKind.GPS_TAG, DeviceKind.ALCOHOL_TAG, DeviceKind.NON_FITTED}


class _Refuse(Exception):
    def __init__(self, status: Status, detail: str = "") -> None:
        self.status, self.detail = status, detail


@dataclass(slots=True)
class Pairing:
    pairing_id: bytes
    partner_kind: DeviceKind | None
    partner_serial: str
    link_key: bytes
    config: bytes = b""


@dataclass(slots=True)
class Pending:
    pairing_id: bytes
    partner_kind: DeviceKind | None
    partner_serial: str
    link_key: bytes
    expires: float
    staged: bytearray | None = None
    received: int = 0
    config: bytes | None = None          # set when the staged blob is complete and valid


@dataclass(slots=True)
class Physical:
    battery_pct: int = 87
    charging: bool = False
    mains: bool = False
    strap_open: bool = False
    case_open: bool = False
    battery_cycles: int = 42
    battery_health_pct: int = 96
    temperature_c: int = 21
    lat: float = HOME[0]
    lon: float = HOME[1]
    gps_fix: bool = True


class Unit:
    def __init__(self, kind: DeviceKind | str, serial: str, *, faults: Faults | None = None,
                 manufacturer: Manufacturer = EMULATOR_MANUFACTURER, air: Air | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.kind = DeviceKind(kind)
        self.serial = serial
        self.faults = faults = faults or Faults()
        model = MODELS[self.kind]
        self.model = model.name
        self.hardware_rev = model.hardware_rev
        self.firmware = UNAPPROVED_FIRMWARE if faults.unapproved_firmware else model.firmware
        maker = Manufacturer.counterfeiter() if faults.counterfeit else manufacturer
        self.device_key = maker.device_key(serial)
        self.certificate = maker.certify(self.kind, serial, public_bytes(self.device_key))
        self.protocol_version = faults.protocol_version or m.PROTOCOL_VERSION
        self.max_payload = faults.max_payload or MAX_PAYLOAD
        self.air = air or DEFAULT_AIR
        self.lock = self.air.lock
        self._clock = clock
        self._mono_offset = 0.0
        self._time_offset = 0.0
        self.clock_set = False
        self.booted = self.mono()
        self.powered = True
        self.out_of_range = faults.out_of_range
        self._battery_full_mv = model.battery_mv_full
        p = self.physical = Physical(mains=model.mains and not (faults.no_mains or faults.flat_battery))
        p.charging = p.mains
        if faults.flat_battery:
            p.battery_pct, p.charging = 3, False
        p.strap_open = faults.strap_open and self.kind in TAG_KINDS
        p.case_open = faults.case_open
        p.gps_fix = self.kind is DeviceKind.GPS_TAG and not faults.no_gps_fix
        rnd = random.Random(serial)
        p.lat += rnd.uniform(-0.01, 0.01)
        p.lon += rnd.uniform(-0.01, 0.01)
        self.pairing: Pairing | None = None
        self.pending: Pending | None = None
        if faults.paired_elsewhere:
            other = DeviceKind.RF_TAG if self.kind is DeviceKind.HMU else DeviceKind.HMU
            self.pairing = Pairing(secrets.token_bytes(m.PAIRING_ID_LEN), other, faults.paired_elsewhere,
                                   secrets.token_bytes(m.LINK_KEY_LEN), DeviceConfig().encode())
        self.events: list[m.DeviceEvent] = []
        self._seq = 0
        self._radio_acks_lost = 0
        self.acked = 0                   # every event up to this one is stored by a host
        self.session_open = False        # events are sent only in a session (after HELLO)
        self._sent_upto = 0
        self._last_sent = 0.0
        self.wake: Callable[[], None] = lambda: None
        self._next_fix = 0.0
        self._new_session()
        self.air.join(self)
        self.emit(EventCode.POWER_ON)

    # -- clocks ----------------------------------------------------------------------

    def mono(self) -> float:
        return time.monotonic() + self._mono_offset

    def now(self) -> int:
        return int(self._clock() + self._time_offset)

    # -- the physical world (tests and the CLI use these) ----------------------------

    def open_strap(self) -> None:
        with self.lock:
            if not self.physical.strap_open:
                self.physical.strap_open = True
                self.emit(EventCode.STRAP_TAMPER)

    def close_strap(self) -> None:
        with self.lock:
            if self.physical.strap_open:
                self.physical.strap_open = False
                self.emit(EventCode.STRAP_CLOSED)

    def set_battery(self, pct: int, charging: bool | None = None) -> None:
        with self.lock:
            was = self.physical.battery_pct
            self.physical.battery_pct = max(0, min(100, pct))
            if charging is not None and charging != self.physical.charging:
                self.physical.charging = charging
                self.emit(EventCode.CHARGING, int(charging))
            if was >= 15 > self.physical.battery_pct:
                self.emit(EventCode.BATTERY_LOW, self.physical.battery_pct)

    def move_to(self, lat: float, lon: float) -> None:
        with self.lock:
            self.physical.lat, self.physical.lon = lat, lon

    def report_position(self) -> None:
        with self.lock:
            self.emit(EventCode.POSITION, text=self.nmea())

    def alcohol_reading(self, tenths_mg: int) -> None:
        with self.lock:
            self.emit(EventCode.ALCOHOL_READING, tenths_mg)

    def set_out_of_range(self, value: bool) -> None:
        with self.lock:
            self.out_of_range = value

    def power_cycle(self) -> None:
        """Lose power and come back: RAM (session, uncommitted pairing) is gone."""
        with self.lock:
            self._discard_pending("power cycle")
            self._new_session()
            self.session_open = False
            self.booted = self.mono()
            self.emit(EventCode.POWER_ON)

    def advance(self, seconds: float) -> None:
        """Let time pass for this device (pairing TTLs, fix intervals), then tick."""
        with self.lock:
            self._mono_offset += seconds
            self._time_offset += seconds
        self.tick()

    def tick(self) -> None:
        with self.lock:
            now = self.mono()
            if self.pending and now >= self.pending.expires:
                self._discard_pending("timed out")
            if self.kind is DeviceKind.GPS_TAG and self.pairing and now >= self._next_fix:
                cfg = DeviceConfig.decode(self.pairing.config) if self.pairing.config else DeviceConfig()
                interval = cfg.fix_interval_s or 60
                if self._next_fix:
                    self.emit(EventCode.POSITION, text=self.nmea())
                self._next_fix = now + interval

    # -- views for tests -------------------------------------------------------------

    @property
    def paired_with(self) -> str | None:
        return self.pairing.partner_serial if self.pairing else None

    @property
    def config(self) -> DeviceConfig | None:
        return DeviceConfig.decode(self.pairing.config) if self.pairing and self.pairing.config else None

    def nmea(self) -> str:
        p = self.physical
        when = datetime.fromtimestamp(self.now(), timezone.utc)
        return nmea.report(nmea.Fix(at=when, lat=p.lat, lon=p.lon, valid=p.gps_fix))

    # -- events ----------------------------------------------------------------------

    def emit(self, code: EventCode, value: int = 0, text: str = "") -> m.DeviceEvent:
        self._seq += 1
        ev = m.DeviceEvent(self._seq, self.now(), code, value, text)
        self.events.append(ev)
        del self.events[:-EVENT_LOG_SIZE]
        self.wake()
        return ev

    def unacked(self) -> list[m.DeviceEvent]:
        if not self.events:
            return []
        start = max(0, self.acked + 1 - self.events[0].seq)
        return self.events[start:]

    def take_event_frames(self) -> list[Frame]:
        """EVENT frames to send now: new events at once, and the unacknowledged ones again
        (oldest first) when no acknowledgement came for EVENT_RESEND_S."""
        with self.lock:
            if not self.session_open or not self.powered:
                return []
            waiting = self.unacked()
            if not waiting:
                return []
            now = self.mono()
            if waiting[-1].seq > self._sent_upto:
                chosen = [e for e in waiting if e.seq > self._sent_upto]
            elif now - self._last_sent >= EVENT_RESEND_S:
                chosen = waiting[:EVENT_WINDOW]
            else:
                return []
            self._sent_upto = max(self._sent_upto, chosen[-1].seq)
            self._last_sent = now
            oldest = waiting[0].seq
            return [Frame(EVENT_RID, Command.EVENT, m.EventNotice(oldest, e).encode()) for e in chosen]

    def ack_events(self, payload: bytes) -> None:
        """EVENT_ACK from the host (request id 0, never answered)."""
        with self.lock:
            try:
                seq = m.EventAck.decode(payload).seq
            except PayloadError:
                return
            if self.acked < seq <= self._seq:
                self.acked = seq

    # -- request handling ------------------------------------------------------------

    def handle(self, frame: Frame) -> list[Frame]:
        with self.lock:
            if not self.powered:
                return []
            if len(frame.payload) > self.max_payload:
                return [Frame(frame.rid, frame.cmd | 0x80, m.encode_response(Status.BAD_REQUEST, m.ErrorDetail(
                    f"payload of {len(frame.payload)} bytes; this device takes {self.max_payload}").encode()))]
            if frame.cmd == Command.HELLO:
                return [self._answer(frame)]                 # never replayed: it starts a session
            key = (frame.cmd, frame.payload)
            hit = self._cache.get(frame.rid)
            if hit is not None and hit[0] == key:
                return hit[1]
            out = [self._answer(frame)]
            self._cache[frame.rid] = (key, out)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
            return out

    def _answer(self, frame: Frame) -> Frame:
        try:
            try:
                cmd = Command(frame.cmd)
            except ValueError:
                raise _Refuse(Status.UNKNOWN_COMMAND, f"command 0x{frame.cmd:02X}") from None
            if cmd is Command.EVENT or frame.cmd & 0x80:
                raise _Refuse(Status.UNKNOWN_COMMAND, "not a request")
            if cmd in PRIVILEGED and not self.authenticated:
                raise _Refuse(Status.NOT_AUTHENTICATED, "authenticate first")
            body = getattr(self, f"_cmd_{cmd.name.lower()}")(frame.payload)
            payload = m.encode_response(Status.OK, body)
        except _Refuse as r:
            payload = m.encode_response(r.status, m.ErrorDetail(r.detail).encode())
        except PayloadError as e:
            payload = m.encode_response(Status.BAD_REQUEST, m.ErrorDetail(str(e)).encode())
        return Frame(frame.rid, frame.cmd | 0x80, payload)

    def new_connection(self) -> None:
        """The line was (re)opened (a USB cradle raises DTR; a network cradle accepts a
        connection): what this session remembered for replay and its authentication
        belong to the old connection.  Unlike HELLO it keeps an uncommitted pairing."""
        with self.lock:
            self._new_session()
            self.session_open = False

    def _new_session(self) -> None:
        self.authenticated = False
        self.session_key: bytes | None = None
        self._pending_key = b""
        self._host_nonce: bytes | None = None
        self._device_nonce: bytes | None = None
        self._cache: OrderedDict[int, tuple[tuple[int, bytes], list[Frame]]] = OrderedDict()

    # -- commands ----------------------------------------------------------------------

    def _cmd_hello(self, payload: bytes) -> bytes:
        hello = m.Hello.decode(payload)
        # This firmware speaks only its own version: a host that offers less is told which.
        if hello.host_version < self.protocol_version:
            raise _Refuse(Status.UNSUPPORTED_VERSION, f"device speaks protocol version {self.protocol_version}")
        self._discard_pending("new session")
        self._new_session()
        self.session_open = True
        self._sent_upto = self.acked             # send whatever is unacknowledged again
        return m.DeviceIdentity(kind=self.kind, serial=self.serial, model=self.model, firmware=self.firmware,
                                hardware_rev=self.hardware_rev, protocol_version=self.protocol_version,
                                max_payload=self.max_payload).encode()

    def status(self) -> m.DeviceStatus:
        p = self.physical
        f = m.StatusFlag(0)
        for on, flag in ((p.charging, m.StatusFlag.CHARGING), (p.strap_open, m.StatusFlag.STRAP_OPEN),
                         (p.case_open, m.StatusFlag.CASE_OPEN), (p.mains, m.StatusFlag.MAINS_POWER),
                         (p.gps_fix, m.StatusFlag.GPS_FIX), (self._partner_heard(), m.StatusFlag.PARTNER_IN_RANGE),
                         (self.authenticated, m.StatusFlag.AUTHENTICATED), (self.clock_set, m.StatusFlag.CLOCK_SET)):
            if on:
                f |= flag
        cur = self.pairing or self.pending
        state = (m.PairingState.PAIRED if self.pairing else m.PairingState.PENDING if self.pending
                 else m.PairingState.NONE)
        return m.DeviceStatus(
            battery_pct=p.battery_pct, battery_mv=int(self._battery_full_mv * (0.8 + 0.2 * p.battery_pct / 100)),
            flags=f, battery_cycles=p.battery_cycles, battery_health_pct=p.battery_health_pct,
            temperature_c=p.temperature_c, pairing_state=state,
            pairing_id=cur.pairing_id if cur else m.NO_PAIRING,
            partner_kind=cur.partner_kind if cur else None, partner_serial=cur.partner_serial if cur else "",
            config_crc=zlib.crc32(self.pairing.config) if self.pairing else 0,
            last_event_seq=self._seq, uptime_s=int(self.mono() - self.booted),
            device_time=self.now() if self.clock_set else 0)

    def _cmd_status(self, payload: bytes) -> bytes:
        m.empty(payload)
        return self.status().encode()

    def _cmd_set_time(self, payload: bytes) -> bytes:
        t = m.SetTime.decode(payload).unix
        self._time_offset = t - self._clock()
        self.clock_set = True
        return b""

    def _cmd_get_position(self, payload: bytes) -> bytes:
        m.empty(payload)
        if self.kind is not DeviceKind.GPS_TAG:
            raise _Refuse(Status.UNKNOWN_COMMAND, "no GPS receiver")
        return m.Text(self.nmea()).encode()

    def _cmd_auth_challenge(self, payload: bytes) -> bytes:
        req = m.AuthChallenge.decode(payload)
        self._host_nonce = req.host_nonce
        self._device_nonce = secrets.token_bytes(m.NONCE_LEN)
        self.authenticated = False
        self.session_key = None
        ephemeral = X25519PrivateKey.generate()
        share = ephemeral.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        try:
            shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(req.host_share))
        except ValueError:
            raise _Refuse(Status.BAD_REQUEST, "host share is not an X25519 key") from None
        self._pending_key = spec.session_key(shared, self.serial, self._host_nonce, self._device_nonce)
        signature = self.device_key.sign(spec.auth_signed_data(
            self.serial, self.firmware, self._host_nonce, self._device_nonce, req.host_share, share))
        return m.AuthResponse(self._device_nonce, share, self.certificate, signature).encode()

    def _cmd_auth_confirm(self, payload: bytes) -> bytes:
        mac = m.AuthConfirm.decode(payload).mac
        if self._host_nonce is None or self._device_nonce is None:
            raise _Refuse(Status.AUTH_FAILED, "no challenge outstanding")
        want = spec.host_proof(self._pending_key, self._host_nonce, self._device_nonce)
        if not hmac.compare_digest(mac, want):
            raise _Refuse(Status.AUTH_FAILED, "host proof does not match")
        self.authenticated = True
        self.session_key = self._pending_key
        return b""

    def _cmd_pair_prepare(self, payload: bytes) -> bytes:
        req = m.PairPrepare.decode(payload)
        if req.ttl_s == 0:
            raise _Refuse(Status.BAD_REQUEST, "ttl must be positive")
        self._check_partner_kind(req.partner_kind)
        if self.physical.battery_pct < MIN_WRITE_BATTERY and not self.physical.charging:
            raise _Refuse(Status.BATTERY_TOO_LOW, f"{self.physical.battery_pct}%")
        if self.pairing and self.pairing.partner_serial != req.partner_serial:
            raise _Refuse(Status.ALREADY_PAIRED, self.pairing.partner_serial or "standalone installation")
        try:
            link_key = spec.open_link_key(self.session_key, req.pairing_id, self.serial, req.sealed_link_key)
        except ValueError as e:
            raise _Refuse(Status.BAD_REQUEST, str(e)) from None
        if self.pending and self.pending.pairing_id != req.pairing_id:
            self._discard_pending("replaced")
        if not self.pending:
            self.pending = Pending(req.pairing_id, req.partner_kind, req.partner_serial, link_key,
                                   expires=self.mono() + req.ttl_s)
        return b""

    def _check_partner_kind(self, partner: DeviceKind | None) -> None:
        if partner is None:
            ok = self.kind in STANDALONE_OK
        elif self.kind is DeviceKind.HMU:
            ok = partner in TAG_KINDS
        else:
            ok = self.kind in TAG_KINDS and partner is DeviceKind.HMU
        if not ok:
            what = partner.value if partner else "no partner"
            raise _Refuse(Status.WRONG_PARTNER_KIND, f"{self.kind.value} cannot pair with {what}")

    def _cmd_write_config(self, payload: bytes) -> bytes:
        chunk = m.ConfigChunk.decode(payload)
        p = self.pending
        if p is None or p.pairing_id != chunk.pairing_id:
            raise _Refuse(Status.NOT_PREPARED, "no pairing prepared with that id")
        if chunk.offset == 0:                        # a new write starts over
            p.staged, p.received, p.config = bytearray(chunk.total), 0, None
        if p.staged is None or len(p.staged) != chunk.total:
            raise _Refuse(Status.BAD_REQUEST, "config chunk out of sequence")
        end = chunk.offset + len(chunk.data)
        if end > chunk.total:
            raise _Refuse(Status.BAD_REQUEST, "config chunk beyond the announced length")
        if chunk.offset == p.received:
            p.staged[chunk.offset:end] = chunk.data
            p.received = end
        elif not (end <= p.received and bytes(p.staged[chunk.offset:end]) == chunk.data):
            raise _Refuse(Status.BAD_REQUEST, "config chunk out of sequence")
        if p.received == chunk.total and p.config is None:
            blob = bytes(p.staged)
            try:
                cfg = DeviceConfig.decode(blob)
            except PayloadError as e:
                p.staged, p.received = None, 0
                raise _Refuse(Status.CONFIG_INVALID, str(e)) from None
            extra = cfg.tags() - SUPPORTED[self.kind]
            if extra:
                p.staged, p.received = None, 0
                raise _Refuse(Status.CONFIG_NOT_SUPPORTED, ", ".join(sorted(t.name.lower() for t in extra)))
            p.config = blob
        done = p.config is not None
        return m.ConfigAck(p.received, done, zlib.crc32(p.config) if done else 0).encode()

    def self_test(self) -> m.SelfTestReport:
        p, k = self.physical, self.kind
        res: list[m.CheckResult] = []

        def add(check: SelfTestId, ok: bool | None, value: int = 0) -> None:
            outcome = CheckOutcome.SKIPPED if ok is None else CheckOutcome.PASS if ok else CheckOutcome.FAIL
            res.append(m.CheckResult(check, outcome, value))

        add(SelfTestId.BATTERY, p.battery_pct >= SELF_TEST_BATTERY or (k is DeviceKind.HMU and p.mains), p.battery_pct)
        if k in TAG_KINDS:
            add(SelfTestId.STRAP, not p.strap_open)
        add(SelfTestId.CASE, not p.case_open)
        partner = self.pending or self.pairing          # the pairing being made, if any
        if partner and partner.partner_serial:
            add(SelfTestId.PARTNER_RANGE, self._partner_heard(), -58 if self._partner_heard() else -127)
        elif k is not DeviceKind.NON_FITTED and k is not DeviceKind.GPS_TAG:
            add(SelfTestId.PARTNER_RANGE, None)
        if k is DeviceKind.GPS_TAG:
            add(SelfTestId.GPS_FIX, p.gps_fix, 28 if p.gps_fix else 0)
        if k is DeviceKind.ALCOHOL_TAG:
            add(SelfTestId.ALCOHOL_SENSOR, True)
        if k is DeviceKind.HMU:
            add(SelfTestId.MAINS_POWER, p.mains)
        if k is DeviceKind.NON_FITTED:
            add(SelfTestId.BIOMETRIC_SENSOR, True)
        add(SelfTestId.MEMORY, True)
        report = m.SelfTestReport(tuple(res))
        self.emit(EventCode.SELF_TEST, len(report.failures))
        return report

    def _cmd_self_test(self, payload: bytes) -> bytes:
        m.empty(payload)
        return self.self_test().encode()

    def _partner_heard(self) -> bool:
        # A pairing being prepared comes before the one it will replace (re-pairing the
        # same tag and home unit after only one of them was unpaired), on both sides.
        cur = self.pending or self.pairing
        if not cur or not cur.partner_serial:
            return False
        other = self.air.find(cur.partner_serial)
        if not self.air.reachable(self, other):
            return False
        return any(theirs is not None and theirs.pairing_id == cur.pairing_id and theirs.partner_serial == self.serial
                   for theirs in (other.pending, other.pairing))

    def _commit_blockers(self) -> None:
        p = self.pending
        if p.config is None:
            raise _Refuse(Status.CONFIG_INCOMPLETE, "configuration not (fully) written")
        if self.kind in TAG_KINDS and self.physical.strap_open:
            raise _Refuse(Status.STRAP_OPEN, self.serial)
        if self.physical.battery_pct < MIN_WRITE_BATTERY and not self.physical.charging:
            raise _Refuse(Status.BATTERY_TOO_LOW, f"{self.physical.battery_pct}%")

    def _do_commit(self) -> None:
        p = self.pending
        self.pairing = Pairing(p.pairing_id, p.partner_kind, p.partner_serial, p.link_key, p.config)
        self.pending = None
        self._next_fix = 0.0
        self.emit(EventCode.PAIRED, text=p.partner_serial)
        self.emit(EventCode.CONFIG_APPLIED, _signed(zlib.crc32(p.config)))

    def air_commit(self, pairing_id: bytes, from_serial: str) -> Status:
        """A partner asks over the radio: commit our side of ``pairing_id``."""
        if self.pairing and self.pairing.pairing_id == pairing_id:
            return Status.OK
        p = self.pending
        if p is None or p.pairing_id != pairing_id or p.partner_serial != from_serial:
            return Status.PARTNER_NOT_READY
        try:
            self._commit_blockers()
        except _Refuse as r:
            return r.status
        self._do_commit()
        return Status.OK

    def _cmd_pair_commit(self, payload: bytes) -> bytes:
        pid = m.PairingRef.decode(payload).pairing_id
        if self.pairing and self.pairing.pairing_id == pid:
            return self._committed_answer()
        p = self.pending
        if p is None or p.pairing_id != pid:
            raise _Refuse(Status.NOT_PREPARED, "no pairing prepared with that id (expired or replaced?)")
        self._commit_blockers()
        if p.partner_serial:
            other = self.air.find(p.partner_serial)
            if not self.air.reachable(self, other):
                raise _Refuse(Status.PARTNER_NOT_IN_RANGE, p.partner_serial)
            st = other.air_commit(pid, self.serial)          # partner first, then us
            if st is Status.OK and self._radio_acks_lost < self.faults.lose_radio_ack:
                # The partner committed, but its acknowledgement never came back: as far
                # as we can tell it did not answer, so we do not commit.
                self._radio_acks_lost += 1
                raise _Refuse(Status.PARTNER_NOT_IN_RANGE, f"no acknowledgement from {p.partner_serial}")
            if st is not Status.OK:
                raise _Refuse(st, p.partner_serial if st is Status.STRAP_OPEN else f"partner {p.partner_serial}")
        self._do_commit()
        return self._committed_answer()

    def _committed_answer(self) -> bytes:
        pr = self.pairing
        other = self.air.find(pr.partner_serial) if pr.partner_serial else None
        same = other is not None and other.pairing is not None and other.pairing.pairing_id == pr.pairing_id
        partner_crc = zlib.crc32(other.pairing.config) if same else 0
        return m.PairCommitted(pr.pairing_id, pr.partner_serial, zlib.crc32(pr.config), partner_crc).encode()

    def _cmd_pair_abort(self, payload: bytes) -> bytes:
        pid = m.PairingRef.decode(payload).pairing_id
        if self.pending and (pid == m.NO_PAIRING or self.pending.pairing_id == pid):
            self._discard_pending("aborted")
        return b""

    def _discard_pending(self, why: str) -> None:
        if self.pending:
            self.pending = None
            self.emit(EventCode.PAIRING_DISCARDED, text=why)

    def _cmd_unpair(self, payload: bytes) -> bytes:
        m.empty(payload)
        self._discard_pending("unpaired")
        if self.pairing:
            partner = self.pairing.partner_serial
            self.pairing = None
            self.emit(EventCode.UNPAIRED, text=partner)
        return b""

    def _cmd_get_events(self, payload: bytes) -> bytes:
        req = m.GetEvents.decode(payload)
        chosen: list[m.DeviceEvent] = []
        size = 9
        after = [e for e in self.events if e.seq >= req.from_seq]
        for e in after:
            n = len(e.encode())
            if len(chosen) >= max(1, req.max_count) or size + n > self.max_payload - 1:
                break
            chosen.append(e)
            size += n
        nxt = chosen[-1].seq + 1 if chosen else req.from_seq
        return m.EventsPage(nxt, len(after) - len(chosen), tuple(chosen)).encode()

    def _cmd_factory_reset(self, payload: bytes) -> bytes:
        req = m.FactoryReset.decode(payload)
        if req.confirm_serial != self.serial:
            raise _Refuse(Status.CONFIRMATION_MISMATCH, "confirmation is not this device's serial")
        self.pairing = self.pending = None
        self.events.clear()
        self.acked = self._sent_upto = self._seq
        self.clock_set = False
        self._time_offset = 0.0
        self.emit(EventCode.FACTORY_RESET)
        return b""


def _str8(s: str) -> bytes:
    b = s.encode("utf-8")
    return bytes((len(b),)) + b


def _signed(v: int) -> int:
    return v - (1 << 32) if v >= 1 << 31 else v
