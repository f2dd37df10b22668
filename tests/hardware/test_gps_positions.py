"""GPS tags report standard sentences (RMC, GGA, GSA) with correct checksums, like real receivers."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from emdesk.devices.auth import authenticate
from emdesk.devices.protocol import EventCode
from hardware import nmea
from hardware.testing import KEY

CAPTURES = Path(__file__).parents[1] / "data" / "gpsd-nmea"     # in the repository, with its COPYING


def fields(sentence: str) -> list[str]:
    return sentence.strip()[1:-3].split(",")


def _real_sentences(kind: str, n: int = 40) -> list[str]:
    out = []
    for log in sorted(CAPTURES.glob("*.log")):
        for raw in log.read_bytes().splitlines():
            line = raw.decode("ascii", "replace").strip()
            if line.startswith(f"$GP{kind},") and len(line) > 10 and line[-3] == "*":
                out.append(line)
                if len(out) >= n:
                    return out
    return out


@pytest.mark.parametrize("kind", ["RMC", "GGA", "GSA"])
def test_our_sentences_have_the_shape_of_real_receivers(kind):
    real = _real_sentences(kind)
    assert real and sum(nmea.verify(s) for s in real) >= len(real) * 0.9     # the checker agrees with gpsd data
    fix = nmea.Fix(at=datetime(2026, 1, 1, tzinfo=timezone.utc), lat=-33.5, lon=151.25)
    ours = [s for s in nmea.report(fix).split("\r\n") if s[3:6] == kind]
    assert len(fields(ours[0])) in {len(fields(r)) for r in real}


def test_checksum_is_the_xor_between_dollar_and_star():
    assert nmea.checksum("GPGSA,A,1,,,,,,,,,,,,,0.0,0.0,0.0") == "30"        # from a real capture
    assert not nmea.verify("$GPGSA,A,1,,,,,,,,,,,,,0.0,0.0,0.0*31")


def test_get_position_and_position_events(start):
    dev, c = start("gps_tag", "GPS-000009")
    c.hello()
    authenticate(c, KEY)
    dev.unit.move_to(51.4545, -2.5879)
    text = c.get_position()
    lines = text.split("\r\n")[:-1]
    assert [s[:6] for s in lines] == ["$GPRMC", "$GPGGA", "$GPGSA"] and all(nmea.verify(s) for s in lines)
    assert fields(lines[0])[3:7] == ["5127.2700", "N", "00235.2740", "W"] and fields(lines[0])[2] == "A"
    dev.report_position()
    ev = [e for e in dev.unit.events if e.code is EventCode.POSITION][-1]
    assert ev.text == dev.unit.nmea()


def test_no_fix_is_reported_as_void(start):
    dev, c = start("gps_tag", "GPS-000010", "no_gps_fix")
    c.hello()
    authenticate(c, KEY)
    rmc, gga, gsa = c.get_position().split("\r\n")[:3]
    assert fields(rmc)[2] == "V" and fields(gga)[6] == "0" and fields(gsa)[2] == "1"
    assert all(nmea.verify(s) for s in (rmc, gga, gsa))


def test_installed_gps_tag_reports_at_its_fix_interval(start):
    from emdesk.devices.pairing import pair_devices
    from emdesk.domain.conditions import Conditions, LocationMonitoring
    dev, c = start("gps_tag", "GPS-000011")
    assert pair_devices(c.link, None, Conditions(location=LocationMonitoring(fix_interval_s=30)), key=KEY).paired
    dev.advance(0.1)                                  # first tick schedules the next fix
    before = sum(e.code is EventCode.POSITION for e in dev.unit.events)
    dev.advance(31)
    dev.advance(31)
    assert sum(e.code is EventCode.POSITION for e in dev.unit.events) == before + 2
