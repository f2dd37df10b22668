"""What can go wrong when a desktop syncs, worded for the person at the desk."""
from __future__ import annotations


class SyncError(Exception):
    """Any sync failure; ``str(exc)`` is a message a user can act on."""

    def __init__(self, message: str, *, code: str = ""):
        super().__init__(message)
        self.message = message
        self.code = code


class HubUnreachable(SyncError):
    """No answer from the hub (offline, DNS, TLS, timeout, hub down): try again later.
    Local changes stay in the outbox; nothing is lost."""


class HubRefused(SyncError):
    """The hub answered no (wrong password, revoked device, bad request)."""


class UpgradeRequired(SyncError):
    """This emdesk is too old for the hub (HTTP 426): install the newer version."""
