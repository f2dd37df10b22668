"""Visit checklists: templates kept as data, ticks kept as an append-only record, and the
pure rules that say where a visit stands.

A template (``resources/checklists/*.toml``) lists the steps of one visit kind for some
device kinds: an RF install, a GPS install, a removal...  It is parsed and checked here
(pure: text in, a ``Template`` or a ``TemplateError`` naming the file and step out); the
service reads the files.

Every tick is its own ``ChecklistTick`` record, written the moment it is made and never
changed: unticking is a later tick with ``done`` false, so the history is kept and a crash
loses nothing but the tick being made.  ``evaluate`` folds the ticks into each step's state,
what still blocks completion, and where to resume.

Step kinds:

* ``tick``: the officer confirms it;
* ``reading``: values taken from the devices by the pairing wizard (``READINGS``), never
  typed; a reading that is a pass/fail check and came back false blocks the step;
* ``choice``: one of the step's ``choices`` (``per_device``: one per device of the order);
* ``text``: a few words.

A step may be ``only_for`` some device kinds (the home unit steps apply when the order has
one) and may allow ``skip``: marked as not possible with a reason (the tag could not be
taken off a wearer who absconded), which satisfies it.
"""
from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

import msgspec

from . import hlc
from .devices import DeviceKind
from .records import Record
from .visits import VisitKind

Value = str | int | float | bool | dict[str, str | int | float | bool | None] | None


class StepKind(str, Enum):
    TICK = "tick"
    READING = "reading"
    CHOICE = "choice"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class ReadingSpec:
    label: str
    type: type
    check: bool = False          # a pass/fail check: false blocks the step


# What the pairing wizard reads from the devices (``emdesk.devices.pairing.PairingResult``):
# the pairing itself, and the self-test values (``SelfTestId``).  A committed pairing means the
# self-test passed (strap, battery, radio range, GPS fix, mains power): the pairing refuses to
# commit otherwise.
READINGS: dict[str, ReadingSpec] = {
    "pairing_id": ReadingSpec("pairing id", str),
    "tag_serial": ReadingSpec("tag serial", str),
    "hmu_serial": ReadingSpec("home unit serial", str),
    "range_rssi_dbm": ReadingSpec("radio range between tag and home unit (dBm)", int),
    "gps_ttff_s": ReadingSpec("time to first GPS fix (s)", int),
    "tag_battery_pct": ReadingSpec("tag battery (%)", int),
    "hmu_battery_pct": ReadingSpec("home unit battery (%)", int),
    "strap_closed": ReadingSpec("strap closed", bool, check=True),
    "mains_power": ReadingSpec("home unit on mains power", bool, check=True),
    "alcohol_sensor": ReadingSpec("alcohol sensor self-test passed", bool, check=True),
}


class TemplateError(ValueError):
    """A template that cannot be used; the message names the file, the step and what to fix."""


class Step(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    key: str
    label: str
    help: str = ""
    kind: StepKind = StepKind.TICK
    required: bool = True
    readings: tuple[str, ...] = ()           # reading: every one of these must be present
    optional_readings: tuple[str, ...] = ()  # reading: kept when the wizard has them
    choices: tuple[str, ...] = ()            # choice: the allowed values
    per_device: bool = False                 # choice: one answer per device of the order
    only_for: tuple[DeviceKind, ...] = ()    # applies only when the order has one of these
    skip: bool = False                       # may be marked not possible, with a reason


class Template(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: str
    title: str
    visit: VisitKind
    version: int = 1
    devices: tuple[DeviceKind, ...] = ()     # the device kinds it is for (none: any)
    priority: int = 0                        # the most specific matching template wins
    steps: tuple[Step, ...]

    def step(self, key: str) -> Step | None:
        return next((s for s in self.steps if s.key == key), None)

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


def _where(path: str, data: Any) -> str:
    """'$.steps[2].kind' -> "step 3 ('pairing'), kind"."""
    if not path.startswith("$.steps["):
        return path.removeprefix("$.") or "the file"
    index = int(path[len("$.steps["):path.index("]")])
    rest = path[path.index("]") + 1:].lstrip(".")
    steps = data.get("steps") if isinstance(data, dict) else None
    key = steps[index].get("key") if isinstance(steps, list) and index < len(steps) and isinstance(
        steps[index], dict) else None
    where = f"step {index + 1}" + (f" ({key!r})" if key else "")
    return f"{where}, {rest}" if rest else where


def parse_template(filename: str, text: str) -> Template:
    """A template from its TOML text; ``TemplateError`` naming ``filename`` and the step."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"{filename}: not valid TOML ({exc}): fix the syntax") from None
    try:
        template = msgspec.convert(data, Template, strict=True)
    except msgspec.ValidationError as exc:
        message = str(exc)
        detail, _, path = message.rpartition(" - at `")
        if path:
            where = _where(path.rstrip("`"), data)
            raise TemplateError(f"{filename}: {where}: {detail}") from None
        raise TemplateError(f"{filename}: {message}") from None
    problems = template_problems(template)
    if problems:
        raise TemplateError(f"{filename}: " + "; ".join(problems))
    return template


def template_problems(t: Template) -> list[str]:
    """What is wrong with a well-formed template, each naming its step."""
    out: list[str] = []
    if not t.name.replace("_", "").isalnum():
        out.append(f"name {t.name!r}: use letters, digits and _")
    if not t.steps:
        out.append("no steps: add at least one [[steps]]")
    seen: set[str] = set()
    for i, s in enumerate(t.steps, 1):
        where = f"step {i} ({s.key!r})"
        if not s.key or not s.key.replace("_", "").isalnum():
            out.append(f"{where}: key must be letters, digits and _")
        if s.key in seen:
            out.append(f"{where}: key used twice; each step needs its own key")
        seen.add(s.key)
        if not s.label.strip():
            out.append(f"{where}: label is empty")
        if s.kind is StepKind.READING:
            if not s.readings:
                out.append(f"{where}: a reading step needs readings = [...] (from: {', '.join(READINGS)})")
            for name in (*s.readings, *s.optional_readings):
                if name not in READINGS:
                    out.append(f"{where}: unknown reading {name!r} (known: {', '.join(READINGS)})")
        elif s.readings or s.optional_readings:
            out.append(f"{where}: readings belong to kind = \"reading\" steps only")
        if s.kind is StepKind.CHOICE:
            if len(s.choices) < 2:
                out.append(f"{where}: a choice step needs at least two choices")
            if len(set(s.choices)) != len(s.choices):
                out.append(f"{where}: a choice is listed twice")
        elif s.choices or s.per_device:
            out.append(f"{where}: choices and per_device belong to kind = \"choice\" steps only")
        if s.skip and not s.required:
            out.append(f"{where}: skip is for required steps (an optional step can simply be left)")
    return out


def select_template(templates: Iterable[Template], visit: VisitKind, kinds: Iterable[DeviceKind]) -> Template:
    """The template for a visit of this kind on an order with these device kinds: the
    highest-priority one made for one of the kinds, else the one made for any kit."""
    kinds = set(kinds)
    mine = [t for t in templates if t.visit is visit]
    matching = [t for t in mine if set(t.devices) & kinds]
    if matching:
        return max(matching, key=lambda t: (t.priority, t.name))
    general = [t for t in mine if not t.devices]
    if general:
        return max(general, key=lambda t: (t.priority, t.name))
    if mine:      # kit not known yet: the base template (the lowest priority)
        return min(mine, key=lambda t: (t.priority, t.name))
    raise TemplateError(f"no checklist template for {visit.value} visits: add one under resources/checklists")


class ChecklistTick(Record, frozen=True, kw_only=True):
    """One tick, untick, answer or reading, as made: never changed afterwards."""

    table = "checklist_ticks"

    visit_id: str
    order_id: str
    subject_id: str
    template: str                 # "install_rf@1": what the step meant when ticked
    step: str
    done: bool = True
    value: Value = None
    skipped: str = ""             # "not possible": the reason (when the step allows it)
    source: str = "officer"       # officer | devices
    at: datetime
    by: str


@dataclass(frozen=True, slots=True)
class StepState:
    step: Step
    applies: bool
    done: bool                    # satisfied: done (and not failed), or skipped with a reason
    value: Value = None
    skipped: str = ""
    problem: str = ""             # why a made tick does not satisfy it (a failed check...)
    at: datetime | None = None
    by: str = ""

    @property
    def key(self) -> str:
        return self.step.key

    @property
    def blocking(self) -> bool:
        return self.applies and self.step.required and not self.done


@dataclass(frozen=True, slots=True)
class Evaluation:
    template: Template
    steps: tuple[StepState, ...]

    @property
    def blocking(self) -> tuple[StepState, ...]:
        return tuple(s for s in self.steps if s.blocking)

    @property
    def complete(self) -> bool:
        return not self.blocking

    @property
    def resume(self) -> str | None:
        """The first step that applies and is not done yet (the next one to do)."""
        return next((s.key for s in self.steps if s.applies and not s.done), None)

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(blocking_reason(s) for s in self.blocking)


def blocking_reason(s: StepState) -> str:
    if s.problem:
        return f"{s.step.label}: {s.problem}"
    if s.step.kind is StepKind.READING:
        return f"{s.step.label}: readings from the devices missing (pair them with the wizard)"
    return f"{s.step.label}: not done"


def tick_order(t: ChecklistTick) -> tuple:
    return (hlc.key(t.hlc) if hlc.is_valid(t.hlc) else (0, 0, ""), t.at, t.id)


def latest_ticks(ticks: Iterable[ChecklistTick]) -> dict[str, ChecklistTick]:
    """Each step's latest tick (by stamp: later edits sort after what their desktop had seen)."""
    out: dict[str, ChecklistTick] = {}
    for t in sorted((t for t in ticks if not t.deleted), key=tick_order):
        out[t.step] = t
    return out


def _state(step: Step, applies: bool, tick: ChecklistTick | None, devices: tuple[str, ...]) -> StepState:
    if tick is None:
        return StepState(step, applies, False)
    base = dict(value=tick.value, skipped=tick.skipped, at=tick.at, by=tick.by)
    if tick.skipped and step.skip:
        return StepState(step, applies, True, **base)
    if not tick.done:
        return StepState(step, applies, False, **base)
    problem = value_problem(step, tick.value, devices)
    return StepState(step, applies, not problem, problem=problem, **base)


def value_problem(step: Step, value: Value, devices: tuple[str, ...] = ()) -> str:
    """Why a value does not complete this step ('' when it does)."""
    if step.kind is StepKind.TICK:
        return ""
    if step.kind is StepKind.TEXT:
        return "" if isinstance(value, str) and value.strip() else "write a few words"
    if step.kind is StepKind.CHOICE:
        if step.per_device:
            answers = value if isinstance(value, dict) else {}
            missing = [d for d in devices if answers.get(d) not in step.choices]
            return f"no answer for {', '.join(missing)}" if missing else ""
        return "" if value in step.choices else f"choose one of: {', '.join(step.choices)}"
    readings = value if isinstance(value, dict) else {}
    missing = [READINGS[n].label for n in step.readings if readings.get(n) in (None, "")]
    if missing:
        return f"missing from the devices: {', '.join(missing)}"
    failed = [READINGS[n].label for n in (*step.readings, *step.optional_readings)
              if READINGS[n].check and readings.get(n) is False]
    return f"failed on the device: {', '.join(failed)}" if failed else ""


def evaluate(template: Template, ticks: Iterable[ChecklistTick], *, kinds: Iterable[DeviceKind] = (),
             devices: Iterable[str] = ()) -> Evaluation:
    """Each step's state from the ticks so far (for ``kinds`` of kit on the order; per-device
    choices need an answer for each of ``devices``)."""
    kinds, devices = set(kinds), tuple(devices)
    latest = latest_ticks(t for t in ticks if t.template.split("@")[0] == template.name)
    return Evaluation(template, tuple(
        _state(s, not s.only_for or bool(set(s.only_for) & kinds), latest.get(s.key), devices)
        for s in template.steps))


def readings_for(step: Step, readings: Mapping[str, Any]) -> dict[str, Any]:
    """The readings this step keeps, out of what the wizard sent."""
    return {n: readings[n] for n in (*step.readings, *step.optional_readings) if n in readings}


def reading_problems(readings: Mapping[str, Any]) -> list[str]:
    """Readings the wizard sent that are not readings, or of the wrong type."""
    out = []
    for name, value in readings.items():
        spec = READINGS.get(name)
        if spec is None:
            out.append(f"{name}: not a reading from the devices (known: {', '.join(READINGS)})")
        elif value is not None and (type(value) is not spec.type and not (spec.type is float and type(value) is int)):
            out.append(f"{name}: expected {spec.type.__name__}, got {type(value).__name__}")
    return out


__all__ = ["READINGS", "ChecklistTick", "Evaluation", "ReadingSpec", "Step", "StepKind", "StepState", "Template",
           "TemplateError", "blocking_reason", "evaluate", "latest_ticks", "parse_template", "reading_problems",
           "readings_for", "select_template", "template_problems", "tick_order", "value_problem"]
