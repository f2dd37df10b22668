"""The breach pack's JSON form: canonical (RFC 8785), hashed, and read back strictly.

The ``sha256`` field is the SHA-256 of the canonical form of the document without that
field, so any system can check a pack with a JCS library and no emdesk code.
"""
from __future__ import annotations

import hashlib

import msgspec
import rfc8785

from emdesk.domain.packs import PackDocument


class PackFileError(ValueError):
    """A pack file that does not parse, or does not say what a pack must."""


def _plain(doc: PackDocument, *, without_hash: bool) -> dict:
    data = msgspec.to_builtins(doc)
    if without_hash:
        data.pop("sha256", None)
    return data


def content_sha256(data: dict) -> str:
    """SHA-256 of the canonical form of a pack's JSON object, its ``sha256`` field left out."""
    body = {k: v for k, v in data.items() if k != "sha256"}
    return hashlib.sha256(rfc8785.dumps(body)).hexdigest()


def document_sha256(doc: PackDocument) -> str:
    return content_sha256(_plain(doc, without_hash=True))


def seal(doc: PackDocument) -> PackDocument:
    """The document with its ``sha256`` set over everything else."""
    return msgspec.structs.replace(doc, sha256=document_sha256(doc))


def canonical_json(doc: PackDocument) -> bytes:
    """The JSON file's bytes: the sealed document in canonical form (UTF-8)."""
    if not doc.sha256:
        doc = seal(doc)
    return rfc8785.dumps(_plain(doc, without_hash=False))


def parse_document(data: bytes) -> PackDocument:
    """A pack document from JSON bytes; PackFileError naming what is wrong."""
    try:
        return msgspec.json.decode(data, type=PackDocument)
    except msgspec.ValidationError as exc:
        raise PackFileError(f"not a breach pack document: {exc}") from None
    except msgspec.DecodeError as exc:
        raise PackFileError(f"does not parse as JSON: {exc}") from None


__all__ = ["PackFileError", "canonical_json", "content_sha256", "document_sha256", "parse_document", "seal"]
