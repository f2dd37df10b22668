"""The factory: models, firmware, and each device's key pair and certificate.

A device is provisioned at manufacture with its own Ed25519 key pair (kept inside it)
and a certificate -- kind, serial, public key, the manufacturer's key id -- signed with
the manufacturer's Ed25519 signing key.  The buyer gets the *manufacturer key file*:
the manufacturer's **public** key and the serials it has revoked (JSON: format
"emdesk-manufacturer-key", version 2, key_id, public_key as hex, revoked), which is all
emdesk needs to check any genuine device.  A counterfeit's certificate is not signed
by that key.

This module is the factory's side, written separately from ``emdesk.devices.auth`` on
purpose (only the certificate layout is shared); the golden vectors in PROTOCOL.md hold
both to the same bytes.

The emulator's manufacturer signing key is derived from a published test seed
(``EMULATOR_SIGNING_SEED``), and so are its devices' keys (from the seed and the
serial, so an emulated device keeps its key between runs; real devices make theirs
on the chip).  Emulated devices only, never real kit.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from emdesk.devices.auth import CERT_LABEL, Certificate
from emdesk.domain.devices import DeviceKind

EMULATOR_SIGNING_SEED = hashlib.sha256(b"emdesk emulator manufacturer signing key - TEST ONLY").digest()
EMULATOR_KEY_ID = "emulator-test-2026"
SIGNING_FILE_FORMAT = "emdesk-manufacturer-signing-key"
DEVICE_KEY_LABEL = b"emdesk/emulated-device-key/v2\x00"


def public_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class Manufacturer:
    """The manufacturer's signing key (the factory keeps it; laptops never see it)."""

    seed: bytes
    key_id: str = EMULATOR_KEY_ID

    @property
    def signing_key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.seed)

    @property
    def public_key(self) -> bytes:
        return public_bytes(self.signing_key)

    def device_key(self, serial: str) -> Ed25519PrivateKey:
        """An emulated device's key pair (derived: see the module docstring)."""
        return Ed25519PrivateKey.from_private_bytes(
            hmac.new(self.seed, DEVICE_KEY_LABEL + serial.encode("utf-8"), hashlib.sha256).digest())

    def certify(self, kind: DeviceKind, serial: str, device_public_key: bytes) -> bytes:
        cert = Certificate(DeviceKind(kind), serial, device_public_key, self.key_id)
        signature = self.signing_key.sign(CERT_LABEL + cert.signed_part())
        return Certificate(cert.kind, serial, device_public_key, self.key_id, signature).encode()

    def key_file_json(self, revoked: tuple[str, ...] | list[str] = ()) -> str:
        """The file a laptop holds: the public key and the revocation list."""
        return json.dumps({"format": "emdesk-manufacturer-key", "version": 2, "key_id": self.key_id,
                           "public_key": self.public_key.hex(), "revoked": sorted(set(revoked))}, indent=2) + "\n"

    def signing_file_json(self) -> str:
        return json.dumps({"format": SIGNING_FILE_FORMAT, "version": 2, "key_id": self.key_id,
                           "signing_key": self.seed.hex()}, indent=2) + "\n"

    @classmethod
    def from_signing_file(cls, text: str) -> Manufacturer:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != SIGNING_FILE_FORMAT or data.get("version") != 2:
            raise ValueError(f"not an {SIGNING_FILE_FORMAT} version 2 file (the factory's signing key; "
                             "emdesk's own key file holds only the public key)")
        seed = bytes.fromhex(data["signing_key"])
        if len(seed) != 32:
            raise ValueError("signing_key must be 32 bytes of hex")
        return cls(seed, str(data.get("key_id", "")))

    @classmethod
    def counterfeiter(cls) -> Manufacturer:
        """Someone else's factory: certificates that look right and are not."""
        return cls(secrets.token_bytes(32), EMULATOR_KEY_ID)


EMULATOR_MANUFACTURER = Manufacturer(EMULATOR_SIGNING_SEED)


def key_file_json(manufacturer: Manufacturer = EMULATOR_MANUFACTURER, revoked: tuple[str, ...] | list[str] = ()) -> str:
    return manufacturer.key_file_json(revoked)


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
