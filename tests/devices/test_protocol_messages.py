"""Message payloads and the configuration blob: round trips, refusals, splitting conditions."""
from __future__ import annotations

from datetime import date, datetime, time, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emdesk.devices.auth import Certificate
from emdesk.devices.protocol import (
    Command, ConfigTag, DeviceConfig, PayloadError, Status, UnplaceableCondition, command_name, configs_for,
)
from emdesk.devices.protocol import messages as m
from emdesk.devices.protocol.codes import CheckOutcome, EventCode, SelfTestId
from emdesk.domain.conditions import (
    AlcoholMode, AlcoholMonitoring, CheckIns, Circle, Conditions, Curfew, CurfewWindow, LocationMonitoring,
    Polygon, ReleaseDayWindow, Zone, ZoneKind,
)
from emdesk.domain.devices import DeviceKind

SAMPLES = [
    m.Hello(),
    m.DeviceIdentity(kind=DeviceKind.GPS_TAG, serial="GPS-1", model="EMT-GX500", firmware="5.1.3", hardware_rev="B2"),
    m.DeviceStatus(battery_pct=55, battery_mv=3900, flags=m.StatusFlag.CHARGING | m.StatusFlag.STRAP_OPEN,
                   pairing_state=m.PairingState.PENDING, pairing_id=b"12345678", partner_kind=DeviceKind.HMU,
                   partner_serial="HMU-1", config_crc=0xDEADBEEF, last_event_seq=9, uptime_s=100, device_time=1_800_000_000,
                   temperature_c=-5),
    m.SetTime(1_800_000_000),
    m.AuthChallenge(bytes(16), bytes(range(32))), m.AuthResponse(bytes(16), bytes(32), b"cert", bytes(64)),
    m.AuthConfirm(bytes(range(32))),
    m.PairPrepare(b"abcdefgh", None, "", bytes(m.SEALED_LINK_KEY_LEN), 60),
    m.EventNotice(3, m.DeviceEvent(7, 1_800_000_000, EventCode.STRAP_TAMPER)), m.EventAck(7),
    m.PairingRef(b"abcdefgh"), m.PairCommitted(b"abcdefgh", "RF-1", 1, 2),
    m.ConfigChunk(b"abcdefgh", 100, 40, b"xyz"), m.ConfigAck(100, True, 0xFFFFFFFF),
    m.SelfTestReport((m.CheckResult(SelfTestId.STRAP, CheckOutcome.FAIL),
                      m.CheckResult(SelfTestId.PARTNER_RANGE, CheckOutcome.PASS, -58))),
    m.GetEvents(5, 16),
    m.EventsPage(12, 3, (m.DeviceEvent(10, 1_800_000_000, EventCode.POSITION, 0, "$GPRMC*00\r\n"),
                         m.DeviceEvent(11, 1_800_000_001, EventCode.ALCOHOL_READING, -1, "ünïcode"))),
    m.Text("hello"), m.FactoryReset("RF-1"), m.ErrorDetail("why"),
]


@pytest.mark.parametrize("msg", SAMPLES, ids=lambda x: type(x).__name__)
def test_round_trip(msg):
    assert type(msg).decode(msg.encode()) == msg


@pytest.mark.parametrize("msg", [s for s in SAMPLES if s.encode() and not isinstance(s, (m.ConfigChunk, m.ErrorDetail))],
                         ids=lambda x: type(x).__name__)
def test_truncated_or_padded_payloads_are_payload_errors(msg):
    b = msg.encode()
    with pytest.raises(PayloadError):
        type(msg).decode(b[:-1])
    with pytest.raises(PayloadError):
        type(msg).decode(b + b"\x00")


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_random_payloads_only_ever_raise_payload_error(data):
    for cls in (m.DeviceIdentity, m.DeviceStatus, m.EventsPage, m.SelfTestReport, m.PairPrepare, m.PairCommitted,
                m.DeviceEvent, DeviceConfig, m.AuthChallenge, m.AuthResponse, m.EventNotice, m.EventAck, Certificate):
        try:
            cls.decode(data)
        except PayloadError:
            pass


def test_response_status_byte():
    assert m.decode_response(b"\x00abc") == (Status.OK, b"abc")
    assert m.decode_response(b"\xee") == (0xEE, b"")
    with pytest.raises(PayloadError):
        m.decode_response(b"")
    assert command_name(Command.PAIR_COMMIT.response) == "PAIR_COMMIT(response)"
    assert command_name(0x60) == "EVENT"


FULL = DeviceConfig(
    curfew=(CurfewWindow(weekday=6, start=time(19), end=time(7)),),
    release_day=ReleaseDayWindow(day=date(2026, 12, 1), start=time(15, 45), end=time(7)),
    fix_interval_s=15,
    zones=(
        Zone(name="Town centre", kind=ZoneKind.EXCLUSION,
             shape=Polygon(points=((51.5, -0.1), (51.51, -0.1), (51.51, -0.09), (51.5, -0.09))),
             active_windows=(CurfewWindow(weekday=5, start=time(20), end=time(2)),),
             active_from=datetime(2026, 12, 1, tzinfo=timezone.utc), active_until=datetime(2027, 6, 1, tzinfo=timezone.utc)),
        Zone(name="Home", kind=ZoneKind.INCLUSION, shape=Circle(lat=-33.9, lon=151.2, radius_m=12.5)),
    ),
    alcohol=AlcoholMonitoring(mode=AlcoholMode.LEVEL, threshold=17.5),
    checkins=CheckIns(per_week=14, biometric=False),
)


def test_config_round_trip_all_records():
    assert DeviceConfig.decode(FULL.encode()) == FULL
    assert FULL.tags() == set(ConfigTag)


TZ = "010003455552"          # TIMEZONE "EUR"


@pytest.mark.parametrize("blob, why", [
    ("", "no TIMEZONE"),
    (TZ + "020005" + "07" + "0474" + "0000", "weekday 7"),
    (TZ + "020005" + "00" + "0600" + "000A", "minute of day 1536"),
    (TZ + "040002" + "00", "record shorter than its length"),
    (TZ + "040002" + "0005", "fix interval 5 s"),
    (TZ + "040003" + "001E00", "trailing byte inside a record"),
    (TZ + "090001", "record with no value"),
    (TZ + "090001FF", "unknown mandatory record"),
    (TZ + "050003" + "020100", "unknown zone kind"),
    ("0100024142" + "0100", "record header cut short"),
])
def test_bad_config_blobs_are_refused(blob, why):
    with pytest.raises(PayloadError):
        DeviceConfig.decode(bytes.fromhex(blob))


def test_optional_unknown_records_are_skipped():
    blob = DeviceConfig().encode() + bytes.fromhex("F10003AABBCC")
    assert DeviceConfig.decode(blob) == DeviceConfig()


CURFEW = Curfew(windows=(CurfewWindow(weekday=0, start=time(19), end=time(7)),))
ZONES = (Zone(name="Park", kind=ZoneKind.EXCLUSION, shape=Circle(lat=51.5, lon=-0.1, radius_m=100)),)


def test_conditions_are_split_by_what_each_device_can_enforce():
    c = Conditions(curfew=CURFEW, zones=ZONES, location=LocationMonitoring(fix_interval_s=30))
    cfg = configs_for(c, [DeviceKind.GPS_TAG, DeviceKind.HMU])
    assert cfg[DeviceKind.HMU].curfew == CURFEW.windows and not cfg[DeviceKind.HMU].zones
    assert cfg[DeviceKind.GPS_TAG].zones == ZONES and cfg[DeviceKind.GPS_TAG].fix_interval_s == 30
    assert not cfg[DeviceKind.GPS_TAG].curfew
    rf = configs_for(Conditions(curfew=CURFEW), [DeviceKind.RF_TAG, DeviceKind.HMU])
    assert rf[DeviceKind.RF_TAG] == DeviceConfig()
    assert configs_for(Conditions(), [DeviceKind.GPS_TAG])[DeviceKind.GPS_TAG].fix_interval_s == 60


@pytest.mark.parametrize("conditions, kinds, label", [
    (Conditions(curfew=CURFEW), [DeviceKind.GPS_TAG], "a curfew"),
    (Conditions(zones=ZONES), [DeviceKind.RF_TAG, DeviceKind.HMU], "zones"),
    (Conditions(alcohol=AlcoholMonitoring()), [DeviceKind.RF_TAG, DeviceKind.HMU], "alcohol monitoring"),
])
def test_conditions_no_device_can_enforce(conditions, kinds, label):
    with pytest.raises(UnplaceableCondition, match=label):
        configs_for(conditions, kinds)
