"""Is this device genuine?  Challenge-response with its factory-provisioned secret.

Each device leaves the factory holding ``secret = HMAC-SHA256(master_key, SECRET_LABEL ||
serial)``.  The manufacturer gives us the master key in a *manufacturer key file*, so we
can derive any device's secret from its serial and check its proof:

1. host -> AUTH_CHALLENGE(host_nonce[16])
2. device -> mac_d[32] = HMAC(secret, AUTH_LABEL || 0x01 || str8(serial) || host_nonce),
   device_nonce[16]
3. host checks mac_d (constant time).  A mismatch, an error, or no answer to the
   challenge: CounterfeitDevice.  Nothing the device said before this is trusted.
4. host -> AUTH_CONFIRM(mac_h = HMAC(secret, AUTH_LABEL || 0x02 || str8(serial) ||
   device_nonce || host_nonce)); the device unlocks its privileged commands for the
   rest of the session (until the next HELLO).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from .client import DeviceClient
from .errors import CounterfeitDevice, DeviceRefused, ProtocolFault, UnsupportedCommand
from .protocol.messages import NONCE_LEN

SECRET_LABEL = b"emdesk/device-secret/v1\x00"
AUTH_LABEL = b"EMDESK-AUTH-1"
KEY_FILE_FORMAT = "emdesk-manufacturer-key"
KEY_FILE_ENV = "EMDESK_MANUFACTURER_KEY"


def _str8(s: str) -> bytes:
    b = s.encode("utf-8")
    return bytes((len(b),)) + b


def derive_device_secret(master_key: bytes, serial: str) -> bytes:
    return hmac.new(master_key, SECRET_LABEL + serial.encode("utf-8"), hashlib.sha256).digest()


def device_proof(secret: bytes, serial: str, host_nonce: bytes) -> bytes:
    return hmac.new(secret, AUTH_LABEL + b"\x01" + _str8(serial) + host_nonce, hashlib.sha256).digest()


def host_proof(secret: bytes, serial: str, host_nonce: bytes, device_nonce: bytes) -> bytes:
    return hmac.new(secret, AUTH_LABEL + b"\x02" + _str8(serial) + device_nonce + host_nonce, hashlib.sha256).digest()


class KeyFileError(ValueError):
    """The manufacturer key file is missing or not in the expected format."""


@dataclass(frozen=True, slots=True)
class ManufacturerKey:
    key_id: str
    master_key: bytes = field(repr=False)

    def device_secret(self, serial: str) -> bytes:
        return derive_device_secret(self.master_key, serial)

    @classmethod
    def from_json(cls, text: str) -> ManufacturerKey:
        try:
            data = json.loads(text)
            if data.get("format") != KEY_FILE_FORMAT or data.get("version") != 1:
                raise KeyFileError(f"not an {KEY_FILE_FORMAT} version 1 file")
            key = bytes.fromhex(data["master_key"])
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            if isinstance(e, KeyFileError):
                raise
            raise KeyFileError(f"manufacturer key file is damaged ({e})") from None
        if len(key) < 16:
            raise KeyFileError("manufacturer master key is shorter than 16 bytes")
        return cls(key_id=str(data.get("key_id", "")), master_key=key)

    def to_json(self) -> str:
        return json.dumps({"format": KEY_FILE_FORMAT, "version": 1, "key_id": self.key_id,
                           "master_key": self.master_key.hex()}, indent=2) + "\n"

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> ManufacturerKey:
        """Read the key file at ``path`` (default: $EMDESK_MANUFACTURER_KEY)."""
        path = path or os.environ.get(KEY_FILE_ENV)
        if not path:
            raise KeyFileError(f"no manufacturer key file configured (set {KEY_FILE_ENV} or choose one in Settings)")
        try:
            return cls.from_json(Path(path).read_text(encoding="utf-8"))
        except OSError as e:
            raise KeyFileError(f"cannot read the manufacturer key file {path}: {e.strerror}") from None


def authenticate(client: DeviceClient, key: ManufacturerKey, *, host_nonce: bytes | None = None) -> None:
    """Challenge the device behind ``client`` (after ``hello``); raise CounterfeitDevice if it fails.

    On success the device has also verified us and unlocked its privileged commands.
    """
    if client.identity is None:
        raise ValueError("authenticate() needs the device identified first (client.hello())")
    serial = client.identity.serial
    nonce = host_nonce or secrets.token_bytes(NONCE_LEN)
    secret = key.device_secret(serial)
    counterfeit = CounterfeitDevice(
        f"device {serial} failed the authenticity check: it may be counterfeit or tampered with",
        "do not fit it; set it aside as faulty and report it to the equipment supplier",
        port=client.port, serial=serial)
    try:
        answer = client.auth_challenge(nonce)
    except (UnsupportedCommand, ProtocolFault, DeviceRefused) as e:
        raise counterfeit from e
    if not hmac.compare_digest(answer.mac, device_proof(secret, serial, nonce)):
        raise counterfeit
    client.auth_confirm(host_proof(secret, serial, nonce, answer.device_nonce))
