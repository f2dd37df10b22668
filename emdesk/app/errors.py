"""What a command reports when it cannot do what was asked."""
from __future__ import annotations


class CommandError(Exception):
    """Worded for the person at the terminal; printed as ``emdesk: <message>``."""
