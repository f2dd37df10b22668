"""Visit checklists at the door: open one, tick its steps, take the devices' readings, and
the gate that keeps a visit from completing while required steps are not done.

Each tick is written the moment it is made, in its own transaction (a ``ChecklistTick``
row and its outbox row commit together) synced to disk before ``tick`` returns
(``Store.durable``), so a crash or a power cut mid-visit loses nothing already ticked and ``open`` resumes at the first step not done.  Ticks travel to
the hub through the outbox like every other record (append-only: never overwritten).

The templates are data (``resources/checklists/*.toml``), read once per process and
checked on load: a broken file stops with a message naming the file and the step.

For the UI:

* ``open(visit_id) -> ChecklistState``: the steps with their state, what blocks
  completion, ``complete``, and ``resume`` (the key of the first step not done);
* ``tick(visit_id, step, done=True, value=None, skipped="")``: tick, untick (``done``
  False), answer a choice or text step, or mark a step that allows it as not possible
  (``skipped``: the reason);
* ``record_readings(visit_id, readings)``: the pairing wizard's results (``READINGS``
  names: ``pairing_id``, ``range_rssi_dbm``, ``gps_ttff_s``...), never typed by a person.
  ``InstallService.record_installation`` records the pairing id and serials itself.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from emdesk.domain.checklists import (
    READINGS,
    ChecklistTick,
    Evaluation,
    StepKind,
    StepState,
    Template,
    TemplateError,
    evaluate,
    latest_ticks,
    parse_template,
    reading_problems,
    readings_for,
    select_template,
    tick_order,
    value_problem,
)
from emdesk.domain.clock import Clock
from emdesk.domain.devices import Device, DeviceKind, DeviceState
from emdesk.domain.orders import Order
from emdesk.domain.users import Permission, User
from emdesk.domain.visits import Visit, VisitKind, VisitStatus
from emdesk.store import Store

from .errors import AccessDenied, ServiceError

# The repository's resources/ (as the UI finds its style sheet); EMDESK_CHECKLISTS points elsewhere.
TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "resources" / "checklists"
FINISHED = (VisitStatus.COMPLETED, VisitStatus.CANCELLED, VisitStatus.FAILED)
ON_ORDER = (DeviceState.ALLOCATED, DeviceState.INSTALLED, DeviceState.AWAITING_COLLECTION)
NOT_RECOVERED = "not recovered"       # the removal template's device condition for kit left behind


class ChecklistError(ServiceError):
    """The checklist cannot be changed as asked (the message says why)."""


def templates_dir() -> Path:
    return Path(os.environ.get("EMDESK_CHECKLISTS") or TEMPLATES_DIR)


def load_templates(directory: str | Path | None = None) -> tuple[Template, ...]:
    """Every template in the directory, checked; ``TemplateError`` names the broken file."""
    folder = Path(directory) if directory is not None else templates_dir()
    # Read again only when a file changed (or came or went).
    files = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(folder.glob("*.toml")))
    return _load(str(folder), files)


@lru_cache(maxsize=8)
def _load(directory: str, signature: tuple) -> tuple[Template, ...]:
    folder = Path(directory)
    files = [folder / name for name, _, _ in signature]
    if not files:
        raise TemplateError(f"{folder}: no checklist templates (*.toml) there; reinstall emdesk")
    out: list[Template] = []
    names: dict[str, str] = {}
    for path in files:
        template = parse_template(path.name, path.read_text(encoding="utf-8"))
        if template.name in names:
            raise TemplateError(f"{path.name}: name {template.name!r} is already used by {names[template.name]}")
        names[template.name] = path.name
        out.append(template)
    for kind in VisitKind:
        if not any(t.visit is kind for t in out):
            raise TemplateError(f"{folder}: no template for {kind.value} visits: add one")
    return tuple(out)


@dataclass(frozen=True, slots=True)
class ChecklistState:
    """A visit's checklist as it stands: what the UI shows and where to resume."""

    visit_id: str
    template: str                          # the template's name ("install_rf")
    title: str
    steps: tuple[StepState, ...]           # every step; ``applies`` False: not for this kit
    blocking: tuple[str, ...]              # why it cannot complete yet, in words, in step order
    complete: bool
    resume: str | None                     # the first step not done (None: all done)
    devices: tuple[tuple[str, DeviceKind], ...]   # (serial, kind) the per-device steps ask about
    editable: bool                         # this user may tick it, and the visit is still open

    def step(self, key: str) -> StepState:
        return next(s for s in self.steps if s.key == key)


@dataclass(frozen=True, slots=True)
class _Context:
    visit: Visit
    template: Template
    kinds: frozenset[DeviceKind]
    devices: tuple[tuple[str, DeviceKind], ...]
    ticks: tuple[ChecklistTick, ...]

    def evaluation(self) -> Evaluation:
        return evaluate(self.template, self.ticks, kinds=self.kinds, devices=[s for s, _ in self.devices])


def _may_tick(user: User, visit: Visit) -> bool:
    return user.can(Permission.RECORD_VISITS) and (visit.officer_id == user.id or user.id in visit.crew)


def _kinds_from_conditions(order: Order | None) -> set[DeviceKind]:
    c = order.conditions if order else None
    if c is None:
        return set()
    kinds: set[DeviceKind] = set()
    if c.curfew:
        kinds |= {DeviceKind.RF_TAG, DeviceKind.HMU}
    if c.location or c.zones:
        kinds.add(DeviceKind.GPS_TAG)
    if c.alcohol:
        kinds.add(DeviceKind.ALCOHOL_TAG)
    return kinds


def context(store: Store, visit: Visit, templates: Iterable[Template] | None = None) -> _Context:
    """Everything the checklist of ``visit`` is judged on, read from the store."""
    templates = tuple(templates) if templates is not None else load_templates()
    order = store.get(Order, visit.order_id)
    if visit.kind is VisitKind.REMOVAL and visit.status is VisitStatus.COMPLETED:
        serials = [*visit.device_serials, *visit.not_recovered]
        found = store.find(Device, where={"serial": serials}, order_by="serial") if serials else []
    else:
        found = store.find(Device, where={"order_id": visit.order_id, "state": list(ON_ORDER)}, order_by="serial")
        if visit.kind is VisitKind.REMOVAL:
            found = [d for d in found if d.state is not DeviceState.ALLOCATED]
    devices = tuple((d.serial, d.kind) for d in found)
    kinds = set(order.device_kinds if order else ()) | {k for _, k in devices} | set(visit.equipment)
    if not kinds:
        kinds = _kinds_from_conditions(order)
    ticks = tuple(store.find(ChecklistTick, where={"visit_id": visit.id}, order_by="at"))
    template = None
    if ticks:
        # Keep the template the checklist was started on: the kit may change mid-visit.
        first = min(ticks, key=lambda t: (t.at, t.id)).template.split("@")[0]
        template = next((t for t in templates if t.name == first and t.visit is visit.kind), None)
    if template is None:
        template = select_template(templates, visit.kind, kinds)
    return _Context(visit, template, frozenset(kinds), devices, ticks)


def incomplete(store: Store, visit: Visit, *, recovered: Iterable[str] | None = None,
               templates: Iterable[Template] | None = None) -> tuple[str, ...]:
    """Why ``visit`` may not complete yet (empty: it may): its required steps not done; for a
    removal, also device conditions that contradict what is recorded as recovered."""
    ctx = context(store, visit, templates)
    reasons = list(ctx.evaluation().reasons)
    if recovered is not None:
        recovered = set(recovered)
        latest = latest_ticks(ctx.ticks)
        for step in ctx.template.steps:
            tick = latest.get(step.key)
            if not (step.per_device and tick and tick.done and isinstance(tick.value, dict)):
                continue
            for serial, _ in ctx.devices:
                said = tick.value.get(serial)
                if said == NOT_RECOVERED and serial in recovered:
                    reasons.append(f"{step.label}: {serial} is marked not recovered but is being recorded as recovered")
                elif said not in (None, NOT_RECOVERED) and serial not in recovered:
                    reasons.append(f"{step.label}: {serial} is marked {said} but is not among the devices recovered")
    return tuple(reasons)


def gate_message(reasons: Iterable[str]) -> str:
    return "the checklist is not finished: " + "; ".join(reasons)


class ChecklistService:
    def __init__(self, store: Store, user: User, clock: Clock, templates: Iterable[Template] | None = None):
        self.store, self.user, self.clock = store, user, clock
        self._templates = tuple(templates) if templates is not None else None

    @property
    def templates(self) -> tuple[Template, ...]:
        if self._templates is None:
            self._templates = load_templates()
        return self._templates

    # -- reading --------------------------------------------------------------------

    def _visit(self, visit_id: str) -> Visit:
        visit = self.store.get(Visit, visit_id)
        if visit is None:
            raise AccessDenied("no such visit")
        return visit

    def open(self, visit_id: str) -> ChecklistState:
        """The visit's checklist: its officer or crew, or a supervisor (read only)."""
        visit = self._visit(visit_id)
        if not (_may_tick(self.user, visit) or self.user.can(Permission.VIEW_ALL_CASES)):
            raise AccessDenied("that visit is booked to another officer: only its crew sees its checklist")
        self.store.audit_view(actor=self.user.id, entity="visits", entity_id=visit.id, subject_id=visit.subject_id,
                              detail={"screen": "checklist"})
        return self._state(context(self.store, visit, self.templates))

    def _state(self, ctx: _Context) -> ChecklistState:
        ev = ctx.evaluation()
        return ChecklistState(
            visit_id=ctx.visit.id, template=ctx.template.name, title=ctx.template.title, steps=ev.steps,
            blocking=ev.reasons, complete=ev.complete, resume=ev.resume, devices=ctx.devices,
            editable=_may_tick(self.user, ctx.visit) and ctx.visit.status not in FINISHED)

    # -- writing --------------------------------------------------------------------

    def _for_writing(self, visit_id: str) -> Visit:
        visit = self._visit(visit_id)
        if not self.user.can(Permission.RECORD_VISITS):
            raise AccessDenied(f"{self.user.role.label} accounts cannot tick visit checklists")
        if not _may_tick(self.user, visit):
            raise AccessDenied("that visit is booked to another officer: only its crew can tick its checklist")
        if visit.status in FINISHED:
            raise ChecklistError(f"this visit is already {visit.status.value}: its checklist is closed")
        return visit

    def _tick(self, ctx: _Context, key: str, **fields: Any) -> ChecklistTick:
        v = ctx.visit
        return ChecklistTick(visit_id=v.id, order_id=v.order_id, subject_id=v.subject_id, template=ctx.template.ref,
                             step=key, at=self.clock.now(), by=self.user.id, **fields)

    def tick(self, visit_id: str, step: str, done: bool = True, value: Any = None, skipped: str = "") -> ChecklistState:
        """Save one tick at once (its own transaction, on disk before it returns); returns the
        checklist after it."""
        with self.store.durable():
            visit = self._for_writing(visit_id)
            ctx = context(self.store, visit, self.templates)
            spec = ctx.template.step(step)
            if spec is None:
                raise ChecklistError(f"{ctx.template.title} has no step {step!r}")
            if spec.only_for and not set(spec.only_for) & ctx.kinds:
                raise ChecklistError(f"{spec.label}: not part of this visit (it is for "
                                     f"{', '.join(k.label for k in spec.only_for)})")
            if spec.kind is StepKind.READING and (done or value is not None):
                raise ChecklistError(f"{spec.label}: readings come from the devices through the pairing wizard; "
                                     "they cannot be typed in")
            skipped = (skipped or "").strip()
            if skipped:
                if not spec.skip:
                    raise ChecklistError(f"{spec.label}: this step cannot be marked not possible; do it, or record "
                                         "the visit as failed with its reason")
                done, value = False, None
            elif done:
                if spec.kind is StepKind.TICK and value not in (None, True):
                    raise ChecklistError(f"{spec.label}: a tick takes no value")
                value = None if spec.kind is StepKind.TICK else value
                if isinstance(value, str):
                    value = value.strip()
                problem = value_problem(spec, value, [s for s, _ in ctx.devices])
                if problem:
                    raise ChecklistError(f"{spec.label}: {problem}")
            else:
                value = None
            record = self._tick(ctx, step, done=done, value=value, skipped=skipped)
            record = self.store.put(record, actor=self.user.id)      # stamped: it sorts after the ticks before it
            return self._state(_Context(ctx.visit, ctx.template, ctx.kinds, ctx.devices, (*ctx.ticks, record)))

    def record_readings(self, visit_id: str, readings: Mapping[str, Any]) -> ChecklistState:
        """The devices' readings (from the pairing wizard) onto every reading step that takes
        them, in one transaction; a step keeps what it had and gains the new values."""
        problems = reading_problems(readings)
        if problems:
            raise ChecklistError("readings not recorded: " + "; ".join(problems))
        readings = {k: v for k, v in readings.items() if v is not None}
        with self.store.durable():
            visit = self._for_writing(visit_id)
            ctx = context(self.store, visit, self.templates)
            latest = latest_ticks(ctx.ticks)
            written = []
            for spec in ctx.template.steps:
                if spec.kind is not StepKind.READING:
                    continue
                mine = readings_for(spec, readings)
                if not mine:
                    continue
                held = latest.get(spec.key)
                before = held.value if held is not None and held.done and isinstance(held.value, dict) else {}
                merged = {**before, **mine}
                if held is not None and held.done and merged == before:
                    continue        # the same readings again: nothing new to keep
                written.append(self._tick(ctx, spec.key, done=True, value=merged, source="devices"))
            if written:
                written = self.store.put_many(written, actor=self.user.id)
            return self._state(_Context(ctx.visit, ctx.template, ctx.kinds, ctx.devices, (*ctx.ticks, *written)))

    def require_complete(self, visit_id: str) -> None:
        """The gate for recording a successful outcome (checked OK, repaired): ``ChecklistError``
        listing the required steps not done.  (Installs and removals apply it themselves.)"""
        reasons = incomplete(self.store, self._visit(visit_id), templates=self.templates)
        if reasons:
            raise ChecklistError(gate_message(reasons))

    def history(self, visit_id: str) -> list[ChecklistTick]:
        """Every tick of the visit, in the order made (unticks included)."""
        self.open(visit_id)
        return sorted(self.store.find(ChecklistTick, where={"visit_id": visit_id}), key=tick_order)


__all__ = ["READINGS", "ChecklistError", "ChecklistService", "ChecklistState", "NOT_RECOVERED", "TEMPLATES_DIR",
           "context", "gate_message", "incomplete", "load_templates", "templates_dir"]
