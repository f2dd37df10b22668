"""Who did it, and when: the hub takes these from the sign-in and its own clock.

A desktop's payload says who wrote a note, who acknowledged an alert, who moved an order
or a device along its lifecycle, and on which desktop; a hostile desktop could say anyone.
So the hub refuses a change that names another user (or another desktop) as its author,
fills in an author left blank from the token, and moves any instant later than its own
clock back to it (an officer cannot date an outcome tomorrow).  An outcome's RADU steps
and its ``decided_by`` are judged the same way, and an agency writes only the outcome of
a pack issued to it, saying what its pack says (``outcome_refusal``).  Pure functions.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from .scope import agency_audience

# Fields naming the user who did something, per table.
ACTORS: dict[str, tuple[str, ...]] = {
    "notes": ("author_id",),
    "alerts": ("acknowledged_by",),
    "checklist_ticks": ("by",),
    "outcomes": ("decided_by",),
}
# Lifecycle histories whose entries say who made each move (``by``) and when (``at``): an
# outcome's RADU steps too.
HISTORIES: dict[str, str] = {"orders": "history", "devices": "history", "outcomes": "steps"}
# Instants that say when someone did something.
WHEN: dict[str, tuple[str, ...]] = {
    "notes": ("at",),
    "alerts": ("acknowledged_at",),
    "visits": ("outcome_at",),
    "checklist_ticks": ("at",),
    "outcomes": ("decided_at",),
}
# What an outcome must say as its pack says it: an agency cannot point an outcome elsewhere.
OUTCOME_FROM_PACK = ("incident_id", "order_id", "subject_id", "region", "responder")
STAMPS = ("created_at", "updated_at")


def _key(entry: Any) -> str:
    return msgspec.json.encode(entry, order="sorted").decode()


def _new_entries(table: str, current: dict | None, incoming: dict) -> list[dict]:
    name = HISTORIES.get(table)
    if not name:
        return []
    held = {_key(e) for e in (current or {}).get(name) or ()}
    return [e for e in incoming.get(name) or () if isinstance(e, dict) and _key(e) not in held]


def forged(table: str, user_id: str, device_id: str, current: dict | None, incoming: dict) -> str | None:
    """Why this change names someone other than its writer as the doer, or None."""
    origin = incoming.get("origin")
    if origin and origin != device_id:
        return (f"{table}: the change says it was made on another desktop ({origin}); the hub records which "
                "desktop made a change from its sign-in")
    for name in ACTORS.get(table, ()):
        said, held = incoming.get(name), (current or {}).get(name)
        if said not in (None, "", held) and said != user_id:
            return (f"{table}.{name}: the change says another user ({said}) did this; the hub records who did "
                    "what from the sign-in")
    for entry in _new_entries(table, current, incoming):
        if entry.get("by") not in (None, "", user_id):
            return (f"{table}.{HISTORIES[table]}: a new entry says another user ({entry.get('by')}) made the move; "
                    "the hub records who did what from the sign-in")
    return None


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


def settle(table: str, user_id: str, device_id: str, current: dict | None, incoming: dict,
           now: datetime) -> dict:
    """The change as the hub keeps it: its desktop and blank authors from the sign-in, no
    instant later than the hub's clock.  (Call ``forged`` first.)"""
    data = dict(incoming)
    data["origin"] = device_id
    now_text = msgspec.to_builtins(now)

    def settled(value: Any) -> Any:
        when = _instant(value)
        return now_text if when is not None and when > now else value

    for name in ACTORS.get(table, ()):
        if data.get(name) == "" and (current or {}).get(name) in (None, ""):
            data[name] = user_id
    for name in (*WHEN.get(table, ()), *STAMPS):
        if name in data:
            data[name] = settled(data[name])
    history = HISTORIES.get(table)
    if history and data.get(history):
        fresh = {_key(e) for e in _new_entries(table, current, incoming)}
        entries = []
        for entry in data[history]:
            if isinstance(entry, dict) and _key(entry) in fresh:
                entry = dict(entry)
                if not entry.get("by"):
                    entry["by"] = user_id
                if "at" in entry:
                    entry["at"] = settled(entry["at"])
            entries.append(entry)
        data[history] = entries
    return data


def outcome_refusal(principal: str, incoming: dict, packs: list[dict]) -> str | None:
    """Why an agency (``principal``) may not write this outcome, or None: its pack (``packs``,
    the versions the hub holds of ``incoming["pack_id"]``) must have been issued to that
    agency, and the outcome must name the pack's incident, order, person, region and agency."""
    mine = [p for p in packs if p.get("pack_id") == incoming.get("pack_id") and principal in agency_audience(p)]
    if not incoming.get("pack_id") or not mine:
        return (f"outcomes: breach pack {incoming.get('pack_id') or '(none named)'} has not been issued to you, so "
                "the outcome was not accepted")
    pack = max(mine, key=lambda p: p.get("version") or 0)
    for name in OUTCOME_FROM_PACK:
        if (incoming.get(name) or "") != (pack.get(name) or ""):
            return (f"outcomes.{name}: the outcome says {incoming.get(name)!r} where its pack says "
                    f"{pack.get(name)!r}, so it was not accepted")
    return None


__all__ = ["ACTORS", "HISTORIES", "OUTCOME_FROM_PACK", "WHEN", "forged", "outcome_refusal", "settle"]
