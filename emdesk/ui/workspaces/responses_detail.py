"""What the Breaches workspace shows of a pack: its inbox columns, and page 1 (the decision
summary) as rich text when the PDF is not to hand."""
from __future__ import annotations

from html import escape

from emdesk.domain.packs import PackDocument
from emdesk.services.responses import InboxRow

from .. import palette
from ..formatting import fmt_datetime, fmt_when
from ..table_model import Column

AGENCY_WORDS = {"police": "Police", "probation": "Probation", "home_office": "Home Office"}


def _prompt_at(r: InboxRow) -> str:
    if r.code is not None:
        return "answered"
    # The prompt is marked in words as well as colour (tint, red, the banner above).
    return ("⚠ " if r.prompt else "") + fmt_when(r.prompt_at)


def _prompt_tint(r: InboxRow):
    return palette.colour("bad-chip") if r.prompt else None


def columns(*, agency_column: bool) -> list[Column[InboxRow]]:
    """The inbox's columns; ``agency_column``: the centre (and national desks) see whose it is."""
    out = [
        Column("Pack", lambda r: r.reference, width=175, bold=lambda r: not r.closed, background=_prompt_tint,
               show=lambda r: f"{r.reference} v{r.version}" + (" · special" if r.special else "")),
        Column("Breach", lambda r: r.breach_at, fmt=fmt_when, width=138, background=_prompt_tint),
        Column("Issued", lambda r: r.first_sent_at, fmt=fmt_when, width=138, background=_prompt_tint),
        Column("5-day prompt", lambda r: r.prompt_at, show=_prompt_at, width=170, background=_prompt_tint,
               foreground=lambda r: palette.colour("bad") if r.prompt else None, bold=lambda r: r.prompt,
               tooltip=lambda r: "No outcome 5 days after the pack was issued: national guidance wants it chased"
               if r.prompt else "An outcome is due within 5 days of the pack's issue"),
        Column("Response", lambda r: r.state, width=150, background=_prompt_tint),
    ]
    if agency_column:
        out.insert(1, Column("Agency", lambda r: f"{AGENCY_WORDS[r.responder.value]}, {r.region}", width=190,
                             background=_prompt_tint))
    return out


def _duration(seconds: int) -> str:
    minutes = round(max(0, seconds) / 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def summary_html(doc: PackDocument) -> str:
    """Page 1 of the pack as rich text: the facts an officer decides on, UK time."""
    s = doc.summary
    ended = fmt_datetime(s.ended_at) if s.ended_at else "still going when the pack was built"
    rows = [
        ("Who", s.who), ("Condition breached", s.condition),
        ("When (UK time)", f"{fmt_datetime(s.started_at)} to {ended}"),
        ("How long", _duration(s.duration_seconds)),
        ("Accumulated in the period", _duration(s.period_seconds)),
        ("Not technical", s.not_technical if s.confidence.lower() in s.not_technical.lower()
         else f"{s.not_technical} (confidence: {s.confidence})"),
        ("Risk", s.risk), ("To decide", s.decision),
    ]
    if s.respond_by is not None:
        rows.append(("Respond by", fmt_datetime(s.respond_by)))
    rows += [(f.label, f.value) for f in s.facts]
    table = "".join(f"<tr><td style='padding:2px 10px 2px 0; color:{palette.css('muted')}'><b>{escape(k)}</b></td>"
                    f"<td style='padding:2px 0'>{escape(v)}</td></tr>" for k, v in rows)
    special = (f"<p style='color:{palette.css('bad')}'><b>Specials case: shorter deadlines apply.</b></p>"
               if s.special else "")
    amended = (f"<p><i>Amended (v{doc.amendment.previous_version} replaced): {escape(doc.amendment.reason)}</i></p>"
               if doc.amendment else "")
    return (f"<h3 style='margin:0 0 6px 0'>{escape(s.headline)}</h3>{special}{amended}"
            f"<table cellspacing='0'>{table}</table>"
            f"<p style='color:{palette.css('faint')}'>Pack {escape(doc.pack_id)} v{doc.version} · for "
            f"{escape(doc.agency.name)} · SHA-256 {escape(doc.sha256[:16])}…</p>")

