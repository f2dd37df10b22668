"""gpsd's ``nmea_phrase`` table: which handler reads which sentence, and how it counts.

Each entry is (name, first field or None, minimum number of fields, continues the
reporting cycle, handler).  Three-letter names match the address after the talker
(``GGA`` matches ``GPGGA`` and ``GNGGA``); other names match the whole address.  Entries
without a decoder behave exactly like unknown sentences, so only the ones that could
shadow a decoder (``PGRMC`` would otherwise read as RMC) are listed.  The 1-based index
in the table is gpsd's tag id, which the cycle-ender learning remembers.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from . import proprietary as p
from . import satellites as sat
from . import talkers as t
from .masks import ATTITUDE, GST, NAVDATA, ONLINE


def online(st, f: list[str], count: int) -> int:
    return ONLINE


def const(mask: int) -> Callable:
    def handler(st, f: list[str], count: int) -> int:
        return mask
    PURE.add(handler)
    return handler


#: Handlers that only compute a mask from the fields, never touching the session and
#: never setting a fix bit: their sentences cannot change the fix (a report after one
#: of them can only repeat what was reported).
PURE: set[Callable] = {online, t.hdg, t.hdt, t.hdm, t.rot, t.mwv, t.dbt, t.dpt, t.xdr, p.pgrme, p.pgrmv,
                       p.ptnta}


PHRASES: tuple = (
    ("PGLOR", None, 2, False, online),
    ("PGRMB", None, 0, False, None),
    ("PGRMC", None, 0, False, None),
    ("PGRME", None, 7, False, p.pgrme),
    ("PGRMF", None, 15, False, p.pgrmf),
    ("PGRMH", None, 0, False, None),
    ("PGRMI", None, 0, False, None),
    ("PGRMM", None, 2, False, online),
    ("PGRMO", None, 0, False, None),
    ("PGRMT", None, 10, False, online),
    ("PGRMV", None, 4, False, p.pgrmv),
    ("PGRMZ", None, 4, False, p.pgrmz),
    ("ACCURACY", None, 1, True, online),
    ("BWC", None, 12, False, t.bwc),
    ("DBT", None, 7, False, t.dbt),
    ("DPT", None, 4, False, t.dpt),
    ("DTM", None, 2, False, online),
    ("GBS", None, 7, False, t.gbs),
    ("GGA", None, 13, False, t.gga),
    ("GLL", None, 7, True, t.gll),
    ("GNS", None, 13, False, t.gns),
    ("GRS", None, 4, False, t.grs),
    ("GSA", None, 18, False, sat.gsa),
    ("GST", None, 8, False, const(GST | ONLINE)),
    ("GSV", None, 4, False, sat.gsv),
    ("GYOACC", None, 14, False, const(ONLINE | ATTITUDE)),
    ("HDG", None, 0, False, t.hdg),
    ("HDM", None, 3, False, t.hdm),
    ("HDT", None, 1, False, t.hdt),
    ("MTW", None, 3, False, online),
    ("MWD", None, 0, False, const(ONLINE | NAVDATA)),
    ("MWV", None, 0, False, t.mwv),
    ("PASHR", None, 3, False, p.pashr),
    ("PAIR001", None, 3, False, online),
    ("PAIR010", None, 5, False, online),
    ("PDTINFO", None, 6, False, online),
    ("PMGNST", None, 8, False, p.pmgnst),
    ("PMTK001", None, 3, False, online),
    ("PMTK424", None, 3, False, online),
    ("PMTK705", None, 4, False, online),
    ("PQTMCFGEINSMSGERROR", None, 1, False, online),
    ("PQTMCFGEINSMSGOK", None, 1, False, online),
    ("PQTMCFGORIENTATIONERROR", None, 1, False, online),
    ("PQTMCFGORIENTATIONOK", None, 1, False, online),
    ("PQTMCFGWHEELTICKERROR", None, 1, False, online),
    ("PQTMCFGWHEELTICKOK", None, 1, False, online),
    ("PQTMGPS", None, 14, False, online),
    ("PQTMIMU", None, 10, False, online),
    ("PQTMINS", None, 11, False, online),
    ("PQTMQMPTERROR", None, 1, False, online),
    ("PQTMVER", None, 4, False, online),
    ("PQVERNO", None, 5, False, online),
    ("PRHS ", None, 2, False, online),
    ("PSRFEPE", None, 7, False, p.psrfepe),
    ("PSTI", "030", 16, False, p.psti030),
    ("PSTI", "032", 16, False, p.psti032),
    ("PSTI", "033", 27, False, p.psti033),
    ("PSTI", "035", 8, False, p.psti035),
    ("PSTI", "036", 2, False, p.psti036),
    ("PTNTA", None, 8, False, p.ptnta),
    ("PTNTHTM", None, 9, False, const(ONLINE | ATTITUDE)),
    ("RMC", None, 8, False, t.rmc),
    ("ROT", None, 3, False, t.rot),
    ("SNRSTAT", None, 5, False, online),
    ("THS", None, 0, False, online),
    ("TXT", None, 5, False, online),
    ("VTG", None, 5, False, t.vtg),
    ("XDR", None, 5, False, t.xdr),
    ("ZDA", None, 4, False, t.zda),
)


class Phrase(NamedTuple):
    """What the assembler needs to know about one sentence address, worked out once."""

    tag_id: int                 # gpsd's tag id (1-based index in PHRASES); 0: no decoder
    min_fields: int
    continues: bool             # continues the reporting cycle (GLL, ACCURACY)
    handler: Callable | None
    gsv_like: bool              # address[2:5] == "GSV": keeps gpsd's GSV talker memory
    gsa_like: bool              # address[2:5] == "GSA": keeps gpsd's GSA talker memory
    satellites_in_view: bool    # read by the GSV handler (never touches the fix)
    inert: bool                 # no handler, or a PURE one not continuing the cycle


_CACHE: dict[str, Phrase] = {}
_PSTI_CACHE: dict[str, Phrase] = {}
_CACHE_LIMIT = 4096


def lookup(tag: str, field1: str) -> Phrase:
    """Address -> :class:`Phrase`; cached.  "PSTI" is sub-typed by its first field."""
    found = (_PSTI_CACHE if tag == "PSTI" else _CACHE).get(field1 if tag == "PSTI" else tag)
    if found is not None:
        return found
    tag_id, nf, cont, handler = 0, 0, False, None
    for index, (name, name1, min_fields, continues, fn) in enumerate(PHRASES):
        subject = tag[2:] if len(name) == 3 else tag
        if subject != name or (name1 is not None and name1 != field1):
            continue
        if fn is not None:
            tag_id, nf, cont, handler = index + 1, min_fields, continues, fn
        break
    kind = tag[2:5]
    found = Phrase(tag_id, nf, cont, handler, kind == "GSV", kind == "GSA", handler is sat.gsv,
                   (handler is None or handler in PURE) and not cont)
    cache = _PSTI_CACHE if tag == "PSTI" else _CACHE
    if len(cache) < _CACHE_LIMIT:
        cache[field1 if tag == "PSTI" else tag] = found
    return found


#: Handlers split in two: ``read(f, count)`` depends on the sentence alone (so a reading
#: can be kept and reused when the same sentence comes again), ``apply(st, reading, 0)``
#: merges it into the session.  ``handler(st, f, count) == apply(st, read(f, count), 0)``.
SPLIT_HANDLERS: dict[Callable, tuple[Callable, Callable]] = {sat.gsa: (sat.read_gsa, sat.apply_gsa)}


def with_reading(phrase: Phrase) -> Phrase | None:
    """The phrase with its handler's ``apply`` half (taking a reading, not fields)."""
    halves = SPLIT_HANDLERS.get(phrase.handler)
    return phrase._replace(handler=halves[1], min_fields=0) if halves else None


#: ``cached(tag)``: the phrase for ``tag`` if already known (never "PSTI"): the fast path.
cached = _CACHE.get
