"""NMEA 0183 decoding: sentences in, gpsd-compatible fix epochs out.

Usage::

    from emdesk.devices.nmea import decode_file, fix_to_json
    result = decode_file("capture.log")
    records = [fix_to_json(f) for f in result.fixes]

``decode_lines`` is the streaming form (an iterator of :class:`Fix`); ``read_lines``
cuts a binary file into lines in bounded memory (``decode_file`` and ``emdesk nmea
decode`` use it, so a capture of any size needs a few megabytes).  Malformed lines
are counted and skipped, never raised.  See :mod:`.epochs` for how sentences are
grouped into epochs (gpsd's reporting-cycle rules), :mod:`.decoder` for framing and
:mod:`.stream` for the loop that joins them.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date
from os import PathLike

from .decoder import DateComment, Sentence, SentenceDecoder
from .epochs import EpochAssembler, Fix
from .lines import read_lines
from .stream import decode_stream

__all__ = [
    "DateComment",
    "DecodeResult",
    "EpochAssembler",
    "Fix",
    "Sentence",
    "SentenceDecoder",
    "decode_file",
    "decode_lines",
    "decode_stream",
    "fix_to_json",
    "read_lines",
]


@dataclass(frozen=True, slots=True)
class DecodeResult:
    fixes: list[Fix]
    malformed_count: int
    sentence_count: int


def decode_lines(lines: Iterable[str | bytes],
                 reference_date: date | None = None) -> Iterator[Fix]:
    """One :class:`Fix` per fix epoch, in order."""
    return decode_stream(lines, SentenceDecoder(), reference_date)


def decode_file(path: str | PathLike[str], reference_date: date | None = None) -> DecodeResult:
    """Decode a capture file.  Raises OSError if it cannot be read."""
    decoder = SentenceDecoder()
    with open(path, "rb") as fh:
        fixes = list(decode_stream(read_lines(fh), decoder, reference_date))
    return DecodeResult(fixes=fixes, malformed_count=decoder.malformed_count,
                        sentence_count=decoder.sentence_count)


def fix_to_json(fix: Fix) -> dict:
    """The contract's JSON object: time, lat, lon, mode [, hdop, speed, sats]."""
    t = fix.time.astimezone(UTC)
    out: dict = {
        "time": t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z",
        "lat": round(fix.lat, 9),
        "lon": round(fix.lon, 9),
        "mode": fix.mode,
    }
    if fix.hdop is not None:
        out["hdop"] = round(fix.hdop, 2)
    if fix.speed is not None:
        out["speed"] = round(fix.speed, 3)
    if fix.sats is not None:
        out["sats"] = fix.sats
    return out

