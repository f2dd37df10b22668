"""NMEA 0183 sentence layer: framing, checksum, tokenising.

One line of a capture (or of a serial stream) goes in (:meth:`SentenceDecoder.decode_all`),
and a list of these comes out:

* :class:`Sentence` -- a complete, checksummed ``$...*hh`` or ``!...*hh`` sentence
  (several when sentences were written one after another without line endings);
* a :class:`DateComment` -- a ``# Date: yyyy-mm-dd`` line (gpsd's regression captures
  use it to say when they were recorded; it fixes the GPS week-rollover reference);
* nothing -- a blank line, another comment, or a malformed line (counted).

Framing follows gpsd's packet layer: a sentence must carry a valid checksum; garbage
before a ``$``/``!`` is skipped (gpsd resynchronises on the next start character); each
run of text that is no sentence counts once as *malformed*.  The work is linear in
the line's length whatever it holds (a line is cut at its start characters once, never
rescanned from each of them).

Field tokenising of the position/time sentences the epoch assembler interprets is
done by pynmea2 (``pynmea2.parse``): its data list becomes ``Sentence.fields``.  The
checksum is verified here first (:func:`checksum`, the XOR of the bytes folded as one
integer): pynmea2's own check is a per-character Python loop and would make the
decoder slower than parsing with pynmea2 alone, so the body is handed to pynmea2
without its ``*hh`` suffix.  Sentences the assembler only needs to *count* or *see*
(satellites in view, text, proprietary, AIS...) are split without building pynmea2
objects, and pynmea2 does not know most proprietary sentences anyway.
"""
from __future__ import annotations

import re
from datetime import date
from functools import reduce
from operator import xor

import pynmea2

__all__ = [
    "PARSED_BY_PYNMEA2",
    "DateComment",
    "Sentence",
    "SentenceDecoder",
    "checksum",
]

#: Talker sentence types built into pynmea2 objects (``Sentence.message``): the
#: ones that carry time and position.
PARSED_BY_PYNMEA2 = frozenset({"GGA", "RMC", "GLL", "GNS", "ZDA"})

# Every sentence's field list is padded with empty strings, so that readers can index
# past the last field the way gpsd does (missing fields read as "").
_PAD = ("",) * 40

# Sentence address: upper-case letters and digits.  "PRHS " (a smart-watch sensor
# sentence gpsd knows) really does end in a space.
_TAG_RE = re.compile(r"[A-Z][A-Z0-9]{1,15} ?\Z")
# Where a line is cut when it is not one good sentence (before each start character).
_STARTS = re.compile(r"(?=[$!])")
# Longer candidates are not sentences (gpsd reads at most NMEA_MAX bytes of one); the
# limit keeps the work per candidate bounded.
_MAX_FRAMED = 1024
_DATE_COMMENT_RE = re.compile(r"#\s*Date:\s*(\d{1,4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?")


def checksum(body: bytes | str) -> int:
    """XOR of the bytes between the start character and ``*``.

    Every line pays this, so up to 128 bytes (all real sentences) the bytes are read as
    one little-endian integer and folded in halves: after the shifts the low byte is
    the XOR of every byte, a handful of big-integer operations in C instead of one
    Python step per byte.
    """
    if isinstance(body, str):
        body = body.encode("latin-1")
    if len(body) > 128:
        return reduce(xor, body, 0)
    x = int.from_bytes(body, "little")
    x ^= x >> 512
    x ^= x >> 256
    x ^= x >> 128
    x ^= x >> 64
    x ^= x >> 32
    x ^= x >> 16
    x ^= x >> 8
    return x & 0xFF


class Sentence:
    """A framed, checksum-verified sentence.

    ``fields[0]`` is the address (``"GPGGA"``, ``"PGRME"``, ``"AIVDM"``); ``fields[n]``
    is NMEA field *n* (gpsd and the NMEA standard count the same way); ``count`` is the
    real number of fields, after which ``fields`` is padded with ``""``.
    """

    __slots__ = ("count", "fields", "message", "tag", "text")

    def __init__(self, tag: str, fields: list[str], count: int, text: str,
                 message: pynmea2.NMEASentence | None = None) -> None:
        self.tag = tag
        self.fields = fields
        self.count = count
        self.text = text
        self.message = message

    @property
    def is_ais(self) -> bool:
        return self.text[0] == "!"

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Sentence({self.text!r})"


class DateComment:
    """``# Date: yyyy-mm-dd`` -- the day a regression capture was recorded."""

    __slots__ = ("date",)

    def __init__(self, day: date) -> None:
        self.date = day

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"DateComment({self.date.isoformat()})"


class SentenceDecoder:
    """Frames lines into sentences; counts good and malformed ones."""

    __slots__ = ("malformed_count", "sentence_count")

    def __init__(self) -> None:
        self.sentence_count = 0
        self.malformed_count = 0

    def decode(self, line: str | bytes) -> Sentence | DateComment | None:
        """One line in; its first sentence, a date comment, or None.  Never raises.

        Counts as :meth:`decode_all` does (a line can hold several sentences run
        together); line-oriented callers that may meet such lines use that instead."""
        items = self.decode_all(line)
        return items[0] if items else None

    def decode_all(self, line: str | bytes) -> list[Sentence | DateComment]:
        """One line in; every sentence on it (or its date comment).  Never raises.

        Work is linear in the line's length, whatever it holds.  A line that is not
        one good sentence is cut before each start character (``$``/``!``): gpsd's
        lexer resynchronises there, and sentences written without line endings in
        between are all read.  Each run of pieces that are not sentences (leading
        garbage, a broken sentence) counts once as malformed.
        """
        if line.__class__ is not str:
            line = bytes(line).decode("latin-1")
        line = line.rstrip()
        if not line:
            return []
        first = line[0]
        if first == "#":
            comment = _date_comment(line)
            return [comment] if comment is not None else []
        if first == "$" or first == "!":
            sentence = _frame(line)
            if sentence is not None:
                self.sentence_count += 1
                return [sentence]
        out: list[Sentence | DateComment] = []
        bad = False
        for piece in _STARTS.split(line):
            if not piece:
                continue
            sentence = _frame(piece.rstrip()) if piece[0] in "$!" else None
            if sentence is None:
                bad = True
                continue
            if bad:
                self.malformed_count += 1      # the garbage in front of it
                bad = False
            self.sentence_count += 1
            out.append(sentence)
        if bad:
            self.malformed_count += 1
        return out


def _frame(text: str) -> Sentence | None:
    """``$body*hh`` with a good checksum -> Sentence; anything else -> None."""
    want = _HEX_PAIRS.get(text[-2:])
    if want is None or len(text) < 5 or text[-3] != "*" or len(text) > _MAX_FRAMED:
        return None
    body = text[1:-3]
    if not (body.isascii() and body.isprintable()) or "*" in body or "$" in body:
        return None
    if checksum(body) != want:
        return None
    comma = body.find(",")
    tag = body[:comma] if comma >= 0 else body
    kind = _TAG_KIND.get(tag)
    if kind is None:
        kind = _classify_tag(tag)
    if kind is _PLAIN or text[0] != "$":
        if kind is _INVALID:
            return None
        fields = body.split(",")
        count = len(fields)
        fields += _PAD
        return Sentence(tag, fields, count, text)
    if kind is _INVALID:
        return None
    try:
        # No "*hh": the checksum is verified above.  pynmea2 tokenises the sentence;
        # its data list is exactly NMEA fields 1..n, so it becomes ``fields``.
        message = pynmea2.parse(body)
    except ValueError:  # pynmea2.ParseError and its subclasses
        return None
    fields = [tag]
    fields += message.data
    count = len(fields)
    fields += _PAD
    return Sentence(tag, fields, count, text, message)


INVALID, PLAIN, PARSED = "invalid", "plain", "pynmea2"
_INVALID, _PLAIN, _PYNMEA2 = INVALID, PLAIN, PARSED
_TAG_KIND: dict[str, str] = {}
_HEX_PAIRS = {a + b: int(a + b, 16) for a in "0123456789ABCDEFabcdef"
              for b in "0123456789ABCDEFabcdef"}


def tag_kind(tag: str) -> str:
    """How the decoder treats an address: "invalid", "plain" (split here) or "pynmea2"."""
    kind = _TAG_KIND.get(tag)
    return kind if kind is not None else _classify_tag(tag)


def _classify_tag(tag: str) -> str:
    if _TAG_RE.match(tag) is None:
        kind = _INVALID
    elif len(tag) == 5 and tag[0] != "P" and tag[2:] in PARSED_BY_PYNMEA2:
        # (pynmea2 would read a "PQGSA"-style Quectel address as proprietary.)
        kind = _PYNMEA2
    else:
        kind = _PLAIN
    if len(_TAG_KIND) < 4096:
        _TAG_KIND[tag] = kind
    return kind


def _date_comment(line: str) -> DateComment | None:
    """gpsd reads ``# Date: yyyy[-mm[-dd]]``; year 1968..2200, bad month/day -> 1."""
    m = _DATE_COMMENT_RE.match(line)
    if m is None:
        return None
    year = int(m.group(1))
    if not 1968 <= year <= 2200:
        return None
    month = int(m.group(2) or 0)
    day = int(m.group(3) or 0)
    if not 1 <= month <= 12:
        month = 1
    if not 1 <= day <= 31:
        day = 1
    try:
        return DateComment(date(year, month, day))
    except ValueError:  # 31 February and friends
        return DateComment(date(year, month, 1))
