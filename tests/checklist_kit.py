"""Checklists ticked through the service, for tests whose subject is what comes after them."""
from __future__ import annotations


def finish_checklist(store, user, clock, visit_id, *, conditions=None, skipped=None):
    """Tick every required step of a visit's checklist that a person ticks (readings come from
    the devices), through the service, as the officer would at the door.  ``conditions``:
    serial -> the device-condition answer (default the first choice, "good"); ``skipped``:
    step key -> the reason it was not possible."""
    from emdesk.domain.checklists import StepKind
    from emdesk.services.checklists import ChecklistService

    svc = ChecklistService(store, user, clock)
    state = svc.open(visit_id)
    for key, reason in (skipped or {}).items():
        state = svc.tick(visit_id, key, skipped=reason)
    for s in state.steps:
        step = s.step
        if not s.applies or s.done or not step.required or step.kind is StepKind.READING:
            continue
        if step.kind is StepKind.CHOICE:
            value = ({serial: (conditions or {}).get(serial, step.choices[0]) for serial, _ in state.devices}
                     if step.per_device else step.choices[0])
        else:
            value = "seen and checked" if step.kind is StepKind.TEXT else None
        state = svc.tick(visit_id, step.key, value=value)
    return state

