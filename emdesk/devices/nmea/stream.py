"""Lines in, fix epochs out: the sentence layer and the epoch assembler in one loop.

``decode_stream`` could simply hand each line to :meth:`SentenceDecoder.decode_all` and each
sentence to :meth:`EpochAssembler.feed`.  It does exactly that for anything unusual
(comments, AIS, leading garbage, bad checksums, overlong or unknown sentences), but the
common line -- a well-formed ``$...*hh`` sentence with a known address -- takes a
shorter road: framed by one regular expression, checksummed inline, then

* tokenised -- the fix-bearing GGA, RMC, GLL, GNS and ZDA exactly as pynmea2 does
  (its ``data`` is the body split at commas; building its objects is skipped) -- and
  given to :meth:`EpochAssembler.sentence`, or
* for sentences that cannot change the fix (satellites in view, headings, depths,
  text...), given as text to :meth:`EpochAssembler.skim`, which splits it only if a
  report after it could carry something new,

without building a :class:`Sentence` object.  Both roads apply the same checks
(``tests/devices/test_nmea_stream.py`` holds them to identical output), and the
decoder's counters stay exact: they are brought up to date before every fix is
yielded and at the end.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import date

from .decoder import _HEX_PAIRS, PARSED, PLAIN, SentenceDecoder, tag_kind
from .epochs import MAX_SENTENCE, EpochAssembler, Fix
from .phrases import SPLIT_HANDLERS, lookup, with_reading
from .satellites import gsv_head_of_body

__all__ = ["decode_stream"]

# "$", a well-formed address and printable ASCII without "$" or "*", "*", two hex
# digits, trailing whitespace.  Groups: body, address, checksum.
_SENTENCE_RE = re.compile(
    r"\$(([A-Z][A-Z0-9]{1,15} ?)(?:,[\x20-\x23\x25-\x29\x2b-\x7e]*)?)\*([0-9A-Fa-f]{2})[ \t\r\n\f\v]{0,8}")
# Handlers read fields up to f[18] (GSA's system id); the decoder pads its Sentence
# fields further for other readers, the short road only as far as the handlers need.
_PAD = ("",) * 20
_MAX_BODY = MAX_SENTENCE - 4    # without "$" and "*hh"
_SKIM, _SPLIT, _PARSE, _READ = 1, 2, 3, 4
# address -> (how, phrase, extra) for addresses that can take the short road; for _READ
# extra is (read, phrase taking a reading).
_ROADS: dict[str, tuple] = {}
_ROADS_LIMIT = 4096
_SEEN_LIMIT = 1024             # lines remembered per stream (then forgotten, all at once)
_SEEN_LENGTH = 160            # longer lines are never remembered (they cannot be sentences)
_LONG_ROAD = ()


def _road(tag: str) -> tuple | None:
    """How sentences with this address take the short road: (how, phrase, extra)."""
    kind = tag_kind(tag)
    if tag == "PSTI" or (kind is not PLAIN and kind is not PARSED):
        return None      # PSTI's phrase depends on its first field; invalid addresses are garbage
    phrase = lookup(tag, "")
    extra = None
    if kind is PARSED:
        how = _PARSE
    elif phrase.inert or phrase.satellites_in_view:
        how = _SKIM
    elif phrase.handler in SPLIT_HANDLERS:
        how = _READ
        extra = (SPLIT_HANDLERS[phrase.handler][0], with_reading(phrase))
    else:
        how = _SPLIT
    found = (how, phrase, extra)
    if len(_ROADS) < _ROADS_LIMIT:
        _ROADS[tag] = found
    return found


def f_and_pad(body: str) -> list[str]:
    f = body.split(",")
    f += _PAD
    return f


def _prepare(line: str) -> tuple | None:
    """Everything the short road needs from a line, worked out once per distinct line:
    (how, phrase, a, b), or None for the long road.  Receivers repeat many sentences
    word for word (satellites in view, DOPs, headings), so a stream remembers them."""
    m = _SENTENCE_RE.fullmatch(line)
    if m is None:
        return None
    body, tag, hh = m.groups()
    if len(body) > _MAX_BODY:
        return None
    # checksum(body), inlined (every distinct line pays it; the body is ASCII and at
    # most 126 bytes, so folding one integer in halves gives the XOR of its bytes).
    x = int.from_bytes(body.encode(), "little")
    x ^= x >> 512
    x ^= x >> 256
    x ^= x >> 128
    x ^= x >> 64
    x ^= x >> 32
    x ^= x >> 16
    x ^= x >> 8
    if x & 0xFF != _HEX_PAIRS[hh]:
        return None
    road = _ROADS.get(tag) or _road(tag)
    if road is None:
        return None
    how, phrase, extra = road
    if how is _SKIM:
        if phrase.satellites_in_view:
            head = gsv_head_of_body(body)
            if head is None:
                return _SPLIT, phrase, f_and_pad(body), body.count(",") + 1   # (no decoder: too short)
            return how, phrase, body, head
        return how, phrase, body, None
    if how is _PARSE and "," not in body:
        return None          # pynmea2 refuses it: the long road counts it as malformed
    # For the fix sentences (how is _PARSE) this is exactly pynmea2's tokenising:
    # ``pynmea2.parse(body).data`` is ``body.split(",")[1:]`` once its pattern matched,
    # which the address and the comma guarantee here (``test_nmea_stream`` checks it on
    # every capture); only building its object is left out.
    f = body.split(",")
    count = len(f)
    f += _PAD                # (handlers only read fields: the list can be reused)
    if how is _READ:
        if count >= phrase.min_fields:
            return how, extra[1], extra[0](f, count), 0
        how = _SPLIT
    return how, phrase, f, count


def decode_stream(lines: Iterable[str | bytes], decoder: SentenceDecoder,
                  reference_date: date | None = None) -> Iterator[Fix]:
    """Fixes from ``lines``, counting sentences and malformed lines into ``decoder``.

    ``reference_date`` is when the receiver was running (default: today, or a
    ``# Date:`` line in the input); it only matters for GPS week-rollover repair.
    """
    assembler = EpochAssembler(reference_date)
    sentence = assembler.sentence
    skim = assembler.skim
    feed = assembler.feed
    decode_all = decoder.decode_all
    seen: dict[str, tuple] = {}
    recall = seen.get
    counted = 0                          # sentences on the short road not yet in decoder
    for line in lines:
        if line.__class__ is str:
            prepared = recall(line)
            if prepared is None:
                prepared = _prepare(line) or _LONG_ROAD
                if len(line) <= _SEEN_LENGTH:
                    if len(seen) >= _SEEN_LIMIT:
                        seen.clear()     # (bounded memory; the hot lines come back at once)
                    seen[line] = prepared
        else:
            prepared = _LONG_ROAD        # bytes: the decoder reads them as latin-1
        if prepared is not _LONG_ROAD:
            how, phrase, a, b = prepared
            if how is _SKIM:
                fix = skim(a, phrase, b)
            else:
                fix = sentence(a, b, phrase)
            counted += 1
        else:
            # The long road: anything unusual, from the start.
            items = decode_all(line)
            if not items:
                continue
            if len(items) > 1:
                for item in items[:-1]:
                    fix = feed(item)
                    if fix is not None:
                        decoder.sentence_count += counted
                        counted = 0
                        yield fix
            fix = feed(items[-1])
        if fix is not None:
            decoder.sentence_count += counted
            counted = 0
            yield fix
    decoder.sentence_count += counted
    fix = assembler.flush()
    if fix is not None:
        yield fix
