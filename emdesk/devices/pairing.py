"""Pairing a tag to its home unit (or installing a standalone device), all or nothing.

Steps: detect -> identify -> check allocation -> authenticate -> prepare -> write config
-> self-test -> commit -> verify.

Consistency.  Nothing changes on a device until PREPARE, and what PREPARE and
WRITE_CONFIG stage is volatile: a device discards an uncommitted pairing when its TTL
runs out, when a new session starts (HELLO) or on PAIR_ABORT.  The only durable change
is PAIR_COMMIT, sent to ONE device (the home unit): it commits its partner over the
radio first, then itself.  The radio can lose the partner's acknowledgement, so a home
unit's "no" (or silence) does not prove nothing was committed: the tag may hold the
pairing alone.  So whatever frame is lost or whichever cable is pulled:

* before COMMIT was sent: abort both (best effort); anything left expires -> NOT_PAIRED;
* COMMIT sent, answer received: PAIRED;
* COMMIT refused or unanswered: read both devices back.  The home unit holds it: both
  do -> PAIRED.  Neither: abort -> NOT_PAIRED.  Only the tag: send the commit again
  (finish) -> PAIRED, or else unpair the tag (undo) -> NOT_PAIRED.  A device that does
  not answer and could hold half of it: UNKNOWN, and ``check_pairing`` settles it
  after reconnecting.

Retries resend the same request id and devices replay their cached answer, so a lost
answer never makes a device act twice.  The service records the pairing (serials on
the order, devices to installed) only when ``result.paired`` is true.
"""
from __future__ import annotations

import secrets
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from emdesk.domain.clock import Clock, SystemClock
from emdesk.domain.conditions import Conditions
from emdesk.domain.devices import DeviceKind

from .auth import ManufacturerKey, authenticate, seal_link_key
from .client import DeviceClient
from .errors import (
    AlreadyPaired, BatteryTooLow, Cancelled, CaseOpen, ConditionsNotSupported, DeviceError,
    DeviceFaulty, FirmwareNotApproved, NoGpsFix, NotAllocated, PartnerNotInRange,
    ProtocolFault, SelfTestFailed, StrapOpen, WrongDevice,
)
from .firmware import DEFAULT_APPROVED, ApprovedFirmware
from .link import DeviceLink
from .protocol.codes import SelfTestId
from .protocol.config import DEFAULT_TIMEZONE, DeviceConfig, UnplaceableCondition, configs_for
from .protocol.messages import (
    LINK_KEY_LEN, PAIRING_ID_LEN, DeviceIdentity, DeviceStatus, PairingState, PairPrepare, SelfTestReport,
)


class PairingStep(str, Enum):
    DETECT = "detect"
    IDENTIFY = "identify"
    CHECK_ALLOCATION = "check_allocation"
    AUTHENTICATE = "authenticate"
    PREPARE = "prepare"
    WRITE_CONFIG = "write_config"
    SELF_TEST = "self_test"
    COMMIT = "commit"
    VERIFY = "verify"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    PairingStep.DETECT: "Connecting to the devices",
    PairingStep.IDENTIFY: "Reading serial numbers, firmware, battery and strap",
    PairingStep.CHECK_ALLOCATION: "Checking the devices are allocated to this order",
    PairingStep.AUTHENTICATE: "Checking the devices are genuine",
    PairingStep.PREPARE: "Preparing the pairing",
    PairingStep.WRITE_CONFIG: "Writing the curfew, zones and reporting interval",
    PairingStep.SELF_TEST: "Self-test: strap, battery, radio range, GPS",
    PairingStep.COMMIT: "Committing the pairing",
    PairingStep.VERIFY: "Checking both devices agree",
}

STEPS = tuple(PairingStep)


class PairingOutcome(str, Enum):
    PAIRED = "paired"            # both devices committed; record it
    NOT_PAIRED = "not_paired"    # neither device is (or will stay) paired; nothing to record
    UNKNOWN = "unknown"          # commit answer lost and no device answers, or they report another pairing


class Role(str, Enum):
    TAG = "tag"
    HMU = "hmu"


@dataclass(frozen=True, slots=True)
class Progress:
    step: PairingStep
    index: int                   # 1-based
    total: int
    text: str


@dataclass(frozen=True, slots=True)
class Prompt:
    """Something the user can fix at the door.  Answer True to try again, False to give up."""

    step: PairingStep
    error: DeviceError
    attempt: int

    @property
    def text(self) -> str:
        return str(self.error)


# (role, identity, status) -> None when the device may be used, else the reason it may not.
AllocationCheck = Callable[[Role, DeviceIdentity, DeviceStatus], "str | None"]


@dataclass(slots=True)
class PairingCallbacks:
    """Called on the device thread.  ``prompt`` blocks until the user answers."""

    check_allocation: AllocationCheck | None = None
    progress: Callable[[Progress], None] | None = None
    prompt: Callable[[Prompt], bool] | None = None


@dataclass(frozen=True, slots=True)
class PairingOptions:
    approved: ApprovedFirmware = DEFAULT_APPROVED
    min_battery_pct: int = 20
    pairing_ttl_s: int = 300       # devices drop an uncommitted pairing after this
    max_prompts: int = 3
    timezone: str = DEFAULT_TIMEZONE


@dataclass(frozen=True, slots=True)
class DeviceReport:
    role: Role
    port: str
    identity: DeviceIdentity | None = None
    status: DeviceStatus | None = None          # as found, at identify
    config: DeviceConfig | None = None
    config_crc: int = 0
    self_test: SelfTestReport | None = None
    final_status: DeviceStatus | None = None    # after commit (verify)

    @property
    def serial(self) -> str | None:
        return self.identity.serial if self.identity else None


@dataclass(frozen=True, slots=True)
class PairingResult:
    outcome: PairingOutcome
    pairing_id: str                              # hex; empty if PREPARE was never reached
    tag: DeviceReport
    hmu: DeviceReport | None
    completed: tuple[PairingStep, ...]
    failed_step: PairingStep | None = None
    error: DeviceError | None = None
    warnings: tuple[str, ...] = ()
    finished_at: datetime | None = None

    @property
    def paired(self) -> bool:
        return self.outcome is PairingOutcome.PAIRED

    @property
    def tag_serial(self) -> str | None:
        return self.tag.serial

    @property
    def hmu_serial(self) -> str | None:
        return self.hmu.serial if self.hmu else None

    @property
    def message(self) -> str:
        if self.paired:
            who = f"{self.tag_serial} and {self.hmu_serial}" if self.hmu else f"{self.tag_serial}"
            return f"paired {who}" if self.hmu else f"installed {who}"
        if self.outcome is PairingOutcome.UNKNOWN:
            return ("the devices stopped answering while the pairing was being committed: reconnect both "
                    "and press Check (the devices are either both paired or both not)")
        return str(self.error) if self.error else "not paired"


@dataclass(slots=True)
class _Side:
    role: Role
    client: DeviceClient
    owned: bool
    identity: DeviceIdentity | None = None
    status: DeviceStatus | None = None
    config: DeviceConfig | None = None
    blob: bytes = b""
    self_test: SelfTestReport | None = None
    final_status: DeviceStatus | None = None

    def report(self) -> DeviceReport:
        return DeviceReport(self.role, self.client.port, self.identity, self.status, self.config,
                            zlib.crc32(self.blob) if self.blob else 0, self.self_test, self.final_status)


class PairingProcedure:
    """The procedure as a state machine: call ``advance()`` per step, or ``run()``.

    ``tag`` and ``hmu`` are open DeviceLinks (the caller closes them) or port URLs (opened
    at DETECT and closed at the end).  ``hmu=None`` installs a standalone device (a GPS
    tag without curfew, a non-fitted device).
    """

    def __init__(self, tag: DeviceLink | str, hmu: DeviceLink | str | None, conditions: Conditions, *,
                 key: ManufacturerKey, options: PairingOptions | None = None,
                 callbacks: PairingCallbacks | None = None, clock: Clock | None = None) -> None:
        self.conditions = conditions
        self.key = key
        self.options = options or PairingOptions()
        self.callbacks = callbacks or PairingCallbacks()
        self.clock = clock or SystemClock()
        self._targets: list[tuple[Role, DeviceLink | str]] = [(Role.TAG, tag)] + ([(Role.HMU, hmu)] if hmu is not None else [])
        self._sides: list[_Side] = []
        self._index = 0
        self._completed: list[PairingStep] = []
        self._cancel = threading.Event()
        self._pairing_id = b""
        self._link_key = b""
        self._prepared = False       # PAIR_PREPARE may have reached a device
        self._commit_sent = False
        self._committed = False
        self._settled: PairingOutcome | None = None   # what reading the devices back after a failed commit found
        self._warnings: list[str] = []
        self.result: PairingResult | None = None

    # -- driving -------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        return self.result is not None

    @property
    def step(self) -> PairingStep | None:
        return None if self.done else STEPS[self._index]

    def cancel(self) -> None:
        """Ask the procedure to stop before its next step (and roll back).  Any thread."""
        self._cancel.set()

    def run(self) -> PairingResult:
        while self.advance():
            pass
        assert self.result is not None
        return self.result

    def advance(self) -> bool:
        """Run the next step.  Returns False once finished (see ``result``)."""
        if self.done:
            return False
        step = STEPS[self._index]
        self._progress(step)
        try:
            if self._cancel.is_set():
                raise Cancelled("pairing cancelled", "nothing was changed on the devices; start again when ready")
            getattr(self, f"_{step.value}")()
        except DeviceError as e:
            self._finish_failed(step, e)
            return False
        self._completed.append(step)
        self._index += 1
        if self._index == len(STEPS):
            self._finish(PairingOutcome.PAIRED)
            return False
        return True

    # -- steps -------------------------------------------------------------------------

    def _detect(self) -> None:
        for role, target in self._targets:
            if isinstance(target, DeviceLink):
                side = _Side(role, DeviceClient(target), owned=False)
            else:
                side = _Side(role, DeviceClient(DeviceLink.open(target)), owned=True)
            self._sides.append(side)
            side.identity = side.client.hello()    # a new session: discards stale pairings

    def _identify(self) -> None:
        for side in self._sides:
            side.status = side.client.status()
        self._check_kinds()
        for side in self._sides:
            self._check_fit(side)
        self._plan_configs()

    def _check_kinds(self) -> None:
        tag, hmu = self._side(Role.TAG), self._side(Role.HMU)
        ti = tag.identity
        where = {"port": tag.client.port, "serial": ti.serial}
        if hmu is None:
            if ti.kind is DeviceKind.HMU:
                raise WrongDevice(f"the device on {tag.client.port} is a home monitoring unit, not a tag",
                                  "connect the tag (or non-fitted device) and press Retry", **where)
            return
        if not ti.kind.worn:
            raise WrongDevice(f"the device on {tag.client.port} is a {ti.kind.label.lower()} ({ti.serial}), not a tag",
                              "connect the tag to the tag cable and press Retry", **where)
        hi = hmu.identity
        if hi.kind is not DeviceKind.HMU:
            raise WrongDevice(
                f"the device on {hmu.client.port} is a {hi.kind.label.lower()} ({hi.serial}), not a home monitoring unit",
                "connect the home unit to its cable and press Retry", port=hmu.client.port, serial=hi.serial)

    def _check_fit(self, side: _Side) -> None:
        """Firmware approved, battery, case, not paired to someone else."""
        opts = self.options
        ident, st = side.identity, side.status
        where = {"port": side.client.port, "serial": ident.serial}
        name = f"{ident.kind.label} {ident.serial}"
        if not opts.approved.is_approved(ident.kind, ident.firmware):
            approved = ", ".join(opts.approved.approved_for(ident.kind)) or "none"
            raise FirmwareNotApproved(f"{name} runs firmware {ident.firmware}, which is not approved (approved: {approved})",
                                      "update its firmware on the bench, or use another device", **where)
        if st.battery_pct < opts.min_battery_pct and not st.charging:
            advice = ("plug the home unit into the mains and press Retry" if ident.kind is DeviceKind.HMU
                      else "charge it for at least 2 hours or use another device, then press Retry")
            raise BatteryTooLow(f"battery flat on {ident.serial} ({st.battery_pct}%)", advice, **where)
        if st.case_open:
            raise CaseOpen(f"the case of {ident.serial} is open or damaged",
                           "do not fit it: mark it faulty and use another device", **where)
        partner = self._partner_of(side)
        if st.paired and st.partner_serial != (partner.identity.serial if partner else ""):
            raise AlreadyPaired(f"{name} is still paired with {st.partner_serial or 'another device'}",
                                "unpair it on the bench first, or use another device", **where)

    def _plan_configs(self) -> None:
        kinds = [s.identity.kind for s in self._sides]
        try:
            configs = configs_for(self.conditions, kinds, tz=self.options.timezone)
        except UnplaceableCondition as e:
            have = " and ".join(k.label.lower() for k in kinds)
            raise ConditionsNotSupported(
                f"this order has {e} but a {have} cannot enforce it",
                "connect the devices this order needs (e.g. a home unit for a curfew, a GPS tag for zones)") from None
        except ValueError as e:
            raise ConditionsNotSupported(f"the order's conditions cannot be sent to a device ({e})",
                                         "correct the order's conditions, then press Retry") from None
        for side in self._sides:
            side.config = configs[side.identity.kind]
            side.blob = side.config.encode()

    def _check_allocation(self) -> None:
        check = self.callbacks.check_allocation
        if check is None:
            return
        for side in self._sides:
            reason = check(side.role, side.identity, side.status)
            if reason:
                raise NotAllocated(f"{side.identity.kind.label} {side.identity.serial}: {reason}",
                                   "use the device allocated to this order, or change the allocation in Stock",
                                   port=side.client.port, serial=side.identity.serial)

    def _authenticate(self) -> None:
        for side in self._sides:
            authenticate(side.client, self.key)

    def _prepare(self) -> None:
        self._pairing_id = secrets.token_bytes(PAIRING_ID_LEN)
        self._link_key = secrets.token_bytes(LINK_KEY_LEN)
        now = int(self.clock.now().timestamp())
        for side in self._sides:
            side.client.set_time(now)
        for side in self._sides:
            partner = self._partner_of(side)
            self._prepared = True
            side.client.pair_prepare(PairPrepare(
                pairing_id=self._pairing_id,
                partner_kind=partner.identity.kind if partner else None,
                partner_serial=partner.identity.serial if partner else "",
                sealed_link_key=seal_link_key(side.client.session_key, self._pairing_id, side.identity.serial,
                                              self._link_key),
                ttl_s=self.options.pairing_ttl_s))

    def _write_config(self) -> None:
        for side in self._sides:
            ack = side.client.write_config(self._pairing_id, side.blob)
            if not ack.complete or ack.crc32 != zlib.crc32(side.blob):
                raise ProtocolFault(f"{side.identity.serial} stored a different configuration from the one sent",
                                    "press Retry; if it happens again, mark the device faulty",
                                    port=side.client.port, serial=side.identity.serial)

    def _self_test(self) -> None:
        attempt = 0
        while True:
            attempt += 1
            try:
                for side in self._sides:
                    side.self_test = side.client.self_test()
                    self._judge(side)
                return
            except (StrapOpen, PartnerNotInRange, NoGpsFix, SelfTestFailed, BatteryTooLow) as e:
                ask = self.callbacks.prompt
                if ask is None or attempt > self.options.max_prompts or self._cancel.is_set():
                    raise
                if not ask(Prompt(PairingStep.SELF_TEST, e, attempt)):
                    raise Cancelled(f"pairing stopped at the self-test ({e.what})",
                                    "nothing was changed on the devices; start again when ready") from e

    def _judge(self, side: _Side) -> None:
        report, ident = side.self_test, side.identity
        kw = {"port": side.client.port, "serial": ident.serial}
        for fail in report.failures:
            c = fail.check
            if c is SelfTestId.STRAP:
                raise StrapOpen(f"strap open on {ident.serial}", "close the strap and press Retry", **kw)
            if c is SelfTestId.PARTNER_RANGE:
                raise PartnerNotInRange(f"{ident.serial} cannot hear its partner over the radio",
                                        "bring the tag within 5 metres of the home unit and press Retry", **kw)
            if c is SelfTestId.GPS_FIX:
                raise NoGpsFix(f"GPS tag {ident.serial} has no satellite fix",
                               "take it near a window or outside for a minute and press Retry", **kw)
            if c is SelfTestId.BATTERY:
                raise BatteryTooLow(f"battery low on {ident.serial} ({fail.value}%)",
                                    "charge it or use another device, then press Retry", **kw)
            if c is SelfTestId.MAINS_POWER:
                raise SelfTestFailed(f"home unit {ident.serial} is not on mains power",
                                     "plug it into a wall socket and press Retry", **kw)
            if c is SelfTestId.CASE:
                raise CaseOpen(f"the case of {ident.serial} is open or damaged",
                               "do not fit it: mark it faulty and use another device", **kw)
            raise DeviceFaulty(f"{ident.serial} failed its {c.name.lower().replace('_', ' ')} self-test",
                               "mark it faulty and use another device", **kw)

    def _commit(self) -> None:
        target = self._side(Role.HMU) or self._side(Role.TAG)
        self._commit_sent = True
        try:
            done = target.client.pair_commit(self._pairing_id)
        except DeviceError as e:
            self._settled = self._settle(target, e)
            if self._settled is not PairingOutcome.PAIRED:
                raise
            done = None
        self._committed = True                  # from here on the devices hold the pairing
        if done is None:
            return                              # settled by reading the devices back; VERIFY checks them
        partner = self._partner_of(target)
        if done.pairing_id != self._pairing_id or done.config_crc != zlib.crc32(target.blob) or (
                partner and (done.partner_serial != partner.identity.serial
                             or done.partner_config_crc != zlib.crc32(partner.blob))):
            raise ProtocolFault(f"{target.identity.serial} confirmed a different pairing from the one prepared",
                                "check both devices on the bench before fitting them",
                                port=target.client.port, serial=target.identity.serial)

    def _settle(self, target: _Side, error: DeviceError) -> PairingOutcome:
        """The commit failed, or its answer is missing.  A device's "no" does not prove
        nothing was committed (the partner may have committed over the radio and its
        acknowledgement been lost), so read both devices back and make them agree:
        finish the commit, or undo the half that was committed."""
        partner = self._partner_of(target)
        here = self._committed_on(target)
        there = self._committed_on(partner) if partner else None
        if here is True:
            # The target commits only after its partner has: both hold it.
            self._warnings.append(f"the answer to the commit was lost; {target.identity.serial} confirms the pairing")
            return PairingOutcome.PAIRED
        if here is None:
            if there is False:          # the partner commits first: nothing was committed
                self._abort_all()
                return PairingOutcome.NOT_PAIRED
            return PairingOutcome.UNKNOWN
        if partner is None or there is False:
            self._abort_all()
            return PairingOutcome.NOT_PAIRED
        if there is None:
            return PairingOutcome.UNKNOWN
        # Half paired: the partner holds the pairing, the target does not.  Finish...
        who = f"{partner.identity.serial} committed but {target.identity.serial} did not hear it"
        try:
            target.client.pair_commit(self._pairing_id)
        except DeviceError:
            pass
        if self._committed_on(target) is True:
            self._warnings.append(f"{who}; the commit was sent again and finished")
            return PairingOutcome.PAIRED
        # ...or undo it.
        try:
            partner.client.unpair()
        except DeviceError:
            pass
        if self._committed_on(partner) is False:
            self._abort_all()
            self._warnings.append(f"{who}; it was undone on {partner.identity.serial}")
            return PairingOutcome.NOT_PAIRED
        return PairingOutcome.UNKNOWN

    def _committed_on(self, side: _Side) -> bool | None:
        """Does ``side`` hold this pairing (None: it does not answer)?"""
        try:
            st = side.client.status()
        except DeviceError:
            return None
        side.final_status = st
        return st.paired and st.pairing_id == self._pairing_id

    def _verify(self) -> None:
        for side in self._sides:
            try:
                side.final_status = st = side.client.status()
            except DeviceError as e:
                self._warnings.append(f"could not re-read {side.identity.serial} after pairing ({e.what})")
                continue
            partner = self._partner_of(side)
            if not (st.paired and st.pairing_id == self._pairing_id and st.config_crc == zlib.crc32(side.blob)
                    and st.partner_serial == (partner.identity.serial if partner else "")):
                raise ProtocolFault(f"{side.identity.serial} does not report the pairing that was committed",
                                    "check both devices on the bench before fitting them",
                                    port=side.client.port, serial=side.identity.serial)

    # -- finishing ---------------------------------------------------------------------

    def _finish_failed(self, step: PairingStep, error: DeviceError) -> None:
        if self._settled is not None and not self._committed:
            self._finish(self._settled, step, error)
        elif self._committed:
            # The commit was settled, but what the devices report is not what was sent.
            self._finish(PairingOutcome.UNKNOWN, step, error)
        else:
            if self._prepared:
                self._abort_all()
            self._finish(PairingOutcome.NOT_PAIRED, step, error)

    def _abort_all(self) -> None:
        for side in self._sides:
            try:
                side.client.pair_abort(self._pairing_id, retries=1)
            except DeviceError as e:
                self._warnings.append(f"{side.identity.serial if side.identity else side.client.port}: "
                                      f"could not cancel the pairing ({e.what}); it lapses by itself")

    def _finish(self, outcome: PairingOutcome, step: PairingStep | None = None, error: DeviceError | None = None) -> None:
        tag = self._side(Role.TAG)
        hmu = self._side(Role.HMU)
        self.result = PairingResult(
            outcome=outcome, pairing_id=self._pairing_id.hex(),
            tag=tag.report() if tag else DeviceReport(Role.TAG, _port_name(self._targets[0][1])),
            hmu=(hmu.report() if hmu else DeviceReport(Role.HMU, _port_name(self._targets[1][1])))
            if len(self._targets) > 1 else None,
            completed=tuple(self._completed), failed_step=step, error=error,
            warnings=tuple(self._warnings), finished_at=self.clock.now())
        for side in self._sides:
            if side.owned:
                side.client.link.close()

    # -- helpers -------------------------------------------------------------------------

    def _side(self, role: Role) -> _Side | None:
        return next((s for s in self._sides if s.role is role), None)

    def _partner_of(self, side: _Side) -> _Side | None:
        return next((s for s in self._sides if s is not side), None)

    def _progress(self, step: PairingStep) -> None:
        if self.callbacks.progress:
            self.callbacks.progress(Progress(step, STEPS.index(step) + 1, len(STEPS), step.label))


def _port_name(target: DeviceLink | str) -> str:
    return target.name if isinstance(target, DeviceLink) else str(target)


def pair_devices(tag: DeviceLink | str, hmu: DeviceLink | str | None, conditions: Conditions, *,
                 key: ManufacturerKey, options: PairingOptions | None = None,
                 callbacks: PairingCallbacks | None = None, clock: Clock | None = None) -> PairingResult:
    """Run the whole procedure; never raises DeviceError (it is in ``result.error``)."""
    return PairingProcedure(tag, hmu, conditions, key=key, options=options, callbacks=callbacks, clock=clock).run()


def check_pairing(tag: DeviceLink, hmu: DeviceLink | None, pairing_id: str, *,
                  key: ManufacturerKey | None = None) -> PairingOutcome:
    """After an UNKNOWN outcome: reconnect and ask the devices (no HELLO, so nothing is discarded).

    The home unit commits only after its tag has, so a home unit holding the pairing
    means both do.  A tag holding it alone is half a pairing: with ``key`` it is
    undone (the home unit's side of it was lost with the connection) and the answer is
    NOT_PAIRED; without, UNKNOWN.
    """
    want = bytes.fromhex(pairing_id)

    def holds(link: DeviceLink) -> bool | None:
        try:
            st = DeviceClient(link).status()
        except DeviceError:
            return None
        return st.pairing_state is PairingState.PAIRED and st.pairing_id == want

    on_tag = holds(tag)
    if hmu is None:
        return PairingOutcome.UNKNOWN if on_tag is None else (
            PairingOutcome.PAIRED if on_tag else PairingOutcome.NOT_PAIRED)
    on_hmu = holds(hmu)
    if on_hmu:
        return PairingOutcome.PAIRED
    if on_tag is False:
        return PairingOutcome.NOT_PAIRED
    if on_tag is None or on_hmu is None or key is None:
        return PairingOutcome.UNKNOWN
    try:                                       # half paired: undo the tag's half
        client = DeviceClient(tag)
        client.hello()
        authenticate(client, key)
        client.unpair()
    except DeviceError:
        return PairingOutcome.UNKNOWN
    return PairingOutcome.NOT_PAIRED if holds(tag) is False else PairingOutcome.UNKNOWN
