"""Assemble NMEA sentences into fix epochs the way gpsd does.

gpsd's NMEA driver does not look at one sentence in isolation.  It keeps a session:

* a *reporting cycle* starts whenever a time-bearing sentence (GGA, RMC, GLL, GNS,
  ZDA, GBS, PSTI...) carries a time of day that differs from the previous one by more
  than 10 ms; the fix being built is then cleared;
* the sentence type that came *last* before a cycle start is learnt as the *cycle
  ender*; once one is known, a fix is reported when the ender arrives (GLL can hand the
  role on to a following untimed sentence).  Until then -- or after a receiver sends a
  time-less "no fix" RMC/GGA -- every sentence that touches position or mode is
  reported;
* 2D/3D comes from GSA's fix type, GGA's altitude plus satellite count, or -- for RMC
  and GLL, which say nothing about it -- from what the session already holds (an
  altitude, four or more satellites used, the previous fix's mode);
* dates come from RMC (``ddmmyy``, years 69..99 -> 19xx) or ZDA; GGA/GLL/GNS times are
  unusable until a date is known; RMC status ``V`` means no fix; a pre-2017 date seen
  by a receiver running after 2016 is a GPS week-rollover victim and moves forward
  1024 weeks;
* GGA with an unchanged time stamp ("latched") voids the following GSA, and so on;
* even AIS sharing the port matters: gpsd withholds the report after half of an AIS
  type-24 message (its "split24" output policy), so that epoch has no fix either.

:class:`EpochAssembler` replays those rules sentence by sentence (learnt from gpsd's
``drivers/driver_nmea0183.c``, ``gpsd/libgpsd_core.c``, ``gpsd/timebase.c`` and
``gpsd/gpsd.c``), reproducing gpsd's TPV reports.  A report with mode 2 or 3, a time
and a position is a fix candidate; consecutive candidates with the same time stamp
(to the millisecond, as gpsd prints it) are one epoch, and the last of them -- the
state when that epoch's final report went out -- is the epoch's :class:`Fix`.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from .decoder import DateComment, Sentence

__all__ = ["EpochAssembler", "Fix"]

NAN = math.nan
_isfinite = math.isfinite

# gps_mask_t bits (only the ones that change behaviour here).
ONLINE = 1 << 0
TIME = 1 << 1
LATLON = 1 << 2
ALTITUDE = 1 << 3
SPEED = 1 << 4
TRACK = 1 << 5
CLIMB = 1 << 6
STATUS = 1 << 7
MODE = 1 << 8
DOP = 1 << 9
HERR = 1 << 10
VERR = 1 << 11
ATTITUDE = 1 << 12
SATELLITE = 1 << 13
USED = 1 << 14
GST = 1 << 15
MAGTRACK = 1 << 16
NAVDATA = 1 << 17
VNED = 1 << 18
OSCILLATOR = 1 << 19
PERR = 1 << 20
CLEAR = 1 << 22
REPORT = 1 << 23
DEPTH = 1 << 24    # gpsd reuses ALTITUDE_SET for water depth; kept apart here
_FIX_BITS = CLEAR | TIME | LATLON | MODE | ALTITUDE | SPEED

MODE_NOT_SEEN = 0
MODE_NO_FIX = 1
MODE_2D = 2
MODE_3D = 3

KNOTS_TO_MPS = 0.51444444
MPS_TO_KPH = 3.6
NMEA_MAX = 130          # gpsd ignores longer sentences (with their line ending)
MAXCHANNELS = 185
GPS_EPOCH = 315964800   # 1980-01-06
WKRO_LIMIT = 1483228800  # 2017-01-01: leap second 18 began
WKRO_STEP = 619315200    # 1024 weeks
_NS = 1_000_000_000
_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CUMDAYS = (0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334)
_INT_RE = re.compile(r"\s*[+-]?\d+")
_FLOAT_RE = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
# GGA fix quality -> status (gpsd STATUS_*); anything else is "no status".
_GGA_STATUS = {0: 0, 1: 1, 2: 2, 3: 9, 4: 3, 5: 4, 6: 5, 7: 7, 8: 8}


@dataclass(frozen=True, slots=True)
class Fix:
    """One fix epoch.  ``time`` is UTC, to the millisecond like gpsd's TPV."""

    time: datetime
    lat: float
    lon: float
    mode: int
    hdop: float | None = None
    speed: float | None = None   # m/s over ground, as reported by RMC/VTG
    sats: int | None = None      # satellites used (GSA's list, else GGA's count)


# --------------------------------------------------------------------------
# C library semantics gpsd relies on


def _atoi(s: str) -> int:
    if s.isdigit():
        return int(s)
    m = _INT_RE.match(s)
    return int(m.group()) if m else 0


def _atof(s: str) -> float:
    """gpsd's safe_atof: the longest numeric prefix; no digits -> 0."""
    try:
        return float(s)
    except ValueError:
        pass
    m = _FLOAT_RE.match(s)
    if m is None:
        return 0.0
    try:
        return float(m.group())
    except ValueError:  # pragma: no cover - "1e" style oddities
        return 0.0


def _cdiv(a: int, b: int) -> int:
    q = abs(a) // b
    return q if a >= 0 else -q


def _decode_angle(s: str) -> float:
    """dddmm.mmmm -> degrees; gpsd insists on the decimal point."""
    dot = s.find(".")
    if dot < 0:
        return NAN
    head = s[:dot]
    if not head:
        minutes = 0
    elif head.isdigit():
        minutes = int(head)
    else:
        m = _INT_RE.fullmatch(head)
        if m is None:
            return NAN
        minutes = int(head)
    minutes -= _cdiv(minutes, 100) * 40
    return (minutes + _atof(s[dot:])) * (1.0 / 60.0)


def _decode_hhmmss(s: str):
    """'hhmmss[.sss]' -> (h, m, s, nsec), or None.  No range checks, like gpsd."""
    head = s[:6]
    if len(head) < 6 or not head.isdigit():
        return None
    nsec = 0
    if len(s) > 7 and s[6] == "." and s[7].isdigit():
        tail = s[7:]
        power = 9 - min(len(tail), 20)
        if power >= 0:
            nsec = (int(tail) if tail.isdigit() else _atoi(tail)) * 10 ** power
    hours, rest = divmod(int(head), 10000)
    minutes, seconds = divmod(rest, 100)
    return hours, minutes, seconds, nsec


def _decode_ddmmyy(s: str):
    """'ddmmyy' -> (tm_year, tm_mon, mday) with 69..99 -> 19xx, or None."""
    if len(s) != 6 or not s.isdigit():
        return None
    mday = int(s[0:2])
    mon = int(s[2:4])
    year = int(s[4:6])
    if year < 69:
        year += 100
    if not 1 <= mon <= 12 or not 1 <= mday <= 31:
        return None
    return year, mon - 1, mday


def _mkgmtime(tm_year: int, tm_mon: int, mday: int, hour: int, minute: int, sec: int) -> int:
    """gpsd's mkgmtime(): out-of-range days and hours simply carry over."""
    year = 1900 + tm_year + tm_mon // 12
    mon = tm_mon % 12
    days = (year - 1970) * 365 + _CUMDAYS[mon]
    days += _cdiv(year - 1968, 4) - _cdiv(year - 1900, 100) + _cdiv(year - 1600, 400)
    if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) and mon < 2:
        days -= 1
    days += mday - 1
    return ((days * 24 + hour) * 60 + minute) * 60 + sec


def _nmeaid_to_prn(tag: str, n: int, gnssid: int) -> int:
    """NMEA satellite number -> gpsd's extended PRN (0: unknown)."""
    if n < 1:
        return 0
    if gnssid > 0:
        if gnssid == 1:
            if n < 137 or 152 <= n < 158 or 193 <= n < 265:
                return n
            return 0
        if gnssid == 2:
            return 64 + ((n if n < 64 else n - 64) & 0xFF)
        if gnssid == 3:
            svid = n if n < 100 else n - 100 if 100 < n < 200 else n - 300 if 300 < n < 400 else 0
            return 300 + (svid & 0xFF)
        if gnssid == 4:
            svid = n if n < 100 else n - 200 if 200 < n < 300 else n - 400 if 400 < n < 500 else 0
            return 400 + (svid & 0xFF)
        if gnssid == 5:
            return 192 + ((n if n < 100 else n - 192) & 0xFF)
        if gnssid == 6:
            return n + 500
        return 0
    if n <= 32:
        t0, t1 = tag[0:1], tag[1:2]
        if t0 == "G":
            return {"A": 300, "B": 400, "I": 500, "L": 64, "Q": 192}.get(t1, 0) + n
        if (t0, t1) in (("B", "D"), ("P", "Q")):
            return 400 + n
        if (t0, t1) == ("Q", "Z"):
            return 192 + n
        return n
    if n <= 96 or 120 <= n <= 158 or 173 <= n <= 182 or 193 <= n <= 197:
        return n
    if 201 <= n <= 237:
        return n + 200
    if 301 <= n <= 356 or 401 <= n <= 437 or 500 <= n <= 518 or 901 <= n <= 918:
        return n
    return 0


# --------------------------------------------------------------------------


class EpochAssembler:
    """gpsd's NMEA session, reduced to what decides TPV time/position/mode.

    Feed sentences in arrival order with :meth:`feed`; each call returns the fix of an
    epoch that has just been completed (or None).  Call :meth:`flush` at the end of the
    input for the last epoch.
    """

    def __init__(self, reference_date: date | None = None) -> None:
        self.set_reference_date(reference_date or datetime.now(UTC).date())
        # nmea.date as struct tm: tm_year (years since 1900; 0 = no date yet), ...
        self.ty = self.tmon = self.mday = self.hour = self.minute = self.sec = 0
        self.nsec = 0
        self._day_key = None
        self._day_value = 0
        self._hhmmss_text = None
        self._hhmmss_value = None
        self.this_frac = 0.0
        self.last_frac = 0.0
        self.latch_frac = False
        self.lasttag = 0
        self.cycle_enders: set[int] = set()
        self.cycle_continue = False
        self.cycle_end_reliable = False
        self.gsx_more = False
        self.latch_mode = False
        self.last_gga_talker = ""
        self.last_gga_timestamp = ""
        self.gga_sats_used = 0
        self.last_gsa_talker = ""
        self.last_gsv_talker = ""
        self.end_gsv_talker = ""
        self.seen_other_gsa = False  # any GSA other than GPGSA so far
        self.seen_other_gsv = False  # any GSV other than GPGSV so far
        self.sats_used: list[int] = []
        self.satellites_used = 0
        self.sat_visible = 0
        self.sat_any_azimuth = False
        self.hdop = NAN
        # gpsdata.fix
        self.fx_time = 0
        self.fx_lat = NAN
        self.fx_lon = NAN
        self.fx_mode = MODE_NOT_SEEN
        self.fx_alt = False
        self.fx_speed = NAN
        # lastfix / oldfix (what the mode heuristics look at)
        self.lf_time = 0
        self.lf_mode = MODE_NOT_SEEN
        self.lf_alt = False
        self.of_alt = False
        self._latlon_key = None
        self._latlon_value = None
        # newdata, rebuilt for each sentence
        self.nd_time = 0
        self.nd_lat = NAN
        self.nd_lon = NAN
        self.nd_mode = MODE_NOT_SEEN
        self.nd_alt = False
        self.nd_speed = NAN
        # AIS interplay (see _ais)
        self._ais_frags: dict[str, str] = {}
        self._ais_parts_a: dict[int, bool] = {}
        self._ais_since_report = False
        self._ais_type24_partial = False
        # epoch grouping
        self._pending: tuple | None = None
        self._last_state: tuple | None = None
        self.reports = 0

    # -- context --------------------------------------------------------

    def set_reference_date(self, day: date) -> None:
        """When the receiver was running (gpsd: start time / "# Date:" comment).

        It decides GPS week-rollover repair: before 2017 gpsd's leap-second count was
        below 18, so an old date was plausible; after that a pre-2017 date is not.
        """
        start = _mkgmtime(day.year - 1900, day.month - 1, day.day, 0, 0, 0)
        self._start_time = start
        self.leap_seconds = 18 if start >= WKRO_LIMIT else 17

    # -- public feed ----------------------------------------------------

    def feed(self, item: Sentence | DateComment) -> Fix | None:
        if item.__class__ is DateComment:
            self.set_reference_date(item.date)
            return None
        text = item.text
        if text[0] == "!":
            self._ais(item)
            return None
        if len(text) + 2 > NMEA_MAX:
            return None  # gpsd's NMEA parser drops overlong sentences
        if self._sentence(item):
            return self._report()
        return None

    def flush(self) -> Fix | None:
        pending, self._pending = self._pending, None
        return _make_fix(pending) if pending is not None else None

    # -- one sentence: nmea_parse() + gpsd_poll() + the reporting decision ---------

    def _sentence(self, s: Sentence) -> bool:
        """Process one sentence; True when gpsd would report a TPV after it."""
        tag = s.tag
        f = s.fields
        entry = _LOOKUP_CACHE.get(tag)
        if entry is None:
            entry = _lookup(tag, f[1])
        thistag, nf, cont, handler = entry
        self.latch_frac = False
        self.gsx_more = False
        kind = tag[2:5]
        if kind != "GSV" and self.last_gsv_talker:
            self.end_gsv_talker = self.last_gsv_talker
            self.last_gsv_talker = ""
        if handler is None or s.count < nf:
            # No decoder: only the cycle-continuation bookkeeping can happen.
            if kind != "GSA":
                self.last_gsa_talker = ""
            if self.cycle_continue:
                enders = self.cycle_enders
                enders.discard(self.lasttag)
                enders.add(0)
                self.cycle_end_reliable = True
                return True
            return False

        self.nd_mode = MODE_NOT_SEEN
        self.nd_alt = False
        mask = handler(self, f, s.count)
        self.cycle_continue = cont
        if kind != "GSA":
            self.last_gsa_talker = ""
        if handler is _gsv:
            # Untimed, never a position or mode: at most a report after the ender.
            return (mask != ONLINE and not self.gsx_more
                    and self.lasttag in self.cycle_enders)

        if mask & TIME:
            if self.ty == 0 and self.mday == 0:
                self.nd_time = 0
            else:
                self.nd_time = self._utc_resolve()

        # End-of-cycle detection.
        lasttag = self.lasttag
        enders = self.cycle_enders
        latch = self.latch_frac
        if self.gsx_more:
            pass
        elif latch:
            if abs(self.this_frac - self.last_frac) > 0.01:
                mask |= CLEAR
                if lasttag > 0 and lasttag not in enders and not cont:
                    enders.add(lasttag)
                    self.cycle_end_reliable = True
        else:
            if mask != ONLINE and lasttag in enders:
                mask |= REPORT
            if cont:
                enders.discard(lasttag)
                enders.add(thistag)
                self.cycle_end_reliable = True
        if (latch or cont) and thistag in enders and not self.gsx_more:
            mask |= REPORT
        if latch:
            self.lasttag = thistag

        if mask & _FIX_BITS:
            self._poll(mask)
        if not self.cycle_end_reliable and mask & (LATLON | MODE):
            return True
        return bool(mask & REPORT)

    def _poll(self, mask: int) -> None:
        """gpsd_poll(): clear on a new cycle, merge newdata, error model."""
        # Don't downgrade a held 3D fix (RMC/GLL say nothing about 2D vs 3D).
        if (mask & MODE and self.fx_mode == MODE_3D and self.nd_mode != MODE_NO_FIX
                and (self.lf_alt or self.of_alt)):
            self.nd_mode = MODE_3D
        if mask & CLEAR:
            self.fx_time = 0
            self.fx_lat = self.fx_lon = NAN
            self.fx_mode = MODE_NOT_SEEN
            self.fx_alt = False
            self.fx_speed = NAN
            if not mask & DOP:
                self.hdop = NAN
        if mask & TIME:
            self.fx_time = self.nd_time
        if mask & LATLON:
            self.fx_lat = self.nd_lat
            self.fx_lon = self.nd_lon
        if mask & MODE:
            self.fx_mode = self.nd_mode
        if mask & ALTITUDE and self.nd_alt:
            self.fx_alt = True
        if mask & SPEED:
            self.fx_speed = self.nd_speed
        if self.fx_time >= _NS:
            if abs(self.fx_time - self.lf_time) > 9_900_000:
                self.of_alt = self.lf_alt          # oldfix = lastfix
            self.lf_time = self.fx_time            # lastfix = fix
            self.lf_mode = self.fx_mode
            self.lf_alt = self.fx_alt
        if not (-90.0 <= self.fx_lat <= 90.0 and -180.0 <= self.fx_lon <= 180.0):
            self.fx_lat = self.fx_lon = NAN        # (NaN fails the test too)

    def _ais(self, s: Sentence) -> None:
        """AIS shares the port.  It only matters through gpsd's "split24" policy:
        while the latest AIS message is half of a type 24 (static data, part A or B
        not yet paired), gpsd withholds the JSON of the next report -- TPV included."""
        f = s.fields
        count = _atoi(f[1])
        number = _atoi(f[2])
        channel = f[4]
        payload = f[5]
        if count > 1:
            if number == 1:
                self._ais_frags[channel] = payload
                return
            payload = self._ais_frags.get(channel, "") + payload
            if number < count:
                self._ais_frags[channel] = payload
                return
        if not payload:
            return
        self._ais_since_report = True
        words = [(ord(c) - 48) - (8 if ord(c) - 48 > 40 else 0) for c in payload[:7]]
        if words[0] != 24 or len(words) < 7:
            self._ais_type24_partial = False
            return
        bits = 0
        for w in words:
            bits = (bits << 6) | (w & 0x3F)
        bits <<= 6 * (7 - len(words))
        mmsi = (bits >> 4) & 0x3FFFFFFF          # bits 8..37 of 42
        part = (bits >> 2) & 0x3                  # bits 38..39
        if part == 0:
            self._ais_parts_a[mmsi] = True
            if len(self._ais_parts_a) > 8:        # gpsd keeps 8 part-A slots
                del self._ais_parts_a[next(iter(self._ais_parts_a))]
            self._ais_type24_partial = True
        else:
            self._ais_type24_partial = self._ais_parts_a.pop(mmsi, None) is None

    def _report(self) -> Fix | None:
        """A TPV goes out; group it into epochs."""
        self.reports += 1
        suppressed = self._ais_since_report and self._ais_type24_partial
        self._ais_since_report = False
        if suppressed:
            return None
        state = (self.fx_time, self.fx_lat, self.fx_lon, self.fx_mode, self.hdop,
                 self.fx_speed, self.satellites_used, self.gga_sats_used)
        if state == self._last_state:
            return None  # the same report again: nothing new for the epoch
        self._last_state = state
        mode = self.fx_mode
        if mode < MODE_2D or self.fx_time < _NS or not _isfinite(self.fx_lat):
            return None
        ms = (self.fx_time + 500_000) // 1_000_000
        hdop = self.hdop
        speed = self.fx_speed
        sats = self.satellites_used or self.gga_sats_used or None
        candidate = (ms, self.fx_lat, self.fx_lon, mode,
                     hdop if _isfinite(hdop) else None,
                     speed if _isfinite(speed) else None, sats)
        pending = self._pending
        self._pending = candidate
        if pending is None or pending[0] == ms:
            return None
        return _make_fix(pending)

    # -- time -------------------------------------------------------------

    def _merge_hhmmss(self, s: str) -> bool:
        if s == self._hhmmss_text:
            t = self._hhmmss_value    # GGA, RMC and GLL of one epoch repeat it
        else:
            t = _decode_hhmmss(s)
            if t is None:
                return False
            self._hhmmss_text = s
            self._hhmmss_value = t
        self.hour, self.minute, self.sec, self.nsec = t
        return True

    def _merge_ddmmyy(self, s: str) -> bool:
        d = _decode_ddmmyy(s)
        if d is None:
            return False
        self.ty, self.tmon, self.mday = d
        return True

    def _merge_time_date(self, hhmmss: str, ddmmyy: str) -> bool:
        return self._merge_hhmmss(hhmmss) and self._merge_ddmmyy(ddmmyy)

    def _register_frac(self, s: str) -> None:
        if s:
            self.last_frac = self.this_frac
            self.this_frac = _atof(s)
            self.latch_frac = True

    def _utc_resolve(self) -> int:
        day = (self.ty, self.tmon, self.mday)
        if day == self._day_key:
            days = self._day_value
        else:
            days = _mkgmtime(self.ty, self.tmon, self.mday, 0, 0, 0) // 86400
            self._day_key = day
            self._day_value = days
        t = ((days * 24 + self.hour) * 60 + self.minute) * 60 + self.sec
        if (self._start_time >= GPS_EPOCH and self.leap_seconds > 17
                and t < WKRO_LIMIT):
            # GPS week-rollover victim: fast forward 1024 weeks (and fix the date).
            t += WKRO_STEP
            d = _UNIX_EPOCH + timedelta(seconds=t)
            self.ty, self.tmon, self.mday = d.year - 1900, d.month - 1, d.day
            self.hour, self.minute, self.sec = d.hour, d.minute, d.second
        return t * _NS + self.nsec

    def _clear_date(self) -> None:
        self.ty = self.tmon = self.mday = self.hour = self.minute = self.sec = 0

    # -- helpers ------------------------------------------------------------

    def _latlon(self, f: list[str], i: int) -> bool:
        key = (f[i], f[i + 1], f[i + 2], f[i + 3])
        if key == self._latlon_key:
            position = self._latlon_value   # RMC, GGA, GLL of one epoch repeat it
        else:
            a, ns, b, ew = key
            if not a or not ns or not b or not ew:
                return False
            lat = _decode_angle(a)
            if ns[0] == "S":
                lat = -lat
            lon = _decode_angle(b)
            if ew[0] == "W":
                lon = -lon
            position = (lat, lon) if _isfinite(lat) and _isfinite(lon) else None
            self._latlon_key = key
            self._latlon_value = position
        if position is None:
            return False
        self.nd_lat, self.nd_lon = position
        return True

    def _zero_satellites(self) -> None:
        self.sat_visible = 0
        self.sat_any_azimuth = False


# --------------------------------------------------------------------------
# Sentence handlers: each returns gpsd's mask for the sentence.
# f[n] is NMEA field n; count is the real number of fields (tag included).


def _gga(st: EpochAssembler, f: list[str], count: int) -> int:
    mask = ONLINE
    last_last = st.last_gga_talker
    talker = f[0][1:2]
    st.last_gga_talker = talker
    quality = _atoi(f[6]) if f[6] else -1
    if quality == 0 and not f[1]:
        # Time-less "no fix": breaks the cycle detector, force reports.
        st._clear_date()
        st.cycle_end_reliable = False
        mask |= REPORT | TIME
    if quality in _GGA_STATUS:
        mask = STATUS  # (sic: gpsd overwrites the mask here)
    if last_last and last_last != talker:
        st.latch_mode = False
    else:
        st.latch_mode = f[1] == st.last_gga_timestamp
    if st.latch_mode:
        st.nd_mode = MODE_NO_FIX
        mask |= MODE | STATUS
    else:
        st.last_gga_timestamp = f[1]
    st.gga_sats_used = sats = _atoi(f[7])
    if f[1] and st._merge_hhmmss(f[1]):
        st._register_frac(f[1])
        if st.ty != 0:
            mask |= TIME
    if st._latlon(f, 2):
        st.nd_mode = MODE_2D
        mask |= LATLON
        if f[9]:
            st.nd_alt = True
            mask |= ALTITUDE
            if sats >= 4:
                st.nd_mode = MODE_3D
        if sats < 3 and f[0][0:1] == "G" and f[0][1:2] in ("P", "N"):
            # Not enough satellites for a fix -- judged only for GP/GN, since
            # per-constellation GGAs (GLGGA...) may legitimately count few.
            st.nd_mode = MODE_NO_FIX
    else:
        st.nd_mode = MODE_NO_FIX
    mask |= MODE
    if f[8]:
        hdop = _atof(f[8])
        if 0.01 <= hdop <= 89.99:
            st.hdop = hdop
            mask |= DOP
    return mask


def _rmc(st: EpochAssembler, f: list[str], count: int) -> int:
    mask = ONLINE
    if f[2][:1] != "A":
        st.nd_mode = MODE_NO_FIX
        if not f[1] or not f[9]:
            st._clear_date()
            st.cycle_end_reliable = False
            mask |= REPORT | TIME
        return mask | STATUS | MODE
    if f[1] and count > 9 and f[9] and st._merge_time_date(f[1], f[9]):
        mask |= TIME
        st._register_frac(f[1])
    if st._latlon(f, 3):
        mask |= LATLON
        if st.lf_mode <= MODE_2D:
            st.nd_mode = MODE_2D
        elif st.lf_mode == MODE_3D:
            st.nd_mode = MODE_3D
    else:
        st.nd_mode = MODE_NO_FIX
    if f[7]:
        st.nd_speed = _atof(f[7]) * KNOTS_TO_MPS
        mask |= SPEED
    if f[8]:
        mask |= TRACK
    if f[10] and f[11] and f[11][0] in "EW" and abs(_atof(f[10])) > 0.09:
        mask |= MAGTRACK
    if st.satellites_used > 3 or st.fx_alt:
        st.nd_mode = MODE_3D
    return mask | STATUS | MODE


def _gll(st: EpochAssembler, f: list[str], count: int) -> int:
    mask = ONLINE
    if f[5] and st._merge_hhmmss(f[5]):
        st._register_frac(f[5])
        if st.ty != 0:
            mask = TIME
    valid = f[6][:1]
    if valid == "A" and (count < 8 or f[7][:1] != "N") and st._latlon(f, 1):
        mask |= LATLON
        if st.fx_alt or st.satellites_used > 3:
            st.nd_mode = MODE_3D
        elif st.fx_mode < MODE_2D or not st.of_alt:
            st.nd_mode = MODE_2D
    else:
        st.nd_mode = MODE_NO_FIX
    return mask | STATUS | MODE


def _gns(st: EpochAssembler, f: list[str], count: int) -> int:
    mask = ONLINE
    if f[1] and st._merge_hhmmss(f[1]):
        st._register_frac(f[1])
        if st.ty != 0:
            mask = TIME
    faa = f[6][:1]
    if faa == "" or faa == "N":
        st.nd_mode = MODE_NO_FIX
        return mask | MODE
    if f[13][:1] in ("U", "V") and f[13]:
        return mask
    st.gga_sats_used = _atoi(f[7])
    if st._latlon(f, 2):
        mask |= LATLON
        st.nd_mode = MODE_2D
        if f[9]:
            st.nd_alt = True
            mask |= ALTITUDE
            if st.gga_sats_used > 3:
                st.nd_mode = MODE_3D
    else:
        st.nd_mode = MODE_NO_FIX
        mask |= MODE
    if f[8]:
        st.hdop = _atof(f[8])
        mask |= DOP
    return mask | MODE | STATUS


_GSA_GNSSID = {"A": 3, "B": 4, "D": 4, "I": 6, "L": 2, "Z": 5}


def _gsa(st: EpochAssembler, f: list[str], count: int) -> int:
    mask = ONLINE
    tag = f[0]
    talker = tag[1:2]
    last_last = st.last_gsa_talker
    if not st.latch_mode:
        fix_type = f[2]
        if fix_type in ("1", "2", "3") or 1 <= _atoi(fix_type) <= 3:
            st.nd_mode = _atoi(fix_type)
            mask = MODE
        gnssid = 0
        if count <= 19:
            for i in (15, 16, 17):
                if f[i]:
                    dop = _atof(f[i])
                    if 0.01 <= dop <= 89.99:
                        if i == 16:
                            st.hdop = dop
                        mask |= DOP
            if count == 19 and f[18] and "." not in f[18]:
                gnssid = _atoi(f[18])
        if last_last == "" or (talker == last_last and talker != "N" and talker != "Q"):
            st.satellites_used = 0
            st.sats_used = []
        st.last_gsa_talker = talker
        if talker == "Q":
            if not (tag[0:1] == "P" and gnssid != 0):
                gnssid = 5
                st.seen_other_gsa = True
        elif talker == "P":
            gnssid = 1
        elif talker in _GSA_GNSSID:
            gnssid = _GSA_GNSSID[talker]
            st.seen_other_gsa = True
        elif talker == "N":
            st.seen_other_gsa = True
        used = st.sats_used
        key = (tag, gnssid)
        prns = _PRN_TABLES.get(key)
        if prns is None:
            prns = _PRN_TABLES[key] = {}
        for i in range(3, count - 3):
            field = f[i]
            if not field:
                continue
            prn = prns.get(field)
            if prn is None:
                prn = prns[field] = _gsa_prn(tag, gnssid, field)
            if prn <= 0:
                if prn < 0:
                    break  # a decimal: the PDOP, the PRN list is over
                continue
            if st.satellites_used >= MAXCHANNELS:
                break
            if prn not in used:
                used.append(prn)
                st.satellites_used = len(used)
        mask |= USED
    if talker == "P" and st.seen_other_gsa:
        mask = ONLINE
    elif last_last != "N" and talker == "N":
        mask = ONLINE | MODE
    return mask


_PRN_TABLES: dict = {}


def _gsa_prn(tag: str, gnssid: int, field: str) -> int:
    """A GSA satellite field -> PRN; 0 to skip it; -1 for a decimal (end of list)."""
    if "." in field:
        return -1
    n = _atoi(field)
    if n < 1 or n > 600:
        return 0
    return _nmeaid_to_prn(tag, n, gnssid)


def _gsv(st: EpochAssembler, f: list[str], count: int) -> int:
    if count <= 3:
        st._zero_satellites()
        return ONLINE
    rem = count % 4
    gnssid = 0
    if rem == 2:
        gnssid = _atoi(f[count - 1])
        if not 4 <= gnssid <= 5:
            return ONLINE
    elif rem == 3:
        st._zero_satellites()
        return ONLINE
    await_ = int(f[1]) if f[1].isdigit() else _atoi(f[1])
    part = int(f[2]) if f[2].isdigit() else _atoi(f[2])
    if part < 1:
        st._zero_satellites()
        return ONLINE
    if part == 1 and not st.last_gsv_talker:
        st._zero_satellites()
    tag = f[0]
    talker = tag[1:2]
    st.last_gsv_talker = talker
    if talker in ("A", "B", "D", "I", "L", "N", "Q", "Z"):
        st.seen_other_gsv = True  # Galileo, BeiDou, NavIC, GLONASS, GNSS, QZSS
    fld = 4
    end = count & ~3
    visible = st.sat_visible
    any_azimuth = st.sat_any_azimuth
    while fld < end:
        if visible >= MAXCHANNELS:
            st._zero_satellites()
            visible, any_azimuth = 0, False
            break
        svid = f[fld]
        fld += 1
        if not (int(svid) if svid.isdigit() else _atoi(svid)):
            continue  # (sic: gpsd then reads the elevation as the next PRN)
        if not any_azimuth:
            azimuth = f[fld + 1]  # an empty azimuth is unknown, not 0
            if not azimuth or (int(azimuth) if azimuth.isdigit() else _atoi(azimuth)):
                any_azimuth = True
        fld += 3
        visible += 1
    st.sat_visible = visible
    st.sat_any_azimuth = any_azimuth
    if part < await_:
        st.gsx_more = True
        return ONLINE
    st.gsx_more = False
    if not st.sat_any_azimuth:
        st._zero_satellites()
        return ONLINE
    if talker == "P" and st.end_gsv_talker != "P" and st.seen_other_gsv:
        return ONLINE
    return SATELLITE


def _zda(st: EpochAssembler, f: list[str], count: int) -> int:
    if not (f[1] and f[2] and f[3] and f[4]):
        return ONLINE
    if not st._merge_hhmmss(f[1]):
        return ONLINE
    mday = _atoi(f[2])
    mon = _atoi(f[3])
    year = _atoi(f[4])
    if not (1900 <= year <= 2200 and 1 <= mon <= 12 and 1 <= mday <= 31):
        return ONLINE
    st.ty, st.tmon, st.mday = year - 1900, mon - 1, mday
    st._utc_resolve()
    st._register_frac(f[1])
    return TIME


def _vtg(st: EpochAssembler, f: list[str], count: int) -> int:
    if not f[1] or not f[5]:
        return ONLINE
    if count > 9 and f[9] and f[9][0] in "EN":
        return ONLINE
    mask = ONLINE | TRACK | SPEED
    if f[3]:
        mask |= MAGTRACK
    st.nd_speed = _atof(f[5]) * KNOTS_TO_MPS
    return mask


def _bwc(st: EpochAssembler, f: list[str], count: int) -> int:
    if f[1] and st._merge_hhmmss(f[1]) and st.ty != 0:
        return TIME
    return ONLINE


def _gbs(st: EpochAssembler, f: list[str], count: int) -> int:
    s = f[1]
    st._register_frac(s)
    s = (s + "\0" * 6)[:6]
    if (st.hour, st.minute, st.sec) == (_dd(s, 0), _dd(s, 2), _dd(s, 4)):
        return HERR | VERR
    return ONLINE


def _grs(st: EpochAssembler, f: list[str], count: int) -> int:
    if f[1]:
        st._merge_hhmmss(f[1])
    return ONLINE


def _psrfepe(st: EpochAssembler, f: list[str], count: int) -> int:
    mask = STATUS
    if f[1] and st._merge_hhmmss(f[1]):
        st._register_frac(f[1])
        if st.ty != 0:
            mask |= TIME
    if f[2][:1] != "A":
        return mask
    if f[3]:
        st.hdop = _atof(f[3])
        mask |= DOP
    if f[4]:
        mask |= HERR
    if f[5]:
        mask |= VERR
    return mask


def _pashr(st: EpochAssembler, f: list[str], count: int) -> int:
    kind = f[1]
    if kind == "POS":
        mask = ONLINE | MODE | STATUS | CLEAR
        if not f[2]:
            st.nd_mode = MODE_NO_FIX
            return mask
        st.nd_mode = MODE_3D
        st.gga_sats_used = _atoi(f[3])
        if st._merge_hhmmss(f[4]):
            st._register_frac(f[4])
            mask |= TIME
        if st._latlon(f, 5):
            mask |= LATLON
            if f[9]:
                st.nd_alt = True
                mask |= ALTITUDE
        st.nd_speed = _atof(f[12]) / MPS_TO_KPH
        for i in (14, 15, 16, 17):
            if f[i]:
                if i == 15:
                    st.hdop = _atof(f[i])
                mask |= DOP
        return mask | SPEED | TRACK | CLIMB
    if kind == "SAT":
        n = _atoi(f[2])
        st.sat_visible = n
        st.sat_any_azimuth = False
        st.satellites_used = 0
        for i in range(max(n, 0)):
            base = 3 + i * 5
            if _atoi(_field(f, base + 1)):
                st.sat_any_azimuth = True
            if _field(f, base + 4)[:1] == "U":
                st.satellites_used += 1
        return ONLINE | SATELLITE | USED
    if kind not in ("ACK", "MCA", "NAK", "PBN", "RID") and f[3] == "T":
        st._merge_hhmmss(f[1])  # OxTS attitude sentence: time of day only
    return ONLINE


def _psti030(st: EpochAssembler, f: list[str], count: int) -> int:
    mask = ONLINE
    if f[3][:1] == "V" or f[13][:1] == "N":
        st.nd_mode = MODE_NO_FIX
        return mask | MODE | STATUS
    if f[3][:1] == "A":
        if f[2] and f[12] and st._merge_time_date(f[2], f[12]):
            mask |= TIME
            st._register_frac(f[2])
        if st._latlon(f, 4):
            st.nd_mode = MODE_2D
            mask |= LATLON
            if f[8]:
                st.nd_alt = True
                mask |= ALTITUDE
                st.nd_mode = MODE_3D
            mask |= MODE
        mask |= VNED | STATUS
    return mask


def _psti032(st: EpochAssembler, f: list[str], count: int) -> int:
    if f[4][:1] != "A":
        return ONLINE
    mask = ONLINE
    if f[2] and f[3] and st._merge_time_date(f[2], f[3]):
        mask |= TIME
        st._register_frac(f[2])
    return mask


def _psti035(st: EpochAssembler, f: list[str], count: int) -> int:
    mask = ONLINE
    if f[2] and f[3] and st._merge_time_date(f[2], f[3]):
        mask |= TIME
        st._register_frac(f[2])
    if f[4][:1] != "A":
        return mask
    return mask | ATTITUDE


def _psti033(st: EpochAssembler, f: list[str], count: int) -> int:
    if f[4][:1] != "2" or not f[5] or f[5][0] not in "BR":
        return ONLINE
    mask = ONLINE
    if f[2] and f[3] and st._merge_time_date(f[2], f[3]):
        mask |= TIME
        st._register_frac(f[2])
    return mask


def _psti036(st: EpochAssembler, f: list[str], count: int) -> int:
    mask = ONLINE
    if f[2] and f[3] and st._merge_time_date(f[2], f[3]):
        mask |= TIME
        st._register_frac(f[2])
    if not f[7] or f[7][0] == "N":
        return mask
    st._utc_resolve()
    return mask | ATTITUDE


def _pgrme(st: EpochAssembler, f: list[str], count: int) -> int:
    if f[2][:1] == "M" and f[4][:1] == "M" and f[6][:1] == "M":
        return HERR | VERR | PERR
    return ONLINE


def _pgrmf(st: EpochAssembler, f: list[str], count: int) -> int:
    mask = ONLINE
    if f[5][:1].isdigit():
        st.leap_seconds = _atoi(f[5])
    if f[1][:1].isdigit() and f[2][:1].isdigit() and st.leap_seconds > 0:
        mask |= TIME     # GPS week/TOW; gpsd then re-resolves from the NMEA date
    elif st._merge_time_date(f[4], f[3]):
        mask |= TIME
    if f[10][:1] != "A":
        return mask
    if st._latlon(f, 6):
        mask |= LATLON
    fix = f[11][:1]
    if fix in ("0", "1", "2"):
        st.nd_mode = {"0": MODE_NO_FIX, "1": MODE_2D, "2": MODE_3D}[fix]
        mask |= MODE
    st.nd_speed = _atof(f[12]) / MPS_TO_KPH
    mask |= SPEED | TRACK
    if f[14] or f[15]:
        mask |= DOP
    return mask


def _pgrmv(st: EpochAssembler, f: list[str], count: int) -> int:
    return VNED if f[1] and f[2] and f[3] else ONLINE


def _pgrmz(st: EpochAssembler, f: list[str], count: int) -> int:
    mask = ONLINE
    if f[2][:1] == "f" and f[1]:
        st.nd_alt = True
        mask |= ALTITUDE
    mode = f[3][:1]
    if mode in ("1", "2", "3"):
        st.nd_mode = int(mode)
        mask |= MODE
    return mask


def _pmgnst(st: EpochAssembler, f: list[str], count: int) -> int:
    newmode = _atoi(f[3])
    if f[4][:1] == "T" and newmode in (2, 3):
        st.nd_mode = newmode
    else:
        st.nd_mode = MODE_NO_FIX
    return ONLINE | MODE


def _hdg(st: EpochAssembler, f: list[str], count: int) -> int:
    if not f[1]:
        return ONLINE
    heading = _atof(f[1])
    deviation = _atof(f[2])
    if heading < 0.0 or heading > 360.0 or deviation < 0.0 or deviation > 360.0:
        return ONLINE
    return ONLINE | MAGTRACK


def _hdt(st: EpochAssembler, f: list[str], count: int) -> int:
    if not f[1]:
        return ONLINE
    heading = _atof(f[1])
    return ONLINE if heading < 0.0 or heading > 360.0 else ONLINE | ATTITUDE


def _xdr(st: EpochAssembler, f: list[str], count: int) -> int:
    mask = ONLINE
    for i in range(count // 4):
        j = i * 4
        if not _field(f, j + 2):
            continue
        kind = _field(f, j + 1)[:1]
        ident = _field(f, j + 4)
        angle = kind == "A" and _field(f, j + 3)[:1] == "D" and ident in ("PTCH", "PITCH", "ROLL")
        magnetic = kind == "G" and ident in ("MAGX", "MAGY", "MAGZ")
        if angle or magnetic:
            mask |= ATTITUDE
    return mask


def _online(st: EpochAssembler, f: list[str], count: int) -> int:
    return ONLINE


def _const(mask: int) -> Callable:
    def handler(st: EpochAssembler, f: list[str], count: int) -> int:
        return mask
    return handler


def _dd(s: str, i: int) -> int:
    return (ord(s[i]) - 48) * 10 + (ord(s[i + 1]) - 48)


def _field(f: list[str], i: int) -> str:
    return f[i] if i < len(f) else ""


# gpsd's nmea_phrase table, in its order: (name, name1, min fields, continues cycle,
# handler).  Three-letter names match the address after the talker; others match it
# whole.  Entries without a decoder behave exactly like unknown sentences, so only the
# ones that could shadow a decoder ("PGRMC" would otherwise read as RMC) are listed.
_PHRASES: tuple = (
    ("PGLOR", None, 2, False, _online),
    ("PGRMB", None, 0, False, None),
    ("PGRMC", None, 0, False, None),
    ("PGRME", None, 7, False, _pgrme),
    ("PGRMF", None, 15, False, _pgrmf),
    ("PGRMH", None, 0, False, None),
    ("PGRMI", None, 0, False, None),
    ("PGRMM", None, 2, False, _online),
    ("PGRMO", None, 0, False, None),
    ("PGRMT", None, 10, False, _online),
    ("PGRMV", None, 4, False, _pgrmv),
    ("PGRMZ", None, 4, False, _pgrmz),
    ("ACCURACY", None, 1, True, _online),
    ("BWC", None, 12, False, _bwc),
    ("DBT", None, 7, False, lambda st, f, c: DEPTH if f[3] or f[1] or f[5] else ONLINE),
    ("DPT", None, 4, False, lambda st, f, c: DEPTH if f[1] else ONLINE),
    ("DTM", None, 2, False, _online),
    ("GBS", None, 7, False, _gbs),
    ("GGA", None, 13, False, _gga),
    ("GLL", None, 7, True, _gll),
    ("GNS", None, 13, False, _gns),
    ("GRS", None, 4, False, _grs),
    ("GSA", None, 18, False, _gsa),
    ("GST", None, 8, False, _const(GST | ONLINE)),
    ("GSV", None, 4, False, _gsv),
    ("GYOACC", None, 14, False, _const(ONLINE | ATTITUDE)),
    ("HDG", None, 0, False, _hdg),
    ("HDM", None, 3, False, lambda st, f, c: ONLINE | ATTITUDE if f[1] else ONLINE),
    ("HDT", None, 1, False, _hdt),
    ("MTW", None, 3, False, _online),
    ("MWD", None, 0, False, _const(ONLINE | NAVDATA)),
    ("MWV", None, 0, False,
     lambda st, f, c: ONLINE | NAVDATA if (f[2][:1], f[4][:1], f[5][:1]) == ("R", "N", "A")
     else ONLINE),
    ("PASHR", None, 3, False, _pashr),
    ("PAIR001", None, 3, False, _online),
    ("PAIR010", None, 5, False, _online),
    ("PDTINFO", None, 6, False, _online),
    ("PMGNST", None, 8, False, _pmgnst),
    ("PMTK001", None, 3, False, _online),
    ("PMTK424", None, 3, False, _online),
    ("PMTK705", None, 4, False, _online),
    ("PQTMCFGEINSMSGERROR", None, 1, False, _online),
    ("PQTMCFGEINSMSGOK", None, 1, False, _online),
    ("PQTMCFGORIENTATIONERROR", None, 1, False, _online),
    ("PQTMCFGORIENTATIONOK", None, 1, False, _online),
    ("PQTMCFGWHEELTICKERROR", None, 1, False, _online),
    ("PQTMCFGWHEELTICKOK", None, 1, False, _online),
    ("PQTMGPS", None, 14, False, _online),
    ("PQTMIMU", None, 10, False, _online),
    ("PQTMINS", None, 11, False, _online),
    ("PQTMQMPTERROR", None, 1, False, _online),
    ("PQTMVER", None, 4, False, _online),
    ("PQVERNO", None, 5, False, _online),
    ("PRHS ", None, 2, False, _online),
    ("PSRFEPE", None, 7, False, _psrfepe),
    ("PSTI", "030", 16, False, _psti030),
    ("PSTI", "032", 16, False, _psti032),
    ("PSTI", "033", 27, False, _psti033),
    ("PSTI", "035", 8, False, _psti035),
    ("PSTI", "036", 2, False, _psti036),
    ("PTNTA", None, 8, False, lambda st, f, c: ONLINE | OSCILLATOR if f[3] == "T4" else ONLINE),
    ("PTNTHTM", None, 9, False, _const(ONLINE | ATTITUDE)),
    ("RMC", None, 8, False, _rmc),
    ("ROT", None, 3, False,
     lambda st, f, c: ONLINE | ATTITUDE if f[1] and f[2][:1] == "A" else ONLINE),
    ("SNRSTAT", None, 5, False, _online),
    ("THS", None, 0, False, _online),
    ("TXT", None, 5, False, _online),
    ("VTG", None, 5, False, _vtg),
    ("XDR", None, 5, False, _xdr),
    ("ZDA", None, 4, False, _zda),
)

_LOOKUP_CACHE: dict = {}


_NO_DECODER = (0, 0, False, None)
_PSTI_CACHE: dict = {}


def _lookup(tag: str, field1: str) -> tuple:
    """Address -> (tag id, min fields, continues cycle, handler).

    Sentences gpsd has no decoder for get tag id 0 and no handler.  Results are
    cached; "PSTI" (sub-typed by its first field) is never in the main cache.
    """
    if tag == "PSTI":
        found = _PSTI_CACHE.get(field1)
        if found is not None:
            return found
    found = _NO_DECODER
    for index, (name, name1, nf, cont, handler) in enumerate(_PHRASES):
        subject = tag[2:] if len(name) == 3 else tag
        if subject != name or (name1 is not None and name1 != field1):
            continue
        if handler is not None:
            found = (index + 1, nf, cont, handler)
        break
    cache = _PSTI_CACHE if tag == "PSTI" else _LOOKUP_CACHE
    if len(cache) < 4096:
        cache[field1 if tag == "PSTI" else tag] = found
    return found


def _make_fix(candidate: tuple) -> Fix:
    ms, lat, lon, mode, hdop, speed, sats = candidate
    return Fix(time=_UNIX_EPOCH + timedelta(milliseconds=ms), lat=lat, lon=lon,
               mode=mode, hdop=hdop, speed=speed, sats=sats)
