"""`python -m hardware.emulate`: prints its ports first thing, then serves them until stopped."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from emdesk.devices.auth import ManufacturerKey, authenticate
from emdesk.devices.client import DeviceClient
from emdesk.devices.link import DeviceLink
from emdesk.devices.pairing import pair_devices
from emdesk.domain.conditions import Conditions
from hardware.testing import FAST

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def emulate(*args: str, lines: int = 1):
    proc = subprocess.Popen([sys.executable, "-m", "hardware.emulate", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        ports = [proc.stdout.readline().strip() for _ in range(lines)]
        assert all(ports), proc.stderr.read() if proc.poll() is not None else "no port printed"
        yield proc, ports
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def test_prints_a_pty_path_that_answers_identify():
    with emulate("--kind", "hmu", "--serial", "HMU-000123") as (proc, (port,)):
        assert port.startswith("/dev/")
        with DeviceLink.open(port, policy=FAST) as link:
            ident = DeviceClient(link).hello()
        assert (ident.kind.value, ident.serial) == ("hmu", "HMU-000123")
    assert proc.returncode == 0                       # SIGTERM is a clean stop


def test_several_devices_share_a_radio_and_pair(tmp_path):
    key_file = tmp_path / "key.json"
    with emulate("--device", "hmu:HMU-000123", "--device", "rf_tag:RF-104233", "--write-key-file", str(key_file),
                 lines=2) as (proc, (hmu_port, tag_port)):
        assert json.loads(key_file.read_text())["format"] == "emdesk-manufacturer-key"
        key = ManufacturerKey.load(key_file)
        with DeviceLink.open(tag_port, policy=FAST) as tl, DeviceLink.open(hmu_port, policy=FAST) as hl:
            result = pair_devices(tl, hl, Conditions(), key=key)
        assert result.paired, result.error


def test_fault_flags_and_per_device_faults():
    with emulate("--device", "rf_tag:RF-1:strap_open", "--device", "gps_tag:GPS-1", "--flat-battery",
                 lines=2) as (proc, (rf, gps)):
        with DeviceLink.open(rf, policy=FAST) as a, DeviceLink.open(gps, policy=FAST) as b:
            ca, cb = DeviceClient(a), DeviceClient(b)
            ca.hello()
            cb.hello()
            sa, sb = ca.status(), cb.status()
        assert sa.strap_open and sa.battery_pct == 3
        assert not sb.strap_open and sb.battery_pct == 3


def test_listen_serves_a_socket(tmp_path):
    with emulate("--kind", "gps_tag", "--listen", "127.0.0.1:0", "--counterfeit") as (proc, (url,)):
        assert url.startswith("socket://127.0.0.1:")
        with DeviceLink.open(url, policy=FAST) as link:
            c = DeviceClient(link)
            c.hello()
            from emdesk.devices.errors import CounterfeitDevice
            from hardware.testing import KEY
            with pytest.raises(CounterfeitDevice):
                authenticate(c, KEY)


def test_usage_errors():
    out = subprocess.run([sys.executable, "-m", "hardware.emulate"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 2 and "--kind KIND or --device" in out.stderr
    out = subprocess.run([sys.executable, "-m", "hardware.emulate", "--device", "rf_tag:RF-1:gremlins"], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 2 and "unknown fault 'gremlins'" in out.stderr
