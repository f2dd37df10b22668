"""What the desktop needs of sync, as the UI sees it.

The UI may not import ``emdesk.sync`` (it sits beside services); app.py adapts the sync
client to this port and hands it over in the ``AppContext``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class SyncStatus:
    configured: bool
    hub: str = ""
    last_sync: datetime | None = None
    pending: int = 0
    ok: bool = True
    message: str = ""                       # the outcome of the last attempt, in words
    refusals: tuple[str, ...] = field(default=())   # edits the hub refused, with reasons
    changed: int | None = None              # records the last round brought in (None: not known)


class SyncPort(Protocol):
    def status(self) -> SyncStatus:
        """Cheap: local bookkeeping only (no network)."""

    def sync_now(self, progress: Callable[[int, str], None] | None = None) -> SyncStatus:
        """One push-then-pull round; blocking, so call it on a worker thread.  ``progress``
        may raise to stop the round between batches (an adapter may also take ``cancel``)."""

    def reachable(self) -> bool:
        """Whether the hub answers now (a quick health probe)."""
