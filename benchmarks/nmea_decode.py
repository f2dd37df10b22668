"""NMEA decode throughput: emdesk's full decode beside plain ``pynmea2.parse``.

Runs over every capture in gpsd's NMEA regression set (``shared/data/gpsd-nmea``, or
``$EMDESK_GPSD_DATA``), the same lines for every contender, in the same process,
interleaved and best-of-N so that a noisy machine penalises all of them alike:

* ``pynmea2``   -- ``pynmea2.parse(line)`` on every line (checksum included), errors
  caught: the baseline;
* ``pipeline``  -- the full decode: framing, checksums, pynmea2 tokenising of the fix
  sentences, malformed counting and gpsd-compatible epoch assembly, i.e. everything
  ``emdesk nmea decode`` does short of printing.  **Its ratio to pynmea2 is the
  ratio** (``ratio``), and it must stay >= 1: emdesk may not be slower than parsing
  the same bytes with pynmea2 alone;
* ``decoder``   -- the sentence layer on its own (``SentenceDecoder.decode`` per line:
  no epochs), printed for information.

    python -m benchmarks.nmea_decode
"""
from __future__ import annotations

import gc
import os
import sys
import time
from pathlib import Path

import pynmea2

from emdesk.devices.nmea import decode_lines
from emdesk.devices.nmea.decoder import SentenceDecoder

ROUNDS = 7


def data_dir() -> Path:
    env = os.environ.get("EMDESK_GPSD_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1].parent / "shared" / "data" / "gpsd-nmea"


def load_captures(directory: Path | None = None) -> list[list[str]]:
    directory = directory or data_dir()
    captures = []
    for path in sorted(directory.glob("*.log")):
        captures.append(path.read_bytes().decode("latin-1").splitlines())
    return captures


def _pynmea2(captures: list[list[str]]) -> None:
    parse = pynmea2.parse
    error = pynmea2.ParseError
    for lines in captures:
        for line in lines:
            try:
                parse(line)
            except error:
                pass


def _decoder(captures: list[list[str]]) -> None:
    for lines in captures:
        decode = SentenceDecoder().decode
        for line in lines:
            decode(line)


def _pipeline(captures: list[list[str]]) -> None:
    for lines in captures:
        for _fix in decode_lines(lines):
            pass


def run(directory: Path | None = None, rounds: int = ROUNDS) -> dict:
    """Time the contenders; returns lines/s for each and the ratios to pynmea2.

    ``ratio`` is the full decode (decoder and epoch assembly) against pynmea2, and must
    stay >= 1.  ``decoder_ratio`` is the sentence layer alone.
    """
    captures = load_captures(directory)
    if not captures:
        raise FileNotFoundError(f"no *.log captures in {directory or data_dir()}")
    n_lines = sum(len(lines) for lines in captures)
    counter = SentenceDecoder()
    for lines in captures:
        for line in lines:
            counter.decode(line)
    contenders = {"pynmea2": _pynmea2, "pipeline": _pipeline, "decoder": _decoder}
    best = dict.fromkeys(contenders, float("inf"))
    gc_was_enabled = gc.isenabled()
    try:
        for _ in range(rounds):
            for name, fn in contenders.items():
                gc.collect()
                start = time.perf_counter()
                fn(captures)
                best[name] = min(best[name], time.perf_counter() - start)
    finally:
        if gc_was_enabled:
            gc.enable()
    rate = {name: n_lines / seconds for name, seconds in best.items()}
    return {
        "ratio": rate["pipeline"] / rate["pynmea2"],  # THE ratio: full decode vs pynmea2
        "captures": len(captures),
        "lines": n_lines,
        "sentences": counter.sentence_count,
        "malformed": counter.malformed_count,
        "pynmea2_lines_per_s": rate["pynmea2"],
        "decoder_lines_per_s": rate["decoder"],
        "pipeline_lines_per_s": rate["pipeline"],
        "decoder_ratio": rate["decoder"] / rate["pynmea2"],
        "pipeline_ratio": rate["pipeline"] / rate["pynmea2"],
    }


def main() -> int:
    result = run()
    print(f"{result['captures']} captures, {result['lines']} lines "
          f"({result['sentences']} sentences, {result['malformed']} malformed)")
    print(f"pynmea2.parse        {result['pynmea2_lines_per_s']:>12,.0f} lines/s")
    print(f"emdesk decode        {result['pipeline_lines_per_s']:>12,.0f} lines/s"
          f"   ratio {result['ratio']:.2f}x  (full decode: sentences + gpsd epochs)")
    print(f"  sentence layer only{result['decoder_lines_per_s']:>12,.0f} lines/s"
          f"   ratio {result['decoder_ratio']:.2f}x")
    return 0 if result["ratio"] >= 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
