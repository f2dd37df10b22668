"""The desktop's sync client behind the services' ``SyncPort`` (the UI knows only that).

Uses the sync layer's public client API only (``SyncClient.sync_once``, ``pending_count``,
``last_sync``, ``refusals``; errors from ``emdesk.sync.errors``).
"""
from __future__ import annotations

from emdesk.store import Store


class SyncAdapter:
    """The desktop's sync client behind the services' ``SyncPort`` (the UI knows only that)."""

    def __init__(self, store: Store):
        from emdesk.sync.client import SyncClient
        self._client = SyncClient(store)
        self._hub = store.sync_value("hub_url") or ""
        self._last_message, self._ok = "", True
        self._changed: int | None = None

    def status(self):
        from emdesk.services.sync_port import SyncStatus
        return SyncStatus(
            configured=bool(self._hub), hub=self._hub, last_sync=self._client.last_sync(),
            pending=self._client.pending_count(), ok=self._ok, message=self._last_message,
            refusals=tuple(f"{r.get('table')}/{r.get('row_id')}: {r.get('reason')}" for r in self._client.refusals()),
            changed=self._changed,
        )

    def sync_now(self, progress=None, cancel=None):
        """One round.  ``progress`` may raise to stop the round (the UI's cancel): the
        client reports between batches, each committed (or not sent) as a whole, so a
        stopped round loses nothing and the next one carries on."""
        from emdesk.sync.errors import SyncError

        def report(stage: str, done: int, total: int) -> None:
            if cancel is not None:
                cancel.check()
            if progress is not None:
                progress(int(100 * done / total) if total else 0, f"{stage} {done}/{total}")
        try:
            result = self._client.sync_once(progress=report)
            self._ok, self._last_message = True, result.summary()
            # What the round brought in decides whether the screens reload (a rebuild: all).
            self._changed = None if getattr(result, "rebuilt", False) else sum(
                int(getattr(result, name, 0) or 0) for name in ("pulled", "evicted", "bootstrapped", "conflicts"))
        except SyncError as exc:
            self._ok, self._last_message, self._changed = False, exc.message, None
        return self.status()

    def reachable(self) -> bool:
        return self._client.reachable()

    def close(self) -> None:
        self._client.close()
