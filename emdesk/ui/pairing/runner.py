"""Runs one pairing on the session's device lane and reports it to the GUI as signals.

The pairing procedure (``emdesk.devices.pairing``) runs as ONE task on the device lane of
the session's ``TaskRunner``.  Its callbacks run there too, and turn into Qt signals on
this object (which lives in the GUI thread, so the slots run there):

* ``progress(Progress)`` as each step starts (the one before it is then done);
* ``identified(Role, DeviceIdentity, DeviceStatus)`` when the devices have said who
  they are (just before the allocation check);
* ``prompt(Prompt)``: something to fix at the door ("close the strap and press
  Retry"); the device lane waits until ``answer(True/False)``, for at most
  ``PROMPT_TIMEOUT_S``, and no longer than the task is not cancelled;
* ``finished(PairingResult)`` at the end, whatever happened (never an exception:
  ``result.error`` says what went wrong), or ``crashed(str)`` for a software fault.

Cancelling the task (Stop, closing the wizard, signing out, quitting) cancels the
procedure, which rolls back before its next step, and answers a waiting prompt "give
up", so the device lane is free again within moments.

The allocation check asks the services on the store lane (``TaskRunner.call``); the GUI
never touches a port.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future

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
from emdesk.devices.worker import DeviceWorker
from emdesk.domain.conditions import Conditions

from ..tasks import DEVICE, STORE, CancelToken, Task, TaskError, TaskRunner

log = logging.getLogger(__name__)

# (serial, kind value, partner serial or None) -> None, or why that device may not be used.
AllocationQuestion = Callable[[str, str, "str | None"], "str | None"]
# How long the devices wait for the person at the door before the pairing gives up.
PROMPT_TIMEOUT_S = 600.0


class PairingRunner(QObject):
    progress = Signal(object)
    identified = Signal(object, object, object)
    prompt = Signal(object)
    finished = Signal(object)
    checked = Signal(object)          # PairingOutcome from check_again()
    crashed = Signal(str)

    def __init__(self, tasks: TaskRunner, *, device: DeviceWorker | None = None, policy: LinkPolicy | None = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.tasks = tasks
        self.device = device          # a worker of the caller's (tests); else the session's device lane
        self.policy = policy
        self.procedure: PairingProcedure | None = None
        self.task: Task | None = None
        self._answer: Future | None = None

    @property
    def running(self) -> bool:
        return self.task is not None

    # -- GUI side -----------------------------------------------------------------------

    def start(self, tag_port: str, hmu_port: str | None, conditions: Conditions, *, key,
              allocation: AllocationQuestion | None = None) -> None:
        """Pair (or install standalone, ``hmu_port=None``) on the device lane."""
        if self.running:
            raise RuntimeError("a pairing is already running")
        task = Task(self._run, (tag_port, hmu_port, conditions, key, allocation), {}, name="pairing", lane=DEVICE)
        task.token.on_cancel(self._stop_procedure)
        task.succeeded.connect(self._done)
        task.failed.connect(self._failed)
        task.cancelled.connect(self._gone)
        self.task = task
        self.tasks.start(task, device=self.device)

    def answer(self, again: bool) -> None:
        """The user's answer to the current prompt: True = Retry, False = give up."""
        fut = self._answer
        if fut is not None and not fut.done():
            fut.set_result(again)

    def cancel(self) -> None:
        """Stop before the next step (rolling back) and release a waiting prompt."""
        if self.task is not None:
            self.task.cancel()

    def check_again(self, tag_port: str, hmu_port: str | None, pairing_id: str) -> None:
        """After an UNKNOWN outcome: reconnect and ask the devices (``checked`` signal)."""
        self.tasks.run(self._check, tag_port, hmu_port, pairing_id, lane=DEVICE, device=self.device,
                       name="check pairing", on_done=self.checked.emit,
                       on_error=lambda *_: self.checked.emit(PairingOutcome.UNKNOWN))

    def _stop_procedure(self) -> None:
        # Any thread: the token's hook.  The procedure checks its flag before each step.
        procedure = self.procedure
        if procedure is not None:
            procedure.cancel()
        self.answer(False)

    # -- device thread ------------------------------------------------------------------

    def _run(self, tag_port: str, hmu_port: str | None, conditions: Conditions, key,
             allocation: AllocationQuestion | None, cancel: CancelToken) -> PairingResult:
        links: list[DeviceLink] = []
        try:
            try:
                tag = self._open(tag_port, links)
                hmu = self._open(hmu_port, links) if hmu_port else None
            except DeviceError as e:
                return PairingResult(PairingOutcome.NOT_PAIRED, "", DeviceReport(Role.TAG, tag_port),
                                     DeviceReport(Role.HMU, hmu_port) if hmu_port else None, (),
                                     PairingStep.DETECT, e)
            callbacks = PairingCallbacks(check_allocation=self._allocation_check(allocation, cancel),
                                         progress=self.progress.emit, prompt=lambda p: self._ask(p, cancel))
            self.procedure = PairingProcedure(tag, hmu, conditions, key=key, callbacks=callbacks)
            if cancel.cancelled:          # cancelled while the ports opened
                self.procedure.cancel()
            return self.procedure.run()
        finally:
            for link in links:
                link.close()

    def _open(self, port: str, links: list[DeviceLink]) -> DeviceLink:
        link = DeviceLink.open(port, policy=self.policy) if self.policy else DeviceLink.open(port)
        links.append(link)
        return link

    def _ask(self, prompt: Prompt, cancel: CancelToken) -> bool:
        """Wait for the person's answer: bounded, and never past a cancel."""
        fut: Future = Future()
        self._answer = fut
        if cancel.cancelled:
            return False
        self.prompt.emit(prompt)
        deadline = time.monotonic() + PROMPT_TIMEOUT_S
        while not cancel.cancelled and time.monotonic() < deadline:
            try:
                return bool(fut.result(0.05))
            except TimeoutError:
                continue
        return False

    def _allocation_check(self, allocation: AllocationQuestion | None, cancel: CancelToken):
        if allocation is None:
            return None
        seen: dict[Role, str] = {}

        def check(role: Role, identity: DeviceIdentity, status: DeviceStatus) -> str | None:
            self.identified.emit(role, identity, status)
            partner = next((s for r, s in seen.items() if r is not role), None)
            seen[role] = identity.serial
            try:
                return self.tasks.call(allocation, identity.serial, identity.kind.value, partner, lane=STORE,
                                       timeout=60.0, cancel=cancel)
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

    def _done(self, result: PairingResult) -> None:
        self.task = None
        self.procedure = None
        self.finished.emit(result)

    def _failed(self, error: TaskError) -> None:
        self.task = None
        self.procedure = None
        log.error("pairing crashed: %s", error.sentence, exc_info=error.exception)
        self.crashed.emit(error.sentence)

    def _gone(self) -> None:
        # Cancelled before it started (the session ended): nothing was sent to the devices.
        self.task = None
        self.procedure = None
        self.crashed.emit("the pairing was stopped before it started")


__all__ = ["AllocationQuestion", "PairingRunner", "Progress", "Prompt"]
