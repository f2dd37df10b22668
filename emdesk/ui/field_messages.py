"""Put each validation problem under the field it is about.

Problem paths are dotted (``subject.addresses[0].postcode``). A field shows the
problems whose path is its own or lies beneath it (``order.conditions.curfew``
shows ``order.conditions.curfew.windows[2]``); the deepest matching field wins.
A problem about a whole section (``subject.addresses``) goes to that section's
first field. What matches no field is returned for the summary.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from PySide6.QtWidgets import QLabel, QWidget

from emdesk.domain.validation.problems import Problem


def covers(widget_path: str, problem_path: str) -> bool:
    return (problem_path == widget_path
            or problem_path.startswith(widget_path + ".")
            or problem_path.startswith(widget_path + "["))


@dataclass
class FieldSlot:
    path: str
    label: QLabel                      # the red message under the field
    inputs: list[QWidget] = field(default_factory=list)   # get the red border
    described: list[QWidget] = field(default_factory=list)  # the message is their accessible description
    problems: list[Problem] = field(default_factory=list)


class FieldMessages:
    def __init__(self) -> None:
        self.slots: dict[str, FieldSlot] = {}
        self._aliases: dict[str, FieldSlot] = {}

    def register(self, path: str, label: QLabel, *inputs: QWidget,
                 described: list[QWidget] | None = None) -> FieldSlot:
        label.setObjectName("fieldError")
        label.setWordWrap(True)
        label.setVisible(False)
        slot = FieldSlot(path, label, list(inputs), list(inputs if described is None else described))
        self.slots[path] = slot
        return slot

    def alias(self, path: str, slot_path: str) -> None:
        """Also show problems reported at ``path`` under the field for ``slot_path``."""
        self._aliases[path] = self.slots[slot_path]

    def _paths(self):
        yield from self.slots.items()
        yield from self._aliases.items()

    def slot_for(self, problem_path: str) -> FieldSlot | None:
        matches = [(p, s) for p, s in self._paths() if covers(p, problem_path)]
        if matches:
            return max(matches, key=lambda m: len(m[0]))[1]
        # A problem about a whole section: the first field registered inside it.
        return next((s for p, s in self.slots.items() if covers(problem_path, p)), None)

    def show(self, problems: Iterable[Problem]) -> list[Problem]:
        """Show each problem at its field; return those that belong to no field."""
        for slot in self.slots.values():
            slot.problems = []
        unplaced = []
        for problem in problems:
            slot = self.slot_for(problem.field)
            if slot is None:
                unplaced.append(problem)
            else:
                slot.problems.append(problem)
        for slot in self.slots.values():
            self._paint(slot)
        return unplaced

    def message_for(self, path: str) -> str:
        slot = self.slots.get(path)
        return slot.label.text() if slot and slot.problems else ""

    @staticmethod
    def _paint(slot: FieldSlot) -> None:
        text = "\n".join(p.message for p in slot.problems)
        slot.label.setText(text)
        slot.label.setVisible(bool(text))
        slot.label.setToolTip("\n".join(f"{p.field} [{p.code}]" for p in slot.problems))
        # Linked to its fields: a screen reader reads the problem with the input.
        for w in slot.described:
            if w.accessibleDescription() != text:
                w.setAccessibleDescription(text)
        invalid = bool(slot.problems)
        for w in slot.inputs:
            if w.property("invalid") != invalid:
                w.setProperty("invalid", invalid)
                # Dynamic properties only restyle once the style is re-applied.
                w.style().unpolish(w)
                w.style().polish(w)
