"""Frame codec: bytes <-> frames, with a streaming decoder that resynchronises.

Wire layout (big-endian), see ``hardware/PROTOCOL.md``::

    SOF(0xA5) VER(0x01) RID(u16) CMD(u8) LEN(u16) PAYLOAD(LEN bytes) CRC(u16)

CRC is CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor)
over VER..PAYLOAD.  The decoder never raises on bad input: garbage, bad checksums and
abandoned partial frames come back as :class:`ProtocolError` values next to the frames.
"""
from __future__ import annotations

import binascii
from dataclasses import dataclass
from enum import Enum

SOF = 0xA5
VERSION = 0x01                     # the frame format (the protocol version is agreed in HELLO)
MAX_VERSION = 0x0F                 # VER of a later protocol version that changed the frame layout
HEADER_LEN = 7                     # SOF VER RID RID CMD LEN LEN
CRC_LEN = 2
MAX_PAYLOAD = 1024
MAX_FRAME = HEADER_LEN + MAX_PAYLOAD + CRC_LEN
EVENT_RID = 0                      # unsolicited device -> host frames


def crc16_ccitt(data: bytes, crc: int = 0xFFFF) -> int:
    """CRC-16/CCITT-FALSE; check value for b"123456789" is 0x29B1."""
    return binascii.crc_hqx(data, crc)


@dataclass(frozen=True, slots=True)
class Frame:
    rid: int
    cmd: int
    payload: bytes = b""

    def encode(self) -> bytes:
        return encode_frame(self.rid, self.cmd, self.payload)


def encode_frame(rid: int, cmd: int, payload: bytes = b"", *, version: int = VERSION) -> bytes:
    if not 0 <= rid <= 0xFFFF:
        raise ValueError(f"request id {rid} out of range 0..65535")
    if not 0 <= cmd <= 0xFF:
        raise ValueError(f"command {cmd} out of range 0..255")
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    body = bytes((version, rid >> 8, rid & 0xFF, cmd, len(payload) >> 8, len(payload) & 0xFF)) + bytes(payload)
    crc = crc16_ccitt(body)
    return bytes((SOF,)) + body + bytes((crc >> 8, crc & 0xFF))


class ProtocolErrorKind(str, Enum):
    GARBAGE = "garbage"          # bytes that are not the start of a frame
    BAD_CRC = "bad_crc"          # a frame-shaped run whose checksum does not match
    TRUNCATED = "truncated"      # a partial frame abandoned when the line went idle
    VERSION = "version"          # a well-formed frame of a later protocol version (``version``)


@dataclass(frozen=True, slots=True)
class ProtocolError:
    """A problem seen on the line. A value, not an exception: decoding goes on."""

    kind: ProtocolErrorKind
    skipped: int                 # bytes given up on
    detail: str = ""
    version: int = 0             # for VERSION: the protocol version the device speaks


class FrameDecoder:
    """Bytes in, frames out.  Bounded memory, linear work, no exceptions on bad input.

    A candidate frame starts at SOF followed by VER and a length <= MAX_PAYLOAD.  A
    frame whose VER is a later protocol's (3..15) that still checks out is reported as a
    VERSION error, so the caller can tell the user the device is newer.  If its
    CRC fails, only the SOF byte is dropped and scanning resumes at the next byte, so a
    real frame hidden behind a corrupted one is still found.  A candidate that claims more
    bytes than will ever come holds the buffer until :meth:`flush` (the caller's idle
    timeout) abandons it.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self.frames = 0
        self.errors = 0

    @property
    def pending(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> list[Frame | ProtocolError]:
        self._buf += data
        out: list[Frame | ProtocolError] = []
        self._parse(out)
        return out

    def flush(self) -> list[Frame | ProtocolError]:
        """The line went idle: give up any partial frame and rescan what is behind it."""
        out: list[Frame | ProtocolError] = []
        while self._buf:
            out.append(ProtocolError(ProtocolErrorKind.TRUNCATED, 1, "partial frame abandoned"))
            del self._buf[0]
            self._parse(out)
        self.errors += sum(1 for o in out if isinstance(o, ProtocolError) and o.kind is ProtocolErrorKind.TRUNCATED)
        return _coalesce(out)

    def reset(self) -> None:
        self._buf.clear()

    def _parse(self, out: list) -> None:
        buf = self._buf
        i = 0
        garbage = 0
        n = len(buf)
        while i < n:
            if buf[i] != SOF:
                j = buf.find(SOF, i)
                if j < 0:
                    garbage += n - i
                    i = n
                    break
                garbage += j - i
                i = j
                continue
            if n - i >= 2 and buf[i + 1] != VERSION and not 3 <= buf[i + 1] <= MAX_VERSION:
                garbage += 1
                i += 1
                continue
            if n - i < HEADER_LEN:
                break
            length = (buf[i + 5] << 8) | buf[i + 6]
            if length > MAX_PAYLOAD:
                garbage += 1
                i += 1
                continue
            total = HEADER_LEN + length + CRC_LEN
            if n - i < total:
                break
            body = bytes(buf[i + 1:i + HEADER_LEN + length])
            crc = (buf[i + total - 2] << 8) | buf[i + total - 1]
            if buf[i + 1] != VERSION:
                # Another frame format: if it checks out as one (same header, same CRC),
                # say so -- a newer device must not look like a silent one.
                if crc16_ccitt(body) != crc:
                    garbage += 1
                    i += 1
                    continue
                if garbage:
                    out.append(ProtocolError(ProtocolErrorKind.GARBAGE, garbage, "bytes outside any frame"))
                    self.errors += 1
                    garbage = 0
                out.append(ProtocolError(ProtocolErrorKind.VERSION, total, f"a frame of version {body[0]}",
                                         version=body[0]))
                self.errors += 1
                i += total
                continue
            if garbage:
                out.append(ProtocolError(ProtocolErrorKind.GARBAGE, garbage, "bytes outside any frame"))
                self.errors += 1
                garbage = 0
            if crc16_ccitt(body) != crc:
                out.append(ProtocolError(ProtocolErrorKind.BAD_CRC, 1, f"checksum mismatch in a {total}-byte frame"))
                self.errors += 1
                i += 1
                continue
            out.append(Frame((body[1] << 8) | body[2], body[3], body[6:]))
            self.frames += 1
            i += total
        if garbage:
            out.append(ProtocolError(ProtocolErrorKind.GARBAGE, garbage, "bytes outside any frame"))
            self.errors += 1
        del buf[:i]


def _coalesce(items: list) -> list:
    """Merge runs of adjacent same-kind errors (flush can produce many)."""
    out: list = []
    for item in items:
        prev = out[-1] if out else None
        if (isinstance(item, ProtocolError) and isinstance(prev, ProtocolError) and prev.kind is item.kind):
            out[-1] = ProtocolError(item.kind, prev.skipped + item.skipped, item.detail)
        else:
            out.append(item)
    return out
