"""The triage actions: their keys, and the incidents each one applies to.

One key each, as in a mail client's triage (Gmail, mutt): the hand stays on the
keyboard through a shift.  The service refuses what it must; these rules only keep
an action that cannot apply from being offered at all.
"""
from __future__ import annotations

from dataclasses import dataclass

from emdesk.services.queue_items import QueueItem

LIVE = frozenset({"open", "acknowledged", "escalated"})
UNDECIDED = frozenset({"open", "acknowledged"})


@dataclass(frozen=True)
class Triage:
    name: str                 # also the action's objectName ("triage-<name>")
    key: str
    label: str
    help: str
    statuses: frozenset[str]  # the statuses it applies to
    verb: str                 # "Could not <verb> EM-1234."
    done: str                 # "<done> EM-1234."
    technical_only: bool = False

    def applies(self, item: QueueItem | None) -> bool:
        if item is None or item.status not in self.statuses:
            return False
        return item.technical or not self.technical_only


TRIAGE: tuple[Triage, ...] = (
    Triage("acknowledge", "A", "&Acknowledge", "acknowledge: you are looking at it", frozenset({"open"}),
           "acknowledge", "Acknowledged"),
    Triage("genuine", "G", "&Genuine…", "classify as a genuine breach (with the reason)", UNDECIDED,
           "classify", "Classified as genuine:"),
    Triage("technical", "T", "&Technical…", "classify as technical: equipment, not the wearer (with the reason)",
           UNDECIDED, "classify", "Classified as technical:"),
    Triage("excuse", "X", "E&xcuse…", "record a reasonable excuse or authorised absence", LIVE,
           "record the excuse on", "Excused time on"),
    Triage("note", "N", "&Note…", "add a note to the case", frozenset({*LIVE, "auto_closed", "closed"}),
           "add the note to", "Added a note to"),
    Triage("reopen", "R", "&Reopen…", "reopen an incident closed as technical (by the engine or a person)",
           frozenset({"auto_closed", "closed"}), "reopen", "Reopened", technical_only=True),
    Triage("escalate", "E", "&Escalate…", "escalate to a breach pack (records your decision)", UNDECIDED,
           "escalate", "Escalated"),
)
BY_NAME = {t.name: t for t in TRIAGE}

MOVES = (("J", "next incident"), ("K", "previous incident"), ("Enter", "open the subject"))


def help_text() -> str:
    """Every key, one per line (the table's tooltip and the help button)."""
    lines = [f"{t.key}  {t.help}" for t in TRIAGE] + [f"{k}  {what}" for k, what in MOVES]
    return "Keys (with the queue focused):\n" + "\n".join(lines)
