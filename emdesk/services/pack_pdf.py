"""The breach pack as a PDF for people: a one-page decision summary, then the evidence.

The bytes are a function of the document alone (fixed creation date, pinned font, no
clock or randomness), so the same pack renders to the same file on any machine.

The PDF's SHA-256 is over the file's own bytes with that hash's hex replaced by 64 zeros
wherever it appears: the footer of every page and the metadata's Keywords carry it
literally (a core font for the footer, uncompressed streams, an ASCII metadata string),
so editing any byte anywhere, appending an update or cutting the file short shows.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
import threading
from datetime import datetime

from fpdf import FPDF, FontFace
from fpdf.enums import TableCellFillMode, XPos, YPos

from emdesk.domain.clock import LONDON
from emdesk.domain.packs import PackDocument
from emdesk.services import fonts
from emdesk.services.pack_json import PackFileError, seal

ZEROS = "0" * 64
NBSP = "\u00a0"
# Rendered where the hash goes, then swapped: 64 hex characters no real content holds.
_PLACEHOLDER = hashlib.sha256(b"emdesk breach pack: the PDF's own SHA-256 goes here").hexdigest()
_KEYWORDS = re.compile(r"emdesk-breach-pack pack_id=(?P<pack_id>\S+) version=(?P<version>\S+) "
                       r"sha256=(?P<sha256>\S+)")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

FONT = "DejaVu"
INK = (20, 20, 20)
MUTED = (90, 90, 90)
RULE = (170, 170, 170)
DECIDE_FILL = (255, 244, 200)
ALERT = (170, 20, 20)
WHITE = (255, 255, 255)
STRIPE = (244, 244, 244)
HEAD = FontFace(emphasis="BOLD", fill_color=(225, 225, 225))

TEMPLATE_WORDS = {
    "bail": "Bail breach: for the police to decide (RADU: Receive, Assess, Decide, Update)",
    "non_bail": "Non-bail breach: for the responsible agency to decide its outcome",
}


# -- words --------------------------------------------------------------------------

def _why_not_technical(s) -> str:
    """The confidence said once: the builder's wording may already open with it."""
    lead = f"{s.confidence.capitalize()} confidence"
    return s.not_technical if s.not_technical.startswith(lead) else f"{lead}: {s.not_technical}"


def uk_time(at: datetime | None) -> str:
    """``Thu 3 Dec 2026, 07:15 GMT``: UK time with its zone (GMT or BST)."""
    if at is None:
        return "-"
    local = at.astimezone(LONDON)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname()}"


def duration(seconds: int) -> str:
    """``2 h 05 min``, ``45 min``, ``30 s``."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        text = f"{hours} h {minutes:02d} min"
    elif minutes:
        text = f"{minutes} min" if not secs else f"{minutes} min {secs:02d} s"
    else:
        text = f"{secs} s"
    return text.replace(" ", NBSP)          # a duration never wraps across lines


def _when(start: datetime, end: datetime | None) -> str:
    if end is None:
        return f"from {uk_time(start)}, still going when the pack was built"
    return f"{uk_time(start)} to {uk_time(end)}"


# -- the document -------------------------------------------------------------------

class _PackPdf(FPDF):
    def __init__(self, doc: PackDocument, *, trial: bool = False):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.doc = doc
        self.set_compression(False)               # the footer's hash must stand in the bytes literally
        self.set_margins(16, 14, 16)
        self.set_auto_page_break(True, margin=18)
        if trial:
            # A layout trial is never written out, so it may share parsed fonts (reading a
            # DejaVu file takes a tenth of a second); the PDF written parses its own, as its
            # output subsets (changes) them.
            for style in ("", "B"):
                self.fonts[f"{FONT.lower()}{style}"] = _trial_font(style)
        else:
            self.add_font(FONT, "", str(fonts.dejavu(fonts.REGULAR)))
            self.add_font(FONT, "B", str(fonts.dejavu(fonts.BOLD)))
        self.set_text_color(*INK)

    def normalize_text(self, text: str) -> str:
        # A character DejaVu lacks (Han, emoji) would silently vanish from a name: print its code instead.
        if self.is_ttf_font:
            cmap = self.current_font.cmap
            if any(ord(c) not in cmap and c not in "\n\r\t" for c in text):
                text = "".join(c if ord(c) in cmap or c in "\n\r\t" else f"[U+{ord(c):04X}]" for c in text)
        return super().normalize_text(text)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("helvetica", "", 7.5)        # a core font: its text is the literal bytes
        self.set_text_color(*MUTED)
        self.cell(0, 5, f"Pack {self.doc.pack_id} v{self.doc.version} \u00b7 SHA-256 {_PLACEHOLDER} "
                        f"\u00b7 page {self.page_no()} of {{nb}}", align="C")
        self.set_text_color(*INK)

    # helpers
    def text_block(self, text: str, size: float = 10.5, bold: bool = False, h: float | None = None,
                   color=INK, fill: bool = False) -> None:
        self.set_font(FONT, "B" if bold else "", size)
        self.set_text_color(*color)
        self.multi_cell(0, h or size * 0.5, text, fill=fill, new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
        self.set_text_color(*INK)

    def heading(self, text: str) -> None:
        if self.will_page_break(24):
            self.add_page()
        self.ln(3)
        self.set_font(FONT, "B", 13)
        self.cell(0, 8, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
        self.set_draw_color(*RULE)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(2)

    def rows_table(self, titles: tuple[str, ...], widths: tuple[float, ...], rows: list[tuple[str, ...]]) -> None:
        """A striped table whose heading repeats on each page."""
        self.set_font(FONT, "", 8.5)
        with self.table(col_widths=widths, first_row_as_headings=True, line_height=4.4, headings_style=HEAD,
                        borders_layout="HORIZONTAL_LINES", text_align="LEFT", cell_fill_color=STRIPE,
                        cell_fill_mode=TableCellFillMode.ROWS) as table:
            head = table.row()
            for title in titles:
                head.cell(title)
            for values in rows:
                row = table.row()
                for value in values:
                    row.cell(value)

    def pairs(self, rows: list[tuple[str, str]], size: float = 10.5, label_w: float = 44) -> None:
        """Label on the left in bold, its value wrapped beside it; empty values left out."""
        line_h = size * 0.48
        for label, value in rows:
            if not value:
                continue
            self.set_font(FONT, "", size)
            value_h = self.multi_cell(self.epw - label_w, line_h, value, dry_run=True, output="HEIGHT", align="L")
            self.set_font(FONT, "B", size)
            label_h = self.multi_cell(label_w, line_h, label, dry_run=True, output="HEIGHT", align="L")
            high = max(value_h, label_h)
            if self.will_page_break(high) and high < self.h - self.t_margin - self.b_margin:
                self.add_page()
            y, page = self.get_y(), self.page
            self.multi_cell(label_w, line_h, label, new_x=XPos.RIGHT, new_y=YPos.TOP, align="L")
            self.set_xy(self.l_margin + label_w, y)
            self.set_font(FONT, "", size)
            self.multi_cell(0, line_h, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
            if self.page == page:
                self.set_y(max(self.get_y(), y + label_h))
            self.ln(size * 0.2)


def _summary(pdf: _PackPdf, doc: PackDocument, scale: float, limit: int | None) -> None:
    """Page 1: what an official needs to decide, in the order they need it."""
    s, agency = doc.summary, doc.agency

    def cut(text: str) -> str:
        if limit is None or len(text) <= limit:
            return text
        return text[:limit].rsplit(" ", 1)[0] + " … (in full on page 2)"

    pdf.set_font(FONT, "B", 9 * scale)
    pdf.set_text_color(*MUTED)
    pdf.cell(0, 5 * scale, "BREACH PACK \u00b7 DECISION SUMMARY", new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
    pdf.text_block(f"Pack {doc.pack_id} version {doc.version} \u00b7 order {doc.order.reference} \u00b7 "
                   f"built {uk_time(doc.generated_at)} by {doc.generated_by}", size=9 * scale, color=MUTED)
    pdf.text_block(TEMPLATE_WORDS.get(doc.template, doc.template), size=10 * scale, bold=True)
    if s.special:
        pdf.text_block("SPECIAL: the shorter contracted deadlines apply", size=10 * scale, bold=True, color=ALERT)
    if doc.amendment:
        pdf.text_block(f"Amends version {doc.amendment.previous_version}: {doc.amendment.reason}",
                       size=10 * scale, bold=True, color=ALERT)
    pdf.ln(2 * scale)
    pdf.text_block(cut(s.headline), size=16 * scale, bold=True, h=7.5 * scale)
    pdf.ln(2.5 * scale)

    # The decision, and by when, in a box: what the reader is here for.
    decide_size, decide_h = 12.5 * scale, 6 * scale
    pdf.set_font(FONT, "", decide_size)
    text_h = pdf.multi_cell(pdf.epw - 6, decide_h, cut(s.decision), dry_run=True, output="HEIGHT", align="L")
    box_h = 6.5 * scale + text_h + 7.5 * scale + 3
    pdf.set_fill_color(*DECIDE_FILL)
    pdf.set_draw_color(*RULE)
    pdf.rect(pdf.l_margin, pdf.get_y(), pdf.epw, box_h, style="DF")
    pdf.ln(1.5)
    pdf.set_x(pdf.l_margin + 3)
    pdf.set_font(FONT, "B", 11 * scale)
    pdf.cell(0, 6.5 * scale, f"What the {agency.name} must decide", new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
    pdf.set_x(pdf.l_margin + 3)
    pdf.set_font(FONT, "", decide_size)
    pdf.multi_cell(pdf.epw - 6, decide_h, cut(s.decision), new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
    pdf.set_x(pdf.l_margin + 3)
    pdf.set_font(FONT, "B", 13.5 * scale)
    by = uk_time(s.respond_by) if s.respond_by else "no deadline applies"
    pdf.cell(0, 7.5 * scale, f"Respond by: {by}", new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
    pdf.set_fill_color(*WHITE)
    pdf.ln(1.5 + 4 * scale)

    subject = doc.subject
    who = s.who
    if subject.date_of_birth:
        who += f" (born {subject.date_of_birth.day} {subject.date_of_birth:%b %Y})"
    if subject.address:
        who += f"; curfew address {subject.address}"
    order = " \u00b7 ".join(x for x in (doc.order.reference, doc.order.cohort, doc.order.issuing_body) if x)
    how_long = f"{duration(s.duration_seconds)} this breach; {duration(s.period_seconds)} in violation over the period"
    contact = ", ".join(x for x in (agency.organisation, agency.contact, agency.phone, agency.email) if x)
    rows = [
        ("Who", cut(who)),
        ("Order", order),
        ("Condition breached", cut(s.condition)),
        ("When", _when(s.started_at, s.ended_at)),
        ("How long", how_long),
        ("Why not technical", cut(_why_not_technical(s))),
        ("Risk", cut(s.risk)),
        ("Responsible agency", f"{agency.name}" + (f": {contact}" if contact else "")),
        ("Deadlines", f"notification by {uk_time(s.notification_due)}; pack by {uk_time(s.pack_due)}"),
        *((f.label, cut(f.value)) for f in s.facts),
    ]
    pdf.pairs(rows, size=11.5 * scale, label_w=50)
    pdf.ln(2 * scale)
    pdf.set_font(FONT, "", 8.5 * scale)
    pdf.set_text_color(*MUTED)
    pdf.multi_cell(0, 4.2 * scale, "The evidence follows: the order and its conditions, the map, the timeline, "
                                   "device health, the time in violation and previous breaches.",
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
    pdf.set_text_color(*INK)


def _evidence(pdf: _PackPdf, doc: PackDocument, truncated: bool) -> None:
    s, order, subject = doc.summary, doc.order, doc.subject
    pdf.add_page()
    if truncated:
        pdf.heading("Summary in full")
        pdf.pairs([("Headline", s.headline), ("Who", s.who), ("Condition", s.condition), ("Decision", s.decision),
                   ("Why not technical", _why_not_technical(s)),
                   ("Risk", s.risk), *((f.label, f.value) for f in s.facts)])

    pdf.heading("1. The order and its conditions")
    period = ""
    if order.start or order.end:
        period = f"{order.start.isoformat() if order.start else '?'} to {order.end.isoformat() if order.end else '?'}"
    pdf.pairs([("Reference", order.reference), ("Cohort", order.cohort), ("Order type", order.order_type),
               ("Issuing body", order.issuing_body), ("In force", period),
               ("Subject", subject.name), ("Aliases", ", ".join(subject.aliases)),
               ("Date of birth", subject.date_of_birth.isoformat() if subject.date_of_birth else ""),
               ("Curfew address", subject.address),
               ("Risk", " \u2014 ".join(x for x in (subject.risk_level, subject.risk_notes) if x)),
               ("Devices", "; ".join(order.devices))])
    if order.conditions:
        pdf.text_block("Conditions", bold=True)
        for condition in order.conditions:
            pdf.text_block(f"\u2022 {condition}")

    pdf.heading("2. The breach")
    for n, inc in enumerate(doc.incidents, 1):
        pdf.text_block(f"Incident {n}: {inc.condition}", bold=True)
        pdf.pairs([("Incident id", inc.incident_id), ("When", _when(inc.started_at, inc.ended_at)),
                   ("Violation period", f"from {uk_time(inc.period_start)}"),
                   ("Time in violation", f"{duration(inc.seconds)} (period total {duration(inc.period_seconds)})"),
                   ("Alert codes", ", ".join(inc.codes)), ("Status", inc.status),
                   ("Why raised", "; ".join(inc.reasons)), ("Detail", inc.detail),
                   ("Excused time", "; ".join(inc.excuses)), ("Escalated by", inc.decided_by)], size=9.5)
        pdf.ln(1)

    _map(pdf, doc)

    pdf.heading("4. Timeline (UK time)")
    if doc.timeline:
        pdf.rows_table(("Time", "Kind", "What happened"), (46, 18, 114),
                       [(uk_time(e.at), e.kind, e.text) for e in doc.timeline])
    else:
        pdf.text_block("No events recorded around the breach.")

    pdf.heading("5. Device health around the breach")
    if doc.device_health:
        for reading in doc.device_health:
            if pdf.will_page_break(36):                 # a device's readings read together
                pdf.add_page()
            pdf.text_block(f"{reading.kind} {reading.serial}", bold=True)
            pdf.pairs([("Battery", reading.battery), ("Communication", reading.comms), ("Tamper", reading.tamper),
                       ("Home unit", reading.home_unit), ("Verdict", reading.verdict)], size=9.5)
    else:
        pdf.text_block("No device readings were available for the window.")

    pdf.heading("6. Accumulated time in violation")
    pdf.pairs([("This breach", duration(s.duration_seconds)),
               ("Over the period", duration(s.period_seconds)),
               *((f"Incident {n}", f"{duration(i.seconds)} ({_when(i.started_at, i.ended_at)})")
                 for n, i in enumerate(doc.incidents, 1))])

    pdf.heading("7. Previous breaches and outcomes")
    if doc.history:
        pdf.rows_table(("When", "Condition", "Time", "Outcome"), (46, 56, 22, 54),
                       [(uk_time(p.started_at), p.condition, duration(p.seconds),
                         p.outcome or "no outcome recorded yet") for p in doc.history])
    else:
        pdf.text_block("No previous breaches recorded for this person.")

    if doc.amendment:
        pdf.heading("8. Amendment")
        pdf.text_block(f"This version {doc.version} replaces version {doc.amendment.previous_version}. "
                       f"Reason: {doc.amendment.reason}")

    pdf.heading("About this pack")
    pdf.text_block(f"Built {uk_time(doc.generated_at)} by {doc.generated_by}. The JSON document of this pack "
                   f"version has SHA-256 {doc.sha256}. This PDF's SHA-256, in every footer, is over the file's "
                   "bytes with that hash replaced by 64 zeros. Check either file with: emdesk packs verify FILE",
                   size=8.5, color=MUTED)


def _png_size(png: bytes) -> tuple[int, int] | None:
    if len(png) < 24 or not png.startswith(b"\x89PNG\r\n\x1a\n") or png[12:16] != b"IHDR":
        return None
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    return (width, height) if width and height else None


def _map(pdf: _PackPdf, doc: PackDocument) -> None:
    m = doc.map
    png = b""
    if m is not None and m.png_base64:
        try:
            png = base64.b64decode(m.png_base64, validate=True)
        except (binascii.Error, ValueError):
            png = b""
    size = _png_size(png)
    image_h, image_w = 0.0, pdf.epw
    if size:
        image_h = pdf.epw * size[1] / size[0]
        if image_h > 160:                               # a tall map: narrower, centred
            image_w, image_h = image_w * 160 / image_h, 160.0
    if pdf.will_page_break(24 + image_h + 12):          # heading, window, map and caption together
        pdf.add_page()
    pdf.heading("3. Map of the trail and zones")
    if m is None:
        pdf.text_block("No map: none was drawn for this pack.")
        return
    pdf.text_block(f"{uk_time(m.start)} to {uk_time(m.end)}", size=9.5, color=MUTED)
    if size:
        pdf.image(io.BytesIO(png), x=pdf.l_margin + (pdf.epw - image_w) / 2, w=image_w, h=image_h)
        pdf.ln(1)
    elif m.png_base64:
        pdf.text_block("No map: the stored image is not a PNG.")
    if m.caption:
        pdf.text_block(m.caption, size=9.5)
    if m.note:
        pdf.text_block(m.note if size else f"No map: {m.note.removeprefix('no map: ')}", size=9.5)


def _metadata(pdf: _PackPdf, doc: PackDocument) -> None:
    pdf.set_title(f"Breach pack {doc.pack_id} v{doc.version}: {doc.subject.name}, {doc.order.reference}")
    pdf.set_subject(doc.summary.headline)
    pdf.set_author(doc.generated_by)
    pdf.set_creator("emdesk")
    pdf.set_lang("en-GB")
    pdf.set_keywords(f"emdesk-breach-pack pack_id={doc.pack_id} version={doc.version} sha256={_PLACEHOLDER}")
    pdf.set_creation_date(doc.generated_at)


SCALES = (1.0, 0.92, 0.85, 0.78, 0.72)
_TRIAL_FONTS: dict[str, object] = {}
_TRIAL_LOCK = threading.Lock()


def _trial_font(style: str):
    """The DejaVu face for layout trials, parsed once: what a trial reads of it (the glyph
    widths and the character map) never changes; the glyphs it marks as used are never written."""
    with _TRIAL_LOCK:
        font = _TRIAL_FONTS.get(style)
        if font is None:
            maker = FPDF()
            maker.add_font(FONT, "", str(fonts.dejavu(fonts.REGULAR)))      # the same order as a pack's,
            if style == "B":                                                 # so the same font number
                maker.add_font(FONT, "B", str(fonts.dejavu(fonts.BOLD)))
            font = _TRIAL_FONTS[style] = maker.fonts[f"{FONT.lower()}{style}"]
        return font


def _fit(doc: PackDocument) -> tuple[float, int | None]:
    """The largest type (then text cut) with which the summary stays on one page."""
    for limit in (None, 420, 240):
        for scale in SCALES:
            trial = _PackPdf(doc, trial=True)
            trial.add_page()
            _summary(trial, doc, scale, limit)
            if trial.page == 1:
                return scale, limit
    return SCALES[-1], 120


def render_pdf(doc: PackDocument) -> bytes:
    """The pack's PDF: page 1 the decision summary, then the evidence; the same bytes for
    the same document.  FontMissing (naming the fetch command) when the font is absent."""
    if not doc.sha256:
        doc = seal(doc)
    if not _SAFE_ID.fullmatch(doc.pack_id):
        raise ValueError(f"pack_id {doc.pack_id!r}: only letters, digits, '.', '_' and '-' may stand in a pack id")
    scale, limit = _fit(doc)
    pdf = _PackPdf(doc)
    _metadata(pdf, doc)
    pdf.add_page()
    _summary(pdf, doc, scale, limit)
    _evidence(pdf, doc, truncated=limit is not None)
    raw = bytes(pdf.output())
    parts = raw.split(_PLACEHOLDER.encode())
    if len(parts) < pdf.pages_count + 2:     # each footer and the metadata
        raise RuntimeError(f"the PDF holds its hash {len(parts) - 1} times, not {pdf.pages_count + 1}: "
                           "the footer or metadata is no longer written literally")
    digest = hashlib.sha256(ZEROS.encode().join(parts)).hexdigest()
    return digest.encode().join(parts)


def embedded_pdf_fields(data: bytes) -> dict:
    """``{"pack_id", "version", "sha256"}`` from the PDF's metadata; PackFileError when the
    file does not parse as a PDF or its metadata does not say them."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    if not data.startswith(b"%PDF-"):
        raise PackFileError("not a PDF: the file does not start with %PDF-")
    try:
        reader = PdfReader(io.BytesIO(data), strict=True)
        info = reader.metadata
        keywords = str(info.get("/Keywords", "")) if info else ""
        pages = len(reader.pages)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError) as exc:
        raise PackFileError(f"the PDF does not parse: {exc}") from None
    found = _KEYWORDS.search(keywords)
    if not found:
        raise PackFileError("the PDF's metadata (Keywords) does not carry a pack id, version and SHA-256: "
                            "it was not made by emdesk, or its metadata was edited")
    version = found["version"]
    if not version.isdigit():
        raise PackFileError(f"the PDF's metadata version {version!r} is not a number")
    return {"pack_id": found["pack_id"], "version": int(version), "sha256": found["sha256"], "pages": pages}


def pdf_sha256(data: bytes) -> str:
    """The PDF's SHA-256 as computed: over its bytes with its embedded hash's hex (from the
    metadata) replaced by 64 zeros wherever it appears.  PackFileError when it has none."""
    claimed = embedded_pdf_fields(data)["sha256"]
    if not _HEX64.fullmatch(claimed):
        raise PackFileError(f"the PDF's metadata sha256 {claimed[:70]!r} is not 64 lowercase hex digits")
    return hashlib.sha256(data.replace(claimed.encode(), ZEROS.encode())).hexdigest()


__all__ = ["duration", "embedded_pdf_fields", "pdf_sha256", "render_pdf", "uk_time"]
