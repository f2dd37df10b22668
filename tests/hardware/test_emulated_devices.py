"""Each emulated device: identity, status, self-test, authentication, and its fault switches."""
from __future__ import annotations

import secrets

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from emdesk.devices import errors
from emdesk.devices.auth import authenticate, seal_link_key
from emdesk.devices.client import DeviceClient
from emdesk.devices.protocol import CheckOutcome, Command, DeviceConfig, PairingState, SelfTestId, StatusFlag
from emdesk.devices.protocol import messages as m
from emdesk.domain.conditions import Polygon, Zone, ZoneKind
from emdesk.domain.devices import DeviceKind
from hardware.factory import MODELS, UNAPPROVED_FIRMWARE, Manufacturer
from hardware.faults import Faults
from hardware.testing import KEY

PID = bytes.fromhex("0102030405060708")


def prepare(client, partner_kind=DeviceKind.HMU, partner="HMU-000123", pid=PID, ttl=60):
    sealed = seal_link_key(client.session_key or bytes(32), pid, client.serial or "", bytes(16))
    client.pair_prepare(m.PairPrepare(pid, partner_kind, partner, sealed, ttl))


@pytest.mark.parametrize("kind", list(DeviceKind))
def test_every_kind_identifies_authenticates_and_passes_its_self_test(start, kind):
    dev, c = start(kind, f"X-{kind.value}")
    ident = c.hello()
    assert (ident.kind, ident.model, ident.firmware) == (kind, MODELS[kind].name, MODELS[kind].firmware)
    st = c.status()
    assert st.pairing_state is PairingState.NONE and st.battery_health_pct == 96
    assert st.charging == (kind is DeviceKind.HMU)
    authenticate(c, KEY)
    assert c.status().flags & m.StatusFlag.AUTHENTICATED
    report = c.self_test()
    assert report.passed, report
    checks = {r.check for r in report.results}
    assert (SelfTestId.STRAP in checks) == kind.worn
    assert (SelfTestId.GPS_FIX in checks) == (kind is DeviceKind.GPS_TAG)
    assert (SelfTestId.MAINS_POWER in checks) == (kind is DeviceKind.HMU)


def test_privileged_commands_need_authentication(start):
    dev, c = start("hmu", "HMU-000123")
    c.hello()
    for call in (lambda: c.set_time(1), lambda: prepare(c, DeviceKind.RF_TAG, "RF-1"), c.unpair,
                 lambda: c.get_events(1), lambda: c.factory_reset("HMU-000123")):
        with pytest.raises(errors.NotAuthenticated):
            call()
    authenticate(c, KEY)
    c.hello()                                             # a new session forgets it
    with pytest.raises(errors.NotAuthenticated):
        c.unpair()


def test_a_wrong_host_proof_is_refused(start):
    dev, c = start("rf_tag", "RF-1")
    c.hello()
    share = X25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    c.auth_challenge(secrets.token_bytes(16), share)
    with pytest.raises(errors.CounterfeitDevice) as e:
        c.auth_confirm(bytes(32))
    assert "manufacturer key file" in str(e.value)


def test_counterfeit_device_is_refused(start):
    dev, c = start("rf_tag", "RF-104233", "counterfeit")
    c.hello()
    with pytest.raises(errors.CounterfeitDevice) as e:
        authenticate(c, KEY)
    assert str(e.value) == ("device RF-104233 failed the authenticity check (its certificate is not signed by the "
                            "manufacturer): it may be counterfeit or tampered with: "
                            "do not fit it; set it aside as faulty and report it to the equipment supplier")
    assert not e.value.retryable
    with pytest.raises(errors.NotAuthenticated):
        c.unpair()


def test_a_device_from_another_factory_key_is_refused(start):
    dev, c = start("rf_tag", "RF-104233", manufacturer=Manufacturer(secrets.token_bytes(32)))
    c.hello()
    with pytest.raises(errors.CounterfeitDevice):
        authenticate(c, KEY)


def test_flat_battery(start):
    dev, c = start("rf_tag", "RF-1", "flat_battery")
    c.hello()
    st = c.status()
    assert st.battery_pct == 3 and not st.charging
    assert c.self_test().get(SelfTestId.BATTERY).outcome is CheckOutcome.FAIL
    authenticate(c, KEY)
    with pytest.raises(errors.BatteryTooLow):
        prepare(c)


def test_open_strap(start):
    dev, c = start("gps_tag", "GPS-1", "strap_open")
    c.hello()
    assert c.status().strap_open
    assert c.self_test().get(SelfTestId.STRAP).outcome is CheckOutcome.FAIL
    dev.close_strap()
    assert not c.status().strap_open and c.self_test().passed


def test_already_paired_elsewhere(start):
    dev, c = start("rf_tag", "RF-104233", "paired_elsewhere=HMU-999999")
    c.hello()
    st = c.status()
    assert st.paired and st.partner_serial == "HMU-999999" and st.partner_kind is DeviceKind.HMU
    authenticate(c, KEY)
    with pytest.raises(errors.AlreadyPaired) as e:
        prepare(c, partner="HMU-000123")
    assert str(e.value) == ("device RF-104233 is still paired with HMU-999999: "
                            "unpair it on the bench first, or use another device")
    prepare(c, partner="HMU-999999")                      # re-pairing with the same partner is allowed


def test_unapproved_firmware_is_reported(start):
    dev, c = start("hmu", "HMU-1", "unapproved_firmware")
    assert c.hello().firmware == UNAPPROVED_FIRMWARE


@pytest.mark.parametrize("kind, fault, check", [
    ("hmu", "no_mains", SelfTestId.MAINS_POWER),
    ("gps_tag", "no_gps_fix", SelfTestId.GPS_FIX),
    ("rf_tag", "case_open", SelfTestId.CASE),
])
def test_self_test_faults(start, kind, fault, check):
    dev, c = start(kind, "D-1", fault)
    c.hello()
    assert [r.check for r in c.self_test().failures] == [check]


def test_radio_range_needs_both_prepared_and_in_range(start):
    from hardware.air import Air
    air = Air()
    tag, tc = start("rf_tag", "RF-1", air=air)
    hmu, hc = start("hmu", "HMU-1", air=air)
    for c in (tc, hc):
        c.hello()
        authenticate(c, KEY)
    prepare(tc, DeviceKind.HMU, "HMU-1")
    assert tc.self_test().get(SelfTestId.PARTNER_RANGE).outcome is CheckOutcome.FAIL   # HMU not prepared yet
    prepare(hc, DeviceKind.RF_TAG, "RF-1")
    assert tc.self_test().get(SelfTestId.PARTNER_RANGE).value == -58
    assert hc.status().flags & m.StatusFlag.PARTNER_IN_RANGE
    tag.unit.set_out_of_range(True)
    assert hc.self_test().get(SelfTestId.PARTNER_RANGE).outcome is CheckOutcome.FAIL
    for c in (tc, hc):
        c.write_config(PID, DeviceConfig().encode())
    with pytest.raises(errors.PartnerNotInRange):
        hc.pair_commit(PID)
    assert tag.unit.pairing is None and hmu.unit.pairing is None


def test_uncommitted_pairing_is_discarded_on_timeout_new_session_power_loss_and_abort(start):
    dev, c = start("gps_tag", "GPS-1")

    def fresh():
        c.hello()
        authenticate(c, KEY)
        prepare(c, None, "")
        assert c.status().pairing_state is PairingState.PENDING

    fresh()
    dev.advance(61)                                       # TTL 60 s
    assert c.status().pairing_state is PairingState.NONE
    fresh()
    c.hello()
    assert c.status().pairing_state is PairingState.NONE
    fresh()
    dev.power_cycle()
    assert c.status().pairing_state is PairingState.NONE
    fresh()
    c.pair_abort()
    assert c.status().pairing_state is PairingState.NONE
    assert [e.text for e in dev.unit.events if e.code.name == "PAIRING_DISCARDED"] == [
        "timed out", "new session", "power cycle", "aborted"]


def test_config_in_chunks_and_refusals(start):
    dev, c = start("gps_tag", "GPS-1")
    c.hello()
    authenticate(c, KEY)
    prepare(c, None, "")
    ring = tuple((51.5 + i / 1000, -0.1 - i / 1000) for i in range(150))
    cfg = DeviceConfig(fix_interval_s=20, zones=(Zone(name="Estate", kind=ZoneKind.EXCLUSION, shape=Polygon(points=ring)),))
    blob = cfg.encode()
    assert len(blob) > 960
    ack = c.write_config(PID, blob)
    assert ack.complete and ack.received == len(blob) and c.link.stats.requests >= 4
    done = c.pair_commit(PID)
    assert dev.unit.config.encode() == blob and done.partner_serial == ""
    with pytest.raises(errors.PairingExpired):
        c.write_config(PID, blob)                         # nothing pending any more
    prepare(c, None, "", pid=b"pairing2")
    with pytest.raises(errors.ConfigRejected, match="curfew"):
        from datetime import time
        from emdesk.domain.conditions import CurfewWindow
        c.write_config(b"pairing2", DeviceConfig(curfew=(CurfewWindow(weekday=0, start=time(19), end=time(7)),)).encode())
    with pytest.raises(errors.ConfigRejected, match="fix interval"):
        c.write_config(b"pairing2", DeviceConfig(fix_interval_s=5).encode())
    with pytest.raises(errors.PairingExpired):
        c.pair_commit(b"pairing2")                         # nothing valid was staged: refuses
    assert c.status().pairing_id == PID                    # the committed pairing is untouched


def test_factory_reset_needs_the_serial(start):
    dev, c = start("rf_tag", "RF-7")
    c.hello()
    authenticate(c, KEY)
    with pytest.raises(errors.ProtocolFault, match="right device"):
        c.factory_reset("RF-8")
    c.factory_reset("RF-7")
    assert [e.code.name for e in dev.unit.events] == ["FACTORY_RESET"]


def test_unknown_and_bad_requests(start):
    dev, c = start("rf_tag", "RF-7")
    c.hello()
    with pytest.raises(errors.NotAuthenticated):
        c.link.request(Command.GET_POSITION)               # privileged: checked before anything else
    authenticate(c, KEY)
    with pytest.raises(errors.UnsupportedCommand, match="does not support GET_POSITION"):
        c.get_position()
    with pytest.raises(errors.ProtocolFault, match="malformed"):
        c.link.request(Command.PAIR_PREPARE, b"\x01")


def test_fault_specs():
    f = Faults.parse("strap_open, corrupt_every=3,delay=0.5,paired_elsewhere=HMU-9,unplug_how=vanish")
    assert (f.strap_open, f.corrupt_every, f.delay, f.paired_elsewhere, f.unplug_how) == (True, 3, 0.5, "HMU-9", "vanish")
    assert Faults.parse("strap_open=false").strap_open is False
    with pytest.raises(ValueError, match="unknown fault"):
        Faults.parse("gremlins")
    with pytest.raises(ValueError):
        Faults.parse("unplug_when=sometime")
    with pytest.raises(ValueError):
        Faults.parse("corrupt_every=-1")


@pytest.mark.parametrize("listen", [None, ("127.0.0.1", 0)], ids=["pty", "socket"])
def test_answers_kept_for_replay_do_not_survive_a_reconnection(listen):
    from emdesk.devices.link import DeviceLink
    from hardware.emulator import EmulatedDevice
    from hardware.testing import FAST
    with EmulatedDevice.start("hmu", "HMU-000777", listen=listen) as dev:
        with DeviceLink.open(dev.port, policy=FAST) as first:
            client = DeviceClient(first)
            client.hello()
            before = client.status()
            rid = first._rid
        dev.set_battery(40)
        with DeviceLink.open(dev.port, policy=FAST) as second:
            second._rid = rid - 1                    # the next request reuses the last one's id
            after = DeviceClient(second).status()    # no HELLO: e.g. check_pairing after a reconnect
        assert before.battery_pct != 40
        assert after.battery_pct == 40               # before: the old answer, replayed
        with DeviceLink.open(dev.port, policy=FAST) as third:
            assert not DeviceClient(third).status().flags & StatusFlag.AUTHENTICATED
