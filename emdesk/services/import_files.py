"""Reading a batch of orders from a file: JSON or CSV, one intake record per order.

The file is only unpacked here, as a stream (one record at a time, in bounded memory
whatever the file's size); each record is read and validated by the domain
(``parse_intake``, ``validate``), which turns whatever is wrong inside a record into
problems.  Only a file that cannot be read at all raises ``ImportFileError``, naming the
file, the line and column, and what to do.
"""
from __future__ import annotations

import csv
import itertools
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import ijson

from emdesk.domain.validation.intake_record import unflatten

Located = tuple[str, Any]     # ("orders.json[3]", record); a record is normally a dict
MAX_PRECISE_ERROR = 64 * 1024 * 1024    # a broken JSON file up to this size gets its line and column


class ImportFileError(ValueError):
    """An import file that cannot be read; the message says where and what to do."""


def read_import_file(path: str | Path) -> list[Located]:
    """The intake records in a .json or .csv file, each with where it came from."""
    return list(iter_import_file(path))


class ImportFile:
    """An import file read as a stream, in bounded memory whatever its size: iterate it for
    the records; ``done`` and ``size`` say how far it has got (bytes), for a progress line."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self._file = self.path.open("rb")
            self.size = self.path.stat().st_size
        except OSError as exc:
            raise ImportFileError(f"{self.path.name}: cannot be opened ({exc.strerror or exc}); check the file "
                                  f"exists and you may read it") from exc

    @property
    def done(self) -> int:
        return self._file.tell() if not self._file.closed else self.size

    def __iter__(self) -> Iterator[Located]:
        with self._file as f:
            first = _first_content_byte(f)
            name = self.path.name
            if first is None:
                raise ImportFileError(f"{name}: the file is empty; export the orders again")
            f.seek(0)
            suffix = self.path.suffix.lower()
            if suffix == ".json" or (suffix != ".csv" and first in b"[{"):
                yield from _stream_json(f, name, first)
            else:
                yield from _stream_csv(f, name)


def iter_import_file(path: str | Path) -> Iterator[Located]:
    return iter(ImportFile(path))


def _first_content_byte(f: BinaryIO) -> bytes | None:
    """The first byte that is not white space or a byte order mark (None: nothing there)."""
    start = True
    while chunk := f.read(65536):
        if start and chunk.startswith(b"\xef\xbb\xbf"):
            chunk = chunk[3:]
        start = False
        stripped = chunk.lstrip()
        if stripped:
            return stripped[:1]
    return None


def _stream_json(f: BinaryIO, name: str, first: bytes) -> Iterator[Located]:
    """Records of a JSON list (or ``{"orders": [...]}``) one at a time (ijson, C backend)."""
    prefix = "item"
    if first == b"{":
        prefix = "orders.item"
        if not _has_orders_list(f, name):
            raise ImportFileError(f"{name}: line 1, column 1: expected a list of orders or "
                                  f'{{"orders": [...]}}; wrap the records in a list')
        f.seek(0)
    elif first != b"[":
        _json_error(f, name)
        raise ImportFileError(f"{name}: line 1, column 1: expected a list of orders or "
                              f'{{"orders": [...]}}; wrap the records in a list')
    i = 0
    try:
        for i, record in enumerate(ijson.items(f, prefix, use_float=True)):
            yield f"{name}[{i}]", record
    except (ijson.JSONError, UnicodeDecodeError, ValueError) as exc:
        _json_error(f, name, exc)


def _has_orders_list(f: BinaryIO, name: str) -> bool:
    try:
        for prefix, event, _ in ijson.parse(f):
            if prefix == "orders" and event == "start_array":
                return True
            if prefix == "" and event == "end_map":
                return False
    except (ijson.JSONError, UnicodeDecodeError, ValueError) as exc:
        _json_error(f, name, exc)
    return False


def _json_error(f: BinaryIO, name: str, exc: Exception | None = None) -> None:
    """Raise the error for a file that is not valid JSON, at its line and column."""
    f.seek(0)
    head = f.read(MAX_PRECISE_ERROR)
    if len(head) < MAX_PRECISE_ERROR:
        text = _decode(head, name)
        try:
            json.loads(text)
        except json.JSONDecodeError as err:
            raise ImportFileError(f"{name}: line {err.lineno}, column {err.colno}: not valid JSON ({err.msg}); "
                                  f"fix the file there, e.g. a missing comma or quote") from err
        if exc is None:
            return
    raise ImportFileError(f"{name}: not valid JSON ({exc}); fix the file there, e.g. a missing comma or "
                          "quote") from exc


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")      # spreadsheets often start CSV with a BOM
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ImportFileError(f"{name}: line {line}, column {column}: not UTF-8 text (byte "
                              f"0x{data[exc.start]:02x}); save the file as UTF-8 (in Excel: CSV UTF-8)") from exc


def _stream_csv(f: BinaryIO, name: str) -> Iterator[Located]:
    lines = _text_lines(f, name)
    first = next(lines, "")
    # Spreadsheets set to a European locale save CSV with semicolons between the columns.
    delimiter = ";" if ";" in first and "," not in first else ","
    reader = csv.reader(itertools.chain([first], lines), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise ImportFileError(f"{name}: line 1: the header row cannot be read ({exc}); check its quotes") from exc
    header = [column.strip() for column in header]
    if not any(header) or not any("." in column or column == "reference" for column in header):
        raise ImportFileError(f"{name}: line 1: the first row must name the columns, e.g. reference, "
                              f"subject.given_name, order.start; see docs/order-import.md")
    line = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ImportFileError(f"{name}: line {line}: cannot be read ({exc}); check the quotes on that row "
                                  f"(a value with a comma or quote in it must be in double quotes, its "
                                  f"quotes doubled)") from exc
        if any(v.strip() for v in values):
            if len(values) > len(header):
                raise ImportFileError(f"{name}: line {line}, column {len(header) + 1}: the row has "
                                      f"{len(values)} values but the header has {len(header)} columns; "
                                      f"put values that contain commas in double quotes")
            yield f"{name} line {line}", unflatten(dict(zip(header, values)))
        line = reader.line_num + 1


def _text_lines(f: BinaryIO, name: str) -> Iterator[str]:
    """The file's lines as text, decoded one at a time, naming the line and column of a byte
    that is not UTF-8."""
    for number, raw in enumerate(f, start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):      # spreadsheets often start CSV with a BOM
            raw = raw[3:]
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ImportFileError(f"{name}: line {number}, column {exc.start + 1}: not UTF-8 text (byte "
                                  f"0x{raw[exc.start]:02x}); save the file as UTF-8 (in Excel: CSV UTF-8)") from exc


def read_import_bytes(data: bytes, name: str) -> list[Located]:
    """As ``read_import_file``, for content already in memory (a drop, a download)."""
    with tempfile.TemporaryDirectory(prefix="emdesk-import-") as tmp:
        path = Path(tmp) / Path(name).name
        path.write_bytes(data)
        return read_import_file(path)
