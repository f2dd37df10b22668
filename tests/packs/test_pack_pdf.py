"""The breach pack PDF: the summary on page 1 as read back by pdftotext, the footer and
metadata carrying the hash, the same bytes every time, and the pinned font."""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import msgspec
import pytest
from pypdf import PdfReader

from emdesk.domain.packs import Fact
from emdesk.services import fonts
from emdesk.services.pack_json import seal
from emdesk.services.pack_pdf import duration, embedded_pdf_fields, pdf_sha256, render_pdf, uk_time
from tests.packs.docs import WELSH, bail_doc, non_bail_doc

UTC = timezone.utc
ROOT = Path(__file__).resolve().parents[2]


def words(text: str) -> str:
    """pdftotext's output with every run of white space (no-break spaces too) as one space."""
    return " ".join(text.replace("\u00a0", " ").split())


def page_text(pdf: Path, page: int) -> str:
    out = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", "-f", str(page), "-l", str(page), str(pdf), "-"],
                         check=True, capture_output=True)
    return words(out.stdout.decode("utf-8"))


def written(tmp_path: Path, data: bytes, name: str = "pack.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


SUMMARY_FACTS = [
    (bail_doc, [
        "BREACH PACK · DECISION SUMMARY",
        f"{WELSH} was away from the curfew address",
        "Bail breach: for the police to decide (RADU: Receive, Assess, Decide, Update)",
        "What the Police must decide",
        "Whether to arrest for breach of bail",
        "Respond by: Fri 4 Dec 2026, 12:00 GMT",
        "2 Ffordd Glyndŵr, Caernarfon",
        "Thu 3 Dec 2026, 00:10 GMT to Thu 3 Dec 2026, 01:55 GMT",
        "1 h 45 min this breach",
        "High confidence: the tag reported GPS fixes",
        "High: domestic abuse bail",
        "North Wales Police, PC Dafydd Ellis, 0300 330 0101",
        "notification by Thu 3 Dec 2026, 10:00 GMT",
        "pack by Fri 4 Dec 2026, 12:00 GMT",
        "1 in the last 30 days (warning given)",
    ]),
    (non_bail_doc, [
        "Non-bail breach: for the responsible agency to decide its outcome",
        "SPECIAL: the shorter contracted deadlines apply",
        "Amends version 1: a second incident added",
        "Zoë Ødegård-Nuñez was out after curfew",
        "What the Probation Service must decide",
        "The outcome: engage, warning, or return to court.",
        "Respond by: no deadline applies",
        "from Thu 2 Jul 2026, 23:30 BST, still going when the pack was",
        "1 h 00 min this breach; 1 h 30 min in violation over the period",
        "Medium confidence",
        "Yorkshire Probation, Aoife Ní Bhriain",
        "notification by Fri 3 Jul 2026, 10:00 BST",
    ]),
]


@pytest.mark.parametrize("make, facts", SUMMARY_FACTS, ids=["bail", "non_bail"])
def test_the_summary_facts_stand_on_page_one(tmp_path, make, facts):
    pdf = written(tmp_path, render_pdf(make()))
    first = page_text(pdf, 1)
    missing = [fact for fact in facts if fact not in first]
    assert not missing, first
    # The evidence starts on page 2, not on the summary page.
    assert "1. The order and its conditions" not in first
    assert "1. The order and its conditions" in page_text(pdf, 2)


@pytest.mark.parametrize("make", [bail_doc, non_bail_doc], ids=["bail", "non_bail"])
def test_every_page_footer_carries_the_pack_id_version_and_hash(tmp_path, make):
    doc = make()
    data = render_pdf(doc)
    pdf = written(tmp_path, data)
    fields = embedded_pdf_fields(data)
    pages = len(PdfReader(io.BytesIO(data)).pages)
    assert pages >= 2 and fields["pages"] == pages
    for page in range(1, pages + 1):
        footer = f"Pack {doc.pack_id} v{doc.version} · SHA-256 {fields['sha256']} · page {page} of {pages}"
        assert footer in page_text(pdf, page)


def test_the_metadata_says_pack_version_and_hash_and_the_hash_is_the_files():
    doc = bail_doc()
    data = render_pdf(doc)
    fields = embedded_pdf_fields(data)
    assert (fields["pack_id"], fields["version"]) == ("BP-7K2M9Q4X", 1)
    assert re.fullmatch(r"[0-9a-f]{64}", fields["sha256"])
    assert pdf_sha256(data) == fields["sha256"]
    info = PdfReader(io.BytesIO(data)).metadata
    assert WELSH in info.title and "BAIL/2026/0417" in info.title
    assert info.author == "Rhian Operator"
    assert info.creation_date == datetime(2026, 12, 3, 9, 5, tzinfo=UTC)


def test_the_same_document_renders_to_the_same_bytes_anywhere(tmp_path):
    """Another process, hash seed, time zone and install folder: the same bytes."""
    import hashlib
    import shutil
    data = render_pdf(bail_doc())
    assert render_pdf(bail_doc()) == data
    elsewhere = tmp_path / "assets"
    for name in (fonts.MARKER, fonts.REGULAR, fonts.BOLD):
        (fonts.font_dir(elsewhere) / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(fonts.font_dir() / name, fonts.font_dir(elsewhere) / name)
    script = ("import sys, hashlib; from tests.packs.docs import bail_doc; "
              "from emdesk.services.pack_pdf import render_pdf; "
              "sys.stdout.write(hashlib.sha256(render_pdf(bail_doc())).hexdigest())")
    env = {**os.environ, "PYTHONHASHSEED": "12345", "TZ": "America/New_York", "EMDESK_WEB_ASSETS": str(elsewhere)}
    other = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True, capture_output=True)
    assert other.stdout.decode() == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("change", [
    {"generated_by": "Someone Else"},
    {"version": 2},
    {"timeline": ()},
], ids=["author", "version", "timeline"])
def test_any_change_to_the_document_changes_the_pdf_and_its_hash(change):
    base = render_pdf(bail_doc())
    other = render_pdf(bail_doc(**change))
    assert embedded_pdf_fields(other)["sha256"] != embedded_pdf_fields(base)["sha256"]


def test_an_unsealed_document_is_sealed_first_and_its_json_hash_printed():
    doc = bail_doc()
    assert doc.sha256 == ""
    data = render_pdf(doc)
    assert data == render_pdf(seal(doc))
    text = PdfReader(io.BytesIO(data)).pages[-1].extract_text()
    assert seal(doc).sha256 in words(text).replace(" ", "")


def test_a_long_summary_still_fits_page_one_and_is_given_in_full_after(tmp_path):
    long = " ".join(["the home unit, the tag and the zone all agree on where the wearer was"] * 14) + " END-OF-TEXT"
    doc = bail_doc()
    summary = msgspec.structs.replace(doc.summary, not_technical=long, risk=long, decision=long,
                                      facts=(Fact(label="Note", value=long),))
    pdf = written(tmp_path, render_pdf(msgspec.structs.replace(doc, summary=summary)))
    first = page_text(pdf, 1)
    assert "Respond by: Fri 4 Dec 2026, 12:00 GMT" in first and "page 1 of" in first
    for label in ("Who", "Why not technical", "Risk", "Deadlines", "Note"):   # no row pushed to page 2
        assert label in first
    assert "(in full on page 2)" in first
    second = page_text(pdf, 2)
    assert "Summary in full" in second and "END-OF-TEXT" in second


def test_the_map_image_is_embedded_and_a_missing_map_says_why(tmp_path):
    with_map = render_pdf(bail_doc())
    images = [img for page in PdfReader(io.BytesIO(with_map)).pages for img in page.images]
    assert len(images) == 1
    without = written(tmp_path, render_pdf(non_bail_doc()))
    assert "No map: the map could not be drawn (no display)" in page_text(without, 2)


def test_page_one_renders_to_an_image_with_ink_on_it(tmp_path):
    pdf = written(tmp_path, render_pdf(bail_doc()))
    subprocess.run(["pdftoppm", "-gray", "-r", "30", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")], check=True)
    pgm = next(tmp_path.glob("p*.pgm")).read_bytes()
    header = re.match(rb"P5\s+(\d+)\s+(\d+)\s+255\s", pgm)
    width, height = int(header[1]), int(header[2])
    pixels = pgm[header.end():]
    assert (width, height) == (249, 351)            # A4 at 30 dpi
    dark = sum(1 for p in pixels if p < 128)
    assert dark > len(pixels) * 0.01                # text, not a blank page
    footer = pixels[width * (height - 16):]      # the bottom 13.5 mm
    assert any(p < 200 for p in footer)             # the footer line is drawn (small grey type)


def test_without_the_font_the_error_names_the_fetch_command(tmp_path, monkeypatch):
    monkeypatch.setenv("EMDESK_WEB_ASSETS", str(tmp_path / "nothing"))
    with pytest.raises(fonts.FontMissing, match=re.escape(fonts.FETCH_COMMAND)):
        render_pdf(bail_doc())


def test_the_font_comes_from_the_pinned_install_not_the_system():
    assert fonts.dejavu().parent.parent.name == "dejavu-fonts-ttf@2.37.3"
    assert fonts.dejavu(fonts.BOLD).name == "DejaVuSans-Bold.ttf"


@pytest.mark.parametrize("at, text", [
    (datetime(2026, 12, 3, 7, 0, tzinfo=UTC), "Thu 3 Dec 2026, 07:00 GMT"),
    (datetime(2026, 7, 2, 22, 30, tzinfo=UTC), "Thu 2 Jul 2026, 23:30 BST"),
    (datetime(2026, 3, 29, 0, 59, tzinfo=UTC), "Sun 29 Mar 2026, 00:59 GMT"),   # the last GMT minute
    (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "Sun 29 Mar 2026, 02:00 BST"),
    (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "Sun 25 Oct 2026, 01:30 BST"),  # 01:30 happens twice
    (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "Sun 25 Oct 2026, 01:30 GMT"),
    (None, "-"),
])
def test_times_are_printed_in_uk_time_with_the_zone(at, text):
    assert uk_time(at) == text


@pytest.mark.parametrize("seconds, text", [
    (0, "0 s"), (45, "45 s"), (60, "1 min"), (95, "1 min 35 s"), (3600, "1 h 00 min"), (6300, "1 h 45 min"),
    (90061, "25 h 01 min"), (-5, "0 s"),
])
def test_durations_read_as_hours_and_minutes_and_never_wrap(seconds, text):
    assert duration(seconds).replace("\u00a0", " ") == text
    assert " " not in duration(seconds)


def test_the_fetcher_installs_the_same_font_package_the_renderer_looks_for():
    from emdesk.ui.maps import assets
    (font,) = assets.FONT_PACKAGES
    assert (font.name, font.version, font.integrity) == fonts.DEJAVU
    assert font not in assets.PACKAGES              # a missing font never hides a map
    assert fonts.font_dir().name == font.folder and fonts.font_dir().parent == assets.asset_dir()


@pytest.mark.parametrize("marker, ttf, found", [
    (None, True, False),                            # unpacked but never marked complete
    ("sha512-somethingelse==", True, False),        # another build of the package
    (fonts.DEJAVU[2], False, False),                # marked, but the file is gone
    (fonts.DEJAVU[2], True, True),
], ids=["no-marker", "other-integrity", "no-file", "installed"])
def test_only_a_complete_pinned_install_counts(tmp_path, marker, ttf, found):
    folder = fonts.font_dir(tmp_path)
    (folder / "ttf").mkdir(parents=True)
    if marker:
        (folder / fonts.MARKER).write_text(marker + "\n")
    if ttf:
        (folder / fonts.REGULAR).write_bytes(b"ttf")
    if found:
        assert fonts.dejavu(root=tmp_path) == folder / fonts.REGULAR
    else:
        with pytest.raises(fonts.FontMissing, match=re.escape(fonts.FETCH_COMMAND)):
            fonts.dejavu(root=tmp_path)


def test_a_character_the_font_lacks_is_printed_as_its_code_not_dropped(tmp_path):
    doc = bail_doc(generated_by="李 Ελένη Юлия Ōkami")
    pdf = written(tmp_path, render_pdf(doc))
    assert "by [U+674E] Ελένη Юлия Ōkami" in page_text(pdf, 1)
