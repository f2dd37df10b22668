"""Runs one pairing on the device thread and reports it to the GUI as signals.

The pairing procedure (``emdesk.devices.pairing``) runs as ONE job on the shared device
thread.  Its callbacks run there too, and turn into Qt signals on this object (which
lives in the GUI thread, so the slots run there):

* ``progress(Progress)`` as each step starts (the one before it is then done);
* ``identified(Role, DeviceIdentity, DeviceStatus)`` when the devices have said who
  they are (just before the allocation check);
* ``prompt(Prompt)``: something to fix at the door ("close the strap and press
  Retry"); the device thread waits until ``answer(True/False)``;
* ``finished(PairingResult)`` at the end, whatever happened (never an exception:
  ``result.error`` says what went wrong), or ``crashed(str)`` for a software fault.

The allocation check asks the services through ``ask_services`` (the store is only
touched on the service thread); the GUI never touches a port.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from emdesk.devices.errors import DeviceError
from emdesk.devices.link import DeviceLink, LinkPolicy
from emdesk.devices.pairing import (
    DeviceReport,
    PairingCallbacks,
    PairingOutcome,
    PairingProcedure,
    PairingResult,
    PairingStep,
    Progress,
    Prompt,
    Role,
    check_pairing,
)
from emdesk.devices.protocol.messages import DeviceIdentity, DeviceStatus
from emdesk.devices.worker import DeviceWorker, PromptBridge
from emdesk.domain.conditions import Conditions

from .device_thread import ask_services

log = logging.getLogger(__name__)

# (serial, kind value, partner serial or None) -> None, or why that device may not be used.
AllocationQuestion = Callable[[str, str, "str | None"], "str | None"]


class PairingRunner(QObject):
    progress = Signal(object)
    identified = Signal(object, object, object)
    prompt = Signal(object)
    finished = Signal(object)
    checked = Signal(object)          # PairingOutcome from check_again()
    crashed = Signal(str)

    def __init__(self, worker: DeviceWorker, *, policy: LinkPolicy | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.worker = worker
        self.policy = policy
        self.procedure: PairingProcedure | None = None
        self.running = False
        self._bridge = PromptBridge(self.prompt.emit, timeout=None)

    # -- GUI side -----------------------------------------------------------------------

    def start(self, tag_port: str, hmu_port: str | None, conditions: Conditions, *, key,
              allocation: AllocationQuestion | None = None) -> None:
        """Pair (or install standalone, ``hmu_port=None``) on the device thread."""
        if self.running:
            raise RuntimeError("a pairing is already running")
        self.running = True
        fut = self.worker.submit(self._run, tag_port, hmu_port, conditions, key, allocation)
        fut.add_done_callback(self._done)

    def answer(self, again: bool) -> None:
        """The user's answer to the current prompt: True = Retry, False = give up."""
        self._bridge.answer(again)

    def cancel(self) -> None:
        """Stop before the next step (rolling back) and release a waiting prompt."""
        if self.procedure is not None:
            self.procedure.cancel()
        self._bridge.answer(False)

    def check_again(self, tag_port: str, hmu_port: str | None, pairing_id: str) -> None:
        """After an UNKNOWN outcome: reconnect and ask the devices (``checked`` signal)."""
        fut = self.worker.submit(self._check, tag_port, hmu_port, pairing_id)
        fut.add_done_callback(lambda f: self.checked.emit(
            f.result() if not f.exception() else PairingOutcome.UNKNOWN))

    # -- device thread ------------------------------------------------------------------

    def _run(self, tag_port: str, hmu_port: str | None, conditions: Conditions, key,
             allocation: AllocationQuestion | None) -> PairingResult:
        links: list[DeviceLink] = []
        try:
            try:
                tag = self._open(tag_port, links)
                hmu = self._open(hmu_port, links) if hmu_port else None
            except DeviceError as e:
                return PairingResult(PairingOutcome.NOT_PAIRED, "", DeviceReport(Role.TAG, tag_port),
                                     DeviceReport(Role.HMU, hmu_port) if hmu_port else None, (),
                                     PairingStep.DETECT, e)
            callbacks = PairingCallbacks(check_allocation=self._allocation_check(allocation),
                                         progress=self.progress.emit, prompt=self._bridge.ask)
            self.procedure = PairingProcedure(tag, hmu, conditions, key=key, callbacks=callbacks)
            return self.procedure.run()
        finally:
            for link in links:
                link.close()

    def _open(self, port: str, links: list[DeviceLink]) -> DeviceLink:
        link = DeviceLink.open(port, policy=self.policy) if self.policy else DeviceLink.open(port)
        links.append(link)
        return link

    def _allocation_check(self, allocation: AllocationQuestion | None):
        if allocation is None:
            return None
        seen: dict[Role, str] = {}

        def check(role: Role, identity: DeviceIdentity, status: DeviceStatus) -> str | None:
            self.identified.emit(role, identity, status)
            partner = next((s for r, s in seen.items() if r is not role), None)
            seen[role] = identity.serial
            try:
                return ask_services(allocation, identity.serial, identity.kind.value, partner)
            except Exception as e:          # the store could not answer: do not fit it blind
                log.exception("allocation check failed")
                return f"could not be checked against the records ({e})"
        return check

    def _check(self, tag_port: str, hmu_port: str | None, pairing_id: str) -> PairingOutcome:
        links: list[DeviceLink] = []
        try:
            tag = self._open(tag_port, links)
            hmu = self._open(hmu_port, links) if hmu_port else None
            return check_pairing(tag, hmu, pairing_id)
        except DeviceError:
            return PairingOutcome.UNKNOWN
        finally:
            for link in links:
                link.close()

    def _done(self, fut) -> None:
        self.running = False
        self.procedure = None
        error = fut.exception()
        if error is not None:
            log.error("pairing crashed", exc_info=error)
            self.crashed.emit(f"{type(error).__name__}: {error}")
        else:
            self.finished.emit(fut.result())


__all__ = ["AllocationQuestion", "PairingRunner", "Progress", "Prompt"]
