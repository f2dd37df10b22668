"""Reading a batch of orders from a file: JSON or CSV, one intake record per order.

The file is only unpacked here; each record is read and validated by the domain
(``parse_intake``, ``validate``), which turns whatever is wrong inside a record into
problems.  Only a file that cannot be read at all raises ``ImportFileError``, naming the
file, the line and column, and what to do.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from emdesk.domain.validation.intake_record import unflatten

Located = tuple[str, Any]     # ("orders.json[3]", record); a record is normally a dict


class ImportFileError(ValueError):
    """An import file that cannot be read; the message says where and what to do."""


def read_import_file(path: str | Path) -> list[Located]:
    """The intake records in a .json or .csv file, each with where it came from."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"{path.name}: cannot be opened ({exc.strerror or exc}); check the file exists "
                              f"and you may read it") from exc
    return read_import_bytes(data, path.name)


def read_import_bytes(data: bytes, name: str) -> list[Located]:
    """As ``read_import_file``, for content already in memory (a drop, a download)."""
    text = _decode(data, name)
    if not text.strip():
        raise ImportFileError(f"{name}: the file is empty; export the orders again")
    suffix = Path(name).suffix.lower()
    if suffix == ".json" or (suffix != ".csv" and text.lstrip()[:1] in ("[", "{")):
        return _read_json(text, name)
    return _read_csv(text, name)


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")      # spreadsheets often start CSV with a BOM
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ImportFileError(f"{name}: line {line}, column {column}: not UTF-8 text (byte "
                              f"0x{data[exc.start]:02x}); save the file as UTF-8 (in Excel: CSV UTF-8)") from exc


def _read_json(text: str, name: str) -> list[Located]:
    try:
        content = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFileError(f"{name}: line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg}); "
                              f"fix the file there, e.g. a missing comma or quote") from exc
    if isinstance(content, dict) and isinstance(content.get("orders"), list):
        records = content["orders"]
    elif isinstance(content, list):
        records = content
    else:
        raise ImportFileError(f"{name}: line 1, column 1: expected a list of orders or "
                              f'{{"orders": [...]}}; wrap the records in a list')
    return [(f"{name}[{i}]", record) for i, record in enumerate(records)]


def _read_csv(text: str, name: str) -> list[Located]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise ImportFileError(f"{name}: line 1: the header row cannot be read ({exc}); check its quotes") from exc
    header = [column.strip() for column in header]
    if not any(header) or not any("." in column or column == "reference" for column in header):
        raise ImportFileError(f"{name}: line 1: the first row must name the columns, e.g. reference, "
                              f"subject.given_name, order.start; see docs/order-import.md")
    out: list[Located] = []
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
            out.append((f"{name} line {line}", unflatten(dict(zip(header, values)))))
        line = reader.line_num + 1
    return out
