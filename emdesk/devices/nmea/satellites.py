"""Satellites: GSA (used for the fix, DOPs, 2D/3D) and GSV (in view), and NMEA PRNs.

GSA decides the fix mode and the used-satellite count that RMC and GLL lean on for
2D/3D; GSV never touches the fix, but it can still end a reporting cycle (a report
after the cycle ender) and gpsd's talker bookkeeping for multi-constellation
receivers depends on which GSV groups came last.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from .masks import DOP, MAXCHANNELS, MODE, ONLINE, SATELLITE, USED
from .readers import atof, atoi

if TYPE_CHECKING:  # pragma: no cover
    from .epochs import EpochAssembler

_FIX_TYPES = {"1": 1, "2": 2, "3": 3}
# GSA talker -> gnssid (NMEA 4.10 system id), when field 18 does not say.
_GSA_GNSSID = {"A": 3, "B": 4, "D": 4, "I": 6, "L": 2, "Z": 5}
# (address, gnssid) -> {satellite fields: (PRNs in order, the same without repeats)}.
_PRN_LISTS: dict = {}
_LIST_LIMIT = 4096
_OTHER_GSV_TALKERS = frozenset("ABDILNQZ")   # Galileo, BeiDou, NavIC, GLONASS, GNSS, QZSS


def nmeaid_to_prn(tag: str, n: int, gnssid: int) -> int:
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


def gsa_prn(tag: str, gnssid: int, text: str) -> int:
    """A GSA satellite field -> PRN; 0 to skip it; -1 for a decimal (end of list)."""
    if "." in text:
        return -1
    n = atoi(text)
    if n < 1 or n > 600:
        return 0
    return nmeaid_to_prn(tag, n, gnssid)


def _prn_list(tag: str, gnssid: int, fields: tuple[str, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """GSA satellite fields -> the PRNs gpsd takes from them, in order (and deduplicated)."""
    prns: list[int] = []
    for text in fields:
        if not text:
            continue
        prn = gsa_prn(tag, gnssid, text)
        if prn <= 0:
            if prn < 0:
                break  # a decimal: the PDOP, the PRN list is over
            continue
        prns.append(prn)
    return tuple(prns), tuple(dict.fromkeys(prns))


class GsaReading(NamedTuple):
    """What a GSA sentence says, read once (receivers repeat the same GSA for minutes)."""

    talker: str
    mode: int | None                # fix type 1..3, or None
    dop_mask: int                   # DOP if any DOP is usable
    hdop: float | None
    other_system: bool              # a GSA for another constellation than GPS
    prns: tuple[int, ...]           # satellites used, in order
    unique: tuple[int, ...]         # the same without repeats


def read_gsa(f: list[str], count: int) -> GsaReading:
    """The session-independent part of gpsd's GSA decoding."""
    tag = f[0]
    talker = tag[1:2]
    fix_type = f[2]
    mode = _FIX_TYPES.get(fix_type)
    if mode is None and 1 <= atoi(fix_type) <= 3:
        mode = atoi(fix_type)
    dop_mask = 0
    hdop = None
    gnssid = 0
    if count <= 19:
        for i in (15, 16, 17):
            if f[i]:
                dop = atof(f[i])
                if 0.01 <= dop <= 89.99:
                    if i == 16:
                        hdop = dop
                    dop_mask = DOP
        if count == 19 and f[18] and "." not in f[18]:
            gnssid = atoi(f[18])
    other = False
    if talker == "Q":
        if not (tag[0:1] == "P" and gnssid != 0):
            gnssid = 5
            other = True
    elif talker == "P":
        gnssid = 1
    elif talker in _GSA_GNSSID:
        gnssid = _GSA_GNSSID[talker]
        other = True
    elif talker == "N":
        other = True
    lists = _PRN_LISTS.get((tag, gnssid))
    if lists is None:
        lists = _PRN_LISTS[(tag, gnssid)] = {}
    key = tuple(f[3:count - 3])
    prns = lists.get(key)
    if prns is None:
        prns = _prn_list(tag, gnssid, key)
        if len(lists) < _LIST_LIMIT:
            lists[key] = prns
    return GsaReading(talker, mode, dop_mask, hdop, other, prns[0], prns[1])


def gsa(st: EpochAssembler, f: list[str], count: int) -> int:
    return apply_gsa(st, read_gsa(f, count), 0)


def apply_gsa(st: EpochAssembler, reading: GsaReading, _unused: int = 0) -> int:
    """A GSA reading merged into the session; gpsd's mask.  (Handler-shaped, so a
    cached reading can go through :meth:`EpochAssembler.sentence` in place of fields.)"""
    talker, mode, dop_mask, hdop, other, prns, unique = reading
    mask = ONLINE
    last_last = st.last_gsa_talker
    if not st.latch_mode:
        if mode is not None:
            st.nd_mode = mode
            mask = MODE
        if dop_mask:
            mask |= dop_mask
            if hdop is not None:
                st.hdop = hdop
        reset = last_last == "" or (talker == last_last and talker != "N" and talker != "Q")
        st.last_gsa_talker = talker
        if other:
            st.seen_other_gsa = True
        if reset:
            st.satellites_used = len(unique)
            st.sats_used = list(unique)
        elif prns:
            used = st.sats_used
            before = len(used)
            if max(before, st.satellites_used) + len(prns) < MAXCHANNELS:   # (cannot fill up)
                for prn in unique:
                    if prn not in used:
                        used.append(prn)
                if len(used) != before:
                    st.satellites_used = len(used)
            else:
                n_used = st.satellites_used
                for prn in prns:
                    if n_used >= MAXCHANNELS:
                        break
                    if prn not in used:
                        used.append(prn)
                        n_used = len(used)
                st.satellites_used = n_used
        mask |= USED
    if talker == "P" and st.seen_other_gsa:
        mask = ONLINE
    elif last_last != "N" and talker == "N":
        mask = ONLINE | MODE
    return mask


_SCAN_PAD = ("",) * 4
_BACKLOG_LIMIT = 64
_GROUP_END = None


def scan(visible: int, any_azimuth: bool, f: list[str]) -> tuple[int, bool]:
    """One GSV sentence's satellites counted in, as gpsd reads them (quirks included)."""
    count = len(f)
    f = f + list(_SCAN_PAD)          # gpsd may read one azimuth past the last field
    fld = 4
    end = count & ~3
    while fld < end:
        if visible >= MAXCHANNELS:
            return 0, False
        svid = f[fld]
        fld += 1
        if not (int(svid) if svid.isdigit() else atoi(svid)):
            continue  # (sic: gpsd then reads the elevation as the next PRN)
        if not any_azimuth:
            azimuth = f[fld + 1]  # an empty azimuth is unknown, not 0
            if not azimuth or (int(azimuth) if azimuth.isdigit() else atoi(azimuth)):
                any_azimuth = True
        fld += 3
        visible += 1
    return visible, any_azimuth


class InView:
    """gpsd's count of satellites in view and whether any has an azimuth, worked out lazily.

    The count never changes a fix: it only decides whether the last sentence of a GSV
    group makes gpsd report, and that matters only when a report could carry something
    new.  So each GSV's satellites are queued (the sentence text, not even split) and
    counted in only when the answer is needed; a reset throws the queue away.
    """

    __slots__ = ("_any_azimuth", "_backlog", "_visible")

    def __init__(self) -> None:
        self._visible = 0
        self._any_azimuth = False
        self._backlog: list = []

    def zero(self) -> None:
        self._visible = 0
        self._any_azimuth = False
        self._backlog.clear()

    def set(self, visible: int, any_azimuth: bool) -> None:
        self._visible = visible
        self._any_azimuth = any_azimuth
        self._backlog.clear()

    def add(self, item: str | list[str]) -> None:
        """A GSV's satellites: its body text (split when counted) or its field list."""
        backlog = self._backlog
        backlog.append(item)
        if len(backlog) > _BACKLOG_LIMIT:
            self.settle()

    def end_group(self) -> None:
        """The last part of a group: with no azimuth at all, gpsd forgets the satellites."""
        self._backlog.append(_GROUP_END)

    def settle(self) -> tuple[int, bool]:
        """Count in the queue; (visible, any azimuth)."""
        visible, any_azimuth = self._visible, self._any_azimuth
        for item in self._backlog:
            if item is _GROUP_END:
                if not any_azimuth:
                    visible = 0
            elif item.__class__ is str:
                visible, any_azimuth = scan(visible, any_azimuth, item.split(","))
            else:
                visible, any_azimuth = scan(visible, any_azimuth, item)
        self._backlog.clear()
        self._visible, self._any_azimuth = visible, any_azimuth
        return visible, any_azimuth

    @property
    def visible(self) -> int:
        return self.settle()[0]

    @property
    def any_azimuth(self) -> bool:
        return self.settle()[1]


# What a GSV sentence asks of the session, decided from the sentence alone.
GSV_IGNORE, GSV_ZERO, GSV_PART = 0, 1, 2


def gsv_head(tag: str, f1: str, f2: str, last: str, count: int) -> tuple:
    """The session-independent part of gpsd's GSV decoding (``count`` >= 4):
    (GSV_IGNORE,), (GSV_ZERO,) or (GSV_PART, parts in group, part, talker, other system)."""
    rem = count % 4
    if rem == 2:
        gnssid = atoi(last)
        if not 4 <= gnssid <= 5:
            return (GSV_IGNORE,)
    elif rem == 3:
        return (GSV_ZERO,)
    part = int(f2) if f2.isdigit() else atoi(f2)
    if part < 1:
        return (GSV_ZERO,)
    talker = tag[1:2]
    return GSV_PART, int(f1) if f1.isdigit() else atoi(f1), part, talker, talker in _OTHER_GSV_TALKERS


def gsv_head_of_body(body: str) -> tuple | None:
    """gsv_head from the body text, without splitting all of it; None below 4 fields."""
    count = body.count(",") + 1
    if count < 4:
        return None
    tag, f1, f2, _rest = body.split(",", 3)
    return gsv_head(tag, f1, f2, body[body.rfind(",") + 1:], count)


def gsv(st: EpochAssembler, head: tuple, item: str | list[str]) -> int:
    """Satellites in view.  ``item`` is the body or the fields (without padding).

    gpsd's mask.  The satellites are only queued; they are counted in at the end of a
    group, and only if a report could follow (see :class:`InView`).
    """
    if head[0] != GSV_PART:
        if head[0] == GSV_ZERO:
            st.in_view.zero()
        return ONLINE
    _, await_, part, talker, other = head
    in_view = st.in_view
    backlog = in_view._backlog
    if part == 1 and not st.last_gsv_talker:
        in_view._visible = 0
        in_view._any_azimuth = False
        backlog.clear()
    st.last_gsv_talker = talker
    if other:
        st.seen_other_gsv = True
    backlog.append(item)
    if part < await_:
        if len(backlog) > _BACKLOG_LIMIT:
            in_view.settle()
        return ONLINE                      # more parts to come (gpsd's gsx_more)
    if not st.may_report():
        backlog.append(_GROUP_END)         # the answer cannot matter: keep it queued
        if len(backlog) > _BACKLOG_LIMIT:
            in_view.settle()
        return ONLINE
    if not in_view.settle()[1]:
        in_view.zero()
        return ONLINE
    if talker == "P" and st.end_gsv_talker != "P" and st.seen_other_gsv:
        return ONLINE
    return SATELLITE
