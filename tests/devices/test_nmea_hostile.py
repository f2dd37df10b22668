"""Hostile NMEA input: nothing crashes the decoder, starves it, or makes it hold the file.

Each input runs under a time and a memory bound (tracemalloc's peak for what the
decoder allocates beyond the input itself); the fuzz tests draw from the same kinds of
input with hypothesis deadlines.  Large inputs are generated as streams, never stored.
"""
from __future__ import annotations

import io
import os
import threading
import time
import tracemalloc
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emdesk.devices.nmea import SentenceDecoder, decode_file, decode_lines, decode_stream, read_lines
from emdesk.devices.nmea.cli import main
from emdesk.devices.nmea.decoder import checksum

REFERENCE = date(2024, 5, 1)
MB = 1 << 20


def nmea(body: str, start: str = "$") -> str:
    return f"{start}{body}*{checksum(body):02X}"


def epoch(second: int) -> list[str]:
    hhmmss = f"1200{second % 60:02d}.00" if second < 60 else f"12{second // 60 % 60:02d}{second % 60:02d}.00"
    return [nmea(f"GPRMC,{hhmmss},A,4807.038,N,01131.000,E,10.0,84.4,010524,,,A"),
            nmea(f"GPGGA,{hhmmss},4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,"),
            nmea("GPGSA,A,3,04,05,09,12,24,25,29,31,,,,,1.8,0.9,1.5")]


def bounded(run, *, seconds: float, extra_bytes: int, twice: bool = True):
    """``run()`` must finish within ``seconds`` and allocate at most ``extra_bytes`` at peak.

    tracemalloc slows Python down several times over, so with ``twice`` the time is
    taken on a plain run and the peak on a second, traced one (``run`` must be
    repeatable); without, both come from one traced run."""
    if twice:
        start = time.perf_counter()
        run()
        elapsed = time.perf_counter() - start
        assert elapsed < seconds, f"took {elapsed:.1f} s (bound {seconds} s)"
    tracemalloc.start()
    try:
        start = time.perf_counter()
        result = run()
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert twice or elapsed < seconds, f"took {elapsed:.1f} s (bound {seconds} s)"
    assert peak < extra_bytes, f"peak {peak / MB:.1f} MB (bound {extra_bytes / MB:.1f} MB)"
    return result


def decode_text(text: str) -> tuple[list, SentenceDecoder]:
    decoder = SentenceDecoder()
    fixes = list(decode_stream(read_lines(io.BytesIO(text.encode("latin-1"))), decoder, REFERENCE))
    return fixes, decoder


# -- 1: a 5,000-digit AIS field ------------------------------------------------------------

AIS_HUGE = nmea("AIVDM," + "9" * 5000 + ",1,,A,13aNoh0000PJ7>nN>wm@?VwJ08J:,0", "!")


def test_an_ais_sentence_with_a_5000_digit_field_is_skipped_not_fatal(tmp_path, capsys):
    lines = [*epoch(0), AIS_HUGE, *epoch(1), AIS_HUGE.replace("9" * 5000, "1," + "7" * 5000), *epoch(2)]
    fixes = bounded(lambda: list(decode_lines(lines, REFERENCE)), seconds=2, extra_bytes=MB)
    assert len(fixes) == 3
    path = tmp_path / "ais.log"
    path.write_text("\n".join(lines) + "\n", encoding="latin-1")
    assert main(["decode", str(path)]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 3 and "Traceback" not in err


# -- 2: repeated AIS fragments ----------------------------------------------------------------

FRAGMENT = nmea("AIVDM,3,2,,A,13aNoh0000PJ7>nN>wm@?VwJ08J:,0", "!")


def _fragments(n: int):
    yield from epoch(0)
    for _ in range(n):
        yield FRAGMENT
    yield from epoch(1)
    yield from epoch(2)


def test_repeated_ais_fragments_take_linear_time_and_bounded_memory():
    # Before: 40k lines 4.5 s, 80k lines 18 s, the fragment buffer growing all along.
    fixes = bounded(lambda: list(decode_lines(_fragments(50_000), REFERENCE)), seconds=4, extra_bytes=MB)
    assert len(fixes) == 3


# -- 3: a megabyte of "$", and sentences without line endings ------------------------------

def test_a_megabyte_line_of_dollars_is_one_pass(tmp_path):
    # Before: 41 s (the rest of the line copied at every "$").
    path = tmp_path / "dollars.log"
    path.write_text("\n".join([*epoch(0), "$" * MB, "!" * (MB // 4), "$!" * (MB // 8), *epoch(1), *epoch(2)]) + "\n")
    result = bounded(lambda: decode_file(path, REFERENCE), seconds=8, extra_bytes=8 * MB)
    assert len(result.fixes) == 3
    assert result.sentence_count == 9 and result.malformed_count >= 3


def test_sentences_run_together_without_line_endings_are_all_read():
    # Before: 10,396 sentences concatenated gave 1 fix, silently dropping the rest.
    sentences = [s for second in range(3466) for s in epoch(second)][:10_396]
    together, decoder = bounded(lambda: decode_text("".join(sentences)), seconds=10, extra_bytes=8 * MB)
    apart, reference = decode_text("\n".join(sentences) + "\n")
    assert len(apart) >= 3465
    assert together == apart
    assert decoder.sentence_count == reference.sentence_count == 10_396
    assert decoder.malformed_count == 0


def test_garbage_between_run_together_sentences_is_counted_once_per_run():
    a, b, c = epoch(0)
    # runs: "xx" | a b | "$GPGGA,12,broken" and c spoilt by the "junk" after it | next line: a
    fixes, decoder = decode_text(f"xx{a}{b}$GPGGA,12,broken{c}junk\n{a}{c}\n")
    assert (decoder.sentence_count, decoder.malformed_count) == (4, 2)
    assert len(fixes) == 1


# -- 4: streaming in bounded memory -----------------------------------------------------------

class Generated(io.RawIOBase):
    """``size`` bytes of a capture made up as it is read: mostly noise without line
    ends or start characters (cheap to skip), with an epoch of sentences every MB."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.epochs = 0
        self.noise = bytes(range(0x25, 0x7B)) * 2048          # no "$", "!" or line ends

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.left <= 0:
            return 0
        want = min(len(buffer), self.left, MB)
        block = bytearray()
        while len(block) < want:
            if (self.left - len(block)) % MB < len(self.noise) or len(block) == 0:
                block += ("\n" + "\n".join(epoch(self.epochs % 3000)) + "\n").encode()
                self.epochs += 1
            block += self.noise[: want - len(block)]
        block = block[:want]
        buffer[:want] = block
        self.left -= want
        return want


def test_a_200_mb_capture_decodes_in_a_few_mb():
    stream = io.BufferedReader(Generated(200 * MB), buffer_size=1 << 16)
    decoder = SentenceDecoder()

    def run() -> int:
        return sum(1 for _ in decode_stream(read_lines(stream), decoder, REFERENCE))

    fixes = bounded(run, seconds=120, extra_bytes=4 * MB, twice=False)
    assert stream.raw.left == 0
    assert fixes >= 150 and decoder.sentence_count >= 3 * fixes


def test_decode_file_reads_a_pipe_as_a_stream(tmp_path):
    # Before: the whole file was read and split in memory (a 200 MB file peaked at 1.2 GB).
    fifo = tmp_path / "capture.fifo"
    os.mkfifo(fifo)
    size = 48 * MB

    def writer() -> None:
        source = Generated(size)
        with open(fifo, "wb") as out:
            while chunk := source.read(MB):
                out.write(chunk)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        result = bounded(lambda: decode_file(fifo, REFERENCE), seconds=60, extra_bytes=6 * MB, twice=False)
    finally:
        thread.join(10)
    assert len(result.fixes) >= 40


# -- fuzzing with the hostile shapes, each input under a deadline and a memory bound ----------

HOSTILE_PIECES = st.one_of(
    st.sampled_from([*epoch(0), *epoch(1), FRAGMENT, "$", "!", "*", ",", "\r", "\n", "\x85", "#"]),
    st.builds(lambda n: "9" * n, st.integers(0, 6000)),
    st.builds(lambda n, c: c * n, st.integers(0, 20_000), st.sampled_from(["$", "!", "$!", "*", ",0"])),
    st.builds(lambda n: nmea("AIVDM," + "9" * n + ",1,,A,x,0", "!"), st.integers(0, 6000)),
    st.builds(lambda n: nmea(f"AIVDM,{n},2,,A," + "w" * 60 + ",0", "!"), st.integers(2, 9)),
)


@settings(max_examples=60, deadline=3000, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(HOSTILE_PIECES, max_size=60), st.integers(min_value=1, max_value=4096))
def test_hostile_streams_are_bounded_and_never_raise(pieces, block):
    text = "".join(pieces)
    decoder = SentenceDecoder()

    def run() -> list:
        return list(decode_stream(read_lines(io.BytesIO(text.encode("latin-1", "replace")), block=block),
                                  decoder, REFERENCE))

    fixes = bounded(run, seconds=1, extra_bytes=2 * MB + 4 * len(text))
    assert all(f.mode in (2, 3) for f in fixes)


@settings(max_examples=40, deadline=3000, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(HOSTILE_PIECES, max_size=40))
def test_hostile_lines_are_bounded_and_never_raise(lines):
    fixes = bounded(lambda: list(decode_lines(lines, REFERENCE)), seconds=1,
                    extra_bytes=2 * MB + 4 * sum(map(len, lines)))
    assert all(f.mode in (2, 3) for f in fixes)


@pytest.mark.parametrize("block", [1, 7, 4096])
def test_reading_in_blocks_gives_the_lines_splitlines_gives(block):
    text = "a\r\nb\rc\n\nd\x85e\x1c" + "$" * 70 + "f\r\n" + "g" * 200
    got = list(read_lines(io.BytesIO(text.encode("latin-1")), block=block))
    # (a CR LF split between two blocks leaves an empty line, which decodes to nothing)
    assert [line for line in got if line] == [line for line in text.splitlines() if line]
    cut = list(read_lines(io.BytesIO(text.encode("latin-1")), block=block, max_line=64))
    assert "".join(cut) == "".join(text.splitlines())
    assert max(map(len, cut)) <= 64 + block
