"""Is this device genuine?  Its own key, certified by the manufacturer (protocol version 2).

Each device leaves the factory with an Ed25519 key pair it never gives out and a
*certificate*: its kind, serial and public key, signed with the manufacturer's
Ed25519 key.  A laptop holds only the manufacturer's **public** key and a revocation
list (the *manufacturer key file*), so a leaked laptop file forges nothing.

1. host -> AUTH_CHALLENGE(host_nonce[16], host_share[32]): a fresh nonce and an
   ephemeral X25519 public key.
2. device -> device_nonce[16], device_share[32], certificate, signature: the device key
   signs ``AUTH_LABEL || 0x01 || str8 serial || str8 firmware || host_nonce ||
   device_nonce || host_share || device_share``.
3. host checks: the certificate is signed by the manufacturer, is for this serial and
   kind, and the serial is not revoked; the signature is the certified key's, over the
   serial and the firmware the device reported in HELLO (which the app approves or
   not) and this session's nonces.  Any mismatch, or a refusal: CounterfeitDevice.
   **No answer at all** is not proof of anything: that is NoAnswer ("check the
   cable"), as for any other request.
4. Both sides derive the session key ``K = HKDF-SHA256(X25519(host, device), salt =
   host_nonce || device_nonce, info = AUTH_LABEL || str8 serial)``; host ->
   AUTH_CONFIRM(HMAC-SHA256(K, AUTH_LABEL || 0x02 || host_nonce || device_nonce)); the
   device checks it (key confirmation) and unlocks its privileged commands for the rest
   of the session (until the next HELLO or reconnection).

The pairing link key is never sent in clear: PAIR_PREPARE carries it sealed with ``K``
(AES-256-GCM, see :func:`seal_link_key`).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from emdesk.domain.devices import DeviceKind

from .client import DeviceClient
from .errors import CounterfeitDevice, DeviceRefused, ProtocolFault, UnsupportedCommand
from .protocol.codes import CODE_KINDS, KIND_CODES
from .protocol.messages import LINK_KEY_LEN, NONCE_LEN, SEALED_LINK_KEY_LEN
from .protocol.wire import PayloadError, Reader, Writer

CERT_LABEL = b"emdesk/device-certificate/v2\x00"
AUTH_LABEL = b"EMDESK-AUTH-2"
LINK_KEY_LABEL = b"emdesk/link-key/v2\x00"
CERT_VERSION = 1
KEY_FILE_FORMAT = "emdesk-manufacturer-key"
KEY_FILE_VERSION = 2
KEY_FILE_ENV = "EMDESK_MANUFACTURER_KEY"


def _str8(s: str) -> bytes:
    b = s.encode("utf-8")
    return bytes((len(b),)) + b


# -- certificates ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Certificate:
    """``u8 version, u8 kind, str8 serial, public_key[32], str8 key_id, signature[64]``; the
    manufacturer signs ``CERT_LABEL || everything before the signature``."""

    kind: DeviceKind
    serial: str
    public_key: bytes
    key_id: str
    signature: bytes = b""

    def signed_part(self) -> bytes:
        return (Writer().u8(CERT_VERSION).u8(KIND_CODES[self.kind]).str8(self.serial).raw(self.public_key)
                .str8(self.key_id).bytes())

    def encode(self) -> bytes:
        return self.signed_part() + self.signature

    @classmethod
    def decode(cls, b: bytes) -> Certificate:
        r = Reader(b)
        if r.u8() != CERT_VERSION:
            raise PayloadError("unknown certificate version")
        code = r.u8()
        if code not in CODE_KINDS:
            raise PayloadError(f"unknown device kind code 0x{code:02X} in certificate")
        out = cls(CODE_KINDS[code], r.str8(), r.raw(32), r.str8(), r.raw(64))
        r.end()
        return out


def auth_signed_data(serial: str, firmware: str, host_nonce: bytes, device_nonce: bytes,
                     host_share: bytes, device_share: bytes) -> bytes:
    """What the device signs in its answer to AUTH_CHALLENGE."""
    return (AUTH_LABEL + b"\x01" + _str8(serial) + _str8(firmware) + host_nonce + device_nonce
            + host_share + device_share)


def session_key(shared_secret: bytes, serial: str, host_nonce: bytes, device_nonce: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=host_nonce + device_nonce,
                info=AUTH_LABEL + _str8(serial)).derive(shared_secret)


def host_proof(key: bytes, host_nonce: bytes, device_nonce: bytes) -> bytes:
    return hmac.new(key, AUTH_LABEL + b"\x02" + host_nonce + device_nonce, hashlib.sha256).digest()


def seal_link_key(key: bytes, pairing_id: bytes, serial: str, link_key: bytes, *, nonce: bytes | None = None) -> bytes:
    """The link key for PAIR_PREPARE, sealed for one device's session: nonce || AES-GCM."""
    nonce = nonce or secrets.token_bytes(12)
    return nonce + AESGCM(key).encrypt(nonce, link_key, LINK_KEY_LABEL + pairing_id + _str8(serial))


def open_link_key(key: bytes, pairing_id: bytes, serial: str, sealed: bytes) -> bytes:
    """The device's side of :func:`seal_link_key`; raises ValueError if it was not sealed for us."""
    if len(sealed) != SEALED_LINK_KEY_LEN:
        raise ValueError("sealed link key has the wrong length")
    try:
        out = AESGCM(key).decrypt(sealed[:12], sealed[12:], LINK_KEY_LABEL + pairing_id + _str8(serial))
    except InvalidTag:
        raise ValueError("link key not sealed with this session's key") from None
    if len(out) != LINK_KEY_LEN:
        raise ValueError("sealed link key has the wrong length")
    return out


# -- the laptop's key file -------------------------------------------------------------------

class KeyFileError(ValueError):
    """The manufacturer key file is missing or not in the expected format."""


@dataclass(frozen=True, slots=True)
class ManufacturerKey:
    """What a laptop holds: the manufacturer's public key and the serials it revoked."""

    key_id: str
    public_key: bytes = field(repr=False)
    revoked: frozenset[str] = frozenset()

    def verify_certificate(self, cert: Certificate) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(cert.signature, CERT_LABEL + cert.signed_part())
        except (InvalidSignature, ValueError):
            return False
        return True

    @classmethod
    def from_json(cls, text: str) -> ManufacturerKey:
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("format") != KEY_FILE_FORMAT:
                raise KeyFileError(f"not an {KEY_FILE_FORMAT} file")
            if data.get("version") == 1 or "master_key" in data:
                raise KeyFileError("this is an old (version 1) key file holding the manufacturer's master key: "
                                   "ask the equipment supplier for the version 2 file (public key and revocation "
                                   "list) and delete this one")
            if data.get("version") != KEY_FILE_VERSION:
                raise KeyFileError(f"not an {KEY_FILE_FORMAT} version {KEY_FILE_VERSION} file")
            key = bytes.fromhex(data["public_key"])
            revoked = data.get("revoked", [])
            if not isinstance(revoked, list) or not all(isinstance(s, str) for s in revoked):
                raise KeyFileError("the revocation list ('revoked') must be a list of serial numbers")
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            if isinstance(e, KeyFileError):
                raise
            raise KeyFileError(f"manufacturer key file is damaged ({e})") from None
        if len(key) != 32:
            raise KeyFileError("the manufacturer public key ('public_key') must be 32 bytes (an Ed25519 key)")
        return cls(key_id=str(data.get("key_id", "")), public_key=key, revoked=frozenset(revoked))

    def to_json(self) -> str:
        return json.dumps({"format": KEY_FILE_FORMAT, "version": KEY_FILE_VERSION, "key_id": self.key_id,
                           "public_key": self.public_key.hex(), "revoked": sorted(self.revoked)}, indent=2) + "\n"

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


# -- the check -------------------------------------------------------------------------------

def authenticate(client: DeviceClient, key: ManufacturerKey, *, host_nonce: bytes | None = None) -> bytes:
    """Challenge the device behind ``client`` (after ``hello``); raise CounterfeitDevice if it fails.

    On success the device has unlocked its privileged commands; returns the session key
    (also kept as ``client.session_key``, which PAIR_PREPARE seals the link key with).
    No answer raises NoAnswer, like any request.
    """
    if client.identity is None:
        raise ValueError("authenticate() needs the device identified first (client.hello())")
    ident = client.identity
    serial = ident.serial
    nonce = host_nonce or secrets.token_bytes(NONCE_LEN)
    ephemeral = X25519PrivateKey.generate()
    share = ephemeral.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def counterfeit(why: str) -> CounterfeitDevice:
        return CounterfeitDevice(
            f"device {serial} failed the authenticity check ({why}): it may be counterfeit or tampered with",
            "do not fit it; set it aside as faulty and report it to the equipment supplier",
            port=client.port, serial=serial)

    try:
        answer = client.auth_challenge(nonce, share)
    except (UnsupportedCommand, ProtocolFault, DeviceRefused) as e:
        raise counterfeit("it refused the challenge") from e
    try:
        cert = Certificate.decode(answer.certificate)
    except PayloadError:
        raise counterfeit("its certificate does not decode") from None
    if not key.verify_certificate(cert):
        raise counterfeit("its certificate is not signed by the manufacturer")
    if cert.serial != serial or cert.kind is not ident.kind:
        raise counterfeit(f"its certificate is for {cert.kind.value} {cert.serial}")
    if serial in key.revoked:
        raise counterfeit("its certificate has been revoked by the manufacturer")
    signed = auth_signed_data(serial, ident.firmware, nonce, answer.device_nonce, share, answer.device_share)
    try:
        Ed25519PublicKey.from_public_bytes(cert.public_key).verify(answer.signature, signed)
        shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(answer.device_share))
    except (InvalidSignature, ValueError):
        raise counterfeit("its signature over this session, its serial and firmware does not match") from None
    k = session_key(shared, serial, nonce, answer.device_nonce)
    client.auth_confirm(host_proof(k, nonce, answer.device_nonce))
    client.session_key = k
    return k
