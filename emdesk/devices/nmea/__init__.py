"""NMEA 0183 decoding: sentences in, gpsd-compatible fix epochs out.

Usage::

    from emdesk.devices.nmea import decode_file, fix_to_json
    result = decode_file("capture.log")
    records = [fix_to_json(f) for f in result.fixes]

``decode_lines`` is the streaming form (an iterator of :class:`Fix`).  Malformed lines
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
    with open(path, "rb") as fh:
        data = fh.read()
    decoder = SentenceDecoder()
    lines = data.decode("latin-1").splitlines()
    fixes = list(decode_stream(lines, decoder, reference_date))
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

