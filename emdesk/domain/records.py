"""What every syncable record carries, so offline sync needs no schema rewrite.

``origin`` is the desktop that made the latest change; ``deleted`` is a tombstone
(records are never removed, so a deletion can travel to other desktops); ``hlc`` is
the hybrid logical clock stamp of the latest change, filled in by the store.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, TypeVar

import msgspec

from .ids import new_id

R = TypeVar("R", bound="Record")


class Record(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=False):
    # The store table a record lives in; each concrete record sets its own.
    table: ClassVar[str] = ""

    id: str = msgspec.field(default_factory=new_id)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    origin: str = ""
    deleted: bool = False
    hlc: str = ""

    def evolve(self: R, **changes: Any) -> R:
        """A copy with some fields changed (records are immutable)."""
        return msgspec.structs.replace(self, **changes)


def to_builtins(obj: Any) -> Any:
    """Plain JSON-ready data (dates as ISO strings, enums as values)."""
    return msgspec.to_builtins(obj)


def from_builtins(data: Any, cls: type[R]) -> R:
    """Typed record from plain data; raises ``msgspec.ValidationError`` naming the field."""
    return msgspec.convert(data, cls, strict=False)
