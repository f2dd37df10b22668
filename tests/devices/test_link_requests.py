"""DeviceLink over real pseudo-terminals to the emulator: ids, retries, resync, events, errors."""
from __future__ import annotations

import time

import pytest
import serial

from emdesk.devices import errors
from emdesk.devices.client import DeviceClient
from emdesk.devices.link import DeviceLink, LinkPolicy
from emdesk.devices.protocol import Command, EventCode
from emdesk.devices.transport import KNOWN_ADAPTERS, PortCandidate, list_ports, manual_port, open_port
from hardware.emulator import EmulatedDevice
from hardware.testing import FAST, KEY


@pytest.fixture
def device(request):
    faults = getattr(request, "param", None)
    with EmulatedDevice.start("rf_tag", "RF-104233", faults) as dev:
        yield dev


def client_for(dev, policy=FAST, **kw) -> DeviceClient:
    return DeviceClient(DeviceLink.open(dev.port, policy=policy, **kw))


def test_identify_and_status_over_a_pty(device):
    c = client_for(device)
    ident = c.hello()
    assert (ident.kind.value, ident.serial, ident.model, ident.firmware) == ("rf_tag", "RF-104233", "EMT-RF200", "2.4.1")
    st = c.status()
    assert st.battery_pct == 87 and not st.strap_open and not st.paired
    assert c.link.stats.retries == 0 and c.link.stats.requests == 2
    c.link.close()


@pytest.mark.parametrize("device", ["lose_request=2"], indirect=True)
def test_a_lost_request_is_retried(device):
    c = client_for(device)
    c.hello()
    assert c.status().battery_pct == 87
    assert c.link.stats.retries == 1


@pytest.mark.parametrize("device", ["lose_response=2"], indirect=True)
def test_a_lost_answer_is_replayed_not_acted_on_twice(device):
    c = client_for(device)
    c.hello()
    assert c.self_test().passed
    assert c.link.stats.retries == 1
    assert device.requests == 3                           # the device saw the retry...
    ran = [e for e in device.unit.events if e.code is EventCode.SELF_TEST]
    assert len(ran) == 1                                  # ...but ran the self-test once


@pytest.mark.parametrize("device", ["corrupt_every=2", "drop_every=2", "noise_every=1", "trickle=0.0005"],
                         indirect=True)
def test_damaged_lines_still_get_answers(device):
    c = client_for(device)
    c.hello()
    for _ in range(6):
        assert c.status().battery_pct == 87
    if device.faults.corrupt_every or device.faults.drop_every:
        assert c.link.stats.damaged >= 3 and c.link.stats.retries >= 3


@pytest.mark.parametrize("device", ["corrupt_every=1"], indirect=True)
def test_a_line_that_garbles_everything_says_so(device):
    c = client_for(device)
    with pytest.raises(errors.GarbledLine) as e:
        c.hello()
    assert device.port in str(e.value) and "reseat the cable" in str(e.value)


@pytest.mark.parametrize("device", ["delay=0.3"], indirect=True)
def test_no_answer_in_time_then_late_answers_are_dropped_as_stale(device):
    c = client_for(device, policy=LinkPolicy(timeout=0.05, retries=0))
    with pytest.raises(errors.NoAnswer) as e:
        c.hello()
    assert str(e.value) == (f"no answer from the device on {device.port} (to HELLO): "
                            "check the cable and that the device is switched on, then press Retry")
    assert e.value.code == "no_answer" and e.value.retryable
    assert c.link.request(Command.STATUS, timeout=1.0)    # the late HELLO answer is skipped
    assert c.link.stats.stale >= 1


@pytest.mark.parametrize("device", ["unplug_at=2"], indirect=True)
def test_cable_pulled_silently(device):
    c = client_for(device, policy=LinkPolicy(timeout=0.05, retries=1, backoff=0.01))
    c.hello()
    with pytest.raises(errors.NoAnswer):
        c.status()
    assert not device.plugged
    device.plug_in()
    assert c.status().battery_pct == 87


@pytest.mark.parametrize("device", ["unplug_at=2,unplug_how=vanish"], indirect=True)
def test_port_vanishes(device):
    c = client_for(device, policy=LinkPolicy(timeout=5.0, retries=3))
    c.hello()
    old = device.port
    start = time.monotonic()
    with pytest.raises(errors.DeviceDisconnected) as e:
        c.status()
    assert time.monotonic() - start < 2.0                  # noticed at once, not after timeouts
    assert str(e.value).endswith("plug the cable back in and press Retry") and old in str(e.value)
    assert c.link.broken
    with pytest.raises(errors.DeviceDisconnected):
        c.status()
    with pytest.raises(errors.PortUnavailable):
        open_port(old)
    device.plug_in()                                      # comes back on a new port
    c2 = client_for(device)
    assert c2.hello().serial == "RF-104233"
    c2.link.close()


def test_events_are_delivered_between_and_during_requests(device):
    seen = []
    c = client_for(device, on_event=seen.append)
    c.hello()
    c.link.poll_events(0.05)                               # whatever was said before we listened
    seen.clear()
    written = device.bytes_written
    device.open_strap()
    assert device.wait_for(lambda: device.bytes_written > written)   # the event is on the line...
    assert c.status().strap_open                           # ...and is read while waiting for this answer
    assert [e.code for e in seen] == [EventCode.STRAP_TAMPER]
    device.close_strap()
    assert c.link.poll_events(1.0) >= 1                    # between requests: poll (the worker does this when idle)
    assert seen[-1].code is EventCode.STRAP_CLOSED and seen[-1].seq == seen[0].seq + 1


def test_a_broken_event_listener_does_not_break_the_link(device):
    def boom(event):
        raise RuntimeError("listener bug")
    c = client_for(device, on_event=boom)
    c.hello()
    written = device.bytes_written
    device.open_strap()
    assert device.wait_for(lambda: device.bytes_written > written)
    assert c.status().strap_open


def test_device_refusals_become_errors_with_advice(device):
    c = client_for(device)
    c.hello()
    with pytest.raises(errors.NotAuthenticated) as e:
        c.unpair()
    assert "RF-104233" in str(e.value) and e.value.status == 0x10
    with pytest.raises(errors.UnsupportedCommand) as e:
        c.link.request(0x55)
    assert "update its firmware" in str(e.value)
    with pytest.raises(errors.ProtocolFault):
        c.link.request(Command.STATUS, b"unexpected")


def test_socket_transport():
    with EmulatedDevice.start("hmu", "HMU-000123", listen=("127.0.0.1", 0)) as dev:
        assert dev.port.startswith("socket://127.0.0.1:")
        c = client_for(dev)
        assert c.hello().serial == "HMU-000123"
        from emdesk.devices.auth import authenticate
        authenticate(c, KEY)
        c.link.close()


def test_loopback_hears_only_its_own_requests():
    link = DeviceLink(serial.serial_for_url("loop://", timeout=0.01), name="loop://",
                      policy=LinkPolicy(timeout=0.05, retries=1, backoff=0.01))
    with pytest.raises(errors.NoAnswer):
        link.request(Command.HELLO, b"\x01")
    assert link.stats.stale == 2                          # its own echo is never taken as an answer


def test_ports_that_do_not_exist():
    with pytest.raises(errors.PortUnavailable) as e:
        DeviceLink.open("/dev/ttyUSB-does-not-exist")
    assert "no such port" in str(e.value) and "press Retry" in str(e.value)
    with pytest.raises(errors.PortUnavailable):
        open_port("socket://127.0.0.1:1")


def test_list_ports_and_ports_added_by_hand(device):
    ports = list_ports(manual=[device.port, "socket://10.0.0.5:4001"])
    assert all(isinstance(p, PortCandidate) for p in ports)
    mine = [p for p in ports if p.manual]
    assert [p.device for p in mine] == [device.port, "socket://10.0.0.5:4001"]
    assert mine[0].label.endswith("[added by hand]")
    ftdi = PortCandidate("/dev/ttyUSB0", "FT232R USB UART", vid=0x0403, pid=0x6001)
    assert ftdi.known_adapter and ftdi.label == f"/dev/ttyUSB0 - {KNOWN_ADAPTERS[(0x0403, 0x6001)]} (0403:6001)"
    with pytest.raises(ValueError):
        manual_port("  ")
