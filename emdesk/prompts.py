"""Asking for a password on the command line, or taking it from EMDESK_PASSWORD for scripts."""
from __future__ import annotations

import getpass
import os
import sys


def password(prompt: str) -> str:
    env = os.environ.get("EMDESK_PASSWORD")
    if env:
        return env
    if not sys.stdin.isatty():
        raise SystemExit(f"emdesk: {prompt.strip(': ')} needed: set EMDESK_PASSWORD or run in a terminal")
    return getpass.getpass(prompt)
