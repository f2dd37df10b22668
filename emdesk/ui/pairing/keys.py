"""Which manufacturer key proves the devices genuine.

Authenticity (PROTOCOL.md section 3) needs the manufacturer's master key, delivered as
a *manufacturer key file*.  emdesk reads it from ``$EMDESK_MANUFACTURER_KEY`` (the path
to the file, set by IT on each desktop).

The demo has no real manufacturer: its devices are the emulator's (``python -m
hardware.emulate``), provisioned from the emulator's published test key.  So on the
UNENCRYPTED demo store, and only there, emdesk falls back to that test key when no key
file is configured (``python -m hardware.emulate --write-key-file PATH`` writes the same
key to a file, for ``$EMDESK_MANUFACTURER_KEY``).  The test key must never be trusted
for real kit: on an encrypted (real) store there is no fallback, and a missing key file
is an error worded for the user.
"""
from __future__ import annotations

import os

from emdesk.devices.auth import KEY_FILE_ENV, KeyFileError, ManufacturerKey


def manufacturer_key(ctx) -> ManufacturerKey:
    """The key file from ``$EMDESK_MANUFACTURER_KEY``; on the demo store, the emulator's."""
    if os.environ.get(KEY_FILE_ENV):
        return ManufacturerKey.load()
    if not getattr(ctx, "encrypted", True):
        try:
            from hardware.factory import (
                key_file_json,  # the emulator ships with emdesk's demo
            )
        except ImportError:                                # pragma: no cover - trimmed install
            pass
        else:
            return ManufacturerKey.from_json(key_file_json())
    raise KeyFileError(f"no manufacturer key file configured: ask IT to set {KEY_FILE_ENV} "
                       "to the key file from the equipment supplier")


def is_test_key(key: ManufacturerKey) -> bool:
    """The emulator's published key (say so on screen: never for real devices)."""
    return key.key_id.startswith("emulator")
