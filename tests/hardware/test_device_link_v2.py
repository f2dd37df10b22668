"""Issue 10, items 9-12: what authenticity proves, per-device keys, the version handshake,
and device events acknowledged by sequence number -- over real ptys to the emulator."""
from __future__ import annotations

import json
import time
from datetime import time as clock_time
from pathlib import Path

import pytest

from emdesk.devices import auth, errors
from emdesk.devices.auth import KeyFileError, ManufacturerKey, authenticate
from emdesk.devices.client import DeviceClient
from emdesk.devices.events import ACCEPT, DUPLICATE, LATER, MemoryCursor, judge
from emdesk.devices.link import DeviceLink
from emdesk.devices.pairing import pair_devices
from emdesk.devices.protocol import EventCode
from emdesk.devices.protocol import messages as m
from emdesk.domain.conditions import Circle, Conditions, Curfew, CurfewWindow, Zone, ZoneKind
from hardware.emulator import EmulatedDevice
from hardware.factory import EMULATOR_MANUFACTURER, key_file_json
from hardware.testing import FAST, KEY, tag_and_hmu

ROOT = Path(__file__).resolve().parents[2]
CURFEW = Conditions(curfew=Curfew(windows=tuple(
    CurfewWindow(weekday=d, start=clock_time(19), end=clock_time(7)) for d in range(7))))


@pytest.fixture
def open_client():
    links = []

    def _open(dev, **kw) -> DeviceClient:
        link = DeviceLink.open(dev.port, policy=FAST, **kw)
        links.append(link)
        return DeviceClient(link)
    yield _open
    for link in links:
        link.close()


# -- 9: no answer is no answer ----------------------------------------------------------------

def test_no_answer_to_the_challenge_is_reported_as_no_answer_and_the_documents_agree(open_client):
    with EmulatedDevice.start("rf_tag", "RF-104233", "unplug_at=2") as dev:     # request 2: AUTH_CHALLENGE
        client = open_client(dev)
        client.hello()
        with pytest.raises(errors.NoAnswer) as e:
            authenticate(client, KEY)
        assert not isinstance(e.value, errors.CounterfeitDevice) and "check the cable" in str(e.value)
    protocol = (ROOT / "hardware" / "PROTOCOL.md").read_text(encoding="utf-8")
    section = protocol[protocol.index("### 3.2"):protocol.index("## 4.")]
    # Before, both said a device that does not answer is counterfeit.
    assert "or no answer: **counterfeit**" not in section and "no answer to the challenge: CounterfeitDevice" \
        not in auth.__doc__
    assert "not as a counterfeit" in " ".join(section.split())
    assert "that is NoAnswer" in " ".join(auth.__doc__.split())


# -- 10: per-device keys ------------------------------------------------------------------------

def test_the_laptop_key_file_holds_only_the_public_key_and_the_revocation_list(tmp_path):
    data = json.loads(key_file_json(revoked=["RF-666"]))
    assert set(data) == {"format", "version", "key_id", "public_key", "revoked"}
    assert data["version"] == 2 and data["revoked"] == ["RF-666"] and len(bytes.fromhex(data["public_key"])) == 32
    assert EMULATOR_MANUFACTURER.seed.hex() not in json.dumps(data)
    old = {"format": "emdesk-manufacturer-key", "version": 1, "key_id": "x", "master_key": "00" * 32}
    with pytest.raises(KeyFileError, match="version 2 file"):
        ManufacturerKey.from_json(json.dumps(old))


def test_each_device_has_its_own_certified_key(open_client):
    with EmulatedDevice.start("rf_tag", "RF-1") as a, EmulatedDevice.start("rf_tag", "RF-2") as b:
        assert a.unit.certificate != b.unit.certificate
        ca, cb = auth.Certificate.decode(a.unit.certificate), auth.Certificate.decode(b.unit.certificate)
        assert ca.public_key != cb.public_key and KEY.verify_certificate(ca) and KEY.verify_certificate(cb)
        b.unit.certificate = a.unit.certificate                # RF-2 shows RF-1's certificate
        client = open_client(b)
        client.hello()
        with pytest.raises(errors.CounterfeitDevice, match="certificate is for rf_tag RF-1"):
            authenticate(client, KEY)


def test_a_revoked_serial_is_refused(open_client):
    revoked = ManufacturerKey.from_json(key_file_json(revoked=["RF-104233"]))
    with EmulatedDevice.start("rf_tag", "RF-104233") as dev:
        client = open_client(dev)
        client.hello()
        with pytest.raises(errors.CounterfeitDevice, match="revoked"):
            authenticate(client, revoked)
        client.hello()
        authenticate(client, KEY)                              # the same device, before revocation


def test_the_proof_covers_the_firmware_reported_and_the_session_nonce(open_client):
    with EmulatedDevice.start("rf_tag", "RF-104233") as dev:
        client = open_client(dev)
        client.hello()                                         # says 2.4.1 (approved)...
        dev.unit.firmware = "9.0.0-beta"                       # ...but is really running something else
        with pytest.raises(errors.CounterfeitDevice, match="signature"):
            authenticate(client, KEY)
        dev.unit.firmware = "2.4.1"
        client.hello()
        recorded = []
        real = client.auth_challenge
        client.auth_challenge = lambda nonce, share: recorded.append(real(nonce, share)) or recorded[-1]
        authenticate(client, KEY)
        client.hello()
        client.auth_challenge = lambda nonce, share: recorded[0]     # a replayed answer from the last session
        with pytest.raises(errors.CounterfeitDevice, match="signature"):
            authenticate(client, KEY)


def test_the_pairing_link_key_is_never_sent_in_clear():
    with tag_and_hmu() as (tag, hmu, tl, hl):
        sent: list[bytes] = []
        for link in (tl, hl):
            write = link.port.write
            link.port.write = lambda data, write=write: sent.append(bytes(data)) or write(data)
        result = pair_devices(tl, hl, CURFEW, key=KEY)
        assert result.paired
        link_key = tag.unit.pairing.link_key
        assert link_key == hmu.unit.pairing.link_key and len(link_key) == m.LINK_KEY_LEN
        assert not any(link_key in data for data in sent)
        assert any(len(data) > 60 for data in sent)            # (the PREPAREs were seen)


# -- 11: the version handshake ------------------------------------------------------------------

@pytest.mark.parametrize("fault, text", [
    ("frame_version=3", "this device speaks protocol version 3; update emdesk"),
    ("protocol_version=3", "this device speaks protocol version 3; update emdesk"),
    ("protocol_version=1", "this device speaks protocol version 1, older than emdesk's 2"),
])
def test_a_device_of_another_version_is_named_not_silent(open_client, fault, text):
    with EmulatedDevice.start("hmu", "HMU-000123", fault) as dev:
        client = open_client(dev)
        start = time.monotonic()
        with pytest.raises(errors.UnsupportedProtocol) as e:
            client.hello()
        assert str(e.value).startswith(text), str(e.value)     # before: "no answer ...: check the cable"
        assert not isinstance(e.value, errors.NoAnswer) and not e.value.retryable
        assert time.monotonic() - start < FAST.timeout * 2


def test_the_payload_limit_the_device_reports_is_kept():
    zones = tuple(Zone(name=f"Zone {i}", kind=ZoneKind.EXCLUSION, shape=Circle(lat=51.5, lon=-0.12 + i / 100,
                                                                                    radius_m=250)) for i in range(6))
    conditions = Conditions(curfew=CURFEW.curfew, zones=zones)
    with tag_and_hmu("gps_tag", tag_faults="max_payload=100", hmu_faults="max_payload=68") as (tag, hmu, tl, hl):
        result = pair_devices(tl, hl, conditions, key=KEY)
        assert result.paired, result.message                   # before: WRITE_CONFIG refused as too long
        assert tl.max_payload == 100 and hl.max_payload == 68
        assert len(tag.unit.pairing.config) > 100 and len(hmu.unit.pairing.config) > 68


# -- 12: events acknowledged by sequence number --------------------------------------------------

def _event(seq: int, oldest: int) -> m.EventNotice:
    return m.EventNotice(oldest, m.DeviceEvent(seq, 1_800_000_000, EventCode.STRAP_TAMPER))


@pytest.mark.parametrize("seq, oldest, last, verdict", [
    (1, 1, 0, ACCEPT),          # the first event
    (8, 8, 7, ACCEPT),          # the next one
    (7, 7, 7, DUPLICATE),       # its acknowledgement was lost: acknowledge again, do not store
    (3, 3, 7, DUPLICATE),
    (9, 8, 7, LATER),           # 8 was damaged on the line: it comes again first
    (9, 9, 7, ACCEPT),          # 8 is gone from the device (log overflow): a known gap, go on
    (51, 51, 0, ACCEPT),        # a new cursor meets a device whose 1..50 were stored elsewhere
    (52, 51, 0, LATER),
])
def test_which_events_are_stored(seq, oldest, last, verdict):
    assert judge(_event(seq, oldest), last) == verdict


class Store:
    """An ingest: stores events by (serial, seq), with a cursor kept alongside."""

    def __init__(self) -> None:
        self.cursor = MemoryCursor()
        self.rows: list[tuple[str, int, EventCode]] = []
        self.fail_next = 0
        self.serial = ""

    def __call__(self, event: m.DeviceEvent) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError("store unavailable")
        self.rows.append((self.serial, event.seq, event.code))

    def seqs(self) -> list[int]:
        return [seq for _, seq, _ in self.rows]


def _until(predicate, link: DeviceLink, timeout: float = 4.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        link.poll_events(0.05)
        if predicate():
            return True
    return predicate()


def test_a_lost_acknowledgement_means_the_event_comes_again_and_is_stored_once():
    store = Store()
    with EmulatedDevice.start("rf_tag", "RF-104233", "lose_ack=2") as dev:
        with DeviceLink.open(dev.port, policy=FAST, on_event=store, cursor=store.cursor) as link:
            DeviceClient(link).hello()
            assert _until(lambda: dev.unit.acked == 1, link)              # POWER_ON
            dev.open_strap()                                                # its acknowledgement is lost
            assert _until(lambda: link.stats.duplicates >= 1 and dev.unit.acked == 2, link)
            assert dev.acks >= 3                                           # the ack was sent again
        assert store.seqs() == [1, 2] and store.rows[1][2] is EventCode.STRAP_TAMPER


def test_events_across_reconnections_are_neither_lost_nor_stored_twice():
    store = Store()
    with EmulatedDevice.start("rf_tag", "RF-104233") as dev:
        with DeviceLink.open(dev.port, policy=FAST, on_event=store, cursor=store.cursor) as link:
            DeviceClient(link).hello()
            dev.set_battery(10)                                             # BATTERY_LOW
            assert _until(lambda: dev.unit.acked == 2, link)
        # Nobody is connected: the events wait on the device.
        dev.power_cycle()
        dev.open_strap()
        assert dev.unit.acked == 2 and len(dev.unit.unacked()) == 2         # POWER_ON, STRAP_TAMPER
        with DeviceLink.open(dev.port, policy=FAST, on_event=store, cursor=store.cursor) as link:
            DeviceClient(link).hello()                                      # the device sends what is unacknowledged
            assert _until(lambda: dev.unit.acked == 4, link)
        # A link that lost its acknowledgements mid-way: the next one starts where the store is.
        dev.unit.acked = 2                                                  # as if acks for 3 and 4 were lost
        with DeviceLink.open(dev.port, policy=FAST, on_event=store, cursor=store.cursor) as link:
            DeviceClient(link).hello()
            assert _until(lambda: dev.unit.acked == 4 and link.stats.duplicates == 2, link)
    assert store.seqs() == [1, 2, 3, 4]
    assert [code for _, _, code in store.rows] == [EventCode.POWER_ON, EventCode.BATTERY_LOW,
                                                   EventCode.POWER_ON, EventCode.STRAP_TAMPER]


def test_an_event_the_store_could_not_take_is_not_acknowledged_and_comes_again():
    store = Store()
    store.fail_next = 1
    with EmulatedDevice.start("rf_tag", "RF-104233") as dev:
        with DeviceLink.open(dev.port, policy=FAST, on_event=store, cursor=store.cursor) as link:
            DeviceClient(link).hello()
            assert _until(lambda: store.seqs() == [1] and dev.unit.acked == 1, link)
            assert link.stats.events == 1


def test_events_wait_for_a_session():
    with EmulatedDevice.start("rf_tag", "RF-104233") as dev:
        with DeviceLink.open(dev.port, policy=FAST) as link:
            dev.open_strap()
            link.poll_events(0.3)
            assert link.stats.events == 0 and dev.unit.acked == 0         # no HELLO yet: nothing sent
            DeviceClient(link).hello()
            assert _until(lambda: dev.unit.acked == 2, link)
