"""The bench's tables: the queue of returned kit, a device's event log, check-in results."""
from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import Qt

from emdesk.devices.protocol.codes import EventCode
from emdesk.devices.protocol.messages import DeviceEvent

from .. import palette
from ..table_model import Column

_RED, _GREEN = palette.colour("bad"), palette.colour("good")

QUEUE_COLUMNS = [
    Column("Serial", lambda r: r.serial, width=130, bold=lambda r: True),
    Column("Kind", lambda r: r.kind, width=160),
    Column("Model", lambda r: r.model, width=150),
    Column("Firmware", lambda r: r.firmware, width=95),
    Column("State", lambda r: r.state, width=150,
           foreground=lambda r: _RED if r.state == "Faulty" else None),
    Column("Region", lambda r: r.region, width=170),
]


_VALUED = {EventCode.BATTERY_LOW, EventCode.CHARGING, EventCode.ALCOHOL_READING, EventCode.CONFIG_APPLIED,
           EventCode.SELF_TEST}


def _event_time(e: DeviceEvent) -> datetime | None:
    return datetime.fromtimestamp(e.at, UTC) if e.at else None


EVENT_COLUMNS = [
    Column("#", lambda e: e.seq, width=60, align=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
    Column("Time (UTC)", _event_time, width=175,
           fmt=lambda t: t.strftime("%d %b %Y %H:%M:%S") if t else "clock not set"),
    Column("Event", lambda e: e.code.name.replace("_", " ").capitalize(), width=170),
    Column("Value", lambda e: e.value if e.code in _VALUED else None, width=80),
    Column("Detail", lambda e: e.text.replace("\r\n", " ").strip(), width=360),
]

CHECKIN_COLUMNS = [
    Column("Serial", lambda r: r.serial, width=130, bold=lambda r: True),
    Column("Result", lambda r: "✓" if r.ok else "✗", width=60, align=Qt.AlignmentFlag.AlignCenter,
           foreground=lambda r: _GREEN if r.ok else _RED, bold=lambda r: True),
    Column("What happens", lambda r: r.message, width=420, foreground=lambda r: None if r.ok else _RED),
]
