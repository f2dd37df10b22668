"""A pack's files: safe names, written once and never replaced by other bytes, and every
kind of tampering caught by verify_file."""
from __future__ import annotations

import io
import json
import re
import unicodedata

import pytest
from pypdf import PdfReader, PdfWriter

from emdesk.services.pack_files import file_stem, verify_file, write_pack_files
from emdesk.services.pack_json import PackFileError, canonical_json, seal
from emdesk.services.pack_pdf import embedded_pdf_fields, render_pdf
from tests.packs.docs import bail_doc, non_bail_doc


@pytest.fixture(scope="module")
def sealed():
    return seal(bail_doc())


@pytest.fixture(scope="module")
def pdf(sealed):
    return render_pdf(sealed)


# -- names --------------------------------------------------------------------------

@pytest.mark.parametrize("reference, version, stem", [
    ("BAIL/2026/0417", 1, "BAIL_2026_0417-pack-v1"),
    ("CO/2026:88 <leeds>", 2, "CO_2026_88_leeds-pack-v2"),
    ("Glyndŵr Llŷr", 1, "Glyndŵr_Llŷr-pack-v1"),
    (unicodedata.normalize("NFD", "Gwŷn"), 1, "Gwŷn-pack-v1"),          # one ŷ, however it was typed
    ('a*b?c"d|e\\f', 3, "a_b_c_d_e_f-pack-v3"),
    ("a\x00b\tc\nd\x7f", 1, "a_b_c_d-pack-v1"),
    ("evil\u202etxt.exe", 1, "evil_txt.exe-pack-v1"),                   # a bidi override cannot disguise it
    ("..hidden", 1, "hidden-pack-v1"),
    ("../../etc/passwd", 1, "etc_passwd-pack-v1"),
    ("trailing. ", 1, "trailing-pack-v1"),
    ("", 4, "pack-pack-v4"),
    ("///", 1, "pack-pack-v1"),
    ("R" * 300, 1, "R" * 100 + "-pack-v1"),
])
def test_file_stems_are_safe_everywhere_and_never_empty(reference, version, stem):
    assert file_stem(reference, version) == stem


# -- writing ------------------------------------------------------------------------

def test_both_files_are_written_named_for_the_order_and_can_be_written_again(tmp_path, sealed, pdf):
    out = tmp_path / "new" / "folder"
    pdf_path, json_path = write_pack_files(sealed, pdf, out)
    assert (pdf_path.name, json_path.name) == ("BAIL_2026_0417-pack-v1.pdf", "BAIL_2026_0417-pack-v1.json")
    assert pdf_path.read_bytes() == pdf and json_path.read_bytes() == canonical_json(sealed)
    assert write_pack_files(sealed, pdf, out) == (pdf_path, json_path)       # the same bytes: fine
    assert sorted(p.name for p in out.iterdir()) == [json_path.name, pdf_path.name]   # no temp files left


def test_an_unsealed_document_is_written_sealed(tmp_path, pdf):
    _, json_path = write_pack_files(bail_doc(), pdf, tmp_path)
    assert json.loads(json_path.read_bytes())["sha256"] == seal(bail_doc()).sha256


@pytest.mark.parametrize("which", ["pdf", "json"])
def test_a_file_with_other_bytes_is_never_replaced(tmp_path, sealed, pdf, which):
    stem = file_stem(sealed.order.reference, sealed.version)
    other = tmp_path / f"{stem}.{which}"
    other.write_bytes(b"someone else's file")
    with pytest.raises(PackFileError, match=re.escape(str(other))):
        write_pack_files(sealed, pdf, tmp_path)
    assert other.read_bytes() == b"someone else's file"
    assert [p.name for p in tmp_path.iterdir()] == [other.name]           # nor was the other one written


def test_the_pdf_must_be_of_the_same_pack_version(tmp_path, sealed):
    with pytest.raises(PackFileError, match="BP-NB000001 v2, not BP-7K2M9Q4X v1"):
        write_pack_files(sealed, render_pdf(non_bail_doc()), tmp_path)
    assert list(tmp_path.iterdir()) == []


# -- tampering: the PDF ---------------------------------------------------------------

def _edit_text(data: bytes) -> bytes:
    """A byte of the summary's text (DejaVu glyph codes in the first text string)."""
    end = data.index(b") Tj")
    return data[:end - 1] + bytes([data[end - 1] ^ 0x01]) + data[end:]


def _edit_footer(data: bytes) -> bytes:
    assert b"page 1 of ) Tj (4) Tj" in data                 # the page count is its own string
    return data.replace(b"page 1 of ) Tj (4) Tj", b"page 1 of ) Tj (5) Tj", 1)


def _edit_author(data: bytes) -> bytes:
    return data.replace(b"/Author (Rhian Operator)", b"/Author (Rhian Operatox)")


def _edit_metadata_id(data: bytes) -> bytes:
    return data.replace(b"pack_id=BP-7K2M9Q4X", b"pack_id=BP-7K2M9Q4Y")


def _edit_metadata_hash(data: bytes) -> bytes:
    claimed = embedded_pdf_fields(data)["sha256"]
    i = data.index(b"sha256=" + claimed.encode()) + len("sha256=")
    return data[:i] + b"f" * 64 + data[i + 64:]


def _every_hash(data: bytes) -> bytes:
    return data.replace(embedded_pdf_fields(data)["sha256"].encode(), b"a" * 64)


def _footer_hash(data: bytes) -> bytes:
    return data.replace(embedded_pdf_fields(data)["sha256"].encode(), b"b" * 64, 1)


def _incremental_update(data: bytes) -> bytes:
    writer = PdfWriter(io.BytesIO(data), incremental=True)
    writer.add_metadata({"/Title": "Nothing to see here"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _incremental_keeping_keywords(data: bytes) -> bytes:
    writer = PdfWriter(io.BytesIO(data), incremental=True)
    writer.pages[0].rotate(90)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


PDF_TAMPERING = [
    ("a byte of text", _edit_text, "does not match"),
    ("the footer text", _edit_footer, "does not match"),
    ("the author", _edit_author, "does not match"),
    ("the pack id in the metadata", _edit_metadata_id, "does not match"),
    ("the hash in the metadata", _edit_metadata_hash, "does not match"),
    ("the hash everywhere", _every_hash, "does not match"),
    ("the hash in one footer", _footer_hash, "does not match"),
    ("bytes appended", lambda d: d + b"\n% a note\n", "does not match"),
    ("an incremental update of the metadata", _incremental_update, "does not match"),
    ("an incremental update of a page", _incremental_keeping_keywords, "does not match"),
    ("the end cut off", lambda d: d[:-40], "does not parse"),
    ("cut in half", lambda d: d[:len(d) // 2], "does not parse"),
    ("not a PDF any more", lambda d: b"%PDX" + d[4:], "not a PDF"),
]


def test_an_untouched_pdf_verifies(tmp_path, pdf):
    path = tmp_path / "p.pdf"
    path.write_bytes(pdf)
    verdict = verify_file(path)
    assert verdict.ok and verdict.problems == []
    assert (verdict.kind, verdict.pack_id, verdict.version) == ("pdf", "BP-7K2M9Q4X", 1)
    assert verdict.sha256 == embedded_pdf_fields(pdf)["sha256"]


@pytest.mark.parametrize("what, tamper, says", PDF_TAMPERING, ids=[t[0] for t in PDF_TAMPERING])
def test_any_change_to_the_pdf_shows(tmp_path, pdf, what, tamper, says):
    changed = tamper(pdf)
    assert changed != pdf, f"the tampering '{what}' changed nothing"
    path = tmp_path / "p.pdf"
    path.write_bytes(changed)
    verdict = verify_file(path)
    assert not verdict.ok and verdict.kind == "pdf"
    assert any(says in problem for problem in verdict.problems), verdict.problems


# -- tampering: the JSON ------------------------------------------------------------

def _json_edit(change):
    def edit(data: bytes) -> bytes:
        obj = json.loads(data)
        change(obj)
        return json.dumps(obj, ensure_ascii=False).encode()
    return edit


def _set(path: str, value):
    def change(obj):
        *parents, last = path.split(".")
        for key in parents:
            obj = obj[key]
        obj[last] = value
    return change


JSON_TAMPERING = [
    ("a value", _json_edit(_set("summary.headline", "Nothing happened.")), "does not match its sha256 field"),
    ("a number", _json_edit(_set("summary.duration_seconds", 60)), "does not match its sha256 field"),
    ("the version", _json_edit(_set("version", 2)), "does not match its sha256 field"),
    ("a field added", _json_edit(_set("comment", "added")), "does not match its sha256 field"),
    ("a nested field added", _json_edit(_set("subject.alias", "x")), "does not match its sha256 field"),
    ("a field removed", _json_edit(lambda o: o.pop("timeline")), "does not match its sha256 field"),
    ("the sha256 dropped", _json_edit(lambda o: o.pop("sha256")), "sha256 field is missing"),
    ("the sha256 changed", _json_edit(_set("sha256", "0" * 64)), "does not match its sha256 field"),
    ("the sha256 not a hash", _json_edit(_set("sha256", "abc")), "not 64 lowercase hex digits"),
    ("a duplicate key", lambda d: d[:-1] + b',"version":1}', "appears twice"),
    ("not JSON", lambda d: b"%PDF? no: " + d[:30], "does not parse as JSON"),
    ("cut short", lambda d: d[:-5], "does not parse as JSON"),
    ("a list", lambda d: b"[" + d + b"]", "not an object"),
    ("not UTF-8", lambda d: d.replace("Siân".encode(), "Siân".encode("latin-1")), "not UTF-8"),
    ("NaN", lambda d: d[:-1] + b',"x":NaN}', "not a JSON number"),
]


@pytest.mark.parametrize("what, tamper, says", JSON_TAMPERING, ids=[t[0] for t in JSON_TAMPERING])
def test_any_change_to_the_json_content_shows(tmp_path, sealed, what, tamper, says):
    original = canonical_json(sealed)
    changed = tamper(original)
    assert changed != original
    path = tmp_path / "p.json"
    path.write_bytes(changed)
    verdict = verify_file(path)
    assert not verdict.ok and verdict.kind == "json"
    assert any(says in problem for problem in verdict.problems), verdict.problems


@pytest.mark.parametrize("reformat", [
    lambda obj: json.dumps(obj, indent=2, ensure_ascii=False),
    lambda obj: json.dumps(obj, indent=1, sort_keys=True, ensure_ascii=True),
    lambda obj: json.dumps(dict(reversed(list(obj.items()))), separators=(" , ", " : ")),
], ids=["indented", "ascii-escaped", "keys-reversed"])
def test_reformatting_the_json_keeps_its_content_so_it_still_verifies(tmp_path, sealed, reformat):
    path = tmp_path / "p.json"
    path.write_text(reformat(json.loads(canonical_json(sealed))) + "\n", encoding="utf-8")
    assert path.read_bytes() != canonical_json(sealed)
    verdict = verify_file(path)
    assert verdict.ok, verdict.problems
    assert (verdict.pack_id, verdict.version, verdict.sha256) == (sealed.pack_id, 1, sealed.sha256)


def test_json_that_hashes_right_but_is_no_pack_is_refused(tmp_path):
    from emdesk.services.pack_json import content_sha256
    obj = {"hello": "world"}
    obj["sha256"] = content_sha256(obj)
    path = tmp_path / "p.json"
    path.write_text(json.dumps(obj))
    verdict = verify_file(path)
    assert not verdict.ok
    assert any("not a breach pack document" in p for p in verdict.problems)


# -- against the store's record ---------------------------------------------------------

@pytest.mark.parametrize("kind", ["pdf", "json"])
def test_against_a_record_the_files_hash_must_be_the_recorded_one(tmp_path, sealed, pdf, kind):
    data = pdf if kind == "pdf" else canonical_json(sealed)
    path = tmp_path / f"p.{kind}"
    path.write_bytes(data)
    right = (sealed.sha256, embedded_pdf_fields(pdf)["sha256"])
    assert verify_file(path, lambda pid, v: right if (pid, v) == ("BP-7K2M9Q4X", 1) else None).ok
    wrong = verify_file(path, lambda pid, v: ("1" * 64, "2" * 64))
    assert not wrong.ok and any("the store recorded SHA-256" in p for p in wrong.problems)
    unknown = verify_file(path, lambda pid, v: None)
    assert not unknown.ok and unknown.problems == ["the store has no pack BP-7K2M9Q4X version 1"]


def test_a_missing_file_is_a_problem_not_a_crash(tmp_path):
    verdict = verify_file(tmp_path / "gone.pdf")
    assert not verdict.ok and verdict.kind == "pdf" and "cannot read" in verdict.problems[0]


def test_the_pdf_text_read_back_is_the_documents(pdf):
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "Siân Llŷr ap Gwŷn" in text


def test_the_no_hard_link_path_writes_once_and_never_replaces(tmp_path):
    # Where os.link is refused (FAT or exFAT memory sticks) files are created exclusively instead.
    from emdesk.services.pack_files import _write_exclusive
    path = tmp_path / "p.pdf"
    _write_exclusive(path, b"pack")
    _write_exclusive(path, b"pack")                                  # the same bytes: fine
    with pytest.raises(PackFileError, match=re.escape(str(path))):
        _write_exclusive(path, b"other")
    assert path.read_bytes() == b"pack"
