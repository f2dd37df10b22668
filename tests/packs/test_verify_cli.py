"""``emdesk packs verify FILE [--db PATH]``: exit codes and what it says, against the file's
own hash and against a real store's record of the pack version."""
from __future__ import annotations

import json

import pytest

from emdesk.cli import main
from emdesk.domain.monitoring import BreachPack, PackTemplate
from emdesk.domain.orders import Responder
from emdesk.services.pack_files import write_pack_files
from emdesk.services.pack_json import canonical_json, seal
from emdesk.services.pack_pdf import embedded_pdf_fields, render_pdf
from emdesk.store import Store
from tests.packs.docs import bail_doc


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    doc = seal(bail_doc())
    pdf = render_pdf(doc)
    pdf_path, json_path = write_pack_files(doc, pdf, tmp_path_factory.mktemp("out"))
    return doc, pdf_path, json_path


def _row(doc, pdf_sha: str, **changes) -> BreachPack:
    row = BreachPack(pack_id=doc.pack_id, version=doc.version, incident_id="INC-1", incident_ids=("INC-1",),
                     order_id="O-1", subject_id="S-1", reference=doc.order.reference, responder=Responder.POLICE,
                     template=PackTemplate.BAIL, notification_due=doc.summary.notification_due,
                     pack_due=doc.summary.pack_due, document_sha256=doc.sha256, pdf_sha256=pdf_sha,
                     document=canonical_json(doc).decode())
    return row.evolve(**changes) if changes else row


def _store(tmp_path, rows) -> str:
    path = tmp_path / "packs.db"
    store, _ = Store.create(path, plain=True)
    try:
        store.put_many(rows, actor="test", audit_action="pack.build")
    finally:
        store.close()
    return str(path)


@pytest.mark.parametrize("which", ["pdf", "json"])
def test_an_untouched_file_verifies_and_says_which_pack(files, capsys, which):
    doc, pdf_path, json_path = files
    path = pdf_path if which == "pdf" else json_path
    assert main(["packs", "verify", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{path}: OK: {which.upper()} of pack BP-7K2M9Q4X v1 matches its embedded hash")


@pytest.mark.parametrize("which", ["pdf", "json"])
def test_a_changed_file_exits_1_saying_what_differs(files, tmp_path, capsys, which):
    doc, pdf_path, json_path = files
    if which == "pdf":
        data = pdf_path.read_bytes().replace(b"/Author (Rhian Operator)", b"/Author (Rhian 0perator)")
    else:
        obj = json.loads(json_path.read_bytes())
        obj["summary"]["risk"] = "Low."
        data = json.dumps(obj).encode()
    path = tmp_path / f"edited.{which}"
    path.write_bytes(data)
    assert main(["packs", "verify", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines and all(line.startswith(f"{path}: DIFFERS: ") for line in lines)
    assert "does not match" in lines[0]


def test_a_file_that_no_longer_parses_exits_1(tmp_path, capsys):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    assert main(["packs", "verify", str(path)]) == 1
    assert "does not parse as JSON" in capsys.readouterr().out


def test_no_such_file_is_a_usage_error(tmp_path, capsys):
    assert main(["packs", "verify", str(tmp_path / "nowhere.pdf")]) == 2
    err = capsys.readouterr().err
    assert "no file at" in err and "nowhere.pdf" in err


def test_the_help_says_reformatted_json_still_verifies(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["packs", "verify", "--help"])
    assert exit_.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "reformatting that keeps the same content" in help_text and "--db" in help_text


@pytest.mark.parametrize("which", ["pdf", "json"])
def test_with_a_store_the_recorded_hash_decides(files, tmp_path, capsys, which):
    doc, pdf_path, json_path = files
    path = pdf_path if which == "pdf" else json_path
    pdf_sha = embedded_pdf_fields(pdf_path.read_bytes())["sha256"]
    db = _store(tmp_path, [_row(doc, pdf_sha)])
    assert main(["packs", "verify", str(path), "--db", db]) == 0
    assert "matches the store's record" in capsys.readouterr().out


@pytest.mark.parametrize("which, change, says", [
    ("pdf", {"pdf_sha256": "9" * 64}, "the store recorded SHA-256 " + "9" * 64),
    ("json", {"document_sha256": "8" * 64}, "the store recorded SHA-256 " + "8" * 64),
    ("pdf", {"version": 2}, "the store has no pack BP-7K2M9Q4X version 1"),
    ("json", {"pack_id": "BP-OTHER000"}, "the store has no pack BP-7K2M9Q4X version 1"),
    ("json", {"deleted": True}, "the store has no pack BP-7K2M9Q4X version 1"),
])
def test_with_a_store_a_different_or_missing_record_exits_1(files, tmp_path, capsys, which, change, says):
    doc, pdf_path, json_path = files
    path = pdf_path if which == "pdf" else json_path
    pdf_sha = embedded_pdf_fields(pdf_path.read_bytes())["sha256"]
    db = _store(tmp_path, [_row(doc, pdf_sha, **change)])
    assert main(["packs", "verify", "--db", db, str(path)]) == 1
    out = capsys.readouterr().out
    assert says in out, out


def test_with_a_store_other_versions_do_not_vouch(files, tmp_path, capsys):
    doc, pdf_path, _ = files
    pdf_sha = embedded_pdf_fields(pdf_path.read_bytes())["sha256"]
    db = _store(tmp_path, [_row(doc, "7" * 64), _row(doc, pdf_sha, version=2)])
    assert main(["packs", "verify", str(pdf_path), "--db", db]) == 1
    assert "the store recorded SHA-256 " + "7" * 64 in capsys.readouterr().out


def test_a_missing_store_is_a_usage_error(files, tmp_path, capsys):
    _, pdf_path, _ = files
    assert main(["packs", "verify", str(pdf_path), "--db", str(tmp_path / "none.db")]) == 2
    assert "no store at" in capsys.readouterr().err


@pytest.mark.parametrize(("name", "content", "says"), [
    ("deep.json", b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nests deeper than any pack"),
    ("huge.json", b" " * (64 * 2**20 + 1), "larger than any pack"),
    ("huge.pdf", b"%PDF-1.7\n" + b"0" * (64 * 2**20), "larger than any pack"),
])
def test_hostile_files_exit_1_saying_why_without_a_traceback(tmp_path, capsys, name, content, says):
    path = tmp_path / name
    path.write_bytes(content)
    assert main(["packs", "verify", str(path)]) == 1
    out = capsys.readouterr().out
    assert "DIFFERS" in out and says in out


@pytest.mark.parametrize("what", ["text file", "directory"])
def test_a_db_that_is_not_a_store_is_a_usage_error_naming_it(files, tmp_path, capsys, what):
    _, pdf_path, _ = files
    db = tmp_path / "notastore.db"
    if what == "text file":
        db.write_text("hello")
    else:
        db.mkdir()
    assert main(["packs", "verify", str(pdf_path), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "--db" in err and ("not an emdesk store" in err or "no store at" in err)
