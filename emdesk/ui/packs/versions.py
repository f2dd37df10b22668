"""The versions of one breach pack: each with its status, when it was issued and to whom,
and the start of its SHA-256 (the full hashes in the tooltip, to compare with a file);
when and by whom each was built is the version's tooltip."""
from __future__ import annotations

from PySide6.QtWidgets import QWidget

from emdesk.domain.monitoring import BreachPack, BreachPackStatus

from .. import palette
from ..formatting import fmt_when
from ..table_model import Column
from ..table_view import Table, make_table

STATUS_WORDS = {BreachPackStatus.DRAFT: "Draft, not issued", BreachPackStatus.SENT: "Issued",
                BreachPackStatus.ACKNOWLEDGED: "Received by the agency",
                BreachPackStatus.SUPERSEDED: "Superseded (kept)"}


def status_words(pack: BreachPack) -> str:
    return STATUS_WORDS.get(pack.status, str(pack.status))


def _hash_tip(pack: BreachPack) -> str:
    return (f"JSON SHA-256 {pack.document_sha256 or 'not recorded'}\nPDF SHA-256 {pack.pdf_sha256 or 'not recorded'}\n"
            "`emdesk packs verify FILE` checks a file against them")


def _status_colour(pack: BreachPack):
    if pack.status is BreachPackStatus.SUPERSEDED:
        return palette.colour("faint")
    return palette.colour("good") if pack.sent_at else None


def _built_tip(p: BreachPack) -> str:
    by = f" by {p.built_by}" if p.built_by else ""
    return f"v{p.version} built {fmt_when(p.built_at)}{by}"


COLUMNS: list[Column[BreachPack]] = [
    Column("Version", lambda p: p.version, fmt=lambda v: f"v{v}", width=74, tooltip=_built_tip),
    Column("Status", status_words, width=124, foreground=_status_colour,
           tooltip=lambda p: f"Amended because: {p.amend_reason}" if p.amend_reason else None),
    Column("Issued", lambda p: p.sent_at, fmt=fmt_when, width=116,
           tooltip=lambda p: f"Issued by {p.issued_by}" if p.issued_by else None),
    Column("Issued to", lambda p: p.issued_to, width=130, tooltip=lambda p: p.issued_to or None),
    Column("SHA-256", lambda p: p.document_sha256, fmt=lambda h: f"{h[:10]}…" if h else "", tooltip=_hash_tip),
]


def versions_table(parent: QWidget) -> Table:
    """Newest version first: the one to act on is at the top."""
    table = make_table(COLUMNS, parent, sort_column=0, name="packVersions")
    from PySide6.QtCore import Qt
    table.view.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    table.view.setAccessibleName("Versions of the breach pack")
    return table
