"""Breach packs: built from an escalated incident's records, versioned, issued to the agency.

A pack is a series of versions sharing a ``pack_id``.  Building again with the same
evidence gives back the latest version (a repeated build never doubles); new evidence
makes the next version, and amending always does (with its reason); the version replaced
is marked superseded and kept.  Each version stores its canonical JSON document, that
document's SHA-256 and the SHA-256 of its PDF, so a file can be checked against the
store.  Every write is audited; reading the document or the PDF is audited too.

Who may do what: building, amending and issuing need BUILD_PACKS (the monitoring centre,
scoped to the user's region as the monitoring lists are); the agencies
(RESPOND_TO_BREACHES) read the versions issued to their agency in their region (the Home
Office every region; a police or probation account with no region none).
"""
from __future__ import annotations

import secrets
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import msgspec

from emdesk.domain.clock import Clock
from emdesk.domain.deadlines import AMBER_WITHIN, PACK, Deadlines, deadlines
from emdesk.domain.deadlines import is_special as special_cohort
from emdesk.domain.devices import Device
from emdesk.domain.monitoring import (Alert, BreachPack, BreachPackStatus, Incident, IncidentStatus)
from emdesk.domain.orders import Order
from emdesk.domain.packs import Amendment, PackDocument
from emdesk.domain.people import Subject
from emdesk.domain.users import AGENCY_OF, Permission, User, agency_regions
from emdesk.store import Store
from emdesk.store.pack_queries import PackQueries

from . import pack_evidence as ev
from . import pack_summary as words
from .errors import AccessDenied, ServiceError
from .pack_json import canonical_json, content_sha256, parse_document, seal
from .pack_map import MapImage, MapRequest, map_part
from .watch_lists import regions_of

Progress = Callable[[int, str], None]

# What a rebuild compares to decide whether the evidence changed: everything but the
# version's own bookkeeping and the map (a picture of the same trail is not new evidence).
_NOT_EVIDENCE = ("pack_id", "version", "generated_at", "generated_by", "sha256", "amendment", "map")
_ID_LETTERS = string.ascii_uppercase + string.digits


def pack_deadlines(incident: Incident, order: Order | None) -> Deadlines:
    """The deadlines of the breach that starts the pack: the contract's clock, or the
    specials' shorter one (counted from the breach itself)."""
    if is_special(order):
        return deadlines(incident.period_start, special=True, breach_at=incident.started_at)
    return deadlines(incident.period_start)


def is_special(order: Order | None) -> bool:
    return order is not None and special_cohort(order.cohort)


@dataclass(frozen=True)
class OverduePack:
    """An escalated incident whose pack has not been issued: overdue, or due soon."""

    incident_id: str
    order_id: str
    reference: str
    region: str
    breach_at: datetime
    pack_due: datetime
    pack_id: str                 # "" when no version has been built yet
    version: int                 # the latest version built (0: none)
    overdue_by: timedelta        # negative: still due in that long


def _new_pack_id() -> str:
    return "BP-" + "".join(secrets.choice(_ID_LETTERS) for _ in range(8))


def _evidence_key(doc: PackDocument) -> str:
    data = msgspec.to_builtins(doc)
    return content_sha256({k: v for k, v in data.items() if k not in _NOT_EVIDENCE})


def _render(doc: PackDocument) -> bytes:
    from .pack_pdf import render_pdf          # packdoc's renderer (fpdf2): imported on use
    return render_pdf(doc)


def _pdf_hash(pdf: bytes) -> str:
    from .pack_pdf import pdf_sha256
    return pdf_sha256(pdf)


class PackService:
    def __init__(self, store: Store, user: User, clock: Clock, *, map_image: MapImage | None = None):
        if not (user.can(Permission.BUILD_PACKS) or user.can(Permission.RESPOND_TO_BREACHES)):
            raise AccessDenied(f"{user.role.label} accounts do not build or receive breach packs")
        self.store, self.user, self.clock, self.map_image = store, user, clock, map_image
        self.queries = PackQueries(store)
        self.names_of = ev.display_names(store)
        # The last PDF rendered, by its document's hash: building then writing renders once.
        self._last_pdf: tuple[str, bytes] = ("", b"")

    def _pdf_of(self, doc: PackDocument) -> bytes:
        if self._last_pdf[0] != doc.sha256 or not doc.sha256:
            self._last_pdf = (doc.sha256, _render(doc))
        return self._last_pdf[1]

    # -- access ---------------------------------------------------------------------

    def _builder(self, doing: str) -> set[str] | None:
        if not self.user.can(Permission.BUILD_PACKS):
            raise AccessDenied(f"{self.user.role.label} accounts do not {doing} breach packs: the monitoring centre does")
        return regions_of(self.user)

    def _may_read(self, pack: BreachPack) -> bool:
        if self.user.can(Permission.BUILD_PACKS):
            regions = regions_of(self.user)
            return regions is None or pack.region in regions
        if pack.sent_at is None or AGENCY_OF.get(self.user.role) != pack.responder.value:
            return False
        regions = agency_regions(self.user.role, self.user.region)
        return regions is None or pack.region in regions

    def _version(self, version_id: str) -> BreachPack:
        pack = self.store.get(BreachPack, version_id)
        if pack is None or not self._may_read(pack):
            # An agency is not told that packs it may not read exist.
            raise ServiceError(f"version_id: no breach pack version {version_id} for you; refresh the list")
        return pack

    # -- reading ---------------------------------------------------------------------

    def versions(self, pack_id: str) -> list[BreachPack]:
        """The pack's versions you may read, oldest first."""
        return [p for p in self.queries.versions(pack_id) if self._may_read(p)]

    def latest_for_incident(self, incident_id: str) -> BreachPack | None:
        found = [p for p in self.queries.for_incident(incident_id) if self._may_read(p)]
        return max(found, key=lambda p: p.version) if found else None

    def document(self, version_id: str) -> PackDocument:
        pack = self._version(version_id)
        self._audit_read(pack, "document")
        return parse_document(pack.document.encode())

    def pdf(self, version_id: str) -> bytes:
        """The version's PDF, rendered again from its stored document (the same bytes each time)."""
        pack = self._version(version_id)
        self._audit_read(pack, "pdf")
        return self._pdf_of(parse_document(pack.document.encode()))

    def write(self, version_id: str, out_dir: Path) -> tuple[Path, Path]:
        """The version's PDF and JSON files in ``out_dir`` (PDF path first)."""
        from .pack_files import write_pack_files
        pack = self._version(version_id)
        self._audit_read(pack, "files")
        doc = parse_document(pack.document.encode())
        return write_pack_files(doc, self._pdf_of(doc), Path(out_dir), series=self._series_tag(pack))

    def _series_tag(self, pack: BreachPack) -> str:
        """"" for the order's first pack (files ``<reference>-pack-v<N>``); the pack id for a
        later one, so two breaches of one order never share or seem to share a file name."""
        first: dict[str, tuple] = {}
        for p in self.store.find(BreachPack, where={"order_id": pack.order_id}):
            # made first, then (made in the same instant) the earlier breach
            key = (p.created_at.isoformat() if p.created_at else "", p.breach_at.isoformat() if p.breach_at else "",
                   p.pack_id)
            first[p.pack_id] = min(first.get(p.pack_id, key), key)
        earliest = min(first.values())[2] if first else pack.pack_id
        return "" if earliest == pack.pack_id else pack.pack_id

    def _audit_read(self, pack: BreachPack, what: str) -> None:
        self.store.audit_view(actor=self.user.id, entity="breach_packs", entity_id=pack.id,
                              subject_id=pack.subject_id or None,
                              detail={"read": what, "pack_id": pack.pack_id, "version": pack.version})

    # -- building --------------------------------------------------------------------

    def _incidents(self, incident_ids: Sequence[str], regions: set[str] | None) -> list[Incident]:
        ids = list(dict.fromkeys(i.strip() for i in incident_ids if i and i.strip()))
        if not ids:
            raise ServiceError("incident_ids: give at least one incident to build the pack from")
        found = self.store.get_many(Incident, ids)
        out = []
        for i in ids:
            incident = found.get(i)
            if incident is None or (regions is not None and incident.region not in regions):
                raise ServiceError(f"incident_id: no incident {i}; check the id (emdesk incidents lists them)")
            if incident.status is not IncidentStatus.ESCALATED:
                raise ServiceError(
                    f"status: incident {i} is {incident.status.value.replace('_', ' ')}, not escalated; escalate it "
                    "first (the queue's Escalate, with the reason it is a breach), then build its pack")
            out.append(incident)
        subjects = {i.subject_id for i in out}
        if len(subjects) > 1:
            raise ServiceError("incident_ids: the incidents are of different wearers; a pack covers one wearer: "
                               "build one pack per wearer")
        return sorted(out, key=lambda i: (i.started_at, i.id))

    def build(self, incident_ids: Sequence[str], *, progress: Progress | None = None) -> BreachPack:
        """Version 1 of a new pack; or, when the incidents already have one, the next version
        if the evidence changed, else the latest version as it is."""
        regions = self._builder("build")
        say = progress or (lambda _p, _t: None)
        say(0, "reading the incidents")
        incidents = self._incidents(incident_ids, regions)
        existing = self._series_of(incidents)
        if existing:
            latest = existing[-1]
            # The pack keeps every incident it covered: building adds, amending may replace.
            covered = set(latest.incident_ids) | {i.id for i in incidents}
            if covered != {i.id for i in incidents}:
                incidents = self._incidents(sorted(covered), None)
            return self._make(incidents, latest, reason="", always=False, say=say)
        return self._make(incidents, None, reason="", always=True, say=say)

    def amend(self, pack_id: str, reason: str, *, incident_ids: Sequence[str] | None = None,
              progress: Progress | None = None) -> BreachPack:
        """A new version (the evidence read again, its reason recorded), the old one superseded."""
        regions = self._builder("amend")
        reason = (reason or "").strip()
        if not reason:
            raise ServiceError("reason: say why the pack is amended (what was wrong or what is new)")
        series = [p for p in self.queries.versions(pack_id) if regions is None or p.region in regions]
        if not series:
            raise ServiceError(f"pack_id: no breach pack {pack_id}; check the id")
        latest = series[-1]
        say = progress or (lambda _p, _t: None)
        incidents = self._incidents(incident_ids or latest.incident_ids or (latest.incident_id,), regions)
        return self._make(incidents, latest, reason=reason, always=True, say=say)

    def _series_of(self, incidents: list[Incident]) -> list[BreachPack]:
        for i in incidents:
            found = self.queries.for_incident(i.id)
            if found:
                return self.queries.versions(found[-1].pack_id)
        return []

    def _make(self, incidents: list[Incident], latest: BreachPack | None, *, reason: str, always: bool,
              say: Progress) -> BreachPack:
        first = incidents[0]
        order = self.store.get(Order, first.order_id)
        if order is None:
            raise ServiceError(f"order_id: the incident's order {first.order_id} is not on this desktop; sync, then "
                               "build again")
        responder = order.responder
        if responder is None:
            raise ServiceError(f"cohort: order {order.reference or order.id} has no cohort, so no agency answers its "
                               "breaches; set the order's cohort, then build again")
        subject = self.store.get(Subject, order.subject_id) if order.subject_id else None
        now = self.clock.now()
        say(10, "reading the device events around the breach")
        w = ev.window(incidents, now)
        events = ev.read_events(self.store, order, w)
        say(35, "reading the kit's health, alerts and previous breaches")
        kit = [d for d in self.store.find(Device, where={"order_id": order.id}, order_by="serial")
               if d.serial not in ev.proximity_phone(order)]
        health = ev.device_health(events, w, kit)
        alert_ids = {a for i in incidents for a in i.alert_ids}
        alerts = [a for a in self.store.find(Alert, where={"order_id": order.id}, order_by="raised_at")
                  if a.id in alert_ids or w.start <= a.raised_at < w.end]
        mine = {i.id for i in incidents}
        others = [i for i in self.store.find(Incident, where={"order_id": order.id}, order_by="started_at")
                  if i.id not in mine and i.started_at < w.end and (i.ended_at or now) >= w.start]
        names = self.names_of([c.by for i in incidents for c in i.history] + [e.by for i in incidents for e in i.excuses]
                              + [self.user.id])
        past = ev.history(self.store, incidents, self.names_of)
        due = pack_deadlines(first, order)
        special = is_special(order)
        escalated_by = next((ev.pack_incident(i, names).decided_by for i in incidents
                             if ev.notified_at(i) is not None), "")
        say(55, "writing the summary")
        version = (latest.version + 1) if latest else 1
        pack_id = latest.pack_id if latest else _new_pack_id()
        doc = PackDocument(
            pack_id=pack_id, version=version, template=words.template_for(responder).value,
            generated_at=now, generated_by=names.get(self.user.id, self.user.display_name),
            agency=words.agency(order), subject=words.pack_subject(subject, order),
            order=words.pack_order(order, [f"{d.kind.label} {d.serial} ({d.state.label.lower()})" for d in kit]),
            summary=words.summary(who_name=subject.full_name if subject and subject.full_name else order.reference,
                                  subject=subject, order=order, incidents=incidents, health=health, past=past,
                                  due=due, special=special, escalated_by=escalated_by,
                                  engine_technical=sum(1 for a in alerts if a.id in alert_ids and a.technical_cause)),
            incidents=tuple(ev.pack_incident(i, names) for i in incidents),
            timeline=tuple(ev.timeline(events, w, incidents, alerts, others, ev.home_of(order, subject), names)),
            device_health=health.readings, history=tuple(past),
            amendment=Amendment(previous_version=latest.version, reason=reason) if latest and reason else None)
        if latest is not None and not always:
            if _evidence_key(parse_document(latest.document.encode())) == _evidence_key(
                    parse_document(canonical_json(doc))):
                say(100, f"unchanged: pack {latest.pack_id} version {latest.version}")
                return latest
            doc = msgspec.structs.replace(doc, amendment=Amendment(
                previous_version=latest.version, reason="rebuilt: the evidence changed since the last version"))
        say(65, "drawing the map")
        doc = msgspec.structs.replace(doc, map=map_part(self.map_image, MapRequest(
            order_id=order.id, start=w.start, end=w.end, highlight_start=w.breach_start, highlight_end=w.breach_end)))
        doc = seal(doc)
        say(80, "rendering the PDF")
        pdf_hash = _pdf_hash(self._pdf_of(doc))
        say(95, "saving")
        record = BreachPack(
            pack_id=pack_id, version=version, incident_id=first.id, incident_ids=tuple(i.id for i in incidents),
            order_id=order.id, subject_id=order.subject_id, reference=order.reference or order.id, region=order.region,
            responder=responder, template=words.template_for(responder), special=special, breach_at=first.started_at,
            notification_due=due.notify_by, pack_due=due.pack_by, notified_at=ev.notified_at(first), built_at=now,
            built_by=self.user.id, amends=latest.id if latest else "",
            amend_reason=doc.amendment.reason if doc.amendment else "",
            document_sha256=doc.sha256, pdf_sha256=pdf_hash, document=canonical_json(doc).decode("utf-8"))
        with self.store.transaction():
            # Someone else's build of the same pack since this one read it: theirs stands.
            current = self.queries.versions(pack_id) if latest else self.queries.for_incident(first.id)
            if current and (latest is None or current[-1].version != latest.version):
                raise ServiceError(f"incident_id: a pack for this breach was built meanwhile ({current[-1].pack_id} "
                                   f"version {current[-1].version}); open it, or build again")
            if latest is not None and latest.status is not BreachPackStatus.SUPERSEDED:
                self.store.put_many([latest.evolve(status=BreachPackStatus.SUPERSEDED)], actor=self.user.id,
                                    audit_action="pack_supersede")
            saved = self.store.put_many([record], actor=self.user.id,
                                        audit_action="pack_amend" if latest else "pack_build")[0]
        say(100, f"built pack {pack_id} version {version}")
        return saved

    # -- issuing -----------------------------------------------------------------------

    def issue(self, version_id: str, to: str | None = None) -> BreachPack:
        """Send the version to the responsible agency: to ``to``, else the order's contact."""
        self._builder("issue")
        pack = self._version(version_id)
        if pack.status is BreachPackStatus.SUPERSEDED:
            raise ServiceError(f"version_id: version {pack.version} of {pack.pack_id} was superseded; issue the "
                               "latest version")
        if pack.sent_at is not None:
            raise ServiceError(f"version_id: version {pack.version} of {pack.pack_id} was issued already "
                               f"({pack.sent_at:%Y-%m-%d %H:%M}Z to {pack.issued_to}); amend it to send a new version")
        recipient = (to or "").strip()
        if not recipient:
            recipient = words.contact_line(parse_document(pack.document.encode()).agency)
        issued = pack.evolve(status=BreachPackStatus.SENT, sent_at=self.clock.now(), issued_to=recipient,
                             issued_by=self.user.id)
        with self.store.transaction():
            return self.store.put_many([issued], actor=self.user.id, audit_action="pack_issue")[0]

    # -- deadlines -----------------------------------------------------------------------

    def _unissued(self) -> list[OverduePack]:
        regions = self._builder("watch the deadlines of")
        escalated = [i for i in self.store.find(Incident, where={"status": IncidentStatus.ESCALATED.value})
                     if regions is None or i.region in regions]
        if not escalated:
            return []
        by_incident: dict[str, list[BreachPack]] = {}
        for p in self.store.find(BreachPack):
            for i in {p.incident_id, *p.incident_ids}:
                by_incident.setdefault(i, []).append(p)
        orders = self.store.get_many(Order, {i.order_id for i in escalated})
        now = self.clock.now()
        out = []
        for i in escalated:
            packs = by_incident.get(i.id, [])
            if any(p.sent_at is not None for p in packs):
                continue
            latest = max(packs, key=lambda p: p.version) if packs else None
            due = latest.pack_due if latest else pack_deadlines(i, orders.get(i.order_id)).pack_by
            out.append(OverduePack(incident_id=i.id, order_id=i.order_id, reference=i.reference, region=i.region,
                                   breach_at=i.started_at, pack_due=due, pack_id=latest.pack_id if latest else "",
                                   version=latest.version if latest else 0, overdue_by=now - due))
        return sorted(out, key=lambda o: (o.pack_due, o.incident_id))

    def overdue(self) -> list[OverduePack]:
        """Escalated incidents whose pack is past its deadline with no version issued, oldest due first."""
        return [o for o in self._unissued() if o.overdue_by >= timedelta(0)]

    def due_soon(self, within: timedelta = AMBER_WITHIN[PACK]) -> list[OverduePack]:
        """Escalated incidents whose pack is due within ``within`` and not issued yet."""
        return [o for o in self._unissued() if -within <= o.overdue_by < timedelta(0)]


__all__ = ["OverduePack", "PackService", "Progress", "is_special", "pack_deadlines"]
