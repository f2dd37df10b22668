"""``emdesk packs build INCIDENT_ID [--db PATH] [--out DIR]`` on a store with a real breach:
the PDF and JSON named for the order, their paths printed (PDF first), the same files again
on a repeated build, the store's hashes matching both, the first page saying the summary's
facts; errors on stderr with exit 2 naming the argument, and nothing written."""
from __future__ import annotations

import json
import re
import subprocess

import pytest

from emdesk.cli import main
from emdesk.domain.monitoring import BreachPack, Incident
from emdesk.domain.users import Role
from emdesk.services.pack_files import recorded_in, verify_file

from .pack_world import BUILT_AT, make, person


@pytest.fixture
def world(tmp_path, monkeypatch):
    monkeypatch.setenv("EMDESK_NOW", BUILT_AT.isoformat())
    store, incident, _ = make(tmp_path / "w.db")
    person(store, Role.SUPERVISOR, region="", name="Sam Supervisor")     # the acting user on a plain store
    store.close()
    return tmp_path / "w.db", incident


def _build(capsys, *argv) -> tuple[int, list[str], str]:
    code = main(["packs", "build", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def test_build_writes_the_pdf_and_json_and_prints_their_paths(world, tmp_path, capsys):
    db, incident = world
    out = tmp_path / "out"
    code, lines, err = _build(capsys, incident.id, "--db", db, "--out", out)
    assert (code, err) == (0, "")
    assert lines == [str(out / "W-CURFEW-pack-v1.pdf"), str(out / "W-CURFEW-pack-v1.json")]
    pdf, document = (out / "W-CURFEW-pack-v1.pdf").read_bytes(), (out / "W-CURFEW-pack-v1.json").read_bytes()
    body = json.loads(document)
    assert (body["version"], body["order"]["reference"], body["summary"]["duration_seconds"]) == (1, "W-CURFEW", 2760)
    assert body["generated_by"] == "Sam Supervisor"
    # The map where this desktop can draw it headless, else a note saying why not: one or the other.
    assert bool(body["map"]["png_base64"]) != body["map"]["note"].startswith("no map")
    # Both files match the hashes the store recorded for the version.
    from emdesk.store import Store
    store = Store.open(db)
    try:
        for path in (out / "W-CURFEW-pack-v1.pdf", out / "W-CURFEW-pack-v1.json"):
            verdict = verify_file(path, recorded_in(store))
            assert verdict.ok, verdict.problems
        # A repeated build with the same evidence: the same version's files, byte for byte.
        code, again, err = _build(capsys, incident.id, "--db", db, "--out", out)
        assert (code, again, err) == (0, lines, "")
        assert (out / "W-CURFEW-pack-v1.pdf").read_bytes() == pdf
        assert (out / "W-CURFEW-pack-v1.json").read_bytes() == document
        assert store.count(BreachPack) == 1 and sorted(p.name for p in out.iterdir()) == [
            "W-CURFEW-pack-v1.json", "W-CURFEW-pack-v1.pdf"]
    finally:
        store.close()


def test_the_first_page_says_the_summarys_facts(world, tmp_path, capsys):
    db, incident = world
    code, lines, _ = _build(capsys, incident.id, "--db", db, "--out", tmp_path)
    assert code == 0
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-layout", lines[0], "-"], check=True,
                          capture_output=True, text=True).stdout
    flat = " ".join(text.split())
    for fact in ("Siân Llewellyn-Jones", "W-CURFEW", "19:00", "19:46", "46 min", "Curfew", "High risk of serious harm",
                 "Probation Service", "return to court"):
        assert fact in flat, fact
    assert not re.search(r"(\w+) confidence: \1 confidence", flat), "the confidence is said once on the summary"


@pytest.mark.parametrize(("case", "words"), [
    ("unknown", "INCIDENT_ID: no incident 01900000-0000-7000-8000-00000000ffff in"),
    ("closed", "INCIDENT_ID: incident .* is auto closed \\(judged not a breach\\); reopen it"),
    ("no store", "--db: no store at"),
    ("not a store", "--db: .*not-a-store is not an emdesk store"),
    ("out is a file", "--out: .* is a file; give a directory"),
    ("agency user", "--user: police-West Midlands is a police account; breach packs are built by"),
])
def test_errors_go_to_stderr_with_exit_2_and_write_nothing(world, tmp_path, capsys, case, words):
    db, incident = world
    out = tmp_path / "out"
    ident, extra = incident.id, []
    if case == "unknown":
        ident = "01900000-0000-7000-8000-00000000ffff"
    elif case == "closed":
        from emdesk.store import Store
        store = Store.open(db)
        ident = store.put(incident.evolve(id="01900000-0000-7000-8000-0000000000aa", status="auto_closed")).id
        store.close()
    elif case == "no store":
        db = tmp_path / "missing.db"
    elif case == "not a store":
        db = tmp_path / "not-a-store"
        db.write_text("hello")
    elif case == "out is a file":
        out = tmp_path / "a-file"
        out.write_text("x")
    elif case == "agency user":
        from emdesk.store import Store
        store = Store.open(db)
        police = person(store, Role.POLICE)
        store.close()
        extra = ["--user", police.username]
    code, lines, err = _build(capsys, ident, "--db", db, "--out", out, *extra)
    assert (code, lines) == (2, [])
    assert err.startswith("emdesk: ") and re.search(words, err), err
    assert not out.is_dir() or list(out.iterdir()) == []
    if case in ("unknown", "closed", "agency user"):
        from emdesk.store import Store
        store = Store.open(db)
        assert store.count(BreachPack) == 0 and store.get(Incident, incident.id).status.value == "escalated"
        store.close()


def test_an_open_incident_is_escalated_by_the_build_under_the_acting_users_name(world, tmp_path, capsys):
    from emdesk.store import Store
    db, incident = world
    store = Store.open(db)
    ident = store.put(incident.evolve(id="01900000-0000-7000-8000-0000000000ab", status="open", history=())).id
    store.close()
    code, lines, err = _build(capsys, ident, "--db", db, "--out", tmp_path)
    assert code == 0 and len(lines) == 2 and "escalated by" in err
    store = Store.open(db)
    try:
        escalated = store.get(Incident, ident)
        assert escalated.status.value == "escalated" and escalated.history[-1].by
        assert "emdesk packs build" in escalated.history[-1].reason
        assert ident in {i for p in store.find(BreachPack) for i in p.incident_ids}
    finally:
        store.close()


def test_a_build_that_fails_after_escalating_leaves_the_incident_open_and_no_pack(world, tmp_path, capsys):
    """All or nothing: the order names no agency, so no pack can be made; the escalation the
    command would have recorded is not kept either."""
    from emdesk.domain.orders import Order
    from emdesk.store import Store
    db, incident = world
    store = Store.open(db)
    ident = store.put(incident.evolve(id="01900000-0000-7000-8000-0000000000ac", status="open", history=())).id
    o = store.get(Order, incident.order_id)
    store.put(o.evolve(cohort=None))
    packs_before = store.count(BreachPack)
    store.close()
    code, lines, err = _build(capsys, ident, "--db", db, "--out", tmp_path / "out")
    assert (code, lines) == (2, []) and "cohort" in err
    store = Store.open(db)
    try:
        assert store.get(Incident, ident).status.value == "open"
        assert store.count(BreachPack) == packs_before
        assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []
    finally:
        store.close()
