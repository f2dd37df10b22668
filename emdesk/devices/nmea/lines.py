"""A capture (a file, a pipe, a serial port) cut into lines, in bounded memory.

Lines end where ``str.splitlines`` says (the same lines as reading the whole file and
splitting it), but the input is read a block at a time, so memory does not grow with
the file.  A line that runs on without an end (sentences written back to back, or
noise) is cut before its last start character (``$``/``!``) once it passes
``max_line`` characters, or anywhere if it has none: no sentence is longer than a few
hundred bytes, so nothing that could be one is cut in two.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

__all__ = ["BLOCK", "MAX_LINE", "read_lines"]

BLOCK = 1 << 16
MAX_LINE = 1 << 16
# What ``str.splitlines`` ends a line at, as far as latin-1 text can hold it.
_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85")


def read_lines(stream: BinaryIO, *, block: int = BLOCK, max_line: int = MAX_LINE) -> Iterator[str]:
    """Lines of ``stream`` (bytes, read as latin-1), without their line endings."""
    carry = ""
    read = stream.read
    while True:
        data = read(block)
        if not data:
            break
        text = carry + data.decode("latin-1") if carry else data.decode("latin-1")
        lines = text.splitlines()
        carry = "" if text[-1] in _BREAKS else lines.pop()
        yield from lines
        while len(carry) > max_line:
            cut = max(carry.rfind("$", 1), carry.rfind("!", 1))
            if cut <= 0:
                cut = max_line
            yield carry[:cut]
            carry = carry[cut:]
    if carry:
        yield carry
