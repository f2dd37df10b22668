"""NMEA sentence decoding, epoch assembly rules, the CLI, and robustness to garbage."""
from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from pathlib import Path

import pynmea2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emdesk.devices.nmea import (
    DecodeResult,
    Fix,
    decode_file,
    decode_lines,
    fix_to_json,
)
from emdesk.devices.nmea.cli import main
from emdesk.devices.nmea.decoder import DateComment, Sentence, SentenceDecoder, checksum


def nmea(body: str) -> str:
    """A sentence with its checksum: nmea("GPGGA,...") -> "$GPGGA,...*hh"."""
    return f"${body}*{checksum(body):02X}"


RMC = nmea("GPRMC,120000.00,A,4807.038,N,01131.000,E,10.0,84.4,010524,,,A")
GGA = nmea("GPGGA,120000.00,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,")
GSA = nmea("GPGSA,A,3,04,05,09,12,24,25,29,31,,,,,1.8,0.9,1.5")
GLL = nmea("GPGLL,4807.038,N,01131.000,E,120000.00,A,A")
GSV = nmea("GPGSV,2,1,08,01,40,083,46,02,17,308,41,12,07,344,39,14,22,228,45")
AIS = "!AIVDM,1,1,,A,13aNoh0000PJ7>nN>wm@?VwJ08J:,0*77"
VALID = [RMC, GGA, GSA, GLL, GSV, AIS]


def epoch(hhmmss: str, lat: str = "4807.038", lon: str = "01131.000",
          ddmmyy: str = "010524") -> list[str]:
    return [
        nmea(f"GPRMC,{hhmmss},A,{lat},N,{lon},E,10.0,84.4,{ddmmyy},,,A"),
        nmea(f"GPGGA,{hhmmss},{lat},N,{lon},E,1,08,0.9,545.4,M,46.9,M,,"),
        GSA,
    ]


# --------------------------------------------------------------------------
# Sentence layer


@pytest.mark.parametrize("line, tag, count, fields", [
    (RMC, "GPRMC", 13, {1: "120000.00", 2: "A", 3: "4807.038", 9: "010524"}),
    (GGA, "GPGGA", 15, {6: "1", 7: "08", 9: "545.4"}),
    (GSA, "GPGSA", 18, {2: "3", 3: "04", 16: "0.9"}),
    (GLL, "GPGLL", 8, {5: "120000.00", 6: "A"}),
    (GSV, "GPGSV", 20, {1: "2", 2: "1", 3: "08"}),
    (AIS, "AIVDM", 7, {5: "13aNoh0000PJ7>nN>wm@?VwJ08J:"}),
    (RMC + "\r\n", "GPRMC", 13, {2: "A"}),                       # line endings
    (RMC[:-2] + RMC[-2:].lower(), "GPRMC", 13, {2: "A"}),        # lowercase checksum
    (nmea("PGRME,15.0,M,45.0,M,25.0,M"), "PGRME", 7, {1: "15.0"}),  # proprietary
    (nmea("GPRMC,,V,,,,,,,,,,N"), "GPRMC", 13, {1: "", 2: "V"}),    # empty fields
])
def test_valid_sentences(line, tag, count, fields):
    decoder = SentenceDecoder()
    sentence = decoder.decode(line)
    assert isinstance(sentence, Sentence)
    assert (sentence.tag, sentence.count) == (tag, count)
    for index, value in fields.items():
        assert sentence.fields[index] == value
    assert sentence.fields[count + 5] == ""  # reading past the end is safe, like gpsd
    assert (decoder.sentence_count, decoder.malformed_count) == (1, 0)


@pytest.mark.parametrize("line, kind", [
    (RMC, pynmea2.RMC), (GGA, pynmea2.GGA), (GLL, pynmea2.GLL),
])
def test_position_sentences_are_parsed_by_pynmea2(line, kind):
    sentence = SentenceDecoder().decode(line)
    assert isinstance(sentence.message, kind)
    assert sentence.message.data == sentence.fields[1:sentence.count]


def test_bytes_lines_are_accepted():
    assert SentenceDecoder().decode(RMC.encode()).tag == "GPRMC"


@pytest.mark.parametrize("line", [
    RMC[:-2] + "00",                                   # bad checksum
    RMC[:-2] + "G1",                                   # checksum not hex
    RMC[:-3],                                          # checksum missing
    RMC[:40],                                          # truncated mid-sentence
    "$GPGGA,012530.562,4131.7353,N,09336.8150,W,0,00,50.",  # truncated (real capture)
    "$GPBOD,,T,,M,,*",                                 # empty checksum (real capture)
    "$SkyTraq,Venus6",                                 # no checksum (real capture)
    nmea("gpgga,120000.00,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,"),  # lowercase
    nmea("GP GGA,1,2"),                                # bad address
    nmea("GPGGA,12\x01,4807.038"),                     # control character
    "this is not nmea",
    "\x00\xff\xfe garbage \x07",
    "$",
    "*00",
    "$*00",
])
def test_malformed_lines_are_counted_and_skipped(line):
    decoder = SentenceDecoder()
    assert decoder.decode(line) is None
    assert (decoder.sentence_count, decoder.malformed_count) == (0, 1)


@pytest.mark.parametrize("line", ["", "   ", "\r\n", "# a comment", "#"])
def test_blank_and_comment_lines_are_not_sentences(line):
    decoder = SentenceDecoder()
    assert decoder.decode(line) is None
    assert (decoder.sentence_count, decoder.malformed_count) == (0, 0)


def test_leading_garbage_is_skipped_like_gpsd():
    decoder = SentenceDecoder()
    # A broken sentence running into a good one (seen in triton400.log).
    sentence = decoder.decode("$GPGGA,030130" + GLL)
    assert sentence.tag == "GPGLL"
    sentence = decoder.decode("\x82b\x82garbage" + RMC)
    assert sentence.tag == "GPRMC"
    assert (decoder.sentence_count, decoder.malformed_count) == (2, 2)


@pytest.mark.parametrize("line, day", [
    ("# Date: 2021-12-22", date(2021, 12, 22)),
    ("# Date: 2017-1-9", date(2017, 1, 9)),
    ("# Date: 2021-12-18T", date(2021, 12, 18)),
    ("# Date: 2019-13-40", date(2019, 1, 1)),
])
def test_date_comment(line, day):
    item = SentenceDecoder().decode(line)
    assert isinstance(item, DateComment) and item.date == day


# --------------------------------------------------------------------------
# Epoch assembly


def test_epochs_combine_rmc_gga_gsa():
    lines = ["# Date: 2024-05-01", *epoch("120000.00"), *epoch("120001.00", lat="4807.040")]
    fixes = list(decode_lines(lines))
    assert len(fixes) == 2
    first = fixes[0]
    assert first.time == datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    assert first.lat == pytest.approx(48 + 7.038 / 60)
    assert first.lon == pytest.approx(11 + 31.0 / 60)
    assert first.mode == 3
    assert first.hdop == pytest.approx(0.9)
    assert first.speed == pytest.approx(10.0 * 0.51444444)
    assert first.sats == 8
    assert fixes[1].time.second == 1
    assert fixes[1].lat == pytest.approx(48 + 7.040 / 60)


def test_rmc_alone_is_a_2d_fix():
    lines = [nmea(f"GPRMC,1200{s:02d},A,4807.038,S,01131.000,W,0.0,0.0,010524,,")
             for s in range(3)]
    fixes = list(decode_lines(lines, reference_date=date(2024, 5, 1)))
    assert [f.mode for f in fixes] == [2, 2, 2]
    assert fixes[0].lat < 0 and fixes[0].lon < 0
    assert [f.time.second for f in fixes] == [0, 1, 2]


@pytest.mark.parametrize("lines", [
    [nmea("GPRMC,120000.00,V,4807.038,N,01131.000,E,,,010524,,,N")] * 3,   # status V
    [nmea("GPRMC,,V,,,,,,,,,,N")] * 3,                                    # no time at all
    [nmea(f"GPGGA,12000{s},4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,")
     for s in range(3)],                                                  # never a date
    [nmea(f"GPGGA,12000{s},4807.038,N,01131.000,E,0,00,,,M,,M,,") for s in range(3)],
    [GSV, GSA, AIS],
])
def test_no_fix_without_valid_time_and_position(lines):
    assert list(decode_lines(lines, reference_date=date(2024, 5, 1))) == []


def test_two_digit_years_and_milliseconds():
    lines = [nmea("GPRMC,235959.5,A,4807.038,N,01131.000,E,,,311299,,"),
             nmea("GPRMC,235959.9996,A,4807.038,N,01131.000,E,,,311299,,")]
    fixes = list(decode_lines(lines, reference_date=date(2000, 1, 1)))
    assert [fix_to_json(f)["time"] for f in fixes] == [
        "1999-12-31T23:59:59.500Z", "2000-01-01T00:00:00.000Z"]


@pytest.mark.parametrize("reference, year", [(date(2024, 6, 1), 2033), (date(2015, 3, 10), 2014)])
def test_gps_week_rollover_repair_depends_on_when_the_receiver_ran(reference, year):
    # An old receiver that lost a 1024-week rollover (rst39.log): gpsd moves a
    # pre-2017 date forward 1024 weeks when running after 2016, not before.
    lines = [nmea("GPRMC,204132.00,A,4205.733476,N,08802.041110,W,9.415,21.404,190214,,,D")]
    (fix,) = decode_lines(lines, reference_date=reference)
    assert fix.time.year == year
    if year == 2033:
        assert fix.time.date() == date(2033, 10, 5)


def test_fix_to_json_has_exactly_the_contract_keys():
    fix = Fix(time=datetime(2014, 5, 26, 8, 14, 11, tzinfo=UTC),
              lat=52.123456789123, lon=-1.5, mode=3, hdop=1.234, speed=0.5144444, sats=7)
    assert fix_to_json(fix) == {"time": "2014-05-26T08:14:11.000Z", "lat": 52.123456789,
                                "lon": -1.5, "mode": 3, "hdop": 1.23, "speed": 0.514,
                                "sats": 7}
    bare = Fix(time=fix.time, lat=1.0, lon=2.0, mode=2)
    assert fix_to_json(bare) == {"time": "2014-05-26T08:14:11.000Z", "lat": 1.0,
                                 "lon": 2.0, "mode": 2}
    json.dumps(fix_to_json(fix))


def test_decode_file(tmp_path):
    path = tmp_path / "capture.log"
    path.write_text("\n".join(["# Date: 2024-05-01", *epoch("120000.00"), "garbage",
                               RMC[:-2] + "00", *epoch("120001.00")]) + "\n")
    result = decode_file(path)
    assert isinstance(result, DecodeResult)
    assert len(result.fixes) == 2
    assert result.malformed_count == 2
    assert result.sentence_count == 6


def test_decode_file_unreadable(tmp_path):
    with pytest.raises(OSError):
        decode_file(tmp_path / "missing.log")


def _gpsd_data() -> Path:
    env = os.environ.get("EMDESK_GPSD_DATA")
    return Path(env) if env else Path(__file__).parents[1] / "data" / "gpsd-nmea"


def test_fuzzy_cases_capture_is_never_fatal():
    path = _gpsd_data() / "nmea-fuzzy-cases.log"
    result = decode_file(path)
    lines = [l for l in path.read_text(encoding="latin-1").splitlines()
             if l.strip() and not l.startswith("#")]
    assert result.sentence_count + result.malformed_count == len(lines)
    assert result.fixes and all(f.mode in (2, 3) for f in result.fixes)


# --------------------------------------------------------------------------
# CLI


def test_cli_decode_prints_json_lines(tmp_path, capsys):
    path = tmp_path / "capture.log"
    path.write_text("\n".join(["# Date: 2024-05-01", *epoch("120000.00"), "junk",
                               *epoch("120001.00")]))
    assert main(["decode", str(path)]) == 0
    out, err = capsys.readouterr()
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["time"] for r in records] == ["2024-05-01T12:00:00.000Z",
                                            "2024-05-01T12:00:01.000Z"]
    assert set(records[0]) == {"time", "lat", "lon", "mode", "hdop", "speed", "sats"}
    assert err.strip() == "2 fixes, 1 malformed sentences skipped"


def test_cli_decode_garbage_only_is_still_success(tmp_path, capsys):
    path = tmp_path / "garbage.log"
    path.write_bytes(b"\x00\x01\x02\n$GPGGA,broken\n" + os.urandom(64))
    assert main(["decode", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("0 fixes, ") and err.rstrip().endswith("malformed sentences skipped")


@pytest.mark.parametrize("make", [lambda p: p / "missing.log", lambda p: p])
def test_cli_decode_unreadable_file(tmp_path, capsys, make):
    assert main(["decode", str(make(tmp_path))]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "cannot read" in err


def test_cli_usage_errors(capsys):
    assert main([]) == 2
    assert main(["decode"]) == 2
    assert main(["frobnicate", "x"]) == 2


# --------------------------------------------------------------------------
# Fuzzing: nothing raises, whatever comes down the wire


FUZZ = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


def _run(lines) -> SentenceDecoder:
    decoder = SentenceDecoder()
    from emdesk.devices.nmea import decode_stream
    for fix in decode_stream(lines, decoder, reference_date=date(2024, 5, 1)):
        assert fix.mode in (2, 3)
        assert -90 <= fix.lat <= 90 and -180 <= fix.lon <= 180
    return decoder


@FUZZ
@given(st.lists(st.binary(max_size=120), max_size=30))
def test_random_bytes_never_raise(chunks):
    decoder = _run(chunks)
    assert decoder.sentence_count + decoder.malformed_count <= len(chunks)


@FUZZ
@given(st.lists(st.text(alphabet=st.sampled_from("$!*,.0123456789ABCDEFGLMNPRSVWabz \t#"),
                        max_size=100), max_size=30))
def test_nmea_looking_text_never_raises(lines):
    _run(lines)


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(VALID + epoch("120001.00")),
                          st.integers(min_value=0, max_value=120)), max_size=40))
def test_truncated_sentences_never_raise(pieces):
    lines = [line[:cut] for line, cut in pieces]
    _run(lines)
    for line in lines:
        item = SentenceDecoder().decode(line)
        if isinstance(item, Sentence):
            body = item.text[1:-3]
            assert checksum(body) == int(item.text[-2:], 16)


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(VALID + epoch("120001.00")),
                          st.integers(min_value=0, max_value=10_000),
                          st.integers(min_value=0, max_value=7)), min_size=1, max_size=40))
def test_flipped_bits_never_raise_and_are_caught_by_the_checksum(flips):
    lines = []
    for line, position, bit in flips:
        raw = bytearray(line.encode())
        raw[position % len(raw)] ^= 1 << bit
        lines.append(bytes(raw))
    _run(lines)
    for raw in lines:
        item = SentenceDecoder().decode(raw)
        if isinstance(item, Sentence):  # a flip can only survive by breaking nothing
            assert checksum(item.text[1:-3]) == int(item.text[-2:], 16)
