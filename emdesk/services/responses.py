"""The agencies' side of a breach pack: the inbox, RADU steps, outcomes, the 5-day prompts.

Least privilege: an agency account (police, probation, Home Office) sees and writes only
packs issued to its agency in its region (Home Office accounts every region; a police or
probation account with no region none), never a draft.  Monitoring staff see the issued packs of the
regions they work, so they can chase the 5-day prompts and record an outcome an agency
reported by phone (the notes say who reported it); they never record an agency's RADU
steps.  Every write is audited and syncs as a record write; times are the clock's, the
author is the signed-in user (the hub enforces both).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from emdesk.domain.clock import Clock
from emdesk.domain.monitoring import (
    BreachOutcome,
    BreachOutcomeCode,
    BreachPack,
    BreachPackStatus,
    RaduStep,
    ResponseStep,
)
from emdesk.domain.orders import Responder
from emdesk.domain.packs import PackDocument
from emdesk.domain.responses import (
    CODE_LABELS,
    STEP_LABELS,
    code_refusal,
    follows_radu,
    is_closed,
    needs_prompt,
    next_step,
    outcome_id,
    prompt_at,
    step_refusal,
)
from emdesk.domain.users import AGENCY_OF, Permission, User, agency_regions
from emdesk.store import Store

from .errors import AccessDenied, ServiceError
from .pack_json import PackFileError, parse_document
from .watch_lists import regions_of

NOTES_LIMIT = 5_000
# A pack stays issued when amended: the superseded version was sent, so it is the agency's too.
_ISSUED = (BreachPackStatus.SENT, BreachPackStatus.ACKNOWLEDGED, BreachPackStatus.SUPERSEDED)


@dataclass(frozen=True)
class InboxRow:
    """One issued pack series as its agency sees it: the latest issued version and the response."""

    pack_id: str
    version_id: str
    version: int
    reference: str
    region: str
    responder: Responder
    template: str
    special: bool
    breach_at: datetime | None
    notified_at: datetime | None
    first_sent_at: datetime           # the series' first issue: the response clock runs from here
    sent_at: datetime                 # this version's issue
    issued_to: str
    notification_due: datetime
    pack_due: datetime
    prompt_at: datetime               # breach + 5 days: no outcome by then raises the prompt
    code: BreachOutcomeCode | None
    decided_at: datetime | None
    decided_by: str
    notes: str
    steps: tuple[ResponseStep, ...]
    next_step: RaduStep | None        # police only: the RADU step to record next
    closed: bool
    prompt: bool                      # issued 5 days ago or more and no outcome

    @property
    def radu(self) -> bool:
        return follows_radu(self.responder)

    @property
    def state(self) -> str:
        """The response in a few words, for lists."""
        if self.code is not None:
            decided = CODE_LABELS[self.code]
            return decided if self.closed or not self.radu else f"{decided} (Update to close)"
        if self.radu and self.steps:
            return f"{STEP_LABELS[self.steps[-1].step]} recorded"
        return "No outcome yet"

    def step_at(self, step: RaduStep) -> datetime | None:
        return next((s.at for s in self.steps if s.step is step), None)


def _clean(text: str, name: str) -> str:
    text = (text or "").strip()
    if len(text) > NOTES_LIMIT:
        raise ServiceError(f"{name}: at most {NOTES_LIMIT:,} characters ({len(text):,} given); shorten it")
    return text


class ResponseService:
    def __init__(self, store: Store, user: User, clock: Clock):
        self.agency: Responder | None = None
        self.regions: set[str] | None = None       # None: every region
        if user.can(Permission.RESPOND_TO_BREACHES):
            self.agency = Responder(AGENCY_OF[user.role])
            regions = agency_regions(user.role, user.region)
            self.regions = None if regions is None else set(regions)
        elif user.can(Permission.WORK_ALERTS):
            self.regions = regions_of(user)
        else:
            raise AccessDenied(f"{user.role.label} accounts do not see breach responses")
        self.store, self.user, self.clock = store, user, clock

    # -- scope ----------------------------------------------------------------

    @property
    def is_agency(self) -> bool:
        return self.agency is not None

    def _in_scope(self, pack: BreachPack) -> bool:
        if pack.sent_at is None or pack.status not in _ISSUED:
            return False
        if self.agency is not None and pack.responder is not self.agency:
            return False
        return self.regions is None or pack.region in self.regions

    def _issued(self) -> dict[str, list[BreachPack]]:
        """Issued versions in scope, by pack series, in version order."""
        series: dict[str, list[BreachPack]] = {}
        for pack in self.store.find(BreachPack, where={"status": list(_ISSUED)}):
            if self._in_scope(pack):
                series.setdefault(pack.pack_id, []).append(pack)
        for versions in series.values():
            versions.sort(key=lambda p: p.version)
        return series

    def _pack(self, pack_id: str) -> tuple[BreachPack, datetime]:
        """The latest issued version of a series in scope, and its first issue."""
        versions = self._issued().get(pack_id)
        if not versions:
            whose = f"the {self.agency.value.replace('_', ' ')}" if self.agency else "your regions"
            raise ServiceError(f"pack_id: no breach pack {pack_id} has been issued to {whose}; refresh the list")
        return versions[-1], min(p.sent_at for p in versions)

    def _outcomes(self, packs: Iterable[BreachPack]) -> dict[str, BreachOutcome]:
        """Each series' outcome, by pack id: the record every desk shares (``outcome_id``), found
        by its id, never by incident (an amendment may add an earlier incident to the pack)."""
        wanted = {outcome_id(p.pack_id): p.pack_id for p in packs}
        ids = sorted(wanted)
        found: dict[str, BreachOutcome] = {}
        for start in range(0, len(ids), 500):
            for outcome in self.store.find(BreachOutcome, where={"id": ids[start:start + 500]}):
                found[wanted[outcome.id]] = outcome
        return found

    # -- reading ------------------------------------------------------------------

    def _row(self, pack: BreachPack, first_sent: datetime, outcome: BreachOutcome | None, now: datetime) -> InboxRow:
        steps = outcome.steps if outcome else ()
        radu = follows_radu(pack.responder)
        return InboxRow(
            pack_id=pack.pack_id, version_id=pack.id, version=pack.version, reference=pack.reference,
            region=pack.region, responder=pack.responder, template=pack.template.value, special=pack.special,
            breach_at=pack.breach_at, notified_at=pack.notified_at, first_sent_at=first_sent, sent_at=pack.sent_at,
            issued_to=pack.issued_to, notification_due=pack.notification_due, pack_due=pack.pack_due,
            prompt_at=prompt_at(pack.breach_at or first_sent), code=outcome.code if outcome else None,
            decided_at=outcome.decided_at if outcome else None, decided_by=outcome.decided_by if outcome else "",
            notes=outcome.notes if outcome else "", steps=tuple(steps),
            next_step=next_step(steps) if radu else None, closed=is_closed(outcome),
            prompt=needs_prompt(pack.breach_at or first_sent, outcome, now))

    def inbox(self) -> list[InboxRow]:
        """Every pack series issued in scope: open ones first, soonest 5-day deadline first;
        then closed ones, most recently decided first."""
        series = self._issued()
        latest = [versions[-1] for versions in series.values()]
        outcomes = self._outcomes(latest)
        now = self.clock.now()
        rows = [self._row(versions[-1], min(p.sent_at for p in versions), outcomes.get(pack_id), now)
                for pack_id, versions in series.items()]
        open_rows = sorted((r for r in rows if not r.closed), key=lambda r: (r.prompt_at, r.pack_id))
        closed = sorted((r for r in rows if r.closed), key=lambda r: (r.decided_at or r.sent_at, r.pack_id),
                        reverse=True)
        return open_rows + closed

    def prompts(self) -> list[InboxRow]:
        """The 5-day prompts in scope: issued 5 days ago or more and still no outcome."""
        return [r for r in self.inbox() if r.prompt]

    def row(self, pack_id: str) -> InboxRow:
        pack, first = self._pack(pack_id)
        return self._row(pack, first, self._outcomes([pack]).get(pack_id), self.clock.now())

    def document(self, pack_id: str) -> PackDocument:
        """The issued version's document (what the PDF says), audited as a view of the wearer's record."""
        pack, _ = self._pack(pack_id)
        try:
            doc = parse_document(pack.document.encode("utf-8"))
        except PackFileError as exc:
            raise ServiceError(f"document: pack {pack_id} v{pack.version} holds no readable document ({exc}); "
                               "ask the monitoring centre to reissue it") from None
        self.store.audit_view(actor=self.user.id, entity=BreachPack.table, entity_id=pack.id,
                              subject_id=pack.subject_id or None, action="view_pack")
        return doc

    # -- writing ------------------------------------------------------------------

    def _outcome(self, pack: BreachPack) -> BreachOutcome:
        held = self._outcomes([pack]).get(pack.pack_id)
        if held is not None:
            return held
        return BreachOutcome(id=outcome_id(pack.pack_id), incident_id=pack.incident_id, order_id=pack.order_id,
                             pack_id=pack.pack_id, subject_id=pack.subject_id, region=pack.region,
                             responder=pack.responder)

    def _save(self, outcome: BreachOutcome, action: str) -> BreachOutcome:
        with self.store.transaction():
            return self.store.put_many([outcome], actor=self.user.id, audit_action=action)[0]

    def _code(self, pack: BreachPack, code) -> BreachOutcomeCode:
        refusal = code_refusal(pack.responder, code)
        if refusal:
            raise ServiceError(refusal)
        return BreachOutcomeCode(getattr(code, "value", code))

    def record_step(self, pack_id: str, step: RaduStep, note: str = "", *,
                    code: BreachOutcomeCode | None = None) -> BreachOutcome:
        """Record a RADU step now, as the signed-in officer.  Decide takes the outcome ``code``
        (or uses one already reported by phone); Update closes the response."""
        step = RaduStep(getattr(step, "value", step))
        pack, _ = self._pack(pack_id)
        if not self.is_agency:
            raise ServiceError("step: RADU steps are recorded by the police themselves; record the outcome they "
                               "reported instead")
        if not follows_radu(pack.responder):
            raise ServiceError(f"step: RADU steps are the police's; the {pack.responder.value.replace('_', ' ')} "
                               "records the outcome")
        note = _clean(note, "note")
        outcome = self._outcome(pack)
        if code is not None:
            if step is not RaduStep.DECIDE:
                raise ServiceError(f"code: an outcome is recorded with Decide, not {STEP_LABELS[step]}")
            code = self._code(pack, code)
        refusal = step_refusal(outcome.steps, step, code=code or outcome.code)
        if refusal:
            raise ServiceError(refusal)
        now = self.clock.now()
        fields = {}
        if step is RaduStep.DECIDE and code is not None:
            fields = {"code": code, "decided_at": now, "decided_by": self.user.id}
        changed = outcome.evolve(steps=(*outcome.steps, ResponseStep(step=step, at=now, by=self.user.id, note=note)),
                                 **fields)
        return self._save(changed, f"radu_{step.value}")

    def record_outcome(self, pack_id: str, code: BreachOutcomeCode, notes: str = "") -> BreachOutcome:
        """The agency's decision.  Police: the Decide step (after Receive and Assess).
        Monitoring staff: an outcome an agency reported by phone; ``notes`` must say who."""
        pack, _ = self._pack(pack_id)
        code = self._code(pack, code)
        notes = _clean(notes, "notes")
        outcome = self._outcome(pack)
        if outcome.code is not None:
            raise ServiceError(f"code: an outcome was recorded already ({CODE_LABELS[outcome.code].lower()}, "
                               f"{outcome.decided_at:%Y-%m-%d %H:%M} UTC); it stands as recorded")
        if self.is_agency and follows_radu(pack.responder):
            return self.record_step(pack_id, RaduStep.DECIDE, notes, code=code)
        now = self.clock.now()
        if not self.is_agency:
            if not notes:
                raise ServiceError("notes: say who reported the outcome by phone (name, agency, number)")
            notes, action = f"Reported by phone: {notes}", "outcome_by_phone"
        else:
            action = "outcome"
        joined = "\n".join(x for x in (outcome.notes, notes) if x)
        return self._save(outcome.evolve(code=code, decided_at=now, decided_by=self.user.id, notes=joined), action)


__all__ = ["InboxRow", "ResponseService", "outcome_id"]
