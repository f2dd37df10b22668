"""NMEA 0183 sentences as a GPS receiver writes them: RMC, GGA, GSA with checksums.

Talker "GP", NMEA 2.3 (RMC carries the mode indicator).  Checksum: XOR of every
character between "$" and "*", as two upper-case hex digits.  Lines end with CRLF.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone


def checksum(body: str) -> str:
    c = 0
    for ch in body.encode("ascii"):
        c ^= ch
    return f"{c:02X}"


def sentence(body: str) -> str:
    return f"${body}*{checksum(body)}\r\n"


def _lat(v: float) -> tuple[str, str]:
    a = abs(v)
    deg = int(a)
    minutes = (a - deg) * 60
    if round(minutes, 4) >= 60:
        deg, minutes = deg + 1, 0.0
    return f"{deg:02d}{minutes:07.4f}", "N" if v >= 0 else "S"


def _lon(v: float) -> tuple[str, str]:
    a = abs(v)
    deg = int(a)
    minutes = (a - deg) * 60
    if round(minutes, 4) >= 60:
        deg, minutes = deg + 1, 0.0
    return f"{deg:03d}{minutes:07.4f}", "E" if v >= 0 else "W"


@dataclass(frozen=True, slots=True)
class Fix:
    at: datetime                 # UTC
    lat: float
    lon: float
    valid: bool = True
    altitude_m: float = 35.0
    geoid_m: float = 47.0
    speed_knots: float = 0.0
    course_deg: float = 0.0
    hdop: float = 0.9
    pdop: float = 1.6
    vdop: float = 1.3
    satellites: tuple[int, ...] = (2, 5, 12, 15, 18, 24, 25, 29)


def rmc(f: Fix) -> str:
    t = f.at.astimezone(timezone.utc)
    lat, ns = _lat(f.lat)
    lon, ew = _lon(f.lon)
    if not f.valid:
        return sentence(f"GPRMC,{t:%H%M%S}.{t.microsecond // 10000:02d},V,,,,,,,{t:%d%m%y},,,N")
    return sentence(f"GPRMC,{t:%H%M%S}.{t.microsecond // 10000:02d},A,{lat},{ns},{lon},{ew},"
                    f"{f.speed_knots:.1f},{f.course_deg:.1f},{t:%d%m%y},,,A")


def gga(f: Fix) -> str:
    t = f.at.astimezone(timezone.utc)
    lat, ns = _lat(f.lat)
    lon, ew = _lon(f.lon)
    if not f.valid:
        return sentence(f"GPGGA,{t:%H%M%S}.{t.microsecond // 10000:02d},,,,,0,00,99.9,,M,,M,,")
    return sentence(f"GPGGA,{t:%H%M%S}.{t.microsecond // 10000:02d},{lat},{ns},{lon},{ew},1,"
                    f"{len(f.satellites):02d},{f.hdop:.1f},{f.altitude_m:.1f},M,{f.geoid_m:.1f},M,,")


def gsa(f: Fix) -> str:
    if not f.valid:
        return sentence("GPGSA,A,1,,,,,,,,,,,,,99.9,99.9,99.9")
    sats = [f"{s:02d}" for s in f.satellites[:12]] + [""] * (12 - min(12, len(f.satellites)))
    return sentence(f"GPGSA,A,3,{','.join(sats)},{f.pdop:.1f},{f.hdop:.1f},{f.vdop:.1f}")


def report(f: Fix) -> str:
    """The three sentences a GPS tag puts in a POSITION event: RMC, GGA, GSA."""
    return rmc(f) + gga(f) + gsa(f)


def verify(line: str) -> bool:
    """True if ``line`` is "$...*hh" with the right checksum (CRLF optional)."""
    line = line.strip()
    if not line.startswith("$") or len(line) < 4 or line[-3] != "*":
        return False
    return checksum(line[1:-3]) == line[-2:].upper()
