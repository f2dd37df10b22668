"""The golden vectors in hardware/PROTOCOL.md, checked byte for byte against the codec."""
from __future__ import annotations

import json
import re
import zlib
from datetime import datetime, time
from pathlib import Path

import pytest

from emdesk.devices import auth
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from emdesk.devices.protocol import (
    CODE_KINDS, DeviceConfig, Frame, FrameDecoder, ProtocolError, ProtocolErrorKind, crc16_ccitt, encode_frame,
)
from emdesk.devices.protocol import messages as m
from emdesk.domain.conditions import Circle, CurfewWindow, Zone, ZoneKind
from hardware import factory, nmea

DOC = Path(__file__).resolve().parents[2] / "hardware" / "PROTOCOL.md"


def _blocks() -> list[dict[str, str]]:
    out = []
    for body in re.findall(r"```golden\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S):
        fields = {}
        for line in body.strip().splitlines():
            k, _, v = line.partition(":")
            fields[k.strip()] = v.strip()
        out.append(fields)
    return out


BLOCKS = _blocks()


def _hex(s: str) -> bytes:
    return bytes.fromhex(s.replace(" ", ""))


def of_kind(kind: str) -> list[dict[str, str]]:
    return [b for b in BLOCKS if b["kind"] == kind]


def test_the_document_has_vectors_of_every_kind():
    kinds = {b["kind"] for b in BLOCKS}
    assert kinds == {"crc", "auth", "frame", "config", "nmea", "foreign"}
    assert len(of_kind("frame")) >= 10


@pytest.mark.parametrize("v", of_kind("crc"))
def test_crc_check_value(v):
    assert crc16_ccitt(v["input"].encode()) == int(v["crc"], 16)


def _crc16_bitwise(data: bytes) -> int:
    """An independent, bit-at-a-time CRC-16/CCITT-FALSE."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


@pytest.mark.parametrize("v", of_kind("frame"), ids=lambda v: f"rid{v['rid']}-cmd{v['cmd']}")
def test_frame_vectors_encode_and_decode(v):
    rid, cmd, payload, wire = int(v["rid"], 16), int(v["cmd"], 16), _hex(v["payload"]), _hex(v["bytes"])
    assert encode_frame(rid, cmd, payload) == wire
    assert _crc16_bitwise(wire[1:-2]) == int.from_bytes(wire[-2:], "big")
    assert FrameDecoder().feed(wire) == [Frame(rid, cmd, payload)]
    if "message" in v:
        cls = getattr(m, v["message"])
        body = payload[1:] if cmd & 0x80 else payload
        if cmd & 0x80:
            assert payload[0] == 0
        msg = cls.decode(body)
        for name, want in json.loads(v.get("fields", "{}")).items():
            got = getattr(msg, name)
            assert (got.value if hasattr(got, "value") else got) == want, name
        assert msg.encode() == body


@pytest.mark.parametrize("v", of_kind("auth"))
def test_auth_vectors_hold_for_app_and_factory(v):
    maker = factory.Manufacturer(_hex(v["manufacturer_signing_key"]), v["key_id"])
    assert maker.public_key == _hex(v["manufacturer_public_key"])
    device = Ed25519PrivateKey.from_private_bytes(_hex(v["device_signing_key"]))
    serial, firmware = v["serial"], v["firmware"]
    kind = CODE_KINDS[int(v["kind_code"], 16)]
    cert = _hex(v["certificate"])
    assert maker.certify(kind, serial, factory.public_bytes(device)) == cert      # the factory's side
    laptop = auth.ManufacturerKey(v["key_id"], maker.public_key)                  # the app's side
    decoded = auth.Certificate.decode(cert)
    assert laptop.verify_certificate(decoded) and (decoded.serial, decoded.kind) == (serial, kind)
    hn, dn = _hex(v["host_nonce"]), _hex(v["device_nonce"])
    host_eph = X25519PrivateKey.from_private_bytes(_hex(v["host_ephemeral"]))
    dev_eph = X25519PrivateKey.from_private_bytes(_hex(v["device_ephemeral"]))
    hs, ds = _raw(host_eph), _raw(dev_eph)
    assert (hs, ds) == (_hex(v["host_share"]), _hex(v["device_share"]))
    signed = auth.auth_signed_data(serial, firmware, hn, dn, hs, ds)
    assert device.sign(signed) == _hex(v["signature"])                            # Ed25519 is deterministic
    key = auth.session_key(host_eph.exchange(dev_eph.public_key()), serial, hn, dn)
    assert key == auth.session_key(dev_eph.exchange(host_eph.public_key()), serial, hn, dn) == _hex(v["session_key"])
    assert auth.host_proof(key, hn, dn) == _hex(v["host_proof"])
    pid, link = _hex(v["pairing_id"]), _hex(v["link_key"])
    sealed = auth.seal_link_key(key, pid, serial, link, nonce=_hex(v["seal_nonce"]))
    assert sealed == _hex(v["sealed_link_key"]) and link not in sealed
    assert auth.open_link_key(key, pid, serial, sealed) == link
    with pytest.raises(ValueError):
        auth.open_link_key(bytes(32), pid, serial, sealed)


def _raw(key) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


@pytest.mark.parametrize("v", of_kind("foreign"))
def test_a_frame_of_another_format_is_reported_not_ignored(v):
    [item] = FrameDecoder().feed(_hex(v["bytes"]))
    assert isinstance(item, ProtocolError) and item.kind is ProtocolErrorKind.VERSION
    assert item.version == int(v["version"])


CONFIGS = {
    "curfew-two-nights": DeviceConfig(curfew=(
        CurfewWindow(weekday=0, start=time(19), end=time(7)),
        CurfewWindow(weekday=4, start=time(21, 30), end=time(6)))),
    "gps-exclusion-circle": DeviceConfig(fix_interval_s=30, zones=(
        Zone(name="Victim home", kind=ZoneKind.EXCLUSION, shape=Circle(lat=51.5, lon=-0.12, radius_m=250.0)),)),
}


@pytest.mark.parametrize("v", of_kind("config"), ids=lambda v: v["name"])
def test_config_vectors(v):
    cfg = CONFIGS[v["name"]]
    blob = _hex(v["blob"])
    assert cfg.encode() == blob
    assert zlib.crc32(blob) == int(v["crc32"], 16)
    assert DeviceConfig.decode(blob) == cfg


@pytest.mark.parametrize("v", of_kind("nmea"))
def test_position_sentence_vector(v):
    fix = nmea.Fix(at=datetime.fromisoformat(v["at"]), lat=float(v["lat"]), lon=float(v["lon"]))
    want = [s.strip() for s in v["sentences"].split("|")]
    assert nmea.report(fix).split("\r\n")[:-1] == want
    assert all(nmea.verify(s) for s in want)
