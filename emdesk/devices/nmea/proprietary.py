"""Handlers for the proprietary sentences gpsd reads (``$P...``): SiRF, Ashtech/OxTS,
SkyTraq, Garmin, Magellan and Trimble.  Same contract as :mod:`.talkers`."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .masks import (
    ALTITUDE,
    ATTITUDE,
    CLEAR,
    CLIMB,
    DOP,
    HERR,
    LATLON,
    MODE,
    MODE_2D,
    MODE_3D,
    MODE_NO_FIX,
    MPS_TO_KPH,
    ONLINE,
    OSCILLATOR,
    PERR,
    SATELLITE,
    SPEED,
    STATUS,
    TIME,
    TRACK,
    USED,
    VERR,
    VNED,
)
from .readers import atof, atoi, field

if TYPE_CHECKING:  # pragma: no cover
    from .epochs import EpochAssembler


def psrfepe(st: EpochAssembler, f: list[str], count: int) -> int:
    mask = STATUS
    if f[1] and st.merge_hhmmss(f[1]):
        st.register_frac(f[1])
        if st.ty != 0:
            mask |= TIME
    if f[2][:1] != "A":
        return mask
    if f[3]:
        st.hdop = atof(f[3])
        mask |= DOP
    if f[4]:
        mask |= HERR
    if f[5]:
        mask |= VERR
    return mask


def pashr(st: EpochAssembler, f: list[str], count: int) -> int:
    kind = f[1]
    if kind == "POS":
        mask = ONLINE | MODE | STATUS | CLEAR
        if not f[2]:
            st.nd_mode = MODE_NO_FIX
            return mask
        st.nd_mode = MODE_3D
        st.gga_sats_used = atoi(f[3])
        if st.merge_hhmmss(f[4]):
            st.register_frac(f[4])
            mask |= TIME
        if st.latlon(f, 5):
            mask |= LATLON
            if f[9]:
                mask |= ALTITUDE
        st.nd_speed = atof(f[12]) / MPS_TO_KPH
        for i in (14, 15, 16, 17):
            if f[i]:
                if i == 15:
                    st.hdop = atof(f[i])
                mask |= DOP
        return mask | SPEED | TRACK | CLIMB
    if kind == "SAT":
        n = atoi(f[2])
        any_azimuth = False
        used = 0
        for i in range(max(n, 0)):
            base = 3 + i * 5
            if atoi(field(f, base + 1)):
                any_azimuth = True
            if field(f, base + 4)[:1] == "U":
                used += 1
        st.in_view.set(n, any_azimuth)
        st.satellites_used = used
        return ONLINE | SATELLITE | USED
    if kind not in ("ACK", "MCA", "NAK", "PBN", "RID") and f[3] == "T":
        st.merge_hhmmss(f[1])  # OxTS attitude sentence: time of day only
    return ONLINE


def psti030(st: EpochAssembler, f: list[str], count: int) -> int:
    mask = ONLINE
    if f[3][:1] == "V" or f[13][:1] == "N":
        st.nd_mode = MODE_NO_FIX
        return mask | MODE | STATUS
    if f[3][:1] == "A":
        if f[2] and f[12] and st.merge_time_date(f[2], f[12]):
            mask |= TIME
            st.register_frac(f[2])
        if st.latlon(f, 4):
            st.nd_mode = MODE_2D
            mask |= LATLON
            if f[8]:
                mask |= ALTITUDE
                st.nd_mode = MODE_3D
            mask |= MODE
        mask |= VNED | STATUS
    return mask


def psti032(st: EpochAssembler, f: list[str], count: int) -> int:
    if f[4][:1] != "A":
        return ONLINE
    mask = ONLINE
    if f[2] and f[3] and st.merge_time_date(f[2], f[3]):
        mask |= TIME
        st.register_frac(f[2])
    return mask


def psti033(st: EpochAssembler, f: list[str], count: int) -> int:
    if f[4][:1] != "2" or not f[5] or f[5][0] not in "BR":
        return ONLINE
    mask = ONLINE
    if f[2] and f[3] and st.merge_time_date(f[2], f[3]):
        mask |= TIME
        st.register_frac(f[2])
    return mask


def psti035(st: EpochAssembler, f: list[str], count: int) -> int:
    mask = ONLINE
    if f[2] and f[3] and st.merge_time_date(f[2], f[3]):
        mask |= TIME
        st.register_frac(f[2])
    if f[4][:1] != "A":
        return mask
    return mask | ATTITUDE


def psti036(st: EpochAssembler, f: list[str], count: int) -> int:
    mask = ONLINE
    if f[2] and f[3] and st.merge_time_date(f[2], f[3]):
        mask |= TIME
        st.register_frac(f[2])
    if not f[7] or f[7][0] == "N":
        return mask
    st.utc_resolve()
    return mask | ATTITUDE


def pgrme(st: EpochAssembler, f: list[str], count: int) -> int:
    if f[2][:1] == "M" and f[4][:1] == "M" and f[6][:1] == "M":
        return HERR | VERR | PERR
    return ONLINE


_PGRMF_MODES = {"0": MODE_NO_FIX, "1": MODE_2D, "2": MODE_3D}


def pgrmf(st: EpochAssembler, f: list[str], count: int) -> int:
    mask = ONLINE
    if f[5][:1].isdigit():
        st.leap_seconds = atoi(f[5])
    if f[1][:1].isdigit() and f[2][:1].isdigit() and st.leap_seconds > 0:
        mask |= TIME     # GPS week/TOW; gpsd then re-resolves from the NMEA date
    elif st.merge_time_date(f[4], f[3]):
        mask |= TIME
    if f[10][:1] != "A":
        return mask
    if st.latlon(f, 6):
        mask |= LATLON
    fix = f[11][:1]
    if fix in _PGRMF_MODES:
        st.nd_mode = _PGRMF_MODES[fix]
        mask |= MODE
    st.nd_speed = atof(f[12]) / MPS_TO_KPH
    mask |= SPEED | TRACK
    if f[14] or f[15]:
        mask |= DOP
    return mask


def pgrmv(st: EpochAssembler, f: list[str], count: int) -> int:
    return VNED if f[1] and f[2] and f[3] else ONLINE


def pgrmz(st: EpochAssembler, f: list[str], count: int) -> int:
    mask = ONLINE
    if f[2][:1] == "f" and f[1]:
        mask |= ALTITUDE
    mode = f[3][:1]
    if mode in ("1", "2", "3"):
        st.nd_mode = int(mode)
        mask |= MODE
    return mask


def pmgnst(st: EpochAssembler, f: list[str], count: int) -> int:
    newmode = atoi(f[3])
    if f[4][:1] == "T" and newmode in (2, 3):
        st.nd_mode = newmode
    else:
        st.nd_mode = MODE_NO_FIX
    return ONLINE | MODE


def ptnta(st: EpochAssembler, f: list[str], count: int) -> int:
    return ONLINE | OSCILLATOR if f[3] == "T4" else ONLINE
