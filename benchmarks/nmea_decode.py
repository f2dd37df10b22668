"""NMEA decode throughput: emdesk's full decode beside plain ``pynmea2.parse``.

Runs over every capture in gpsd's NMEA regression set (``tests/data/gpsd-nmea``, or
``$EMDESK_GPSD_DATA``), the same lines for every contender:

* ``pynmea2``   -- ``pynmea2.parse(line)`` on every line (checksum included), errors
  caught: the baseline;
* ``pipeline``  -- the full decode: framing, checksums, tokenising, malformed counting
  and gpsd-compatible epoch assembly to fixes, i.e. everything ``emdesk nmea decode``
  does short of printing.  **Its speed over pynmea2's is the ratio** (``ratio``); the
  goal is at least 1.2x;
* ``decoder``   -- the sentence layer on its own (``SentenceDecoder.decode_all`` per
  line: no epochs), printed for information.

The machine may be shared, so the measurement is built to be stable rather than
quick: each capture is timed on its own, ``REPEATS`` times per contender with the
contenders interleaved, and its best time kept (noise only ever adds time); that is
done in ``PROCESSES`` fresh processes one after another, and the best per capture
over all of them makes the figures.  The spread of the per-process ratios is printed
too.

    python -m benchmarks.nmea_decode            # or: python -m benchmarks --only nmea_decode
"""
from __future__ import annotations

import gc
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pynmea2

from emdesk.devices.nmea import decode_lines
from emdesk.devices.nmea.decoder import SentenceDecoder

REPEATS = 15
PROCESSES = 5
GOAL = 1.2


def data_dir() -> Path:
    env = os.environ.get("EMDESK_GPSD_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1] / "tests" / "data" / "gpsd-nmea"


def load_captures(directory: Path | None = None) -> list[list[str]]:
    directory = directory or data_dir()
    captures = []
    for path in sorted(directory.glob("*.log")):
        captures.append(path.read_bytes().decode("latin-1").splitlines())
    return captures


def _pynmea2(lines: list[str]) -> None:
    parse = pynmea2.parse
    error = pynmea2.ParseError
    for line in lines:
        try:
            parse(line)
        except error:
            pass


def _decoder(lines: list[str]) -> None:
    decode = SentenceDecoder().decode_all
    for line in lines:
        decode(line)


def _pipeline(lines: list[str]) -> None:
    for _fix in decode_lines(lines):
        pass


CONTENDERS = {"pynmea2": _pynmea2, "pipeline": _pipeline, "decoder": _decoder}


def measure(captures: list[list[str]], repeats: int = REPEATS) -> dict[str, list[float]]:
    """Best time per capture for each contender (seconds), in one process."""
    best = {name: [float("inf")] * len(captures) for name in CONTENDERS}
    order = list(CONTENDERS.items())
    gc_was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()               # (a collection landing in one contender's run is noise)
    try:
        for i, lines in enumerate(captures):
            for r in range(repeats):
                for name, fn in order[r % len(order):] + order[:r % len(order)]:
                    start = time.perf_counter()
                    fn(lines)
                    elapsed = time.perf_counter() - start
                    if elapsed < best[name][i]:
                        best[name][i] = elapsed
            gc.collect()
    finally:
        if gc_was_enabled:
            gc.enable()
    return best


def _child(repeats: int) -> int:
    json.dump(measure(load_captures(), repeats), sys.stdout)
    return 0


def run(directory: Path | None = None, repeats: int = REPEATS, processes: int = PROCESSES) -> dict:
    """Measure in ``processes`` fresh processes; returns lines/s and ratios to pynmea2."""
    captures = load_captures(directory)
    if not captures:
        raise FileNotFoundError(f"no *.log captures in {directory or data_dir()}")
    env = dict(os.environ, EMDESK_GPSD_DATA=str(directory or data_dir()))
    runs = []
    for _ in range(processes):
        out = subprocess.run([sys.executable, "-m", "benchmarks.nmea_decode", "--child", str(repeats)],
                             capture_output=True, text=True, check=True, env=env,
                             cwd=Path(__file__).resolve().parents[1])
        runs.append(json.loads(out.stdout))
    n_lines = sum(len(lines) for lines in captures)
    counter = SentenceDecoder()
    for lines in captures:
        for line in lines:
            counter.decode_all(line)
    best = {name: [min(r[name][i] for r in runs) for i in range(len(captures))] for name in CONTENDERS}
    total = {name: sum(times) for name, times in best.items()}
    per_process = [sum(r["pynmea2"]) / sum(r["pipeline"]) for r in runs]
    return {
        "ratio": total["pynmea2"] / total["pipeline"],      # THE ratio: full decode vs pynmea2
        "ratio_per_process": per_process,
        "captures": len(captures),
        "lines": n_lines,
        "sentences": counter.sentence_count,
        "malformed": counter.malformed_count,
        "pynmea2_lines_per_s": n_lines / total["pynmea2"],
        "pipeline_lines_per_s": n_lines / total["pipeline"],
        "decoder_lines_per_s": n_lines / total["decoder"],
        "decoder_ratio": total["pynmea2"] / total["decoder"],
        "pipeline_ratio": total["pynmea2"] / total["pipeline"],
        "repeats": repeats,
        "processes": processes,
    }


def main() -> int:
    result = run()
    spread = result["ratio_per_process"]
    print(f"{result['captures']} captures, {result['lines']} lines "
          f"({result['sentences']} sentences, {result['malformed']} malformed); "
          f"best of {result['repeats']} per capture, {result['processes']} processes")
    print(f"pynmea2.parse        {result['pynmea2_lines_per_s']:>12,.0f} lines/s")
    print(f"emdesk decode        {result['pipeline_lines_per_s']:>12,.0f} lines/s"
          f"   ratio {result['ratio']:.2f}x  (full decode: sentences + gpsd epochs; goal {GOAL}x)")
    print(f"  per process: {min(spread):.2f}x min, {statistics.median(spread):.2f}x median, {max(spread):.2f}x max")
    print(f"  sentence layer only{result['decoder_lines_per_s']:>12,.0f} lines/s"
          f"   ratio {result['decoder_ratio']:.2f}x")
    return 0 if result["ratio"] >= GOAL else 1


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        sys.exit(_child(int(sys.argv[2])))
    sys.exit(main())
