"""What the queue's cells say: the deadline clock, ages, statuses and reasons in words."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from emdesk.domain.deadlines import NOTIFY, PACK, Urgency, urgency, which_deadline
from emdesk.services.queue_items import QueueItem

from ..formatting import fmt_when, humanize


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    tip: str
    width: int


COLUMNS: tuple[Column, ...] = (
    Column("priority", "Priority", "0-100: how soon a person should look (the reasons are in the tooltip)", 80),
    Column("why", "Why", "The main reason for the priority", 180),
    Column("deadline", "Deadline", "Time left to the running deadline: notification, then breach pack (Figure 3); "
           "P builds the pack of an escalated incident", 170),
    Column("reference", "Reference", "The order's reference", 104),
    Column("name", "Name", "The wearer", 130),
    Column("cohort", "Cohort", "The order's cohort", 110),
    Column("condition", "Condition", "The condition broken", 90),
    Column("codes", "Codes", "Alert codes", 90),
    Column("status", "Status", "Where the incident is in triage", 120),
    Column("age", "Age · lasted", "Time since it began · how long it lasted (less excused time)", 140),
    Column("region", "Region", "The order's region", 140),
)
KEYS = tuple(c.key for c in COLUMNS)

# Triage order: what needs a person first.
STATUSES = ("open", "acknowledged", "escalated", "auto_closed", "closed")
STATUS_LABELS = {"open": "Open", "acknowledged": "Acknowledged", "escalated": "Escalated",
                 "auto_closed": "Auto-closed", "closed": "Closed"}
DEADLINE_NAMES = {NOTIFY: "notify", "pack": "pack"}


def span(seconds: float) -> str:
    """A length of time as an operator reads it at a glance: "42m", "3h 05m", "2d 4h"."""
    s = int(abs(seconds))
    if s < 60:
        return "<1m"
    minutes = s // 60
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


def status_text(item: QueueItem) -> str:
    label = STATUS_LABELS.get(item.status, humanize(item.status))
    return f"{label} · technical" if item.technical else label


def running_deadline(item: QueueItem) -> tuple[str, datetime] | None:
    """The deadline running for the item's status ("notify"/"pack", when), or None."""
    kind = which_deadline(item.status)
    if kind is None:
        return None
    return kind, item.notify_by if kind == NOTIFY else item.pack_by


@dataclass(frozen=True)
class PackSent:
    """An escalated incident's pack was issued (a version has ``sent_at``): its clock stops."""

    sent_at: datetime
    issued_to: str
    version: int
    pack_due: datetime


def deadline_text(item: QueueItem, now: datetime, sent: PackSent | None = None) -> str:
    """The live countdown: "pack due in 3h 12m", "pack overdue 25m", "pack sent"."""
    running = running_deadline(item)
    if running is None:
        return "—"
    kind, due = running
    if kind == PACK and sent is not None:
        return "pack sent" if sent.sent_at <= sent.pack_due else "pack sent late"
    left = (due - now).total_seconds()
    word = DEADLINE_NAMES.get(kind, kind)
    return f"{word} due in {span(left)}" if left > 0 else f"{word} overdue {span(left)}"


def deadline_urgency(item: QueueItem, now: datetime, sent: PackSent | None = None) -> Urgency | None:
    running = running_deadline(item)
    if running is None or (running[0] == PACK and sent is not None):
        return None
    return urgency(running[1], now, running[0])


def deadline_tip(item: QueueItem, now: datetime, sent: PackSent | None = None) -> str:
    lines = [f"Notification due by {fmt_when(item.notify_by)}", f"Breach pack due by {fmt_when(item.pack_by)}",
             f"Violation period from {fmt_when(item.period_start)}"]
    running = running_deadline(item)
    if running is None:
        lines.insert(0, f"No deadline running: the incident is {STATUS_LABELS.get(item.status, item.status).lower()}")
    elif running[0] == PACK and sent is not None:
        lines.insert(0, f"Breach pack v{sent.version} issued {fmt_when(sent.sent_at)} to {sent.issued_to}")
    else:
        kind, due = running
        what = "notification" if kind == NOTIFY else "breach pack"
        left = (due - now).total_seconds()
        lines.insert(0, f"The {what} is due in {span(left)}" if left > 0 else f"The {what} is {span(left)} overdue")
    return "\n".join(lines)


def age_text(item: QueueItem, now: datetime) -> str:
    age = span((now - item.started_at).total_seconds())
    return f"{age} · ongoing" if item.ended_at is None else f"{age} · {span(item.seconds)}"


def age_tip(item: QueueItem) -> str:
    began = f"Began {fmt_when(item.started_at)}"
    if item.ended_at is None:
        return f"{began}; still going when last evaluated"
    return f"{began}, ended {fmt_when(item.ended_at)}; {span(item.seconds)} counted (less excused time)"


def priority_tip(item: QueueItem) -> str:
    reasons = "\n".join(f"• {r}" for r in item.reasons) or "• no reasons recorded"
    return f"Priority {item.priority} because:\n{reasons}"


def display(item: QueueItem, key: str, now: datetime, sent: PackSent | None = None) -> str:
    if key == "priority":
        return str(item.priority)
    if key == "why":
        return item.reasons[0] if item.reasons else ""
    if key == "deadline":
        return deadline_text(item, now, sent)
    if key == "reference":
        return item.reference
    if key == "name":
        return item.subject_name or "(hidden)"
    if key == "cohort":
        return humanize(item.cohort) if item.cohort else ""
    if key == "condition":
        return humanize(item.condition)
    if key == "codes":
        return ", ".join(item.codes)
    if key == "status":
        return status_text(item)
    if key == "age":
        return age_text(item, now)
    if key == "region":
        return item.region
    raise KeyError(f"column {key!r}: not one of {', '.join(KEYS)}")


def tooltip(item: QueueItem, key: str, now: datetime, sent: PackSent | None = None) -> str:
    if key in ("priority", "why"):
        return priority_tip(item)
    if key == "deadline":
        return deadline_tip(item, now, sent)
    if key == "age":
        return age_tip(item)
    if key == "status" and item.technical:
        return "Likely equipment or software, not the wearer"
    return display(item, key, now, sent)
