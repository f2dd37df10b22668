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

Where the pieces live: :mod:`.masks` (gpsd's mask bits and constants), :mod:`.readers`
(fields read with C semantics), :mod:`.phrases` (which handler reads which sentence),
:mod:`.talkers`, :mod:`.proprietary` and :mod:`.satellites` (the handlers) and
:mod:`.ais` (AIS's one effect on fixes).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from math import isfinite

from .ais import Split24
from .decoder import DateComment, Sentence
from .masks import (
    ALTITUDE,
    CLEAR,
    DOP,
    FIX_BITS,
    GPS_EPOCH,
    LATLON,
    MODE,
    MODE_2D,
    MODE_3D,
    MODE_NO_FIX,
    MODE_NOT_SEEN,
    NAN,
    NMEA_MAX,
    NS,
    ONLINE,
    REPORT,
    SPEED,
    TIME,
    WKRO_LIMIT,
    WKRO_STEP,
)
from .phrases import Phrase, lookup
from .phrases import cached as _cached
from .readers import atof, decode_angle, decode_ddmmyy, decode_hhmmss, mkgmtime
from .satellites import InView, gsv, gsv_head, gsv_head_of_body

__all__ = ["EpochAssembler", "Fix"]

_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_SENTENCE = NMEA_MAX - 2   # longest sentence gpsd reads, without its CR LF
_REPORT_BITS = LATLON | MODE
_SKIM_PAD = ("",) * 20


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


class EpochAssembler:
    """gpsd's NMEA session, reduced to what decides TPV time/position/mode.

    Feed sentences in arrival order with :meth:`feed`; each call returns the fix of an
    epoch that has just been completed (or None).  Call :meth:`flush` at the end of the
    input for the last epoch.

    Sentence handlers (:mod:`.talkers`, :mod:`.proprietary`, :mod:`.satellites`) read and
    write the session's attributes directly and use the ``merge_*``/``latlon`` helpers.
    """

    # Slots: the session is read and written on every sentence (and slots are quicker).
    __slots__ = (  # noqa: RUF023 - grouped by meaning
        # the date and time being assembled (gpsd's nmea.date), and caches of their text
        "ty", "tmon", "mday", "hour", "minute", "sec", "nsec", "leap_seconds", "_start_time",
        "_day_key", "_day_value", "_hhmmss_text", "_hhmmss_value", "_hhmmss_frac",
        "_ddmmyy_text", "_ddmmyy_value",
        # reporting cycle
        "this_frac", "last_frac", "latch_frac", "lasttag", "cycle_enders", "cycle_continue",
        "cycle_end_reliable",
        # talkers and satellites
        "latch_mode", "last_gga_talker", "last_gga_timestamp", "gga_sats_used", "last_gsa_talker",
        "last_gsv_talker", "end_gsv_talker", "seen_other_gsa", "seen_other_gsv", "sats_used",
        "satellites_used", "in_view", "hdop",
        # the fix, the last and old fixes, and this sentence's new data
        "fx_time", "fx_lat", "fx_lon", "fx_mode", "fx_alt", "fx_speed", "lf_time", "lf_mode", "lf_alt",
        "of_alt", "_latlon_key", "_latlon_value", "nd_lat", "nd_lon", "nd_mode", "nd_speed",
        # AIS, and grouping reports into epochs
        "_ais", "_pending", "_dirty",
    )

    def __init__(self, reference_date: date | None = None) -> None:
        self.set_reference_date(reference_date or datetime.now(UTC).date())
        # nmea.date as struct tm: tm_year (years since 1900; 0 = no date yet), ...
        self.ty = self.tmon = self.mday = self.hour = self.minute = self.sec = 0
        self.nsec = 0
        self._day_key = None
        self._day_value = 0
        self._hhmmss_text = None
        self._hhmmss_value = None
        self._hhmmss_frac = 0.0
        self._ddmmyy_text = None
        self._ddmmyy_value = None
        self.this_frac = 0.0
        self.last_frac = 0.0
        self.latch_frac = False
        self.lasttag = 0
        self.cycle_enders: set[int] = set()
        self.cycle_continue = False
        self.cycle_end_reliable = False
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
        self.in_view = InView()       # satellites in view (counted lazily)
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
        self.nd_lat = NAN
        self.nd_lon = NAN
        self.nd_mode = MODE_NOT_SEEN
        self.nd_speed = NAN
        self._ais = Split24()
        # epoch grouping
        self._pending: tuple | None = None
        # Something that may change the report happened since the last one (a sentence
        # that can change the fix, or AIS).  While False, a report repeats the last.
        self._dirty = True

    # -- context --------------------------------------------------------

    def set_reference_date(self, day: date) -> None:
        """When the receiver was running (gpsd: start time / "# Date:" comment).

        It decides GPS week-rollover repair: before 2017 gpsd's leap-second count was
        below 18, so an old date was plausible; after that a pre-2017 date is not.
        """
        start = mkgmtime(day.year - 1900, day.month - 1, day.day, 0, 0, 0)
        self._start_time = start
        self.leap_seconds = 18 if start >= WKRO_LIMIT else 17

    # -- public feed ----------------------------------------------------

    def feed(self, item: Sentence | DateComment) -> Fix | None:
        """One decoded line, in arrival order; the fix of an epoch just completed, or None."""
        if item.__class__ is DateComment:
            self.set_reference_date(item.date)
            return None
        text = item.text
        if len(text) > MAX_SENTENCE:
            return None  # gpsd's packet layer drops overlong sentences, AIS ones too
        if text[0] == "!":
            self._ais.feed(item.fields)
            return None
        f = item.fields
        phrase = _cached(item.tag)
        if phrase is None:
            phrase = lookup(item.tag, f[1])
        return self.sentence(f, item.count, phrase)

    def sentence(self, f: list[str], count: int, phrase: Phrase) -> Fix | None:
        """One ``$`` sentence's fields (padded) and its phrase: gpsd's nmea_parse(),
        gpsd_poll() and reporting decision.  ``feed`` and the stream driver call it."""
        thistag, nf, cont, handler, gsv_like, gsa_like, in_view, _inert = phrase
        if self.last_gsv_talker and not gsv_like:
            self.end_gsv_talker = self.last_gsv_talker
            self.last_gsv_talker = ""
        if handler is None or count < nf:
            # No decoder: only the cycle-continuation bookkeeping can happen.
            if not gsa_like:
                self.last_gsa_talker = ""
            if self.cycle_continue:
                enders = self.cycle_enders
                enders.discard(self.lasttag)
                enders.add(0)
                self.cycle_end_reliable = True
                return self._report()
            return None

        if in_view:
            # Satellites in view: untimed, never a position or mode, so at most a
            # report after the cycle ender; the fix and cycle work are skipped.
            self.cycle_continue = False
            self.last_gsa_talker = ""
            if gsv(self, gsv_head(f[0], f[1], f[2], f[count - 1], count), f[:count]) != ONLINE:
                return self._report()        # (gsv checked that a report may follow)
            return None

        self._dirty = True
        self.nd_mode = MODE_NOT_SEEN
        self.latch_frac = False
        mask = handler(self, f, count)
        self.cycle_continue = cont
        if not gsa_like:
            self.last_gsa_talker = ""

        # End-of-cycle detection.
        enders = self.cycle_enders
        if self.latch_frac:
            # A time-bearing sentence: a new time of day starts a new reporting cycle.
            lasttag = self.lasttag
            if abs(self.this_frac - self.last_frac) > 0.01:
                mask |= CLEAR
                if lasttag > 0 and lasttag not in enders and not cont:
                    enders.add(lasttag)
                    self.cycle_end_reliable = True
            if thistag in enders:
                mask |= REPORT
            self.lasttag = thistag
        else:
            if mask != ONLINE and self.lasttag in enders:
                mask |= REPORT
            if cont:
                enders.discard(self.lasttag)
                enders.add(thistag)
                self.cycle_end_reliable = True
                mask |= REPORT

        if mask & FIX_BITS:
            # gpsd_poll(): clear on a new cycle, merge newdata, error model.
            if mask & TIME:
                nd_time = 0 if self.ty == 0 and self.mday == 0 else self.utc_resolve()
            if mask & MODE:
                mode = self.nd_mode
                # Don't downgrade a held 3D fix (RMC/GLL say nothing about 2D vs 3D).
                if (mode != MODE_NO_FIX and self.fx_mode == MODE_3D and (self.lf_alt or self.of_alt)
                        and mode != MODE_3D):
                    mode = MODE_3D
            if mask & CLEAR:
                self.fx_time = 0
                self.fx_lat = self.fx_lon = NAN
                self.fx_mode = MODE_NOT_SEEN
                self.fx_alt = False
                self.fx_speed = NAN
                if not mask & DOP:
                    self.hdop = NAN
            if mask & TIME:
                self.fx_time = nd_time
            if mask & LATLON:
                lat = self.fx_lat = self.nd_lat
                lon = self.fx_lon = self.nd_lon
                if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
                    self.fx_lat = self.fx_lon = NAN    # (fixes are only ever in range or NaN)
            if mask & MODE:
                self.fx_mode = mode
            if mask & ALTITUDE:          # (handlers set it only with an altitude)
                self.fx_alt = True
            if mask & SPEED:
                self.fx_speed = self.nd_speed
            fx_time = self.fx_time
            if fx_time >= NS:
                if abs(fx_time - self.lf_time) > 9_900_000:
                    self.of_alt = self.lf_alt          # oldfix = lastfix
                self.lf_time = fx_time                 # lastfix = fix
                self.lf_mode = self.fx_mode
                self.lf_alt = self.fx_alt
            if mask & REPORT or (not self.cycle_end_reliable and mask & _REPORT_BITS):
                return self._report()
            return None
        if mask & REPORT:
            return self._report()
        return None

    def skim(self, body: str, phrase: Phrase, head: tuple | None = None) -> Fix | None:
        """Like :meth:`sentence`, for a sentence that cannot change the fix (``phrase.inert``
        or satellites in view), given as its body text: it is split only if its fields
        can matter, i.e. when a report after it could carry something new.  ``head``:
        a GSV's :func:`~.satellites.gsv_head_of_body`, if the caller has it already
        (``None`` then means: work it out)."""
        _tag_id, nf, _cont, handler, gsv_like, gsa_like, in_view, _inert = phrase
        if self.cycle_continue:
            f = body.split(",")       # rare (after GLL): take the general road
            count = len(f)
            f += _SKIM_PAD
            return self.sentence(f, count, phrase)
        if not gsv_like and self.last_gsv_talker:
            self.end_gsv_talker = self.last_gsv_talker
            self.last_gsv_talker = ""
        if not gsa_like:
            self.last_gsa_talker = ""
        if handler is None:
            return None
        if in_view:
            if head is None:
                head = gsv_head_of_body(body)
                if head is None:
                    return None                     # too few fields: no decoder
            if gsv(self, head, body) != ONLINE:
                return self._report()
            return None
        if not ((self._dirty or self._ais.since_report) and self.lasttag in self.cycle_enders):
            return None    # no report could follow (or it would repeat the last one)
        f = body.split(",")
        count = len(f)
        if count < nf:
            return None
        f += _SKIM_PAD
        if handler(self, f, count) != ONLINE:
            return self._report()
        return None

    def may_report(self) -> bool:
        """Could a sentence without a fix bit make gpsd report something new now?
        (After the cycle ender, if anything changed since the last report.)"""
        return (self._dirty or self._ais.since_report) and self.lasttag in self.cycle_enders

    def flush(self) -> Fix | None:
        """The last epoch, at the end of the input."""
        pending, self._pending = self._pending, None
        return _make_fix(pending) if pending is not None else None

    # -- the report ------------------------------------------------------------

    def _report(self) -> Fix | None:
        """A TPV goes out; group it into epochs.

        Reports with the same time (to the millisecond) are one epoch; the last of
        them is its fix, handed out when a report with another time comes.
        """
        ais = self._ais
        if ais.since_report:
            ais.since_report = False
            if ais.partial:
                return None                        # gpsd's split24 policy withholds it
        elif not self._dirty:
            return None                            # nothing changed: the same report again
        self._dirty = False
        fx_time = self.fx_time
        mode = self.fx_mode
        lat = self.fx_lat
        if mode < MODE_2D or fx_time < NS or not isfinite(lat):
            return None
        ms = (fx_time + 500_000) // 1_000_000
        hdop = self.hdop
        speed = self.fx_speed
        candidate = (ms, lat, self.fx_lon, mode,
                     hdop if isfinite(hdop) else None,
                     speed if isfinite(speed) else None,
                     self.satellites_used or self.gga_sats_used or None)
        pending = self._pending
        self._pending = candidate
        if pending is None or pending[0] == ms:
            return None
        return Fix(_UNIX_EPOCH + timedelta(milliseconds=pending[0]), *pending[1:])

    # -- time (used by the handlers) -------------------------------------------

    def merge_hhmmss(self, s: str) -> bool:
        if s == self._hhmmss_text:
            t = self._hhmmss_value    # GGA, RMC and GLL of one epoch repeat it
        else:
            t = decode_hhmmss(s)
            if t is None:
                return False
            self._hhmmss_text = s
            self._hhmmss_value = t
            self._hhmmss_frac = atof(s)
        self.hour, self.minute, self.sec, self.nsec = t
        return True

    def merge_hhmmss_latched(self, s: str) -> bool:
        """merge_hhmmss(s) and, if it succeeds, register_frac(s): the usual pair."""
        if s == self._hhmmss_text:
            self.hour, self.minute, self.sec, self.nsec = self._hhmmss_value
        else:
            t = decode_hhmmss(s)
            if t is None:
                return False
            self._hhmmss_text = s
            self._hhmmss_value = t
            self._hhmmss_frac = atof(s)
            self.hour, self.minute, self.sec, self.nsec = t
        self.last_frac = self.this_frac
        self.this_frac = self._hhmmss_frac
        self.latch_frac = True
        return True

    def register_time_frac(self) -> None:
        """register_frac() of the time just merged (its value is worked out once)."""
        self.last_frac = self.this_frac
        self.this_frac = self._hhmmss_frac
        self.latch_frac = True

    def merge_ddmmyy(self, s: str) -> bool:
        if s == self._ddmmyy_text:
            d = self._ddmmyy_value    # the date changes once a day
        else:
            d = decode_ddmmyy(s)
            if d is None:
                return False
            self._ddmmyy_text = s
            self._ddmmyy_value = d
        self.ty, self.tmon, self.mday = d
        return True

    def merge_time_date(self, hhmmss: str, ddmmyy: str) -> bool:
        return self.merge_hhmmss(hhmmss) and self.merge_ddmmyy(ddmmyy)

    def register_frac(self, s: str) -> None:
        if s:
            self.last_frac = self.this_frac
            self.this_frac = atof(s)
            self.latch_frac = True

    def utc_resolve(self) -> int:
        day = (self.ty, self.tmon, self.mday)
        if day == self._day_key:
            days = self._day_value
        else:
            days = mkgmtime(self.ty, self.tmon, self.mday, 0, 0, 0) // 86400
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
        return t * NS + self.nsec

    def clear_date(self) -> None:
        self.ty = self.tmon = self.mday = self.hour = self.minute = self.sec = 0

    # -- position (used by the handlers) -----------------------------------------

    def latlon(self, f: list[str], i: int) -> bool:
        """Fields i..i+3 (lat, N/S, lon, E/W) into newdata; False if unusable."""
        key = (f[i], f[i + 1], f[i + 2], f[i + 3])
        if key == self._latlon_key:
            position = self._latlon_value   # RMC, GGA, GLL of one epoch repeat it
        else:
            a, ns, b, ew = key
            if not a or not ns or not b or not ew:
                return False
            lat = decode_angle(a)
            if ns[0] == "S":
                lat = -lat
            lon = decode_angle(b)
            if ew[0] == "W":
                lon = -lon
            position = (lat, lon) if isfinite(lat) and isfinite(lon) else None
            self._latlon_key = key
            self._latlon_value = position
        if position is None:
            return False
        self.nd_lat, self.nd_lon = position
        return True


def _make_fix(candidate: tuple) -> Fix:
    ms, lat, lon, mode, hdop, speed, sats = candidate
    return Fix(_UNIX_EPOCH + timedelta(milliseconds=ms), lat, lon, mode, hdop, speed, sats)
