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

from datetime import datetime, timedelta
from typing import Any

import msgspec

from emdesk.domain.monitoring import RaduStep, ResponseStep
from emdesk.domain.responses import STEP_LABELS, code_refusal, follows_radu, outcome_id, step_refusal

from .scope import agency_audience, issued as was_issued

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
# What an outcome's decision is: once its code is set, none of these changes.
DECISION = ("code", "decided_at", "decided_by")
# A desktop's clock may run a little ahead of the hub's: so much is moved back to the hub's
# clock (``settle``); an instant further ahead is refused.
SKEW = timedelta(minutes=5)
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


def _issued_to(principal: str, incoming: dict, packs: list[dict]) -> list[dict]:
    return [p for p in packs if p.get("pack_id") == incoming.get("pack_id") and principal in agency_audience(p)]


def outcome_refusal(principal: str, incoming: dict, packs: list[dict]) -> str | None:
    """Why an agency (``principal``) may not write this outcome, or None: its pack (``packs``,
    the versions the hub holds of ``incoming["pack_id"]``) must have been issued to that
    agency, and the outcome must name the pack's order, person, region and agency, and one
    of its incidents (an amendment may add an earlier one)."""
    mine = _issued_to(principal, incoming, packs)
    if not incoming.get("pack_id") or not mine:
        return (f"outcomes: breach pack {incoming.get('pack_id') or '(none named)'} has not been issued to you, so "
                "the outcome was not accepted")
    pack = max(mine, key=lambda p: p.get("version") or 0)
    incidents = {i for p in mine for i in (p.get("incident_id"), *(p.get("incident_ids") or ())) if i}
    for name in OUTCOME_FROM_PACK:
        said = incoming.get(name) or ""
        if said == (pack.get(name) or "") or (name == "incident_id" and said in incidents):
            continue
        return (f"outcomes.{name}: the outcome says {incoming.get(name)!r} where its pack says "
                f"{pack.get(name)!r}, so it was not accepted")
    return None


def _steps(entries: Any) -> tuple[ResponseStep, ...] | None:
    try:
        return msgspec.convert(list(entries or ()), tuple[ResponseStep, ...])
    except (msgspec.ValidationError, TypeError):
        return None


def outcome_change_refusal(user_id: str, held: dict | None, incoming: dict, packs: list[dict],
                           now: datetime) -> str | None:
    """Why an agency user's change to an outcome breaks the rules its desktop keeps, or None
    (call ``outcome_refusal`` first: the pack was issued to the writer).  One outcome per pack
    series (``outcome_id``), never deleted; the code one the agency records; RADU steps only
    appended, in order, each by its writer, none before the pack's first issue, an earlier
    step, or the hub's clock; the decision taken by the signed-in user and, once taken, fixed."""
    held = held or {}
    pack_id = incoming.get("pack_id") or ""
    if incoming.get("id") != outcome_id(pack_id):
        return (f"outcomes.id: the outcome of pack {pack_id} is {outcome_id(pack_id)}, not {incoming.get('id')!r}; "
                "a pack has one outcome, so this one was not accepted")
    if incoming.get("deleted"):
        return "outcomes: an agency does not delete an outcome; it stands as recorded (ask the monitoring centre)"
    issued = [p for p in packs if p.get("pack_id") == pack_id and was_issued(p) and _instant(p.get("sent_at"))]
    responder = max(issued, key=lambda p: p.get("version") or 0)["responder"] if issued else incoming.get("responder")
    first_sent = min((_instant(p.get("sent_at")) for p in issued), default=None)
    code = incoming.get("code")
    if code is not None:
        reason = code_refusal(responder, code)
        if reason:
            return f"outcomes.{reason}"
    if held.get("code") is not None:
        for name in DECISION:
            if incoming.get(name) != held.get(name):
                return (f"outcomes.{name}: the outcome was recorded already ({held.get('code')}, by "
                        f"{held.get('decided_by')}); it stands as recorded")
    elif code is not None or incoming.get("decided_at") is not None:
        if incoming.get("decided_by") not in ("", None, user_id):
            return (f"outcomes.decided_by: the decision is recorded as taken by the signed-in user, not "
                    f"{incoming.get('decided_by')}")
        if code is None or _instant(incoming.get("decided_at")) is None:
            return "outcomes.decided_at: a decision needs both its code and when it was taken"
    before = list(held.get("steps") or ())
    after = list(incoming.get("steps") or ())
    if [_key(e) for e in after[:len(before)]] != [_key(e) for e in before]:
        return "outcomes.steps: a recorded RADU step cannot be removed or changed; new steps are added after it"
    steps = _steps(after)
    if steps is None:
        return "outcomes.steps: the RADU steps could not be read"
    new = steps[len(before):]
    if new and not follows_radu(responder):
        return (f"outcomes.steps: RADU steps are the police's; the {str(responder).replace('_', ' ')} records "
                "the outcome")
    decides = any(s.step is RaduStep.DECIDE for s in new)
    if follows_radu(responder) and code is not None and held.get("code") is None and not decides:
        return "outcomes.code: the police record their decision with the Decide step (after Receive and Assess)"
    previous = steps[len(before) - 1].at if before else first_sent
    for i, step in enumerate(new, start=len(before)):
        reason = step_refusal(steps[:i], step.step, code=code)
        if reason:
            return f"outcomes.{reason}"
        reason = _when_refusal(f"steps ({STEP_LABELS[step.step]})", step.at, previous, first_sent, now)
        if reason:
            return reason
        previous = step.at
    if held.get("code") is None and incoming.get("decided_at") is not None:
        return _when_refusal("decided_at", _instant(incoming["decided_at"]), first_sent, first_sent, now)
    return None


def _when_refusal(name: str, at: datetime | None, earliest: datetime | None, first_sent: datetime | None,
                  now: datetime) -> str | None:
    if at is None:
        return f"outcomes.{name}: no time given; the time is when it was recorded"
    if earliest is not None and at < earliest:
        what = "the pack was first issued" if earliest == first_sent else "the step before it"
        return (f"outcomes.{name}: {at:%Y-%m-%d %H:%M} UTC is earlier than {what} ({earliest:%Y-%m-%d %H:%M} UTC); "
                "record it as it happens")
    if at > now + SKEW:
        return (f"outcomes.{name}: {at:%Y-%m-%d %H:%M} UTC is later than the hub's clock ({now:%Y-%m-%d %H:%M} UTC); "
                "check the desktop's clock")
    return None


__all__ = ["ACTORS", "DECISION", "HISTORIES", "OUTCOME_FROM_PACK", "SKEW", "WHEN", "forged", "outcome_change_refusal",
           "outcome_refusal", "settle"]
