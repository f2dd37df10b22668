"""The short road (decode_stream) and the long road (decoder + assembler.feed) agree.

``decode_stream`` frames common sentences itself, remembers lines it has seen, and
lets the assembler skip work for sentences that cannot change the fix.  None of that
may change a single fix or count: every capture and every kind of damage must come
out exactly as feeding the decoder's sentences one by one to ``EpochAssembler.feed``.
"""
from __future__ import annotations

import os
import random
from datetime import date
from functools import reduce
from operator import xor
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emdesk.devices.nmea import EpochAssembler, SentenceDecoder, decode_stream
from emdesk.devices.nmea.decoder import checksum

REFERENCE = date(2024, 5, 1)


def _data() -> Path:
    env = os.environ.get("EMDESK_GPSD_DATA")
    return Path(env) if env else Path(__file__).parents[1] / "data" / "gpsd-nmea"


CAPTURES = sorted(_data().glob("*.log"))
assert CAPTURES, f"no gpsd captures in {_data()}"


def long_road(lines) -> tuple[list, int, int]:
    decoder, assembler, fixes = SentenceDecoder(), EpochAssembler(REFERENCE), []
    for line in lines:
        for item in decoder.decode_all(line):
            if (fix := assembler.feed(item)) is not None:
                fixes.append(fix)
    if (fix := assembler.flush()) is not None:
        fixes.append(fix)
    return fixes, decoder.sentence_count, decoder.malformed_count


def short_road(lines) -> tuple[list, int, int]:
    decoder = SentenceDecoder()
    fixes = list(decode_stream(lines, decoder, REFERENCE))
    return fixes, decoder.sentence_count, decoder.malformed_count


def _lines(path: Path) -> list[str]:
    return path.read_bytes().decode("latin-1").splitlines()


@pytest.mark.parametrize("capture", CAPTURES, ids=[p.name for p in CAPTURES])
def test_both_roads_agree_on_every_capture(capture):
    lines = _lines(capture)
    assert short_road(lines) == long_road(lines)


def test_both_roads_agree_on_shuffled_and_damaged_captures():
    rng = random.Random(2026)
    pool = [line for path in CAPTURES for line in _lines(path)]
    for trial in range(150):
        start = rng.randrange(len(pool) - 300)
        lines: list = pool[start:start + rng.randrange(20, 300)]
        if trial % 3 == 0:
            lines = [rng.choice(pool) for _ in range(120)]          # sentences out of context
        if trial % 4 == 1:
            lines = [line[:rng.randrange(len(line) + 1)] if rng.random() < 0.2 else line for line in lines]
        if trial % 5 == 2:
            damaged = []
            for line in lines:
                raw = bytearray(line.encode("latin-1"))
                if raw and rng.random() < 0.2:
                    raw[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
                damaged.append(bytes(raw) if trial % 2 else raw.decode("latin-1"))
            lines = damaged
        assert short_road(lines) == long_road(lines), f"trial {trial}"


def test_repeated_lines_and_byte_lines_count_alike():
    body = "GPGSV,1,1,04,01,40,083,46,02,17,308,41,12,07,344,39,14,22,228,45"
    gsv = f"${body}*{checksum(body):02X}"
    rmc = [f"$GPRMC,1200{s:02d}.00,A,4807.038,N,01131.000,E,0.0,0.0,010524,,," for s in range(5)]
    rmc = [f"{line}*{checksum(line[1:]):02X}" for line in rmc]
    lines = [x for r in rmc for x in (r, gsv, gsv.encode(), bytearray(gsv.encode()), "garbage", gsv[:-2] + "00")]
    fixes, sentences, malformed = short_road(lines)
    assert (fixes, sentences, malformed) == long_road(lines)
    assert len(fixes) == 5 and sentences == 5 * 4 and malformed == 5 * 2


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=200))
def test_folded_checksum_is_the_xor_checksum(body):
    assert checksum(body) == reduce(xor, body.encode(), 0)


def test_the_short_road_tokenises_fix_sentences_exactly_as_pynmea2():
    import pynmea2

    from emdesk.devices.nmea.decoder import PARSED, tag_kind
    seen = 0
    for path in CAPTURES:
        for line in _lines(path):
            line = line.rstrip()
            if not line.startswith("$") or "*" not in line:
                continue
            body = line[1:line.index("*")]
            tag = body.split(",", 1)[0]
            if tag_kind(tag) is not PARSED or "," not in body:
                continue
            try:
                data = pynmea2.parse(body).data
            except pynmea2.ParseError:
                continue
            assert [tag, *data] == body.split(","), line
            seen += 1
    assert seen > 5000
