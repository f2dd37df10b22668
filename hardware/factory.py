"""The factory: models, firmware, and the per-device secret provisioned at manufacture.

secret = HMAC-SHA256(master_key, b"emdesk/device-secret/v1\\x00" || serial as UTF-8)

The manufacturer keeps ``master_key`` and gives it to the buyer in a manufacturer key
file (JSON: format "emdesk-manufacturer-key", version 1, key_id, master_key as hex), so
emdesk can derive any genuine device's secret from its serial and check its answer to
the authenticity challenge.  A counterfeit has a secret not derived from the key.

This module is the factory's side, written separately from ``emdesk.devices.auth`` on
purpose; the golden vectors in PROTOCOL.md hold both to the same numbers.

``EMULATOR_MASTER_KEY`` is a published test key: emulated devices only, never real kit.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from emdesk.domain.devices import DeviceKind

EMULATOR_MASTER_KEY = hashlib.sha256(b"emdesk emulator factory master key - TEST ONLY").digest()
EMULATOR_KEY_ID = "emulator-test-2026"
SECRET_LABEL = b"emdesk/device-secret/v1\x00"


def provision_secret(master_key: bytes, serial: str) -> bytes:
    return hmac.new(master_key, SECRET_LABEL + serial.encode("utf-8"), hashlib.sha256).digest()


def counterfeit_secret() -> bytes:
    return secrets.token_bytes(32)


def key_file_json(master_key: bytes = EMULATOR_MASTER_KEY, key_id: str = EMULATOR_KEY_ID) -> str:
    return json.dumps({"format": "emdesk-manufacturer-key", "version": 1, "key_id": key_id,
                       "master_key": master_key.hex()}, indent=2) + "\n"


def read_key_file(text: str) -> bytes:
    data = json.loads(text)
    if data.get("format") != "emdesk-manufacturer-key":
        raise ValueError("not a manufacturer key file")
    return bytes.fromhex(data["master_key"])


@dataclass(frozen=True, slots=True)
class Model:
    kind: DeviceKind
    name: str
    firmware: str
    hardware_rev: str
    battery_mv_full: int
    mains: bool = False


MODELS: dict[DeviceKind, Model] = {
    DeviceKind.RF_TAG: Model(DeviceKind.RF_TAG, "EMT-RF200", "2.4.1", "C", 3000),
    DeviceKind.GPS_TAG: Model(DeviceKind.GPS_TAG, "EMT-GX500", "5.1.3", "B2", 4200),
    DeviceKind.HMU: Model(DeviceKind.HMU, "EMH-300", "3.2.1", "D", 4200, mains=True),
    DeviceKind.ALCOHOL_TAG: Model(DeviceKind.ALCOHOL_TAG, "EMA-TAM10", "1.8.0", "A", 3600),
    DeviceKind.NON_FITTED: Model(DeviceKind.NON_FITTED, "EMN-BIO1", "1.2.0", "A", 4200),
}
UNAPPROVED_FIRMWARE = "9.0.0-beta"
DEFAULT_SERIAL_PREFIX = {
    DeviceKind.RF_TAG: "RF", DeviceKind.GPS_TAG: "GPS", DeviceKind.HMU: "HMU",
    DeviceKind.ALCOHOL_TAG: "ALC", DeviceKind.NON_FITTED: "NFD",
}
