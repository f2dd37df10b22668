"""Fault switches for an emulated device: a bad line, or a device in a bad state.

Line faults act on frames between the app and the device; counts start at 1 and cover
the whole life of the emulated device (HELLO is request 1).  Device faults set the
state the device is manufactured in.

As text (CLI ``--fault`` and the per-device ``--device kind:serial:faults`` form):
comma-separated ``name`` or ``name=value``, e.g. ``strap_open,corrupt_every=3``.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

UNPLUG_WHEN = ("before", "after")
UNPLUG_HOW = ("silent", "vanish")


@dataclass(frozen=True, slots=True)
class Faults:
    # -- line --------------------------------------------------------------------------
    corrupt_every: int = 0      # flip one bit in every Nth frame the device sends
    drop_every: int = 0         # drop one byte from every Nth frame the device sends
    noise_every: int = 0        # line noise (random bytes, SOFs included) before every Nth frame sent
    delay: float = 0.0          # seconds before each frame is sent
    trickle: float = 0.0        # seconds between the bytes of each frame sent
    lose_request: int = 0       # the Nth request never reaches the device (once)
    lose_response: int = 0      # the device acts on the Nth request; its answer is lost (once)
    unplug_at: int = 0          # cut the line at the Nth request...
    unplug_when: str = "before" # ..."before" the device sees it, or "after" it acted on it
    unplug_how: str = "silent"  # "silent": stop answering; "vanish": close the pty, the port disappears
    # -- device ------------------------------------------------------------------------
    flat_battery: bool = False          # 3 %, not charging (an HMU: off the mains)
    strap_open: bool = False
    case_open: bool = False
    paired_elsewhere: str = ""          # committed pairing with this serial
    unapproved_firmware: bool = False   # reports hardware.factory.UNAPPROVED_FIRMWARE
    counterfeit: bool = False           # secret not derived from the factory key
    out_of_range: bool = False          # its radio hears nothing
    lose_radio_ack: int = 0             # the partner's acknowledgement of the first N commits over the radio is lost
    lose_ack: int = 0                   # the Nth event acknowledgement from the host never arrives (once)
    protocol_version: int = 0           # speaks only this protocol version (0: emdesk's)
    frame_version: int = 0              # puts this in every frame's VER byte (0: 1; a later protocol: 3..)
    max_payload: int = 0                # takes requests of at most this many payload bytes (0: 1024)
    no_gps_fix: bool = False            # GPS tag: receiver never gets a fix
    no_mains: bool = False              # HMU: unplugged from the wall

    def __post_init__(self) -> None:
        if self.unplug_when not in UNPLUG_WHEN:
            raise ValueError(f"unplug_when must be one of {UNPLUG_WHEN}")
        if self.unplug_how not in UNPLUG_HOW:
            raise ValueError(f"unplug_how must be one of {UNPLUG_HOW}")
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, (int, float)) and not isinstance(v, bool) and v < 0:
                raise ValueError(f"{f.name} must not be negative")

    @classmethod
    def parse(cls, spec: str, base: Faults | None = None) -> Faults:
        changes: dict[str, object] = {}
        types = {f.name: f.type for f in fields(cls)}
        for item in filter(None, (s.strip() for s in spec.split(","))):
            name, _, value = item.partition("=")
            name = name.strip().replace("-", "_")
            if name not in types:
                raise ValueError(f"unknown fault {name!r}; known: {', '.join(types)}")
            t = types[name]
            if t == "bool":
                changes[name] = value.strip().lower() not in ("0", "false", "no", "off") if value else True
            elif t == "int":
                changes[name] = int(value)
            elif t == "float":
                changes[name] = float(value)
            else:
                changes[name] = value.strip()
        return replace(base or cls(), **changes)

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]
