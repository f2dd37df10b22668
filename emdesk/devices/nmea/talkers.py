"""Handlers for the standard talker sentences (``$GPGGA``, ``$GNRMC``, ``$IIHDG``...).

Each handler is ``handler(st, f, count) -> mask``: it reads the fields ``f`` (``f[n]`` is
NMEA field *n*, padded with ``""``; ``count`` is the real number of fields, address
included), updates the session ``st`` (an :class:`~.epochs.EpochAssembler`) the way
gpsd's ``driver_nmea0183.c`` does, and returns gpsd's mask for the sentence.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .masks import (
    ALTITUDE,
    ATTITUDE,
    DEPTH,
    DOP,
    HERR,
    KNOTS_TO_MPS,
    LATLON,
    MAGTRACK,
    MODE,
    MODE_2D,
    MODE_3D,
    MODE_NO_FIX,
    NAVDATA,
    ONLINE,
    REPORT,
    SPEED,
    STATUS,
    TIME,
    TRACK,
    VERR,
)
from .readers import atof, atoi, field, two_digits

if TYPE_CHECKING:  # pragma: no cover
    from .epochs import EpochAssembler

def gga(st: EpochAssembler, f: list[str], count: int) -> int:
    last_last = st.last_gga_talker
    tag = f[0]
    talker = tag[1]
    st.last_gga_talker = talker
    hhmmss = f[1]
    mask = ONLINE
    a = f[6]
    if a:
        quality = int(a) if a.isdigit() else atoi(a)
        if quality == 0 and not hhmmss:
            # Time-less "no fix": breaks the cycle detector, force reports.
            st.clear_date()
            st.cycle_end_reliable = False
            mask |= REPORT | TIME
        if 0 <= quality <= 8:
            mask = STATUS  # (sic: gpsd overwrites the mask here)
    if last_last and last_last != talker:
        latch = st.latch_mode = False
    else:
        latch = st.latch_mode = hhmmss == st.last_gga_timestamp
    if latch:
        mask |= MODE | STATUS
    else:
        st.last_gga_timestamp = hhmmss
    a = f[7]
    st.gga_sats_used = sats = int(a) if a.isdigit() else atoi(a)
    if hhmmss and st.merge_hhmmss_latched(hhmmss) and st.ty != 0:
        mask |= TIME
    if st.latlon(f, 2):
        mode = MODE_2D
        mask |= LATLON | MODE
        if f[9]:
            mask |= ALTITUDE
            if sats >= 4:
                mode = MODE_3D
        if sats < 3 and tag[0] == "G" and (talker == "P" or talker == "N"):
            # Not enough satellites for a fix -- judged only for GP/GN, since
            # per-constellation GGAs (GLGGA...) may legitimately count few.
            mode = MODE_NO_FIX
        st.nd_mode = mode
    else:
        st.nd_mode = MODE_NO_FIX
        mask |= MODE
    a = f[8]
    if a:
        hdop = atof(a)
        if 0.01 <= hdop <= 89.99:
            st.hdop = hdop
            mask |= DOP
    return mask


def rmc(st: EpochAssembler, f: list[str], count: int) -> int:
    if f[2][:1] != "A":
        st.nd_mode = MODE_NO_FIX
        if not f[1] or not f[9]:
            st.clear_date()
            st.cycle_end_reliable = False
            return ONLINE | REPORT | TIME | STATUS | MODE
        return ONLINE | STATUS | MODE
    mask = ONLINE | STATUS | MODE
    hhmmss = f[1]
    if hhmmss and count > 9 and f[9] and st.merge_time_date(hhmmss, f[9]):
        mask |= TIME
        st.register_time_frac()
    if st.latlon(f, 3):
        mask |= LATLON
        if st.satellites_used > 3 or st.fx_alt:
            st.nd_mode = MODE_3D
        else:
            lf_mode = st.lf_mode
            if lf_mode <= MODE_2D:
                st.nd_mode = MODE_2D
            elif lf_mode == MODE_3D:
                st.nd_mode = MODE_3D
    elif st.satellites_used > 3 or st.fx_alt:
        st.nd_mode = MODE_3D
    else:
        st.nd_mode = MODE_NO_FIX
    a = f[7]
    if a:
        st.nd_speed = atof(a) * KNOTS_TO_MPS
        mask |= SPEED
    if f[8]:
        mask |= TRACK
    a = f[10]
    if a and f[11] and f[11][0] in "EW" and abs(atof(a)) > 0.09:
        mask |= MAGTRACK
    return mask


def gll(st: EpochAssembler, f: list[str], count: int) -> int:
    mask = ONLINE
    if f[5] and st.merge_hhmmss_latched(f[5]) and st.ty != 0:
        mask = TIME
    if f[6][:1] == "A" and (count < 8 or f[7][:1] != "N") and st.latlon(f, 1):
        mask |= LATLON
        if st.fx_alt or st.satellites_used > 3:
            st.nd_mode = MODE_3D
        elif st.fx_mode < MODE_2D or not st.of_alt:
            st.nd_mode = MODE_2D
    else:
        st.nd_mode = MODE_NO_FIX
    return mask | STATUS | MODE


def gns(st: EpochAssembler, f: list[str], count: int) -> int:
    mask = ONLINE
    if f[1] and st.merge_hhmmss_latched(f[1]) and st.ty != 0:
        mask = TIME
    faa = f[6][:1]
    if faa == "" or faa == "N":
        st.nd_mode = MODE_NO_FIX
        return mask | MODE
    if f[13][:1] in ("U", "V") and f[13]:
        return mask
    st.gga_sats_used = atoi(f[7])
    if st.latlon(f, 2):
        mask |= LATLON
        st.nd_mode = MODE_2D
        if f[9]:
            mask |= ALTITUDE
            if st.gga_sats_used > 3:
                st.nd_mode = MODE_3D
    else:
        st.nd_mode = MODE_NO_FIX
        mask |= MODE
    if f[8]:
        st.hdop = atof(f[8])
        mask |= DOP
    return mask | MODE | STATUS


def zda(st: EpochAssembler, f: list[str], count: int) -> int:
    if not (f[1] and f[2] and f[3] and f[4]):
        return ONLINE
    if not st.merge_hhmmss(f[1]):
        return ONLINE
    mday = atoi(f[2])
    mon = atoi(f[3])
    year = atoi(f[4])
    if not (1900 <= year <= 2200 and 1 <= mon <= 12 and 1 <= mday <= 31):
        return ONLINE
    st.ty, st.tmon, st.mday = year - 1900, mon - 1, mday
    st.utc_resolve()
    st.register_frac(f[1])
    return TIME


def vtg(st: EpochAssembler, f: list[str], count: int) -> int:
    if not f[1] or not f[5]:
        return ONLINE
    if count > 9 and f[9] and f[9][0] in "EN":
        return ONLINE
    mask = ONLINE | TRACK | SPEED
    if f[3]:
        mask |= MAGTRACK
    st.nd_speed = atof(f[5]) * KNOTS_TO_MPS
    return mask


def bwc(st: EpochAssembler, f: list[str], count: int) -> int:
    if f[1] and st.merge_hhmmss(f[1]) and st.ty != 0:
        return TIME
    return ONLINE


def gbs(st: EpochAssembler, f: list[str], count: int) -> int:
    s = f[1]
    st.register_frac(s)
    s = (s + "\0" * 6)[:6]
    if (st.hour, st.minute, st.sec) == (two_digits(s, 0), two_digits(s, 2), two_digits(s, 4)):
        return HERR | VERR
    return ONLINE


def grs(st: EpochAssembler, f: list[str], count: int) -> int:
    if f[1]:
        st.merge_hhmmss(f[1])
    return ONLINE


def hdg(st: EpochAssembler, f: list[str], count: int) -> int:
    if not f[1]:
        return ONLINE
    heading = atof(f[1])
    deviation = atof(f[2])
    if heading < 0.0 or heading > 360.0 or deviation < 0.0 or deviation > 360.0:
        return ONLINE
    return ONLINE | MAGTRACK


def hdt(st: EpochAssembler, f: list[str], count: int) -> int:
    if not f[1]:
        return ONLINE
    heading = atof(f[1])
    return ONLINE if heading < 0.0 or heading > 360.0 else ONLINE | ATTITUDE


def hdm(st: EpochAssembler, f: list[str], count: int) -> int:
    return ONLINE | ATTITUDE if f[1] else ONLINE


def rot(st: EpochAssembler, f: list[str], count: int) -> int:
    return ONLINE | ATTITUDE if f[1] and f[2][:1] == "A" else ONLINE


def mwv(st: EpochAssembler, f: list[str], count: int) -> int:
    return ONLINE | NAVDATA if (f[2][:1], f[4][:1], f[5][:1]) == ("R", "N", "A") else ONLINE


def dbt(st: EpochAssembler, f: list[str], count: int) -> int:
    return DEPTH if f[3] or f[1] or f[5] else ONLINE


def dpt(st: EpochAssembler, f: list[str], count: int) -> int:
    return DEPTH if f[1] else ONLINE


def xdr(st: EpochAssembler, f: list[str], count: int) -> int:
    mask = ONLINE
    for i in range(count // 4):
        j = i * 4
        if not field(f, j + 2):
            continue
        kind = field(f, j + 1)[:1]
        ident = field(f, j + 4)
        angle = kind == "A" and field(f, j + 3)[:1] == "D" and ident in ("PTCH", "PITCH", "ROLL")
        magnetic = kind == "G" and ident in ("MAGX", "MAGY", "MAGZ")
        if angle or magnetic:
            mask |= ATTITUDE
    return mask
