"""Tiny big-endian writer/reader for payloads.  Reader errors are PayloadError."""
from __future__ import annotations

import struct


class PayloadError(ValueError):
    """A payload that does not decode: too short, too long, or a field out of range."""


class Writer:
    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def u8(self, v: int) -> Writer:
        self._parts.append(struct.pack(">B", v))
        return self

    def i8(self, v: int) -> Writer:
        self._parts.append(struct.pack(">b", v))
        return self

    def u16(self, v: int) -> Writer:
        self._parts.append(struct.pack(">H", v))
        return self

    def u32(self, v: int) -> Writer:
        self._parts.append(struct.pack(">I", v))
        return self

    def i32(self, v: int) -> Writer:
        self._parts.append(struct.pack(">i", v))
        return self

    def raw(self, b: bytes) -> Writer:
        self._parts.append(bytes(b))
        return self

    def str8(self, s: str) -> Writer:
        b = s.encode("utf-8")
        if len(b) > 255:
            raise ValueError(f"text too long for a str8 field: {s[:20]!r}...")
        return self.u8(len(b)).raw(b)

    def str16(self, s: str) -> Writer:
        b = s.encode("utf-8")
        if len(b) > 0xFFFF:
            raise ValueError("text too long for a str16 field")
        return self.u16(len(b)).raw(b)

    def bytes(self) -> bytes:
        return b"".join(self._parts)


class Reader:
    def __init__(self, data: bytes) -> None:
        self._d = memoryview(bytes(data))
        self._i = 0

    def _take(self, n: int) -> bytes:
        if self._i + n > len(self._d):
            raise PayloadError(f"payload too short: wanted {n} more bytes at offset {self._i}")
        b = bytes(self._d[self._i:self._i + n])
        self._i += n
        return b

    def u8(self) -> int:
        return self._take(1)[0]

    def i8(self) -> int:
        return struct.unpack(">b", self._take(1))[0]

    def u16(self) -> int:
        return struct.unpack(">H", self._take(2))[0]

    def u32(self) -> int:
        return struct.unpack(">I", self._take(4))[0]

    def i32(self) -> int:
        return struct.unpack(">i", self._take(4))[0]

    def raw(self, n: int) -> bytes:
        return self._take(n)

    def str8(self) -> str:
        return self._text(self.u8())

    def str16(self) -> str:
        return self._text(self.u16())

    def _text(self, n: int) -> str:
        try:
            return self._take(n).decode("utf-8")
        except UnicodeDecodeError as e:
            raise PayloadError(f"text field is not UTF-8: {e}") from None

    def rest(self) -> bytes:
        b = bytes(self._d[self._i:])
        self._i = len(self._d)
        return b

    @property
    def remaining(self) -> int:
        return len(self._d) - self._i

    def end(self) -> None:
        if self.remaining:
            raise PayloadError(f"{self.remaining} unexpected trailing bytes")
