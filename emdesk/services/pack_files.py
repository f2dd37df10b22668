"""A breach pack's two files: their names, writing them safely, and checking one later.

A pack version is written once: its files are never replaced by different bytes (an
issued pack must stay as it was sent); writing the same bytes again is a no-op.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from emdesk.domain.monitoring import BreachPack
from emdesk.domain.packs import PackDocument
from emdesk.services.pack_json import PackFileError, canonical_json, content_sha256, parse_document, seal
from emdesk.services.pack_pdf import embedded_pdf_fields, pdf_sha256

# (json_sha256, pdf_sha256) the store recorded for (pack_id, version), or None if it has none.
Recorded = Callable[[str, int], "tuple[str, str] | None"]

_UNSAFE = re.compile(r'[/\\:*?"<>|\s]')
_HEX64 = re.compile(r"[0-9a-f]{64}")
MAX_REFERENCE = 100


def file_stem(reference: str, version: int, series: str = "") -> str:
    """``<reference>-pack-v<N>``, safe as a file name on Windows, macOS and Linux: path
    separators, ``: * ? " < > |``, whitespace and control or format characters (bidi
    overrides included) become ``_``; leading and trailing dots and ``_`` go; letters of any
    script (Welsh ŵ ŷ) stay.  Never empty.  ``series`` (a pack id) tells apart a second
    pack on the same order, whose versions would otherwise take the first one's names."""
    text = unicodedata.normalize("NFC", reference)
    text = "".join("_" if unicodedata.category(c).startswith("C") else c for c in text)
    text = _UNSAFE.sub("_", text)
    text = re.sub(r"_{2,}", "_", text).lstrip("._").rstrip("._ ")[:MAX_REFERENCE].rstrip("._ ")
    tag = f"-{_UNSAFE.sub('_', series)}" if series else ""
    return f"{text or 'pack'}{tag}-pack-v{int(version)}"


def _write_new(path: Path, data: bytes) -> None:
    """Write ``data`` at ``path`` all at once, never replacing a file that appeared meanwhile."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(temp, path)               # atomic, and fails if the name is taken: no silent replace
        except FileExistsError:
            if path.read_bytes() != data:
                raise PackFileError(f"{path}: a different file appeared there while writing; nothing "
                                    "was replaced: move it away and write again") from None
        except OSError:
            _write_exclusive(path, data)      # no hard links here (FAT or exFAT memory sticks, some shares)
    finally:
        os.unlink(temp)


def _write_exclusive(path: Path, data: bytes) -> None:
    try:
        with open(path, "xb") as f:
            try:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            except BaseException:
                path.unlink(missing_ok=True)      # never leave half a pack behind
                raise
    except FileExistsError:
        if path.read_bytes() != data:
            raise PackFileError(f"{path}: a different file appeared there while writing; nothing was "
                                "replaced: move it away and write again") from None


def write_pack_files(doc: PackDocument, pdf: bytes, out_dir: Path, *, series: str = "") -> tuple[Path, Path]:
    """Write ``<stem>.pdf`` and ``<stem>.json`` into ``out_dir`` (made if need be); returns
    (pdf path, json path).  PackFileError naming the path if either exists with other bytes."""
    if not doc.sha256:
        doc = seal(doc)
    fields = embedded_pdf_fields(pdf)
    if (fields["pack_id"], fields["version"]) != (doc.pack_id, doc.version):
        raise PackFileError(f"the PDF is of pack {fields['pack_id']} v{fields['version']}, not "
                            f"{doc.pack_id} v{doc.version}: render this document's PDF")
    out_dir = Path(out_dir)
    stem = file_stem(doc.order.reference, doc.version, series)
    files = ((out_dir / f"{stem}.pdf", pdf), (out_dir / f"{stem}.json", canonical_json(doc)))
    for path, data in files:               # refuse before writing either
        if path.exists() and path.read_bytes() != data:
            raise PackFileError(f"{path} already exists with different content: a pack file is never "
                                "replaced; move it away or write to another folder (--out)")
    out_dir.mkdir(parents=True, exist_ok=True)
    for path, data in files:
        if not path.exists():
            _write_new(path, data)
    return files[0][0], files[1][0]


@dataclass(frozen=True)
class Verdict:
    """What checking one pack file found; ``problems`` each say what differs."""

    ok: bool
    kind: str                       # "pdf" | "json"
    pack_id: str = ""
    version: int | None = None
    problems: list[str] = field(default_factory=list)
    sha256: str = ""                # the file's hash as computed ("" when it could not be)


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict:
    seen: dict = {}
    for key, value in pairs:
        if key in seen:
            raise PackFileError(f"the key {key!r} appears twice in one object: readers would disagree "
                                "on its value")
        seen[key] = value
    return seen


def _bad_constant(name: str):
    raise PackFileError(f"{name} is not a JSON number")


def _load_json(data: bytes) -> dict:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PackFileError(f"the file is not UTF-8 text (byte {exc.start}): not a pack JSON") from None
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_bad_constant)
    except json.JSONDecodeError as exc:
        raise PackFileError(f"does not parse as JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise PackFileError("the JSON nests deeper than any pack document does: not a pack JSON") from None
    if not isinstance(value, dict):
        raise PackFileError(f"the JSON is a {type(value).__name__}, not an object: not a pack document")
    return value


def _verify_json(data: bytes, recorded: Recorded | None) -> Verdict:
    try:
        obj = _load_json(data)
    except PackFileError as exc:
        return Verdict(False, "json", problems=[str(exc)])
    pack_id = obj.get("pack_id") if isinstance(obj.get("pack_id"), str) else ""
    version = obj.get("version") if type(obj.get("version")) is int else None
    problems: list[str] = []
    try:
        computed = content_sha256(obj)
    except Exception as exc:            # rfc8785 refuses values JCS cannot hold (huge integers...)
        return Verdict(False, "json", pack_id, version,
                       [f"the content cannot be put in canonical form (RFC 8785): {exc}"])
    claimed = obj.get("sha256")
    if claimed is None:
        problems.append("the sha256 field is missing: the content cannot be checked against it")
    elif not isinstance(claimed, str) or not _HEX64.fullmatch(claimed):
        problems.append(f"the sha256 field {claimed!r} is not 64 lowercase hex digits")
    elif claimed != computed:
        problems.append(f"the content does not match its sha256 field: the field says {claimed}, the content "
                        f"hashes to {computed}: a value was changed, added or removed")
    try:
        parse_document(json.dumps(obj).encode())
    except PackFileError as exc:
        problems.append(str(exc))
    if recorded is not None:
        problems += _against_store(recorded, pack_id, version, computed, 0, "JSON")
    return Verdict(not problems, "json", pack_id, version, problems, computed)


def _verify_pdf(data: bytes, recorded: Recorded | None) -> Verdict:
    try:
        fields = embedded_pdf_fields(data)
        computed = pdf_sha256(data)
    except PackFileError as exc:
        return Verdict(False, "pdf", problems=[str(exc)])
    pack_id, version, claimed = fields["pack_id"], fields["version"], fields["sha256"]
    problems: list[str] = []
    if claimed != computed:
        problems.append(f"the content does not match its embedded SHA-256: the metadata says {claimed}, the "
                        f"file hashes to {computed}: it was changed after it was made")
    if recorded is not None:
        problems += _against_store(recorded, pack_id, version, computed, 1, "PDF")
    return Verdict(not problems, "pdf", pack_id, version, problems, computed)


def _against_store(recorded: Recorded, pack_id: str, version: int | None, computed: str, which: int,
                   name: str) -> list[str]:
    if not pack_id or version is None:
        return ["the file does not say which pack and version it is, so the store cannot vouch for it"]
    hashes = recorded(pack_id, version)
    if hashes is None:
        return [f"the store has no pack {pack_id} version {version}"]
    if not hashes[which]:
        return [f"the store recorded no {name} hash for pack {pack_id} version {version}"]
    if hashes[which] != computed:
        return [f"the store recorded SHA-256 {hashes[which]} for the {name} of pack {pack_id} version "
                f"{version}; this file hashes to {computed}"]
    return []


# A pack is a few hundred KB (its map is the biggest part); anything past this is not one.
MAX_FILE = 64 * 2**20


def verify_file(path: Path, recorded: Recorded | None = None) -> Verdict:
    """Check a pack file against its own embedded hash and, given ``recorded``, against the
    hash the store recorded for its pack version.  A PDF is told by its first bytes (or a
    .pdf name); anything else is read as the JSON."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            data = f.read(MAX_FILE + 1)     # bounded: a hostile file is not read whole
    except OSError as exc:
        kind = "pdf" if path.suffix.lower() == ".pdf" else "json"
        return Verdict(False, kind, problems=[f"cannot read {path}: {exc.strerror or exc}"])
    if len(data) > MAX_FILE:
        kind = "pdf" if data.startswith(b"%PDF-") or path.suffix.lower() == ".pdf" else "json"
        return Verdict(False, kind, problems=[f"{path} is larger than any pack ({MAX_FILE // 2**20} MiB): "
                                              "not a pack file, or one with something added"])
    if data.startswith(b"%PDF-") or path.suffix.lower() == ".pdf":
        return _verify_pdf(data, recorded)
    return _verify_json(data, recorded)


def recorded_in(store) -> Recorded:
    """The hashes ``store`` recorded for a pack version (deleted rows do not count)."""
    def recorded(pack_id: str, version: int) -> tuple[str, str] | None:
        for row in store.find_by_field(BreachPack, "pack_id", pack_id, limit=1000):
            if row.version == version:
                return row.document_sha256, row.pdf_sha256
        return None
    return recorded


__all__ = ["Recorded", "Verdict", "file_stem", "recorded_in", "verify_file", "write_pack_files"]
