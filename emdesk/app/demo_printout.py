"""What ``emdesk demo`` prints besides the accounts: how to try pairing on the demo."""
from __future__ import annotations

from emdesk.domain.clock import LONDON


def pairing_example(world) -> str:
    """How to pair on the demo: the first install still to make with kit allocated (today's,
    or, once today's are all done, the next day's), and the emulator command that brings up
    devices with those serials."""
    from emdesk.domain.devices import DeviceState
    from emdesk.domain.visits import VisitKind, VisitStatus
    allocated: dict[str, list] = {}
    for d in world.devices:
        if d.state is DeviceState.ALLOCATED and d.order_id:
            allocated.setdefault(d.order_id, []).append(d)
    today = world.now.astimezone(LONDON).date()
    users = {u.id: u for u, _ in world.users}
    subjects = {s.id: s for s in world.subjects}
    # A tag with its home unit first: the pairing an officer does at most doors.
    def key(v):
        return (v.window_start.astimezone(LONDON).date(), len(allocated.get(v.order_id, [])) < 2,
                v.window_start, v.id)
    waiting = [v for v in world.visits
               if v.kind is VisitKind.INSTALL and v.status is VisitStatus.SCHEDULED and v.officer_id in users
               and allocated.get(v.order_id) and v.window_start
               and v.window_start.astimezone(LONDON).date() >= today]
    for v in sorted(waiting, key=key):
        kit = allocated[v.order_id]
        day = v.window_start.astimezone(LONDON).date()
        when = "" if day == today else f" (on {day.strftime('%A %d %B')}: Next day ▶)"
        devices = " ".join(f"--device {d.kind.value}:{d.serial}" for d in sorted(kit, key=lambda d: d.kind.value))
        officer = users[v.officer_id].username
        return (f"To pair devices: start the kit allocated to {subjects[v.subject_id].full_name}'s install,\n"
                f"  python -m hardware.emulate {devices}\n"
                f"then sign in as {officer} (password demo-{officer}), select that visit on Today{when} and\n"
                f"choose Pair devices… with the ports the emulator printed.")
    return ""
