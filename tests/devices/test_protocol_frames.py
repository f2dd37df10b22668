"""FrameDecoder: frames out of any byte stream, resync after garbage, never raise or hang."""
from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emdesk.devices.protocol import (
    MAX_FRAME, MAX_PAYLOAD, SOF, Frame, FrameDecoder, ProtocolError, ProtocolErrorKind, encode_frame,
)

A = Frame(0x0102, 0x81, b"\x00hello")
B = Frame(0x0000, 0x60, bytes(range(40)))
C = Frame(0xFFFF, 0x02, b"")


def decode_all(data: bytes, chunk: int | None = None) -> list:
    d = FrameDecoder()
    out = []
    step = chunk or max(1, len(data))
    for i in range(0, len(data), step):
        out += d.feed(data[i:i + step])
    out += d.flush()
    assert d.pending == 0
    return out


def frames(items) -> list[Frame]:
    return [i for i in items if isinstance(i, Frame)]


def test_round_trip_byte_by_byte():
    wire = A.encode() + B.encode() + C.encode()
    assert decode_all(wire, chunk=1) == [A, B, C]


def test_garbage_before_between_and_after_is_reported_and_skipped():
    wire = b"\x00\xffjunk" + A.encode() + b"\xa5\x02noise" + B.encode() + b"tail"
    out = decode_all(wire)
    assert frames(out) == [A, B]
    assert all(i.kind is ProtocolErrorKind.GARBAGE for i in out if isinstance(i, ProtocolError))


def test_a_flipped_bit_loses_only_that_frame():
    bad = bytearray(A.encode())
    bad[9] ^= 0x10
    out = decode_all(bytes(bad) + B.encode())
    assert frames(out) == [B]
    assert any(isinstance(i, ProtocolError) and i.kind is ProtocolErrorKind.BAD_CRC for i in out)


def test_a_corrupted_length_does_not_swallow_the_next_frame_after_flush():
    bad = bytearray(A.encode())
    bad[6] = 0xFF                      # claims 255 payload bytes
    d = FrameDecoder()
    assert frames(d.feed(bytes(bad) + B.encode())) == []      # waiting for the bytes it was promised
    out = d.flush()                                             # the line went idle
    assert frames(out) == [B]
    assert any(i.kind is ProtocolErrorKind.TRUNCATED for i in out if isinstance(i, ProtocolError))


def test_sof_inside_a_payload_is_not_a_frame_start():
    f = Frame(7, 0x81, bytes([SOF, 0x01, 0x00, 0x01, 0x81, 0x00, 0x00]) * 3)
    assert decode_all(f.encode(), chunk=3) == [f]


def test_oversized_length_field_is_garbage():
    wire = bytes([SOF, 0x01, 0, 1, 2, 0xFF, 0xFF]) + A.encode()
    assert frames(decode_all(wire)) == [A]


def test_encode_rejects_out_of_range_fields():
    with pytest.raises(ValueError):
        encode_frame(70000, 1)
    with pytest.raises(ValueError):
        encode_frame(1, 256)
    with pytest.raises(ValueError):
        encode_frame(1, 1, bytes(MAX_PAYLOAD + 1))


# -- fuzz: random bytes, truncations, bit flips; only frames or errors, bounded work -------------

frame_st = st.builds(Frame, st.integers(0, 0xFFFF), st.integers(0, 0xFF), st.binary(max_size=64))
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _bounded_decode(data: bytes, chunks: list[int]) -> list:
    d = FrameDecoder()
    out = []
    start = time.perf_counter()
    i = 0
    for c in chunks or [len(data)]:
        out += d.feed(data[i:i + c])
        i += c
        assert d.pending <= MAX_FRAME
    out += d.feed(data[i:])
    out += d.flush()
    assert time.perf_counter() - start < 2.0          # work is bounded (linear in input)
    assert all(isinstance(x, (Frame, ProtocolError)) for x in out)
    assert len(out) <= len(data) + 1
    assert d.pending == 0
    return out


@FUZZ
@given(st.binary(max_size=3000), st.lists(st.integers(1, 64), max_size=50))
def test_fuzz_random_bytes(data, chunks):
    _bounded_decode(data, chunks)


@FUZZ
@given(st.binary(max_size=40), st.lists(frame_st, min_size=1, max_size=5), st.binary(max_size=40))
def test_fuzz_frames_survive_surrounding_garbage(before, fs, after):
    wire = before + b"".join(f.encode() for f in fs) + after
    got = frames(_bounded_decode(wire, []))
    it = iter(got)                                     # every real frame is found, in order
    assert all(any(g == f for g in it) for f in fs)


@FUZZ
@given(st.lists(frame_st, min_size=1, max_size=4), st.data())
def test_fuzz_truncations_and_bit_flips(fs, data):
    wire = bytearray(b"".join(f.encode() for f in fs))
    cut = data.draw(st.integers(0, len(wire)))
    flips = data.draw(st.lists(st.integers(0, len(wire) * 8 - 1), max_size=4))
    for bit in flips:
        wire[bit // 8] ^= 1 << (bit % 8)
    out = _bounded_decode(bytes(wire[:cut]), data.draw(st.lists(st.integers(1, 16), max_size=20)))
    if not flips:                                      # a clean prefix yields exactly the whole frames in it
        whole, pos = [], 0
        for f in fs:
            pos += len(f.encode())
            if pos <= cut:
                whole.append(f)
        assert frames(out) == whole
