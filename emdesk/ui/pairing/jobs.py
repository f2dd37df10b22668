"""What is being paired, and what the wizard does differently for it.

A ``PairingJob`` answers every question the wizard would otherwise branch on: what to
show before starting, which conditions to write, how to check a device may be used,
how to record the result (or a refused device), and what to tell the person after.
Two kinds: an install visit (``InstallPairing`` over the services' ``InstallJob``) and
pairing on the technician's bench (``BenchPairing``).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from emdesk.devices.pairing import PairingResult, PairingStep
from emdesk.devices.readings import checklist_readings
from emdesk.domain.conditions import Conditions
from emdesk.services.installs import InstallJob

from .describe import describe_conditions
from .steps import DONE

# (service call, args, kwargs): run on the store lane by the wizard.
Call = tuple[Callable[..., Any], tuple, dict]


@dataclass(frozen=True)
class BenchJob:
    """Pairing on the technician's bench: no visit, no order conditions."""

    title: str = "Pair a tag with its home unit on the bench"
    needs_home_unit: bool = True


class PairingJob(Protocol):
    window_title: str
    facts_title: str
    needs_home_unit: bool
    conditions: Conditions
    next_steps: str

    def facts(self) -> list[tuple[str, str]]:
        """Label / value rows shown before the pairing starts."""

    def allocation(self, ctx) -> Callable[[str, str, "str | None"], "str | None"]:
        """(serial, kind, partner serial) -> None, or why that device may not be used."""

    def record(self, ctx, result: PairingResult) -> Call:
        """The service call that records a completed pairing (idempotent)."""

    def record_refused(self, ctx, serial: str) -> Call:
        """The service call that sets a device refused as counterfeit aside."""

    def done_text(self, step: PairingStep, with_hmu: bool) -> str:
        """What a finished step says."""

    def summary(self, result: PairingResult, tag: str, hmu: str) -> list[tuple[str, str]]:
        """Label / value rows shown once paired."""


class InstallPairing:
    def __init__(self, job: InstallJob):
        self.job = job
        self.window_title = f"Pair devices — {job.subject_name}"
        self.facts_title = "What is being installed"
        self.needs_home_unit = job.needs_home_unit
        self.conditions = job.conditions
        self.next_steps = ("Next: fit the tag, check the strap is closed, and leave the home unit "
                           "plugged into the mains near where the wearer sleeps.")

    def _visit(self) -> str:
        return f"{self.job.subject_name} · order {self.job.reference or self.job.order_id}"

    def facts(self) -> list[tuple[str, str]]:
        job = self.job
        return [("Visit", self._visit()), ("Address", job.address or "—"),
                ("Conditions", describe_conditions(job.conditions)),
                ("Allocated kit", ", ".join(f"{s} ({k.label})" for s, k in job.allocated)
                 or "none yet: a device from your region's stock will be allocated")]

    def allocation(self, ctx):
        installs, job = ctx.installs, self.job
        return lambda serial, kind, partner: installs.check_allocation(job.order_id, job.visit_id, serial, kind,
                                                                        partner)

    def record(self, ctx, result: PairingResult) -> Call:
        job = self.job
        # The self-test's values fill the checklist's reading steps (range, battery, the GPS tag's
        # first fix): taken from the devices, never typed.
        return (ctx.installs.record_installation,
                (job.order_id, job.visit_id, result.tag_serial, result.hmu_serial, result.pairing_id),
                {"readings": checklist_readings(result)})

    def record_refused(self, ctx, serial: str) -> Call:
        return ctx.installs.record_refused_device, (serial,), {"visit_id": self.job.visit_id}

    def done_text(self, step: PairingStep, with_hmu: bool) -> str:
        if step is PairingStep.DETECT and not with_hmu:
            return "the device answered"
        return DONE[step]

    def summary(self, result: PairingResult, tag: str, hmu: str) -> list[tuple[str, str]]:
        return [("Visit", self._visit()), ("Tag", tag), ("Home unit", hmu), ("Pairing id", result.pairing_id),
                ("Configuration", describe_conditions(self.job.conditions))]


class BenchPairing:
    def __init__(self, job: BenchJob):
        self.job = job
        self.window_title = "Pair devices — bench"
        self.facts_title = "Bench pairing"
        self.needs_home_unit = job.needs_home_unit
        self.conditions = Conditions()
        self.next_steps = "Label both devices as a pair before they go back on the shelf."

    def facts(self) -> list[tuple[str, str]]:
        return [("Purpose", "pair kit for issue: the records of both devices will point at each other"),
                ("Conditions", "none (the order's conditions are written at the install)")]

    def allocation(self, ctx):
        bench = ctx.bench
        return lambda serial, kind, partner: bench.check_allocation(serial, kind, partner)

    def record(self, ctx, result: PairingResult) -> Call:
        return ctx.bench.record_bench_pairing, (result.tag_serial, result.hmu_serial, result.pairing_id), {}

    def record_refused(self, ctx, serial: str) -> Call:
        return ctx.bench.record_refused_device, (serial,), {}

    def done_text(self, step: PairingStep, with_hmu: bool) -> str:
        if step is PairingStep.CHECK_ALLOCATION:
            return "known to emdesk and free to pair"
        if step is PairingStep.DETECT and not with_hmu:
            return "the device answered"
        return DONE[step]

    def summary(self, result: PairingResult, tag: str, hmu: str) -> list[tuple[str, str]]:
        return [("Tag", tag), ("Home unit", hmu), ("Pairing id", result.pairing_id)]


def pairing_job(job: InstallJob | BenchJob | PairingJob) -> PairingJob:
    """The ``PairingJob`` for what the wizard was opened with."""
    if isinstance(job, InstallJob):
        return InstallPairing(job)
    if isinstance(job, BenchJob):
        return BenchPairing(job)
    return job
