"""Run the engine over the periods whose events changed, and keep its findings.

Re-evaluating a period with late or corrected data must not lose what operators did:
a new finding that overlaps an incident already on record is that incident (its id,
status, excuses and history kept); a finding that no longer holds is closed with the
reason, never deleted.  Only what changed is written, so a repeated run writes nothing.
"""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from emdesk.domain.engine.evaluate import evaluate_period, window
from emdesk.domain.engine.events import DAY_MS, EventBatch, instant, ms
from emdesk.domain.engine.hits import Span
from emdesk.domain.engine.incidents import Draft, Excused, accumulated_seconds, excused_seconds
from emdesk.domain.engine.periods import period_bounds, period_day, period_of_ms
from emdesk.domain.engine.priority import Priority
from emdesk.domain.engine.watch import Watch
from emdesk.domain.ids import derived_id
from emdesk.domain.monitoring import Alert, Incident, IncidentChange, IncidentStatus

from .telemetry_port import ENGINE, TelemetryPort

HISTORY_DAYS = 30


@dataclass
class EvaluationReport:
    periods: int = 0
    alerts: int = 0          # new alerts written
    incidents: int = 0       # new incidents written
    changed: int = 0         # incidents already on record that the evidence changed


PARALLEL_MARKS = int(os.environ.get("EMDESK_EVALUATE_PARALLEL", "2000"))
_worker: "Evaluator | None" = None


def _start_worker(path: str, key: bytes | None, now_ms: int, watches: dict[str, Watch]) -> None:
    global _worker
    from emdesk.domain.clock import FixedClock
    from emdesk.store import Store

    from .telemetry_port import StoreTelemetry
    store = Store.open(path, key=key, clock=FixedClock(instant(now_ms)))
    _worker = Evaluator(StoreTelemetry(store), watches)


def _evaluate_slice(marks: list[tuple[str, int]]) -> EvaluationReport:
    report = EvaluationReport()
    for order_id, period_start in marks:
        _worker.period(order_id, period_start, report)
    return report


def batch_for(watch: Watch, table: np.ndarray, serials: list[str]) -> EventBatch:
    """An order's events as the engine's columns, from the store's float table (columns at,
    kind, device index into ``serials``, lat, lon, hdop, speed, value, late)."""
    if not len(table):
        return EventBatch.empty()
    index = {d.serial: i for i, d in enumerate(watch.devices)}
    to_watch = np.array([index.get(s, -1) for s in serials], np.int16)
    device = to_watch[table[:, 2].astype(np.int64)]
    keep = device >= 0                # events of kit no longer on the order's watch
    t = table[keep]
    return EventBatch(t[:, 0].astype(np.int64), t[:, 1].astype(np.int16), device[keep], t[:, 3].copy(),
                      t[:, 4].copy(), t[:, 5].copy(), t[:, 6].copy(), t[:, 7].copy(), t[:, 8] > 0).sorted()


def _alive(watch: Watch, period_start_ms: int) -> bool:
    """The order's life overlaps the period (from its first fitted device)."""
    first = min((d.fitted_ms for d in watch.devices), default=None)
    if first is not None and first >= period_start_ms + 25 * 3600_000:
        return False
    return watch.end_ms is None or watch.end_ms > period_start_ms


def _excused(incident: Incident) -> list[Excused]:
    return [Excused(ms(e.start), ms(e.end)) for e in incident.excuses]


def _overlap(draft: Draft, incident: Incident, now_ms: int) -> int:
    d_end = draft.end_ms if draft.end_ms is not None else now_ms
    i_end = ms(incident.ended_at) if incident.ended_at is not None else now_ms
    return min(d_end, i_end) - max(draft.start_ms, ms(incident.started_at))


def _engine_only(incident: Incident) -> bool:
    return all(c.by == ENGINE for c in incident.history)


class Evaluator:
    def __init__(self, port: TelemetryPort, watches: dict[str, Watch]):
        self.port = port
        self.watches = watches
        self._done: set[tuple[str, int]] = set()       # (order, period) evaluated by this evaluator

    def run(self, marks: list[tuple[str, int]] | None = None) -> EvaluationReport:
        marks = self.port.dirty() if marks is None else marks
        store = getattr(self.port, "store", None)
        if len(marks) >= PARALLEL_MARKS and store is not None and (os.cpu_count() or 1) > 1:
            return self._in_processes(store, marks)
        report = EvaluationReport()
        for order_id, period_start in marks:
            self.period(order_id, period_start, report)
        return report

    def _in_processes(self, store, marks: list[tuple[str, int]]) -> EvaluationReport:
        """A national day's periods shared between processes, each with its own connection
        (SQLite serialises their short write transactions)."""
        workers = os.cpu_count() or 2
        path, key = store.opening()
        now_ms = self.port.now_ms()
        slices = [marks[i::workers] for i in range(workers)]
        context = multiprocessing.get_context("spawn")
        total = EvaluationReport()
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                                 initargs=(str(path), key, now_ms, self.watches)) as pool:
            for part in pool.map(_evaluate_slice, slices):
                for name in ("periods", "alerts", "incidents", "changed"):
                    setattr(total, name, getattr(total, name) + getattr(part, name))
        self._done.update((o, int(p)) for o, p in marks)
        return total

    def sweep(self, period_starts: list[int], evaluated: set[tuple[str, int]] | None = None) -> EvaluationReport:
        """Judge every watched order in these periods, events or not (a missed check-in is
        silence), skipping what was just evaluated; only periods under way or over."""
        now_ms = self.port.now_ms()
        done = self._done if evaluated is None else evaluated
        marks = [(oid, start) for start in period_starts if start <= now_ms
                 for oid, w in self.watches.items() if (oid, start) not in done and _alive(w, start)]
        return self.run(marks)

    def silent(self, report: EvaluationReport | None = None) -> EvaluationReport:
        """Mark the periods in which a watched order's silence reached the limit (14 days):
        evaluating them raises UNMONITORED.  Kit that never spoke is not judged here (the
        case list counts it as never fitted)."""
        report = report or EvaluationReport()
        now_ms = self.port.now_ms()
        heard = self.port.last_heard([d.serial for w in self.watches.values() for d in w.devices if not d.protected])
        marks = []
        for oid, watch in self.watches.items():
            last = max((heard[d.serial] for d in watch.devices if d.serial in heard), default=None)
            if last is None:
                continue
            limit = last + watch.settings.silent_days * DAY_MS
            if limit <= now_ms:
                marks.append((oid, period_of_ms(limit)[0]))
        for oid, start in marks:
            self.period(oid, start, report, last_contact=True)
        return report

    def period(self, order_id: str, start_ms: int, report: EvaluationReport, *, last_contact: bool = False) -> None:
        watch = self.watches.get(order_id)
        if watch is None:         # an order no longer watched: nothing to judge, mark done
            self.port.save_evaluation([], [], [(order_id, start_ms)])
            return
        day = period_day(instant(start_ms))
        p_start, p_end = period_bounds(day)
        now_ms = self.port.now_ms()
        lo, hi = window(p_start, p_end)
        batch = batch_for(watch, *self.port.event_columns(order_id, lo, min(hi, now_ms + 5 * 60_000)))
        span = Span(p_start, p_end, now_ms)
        begin = instant(p_start)
        history = self.port.genuine_since(order_id, begin - timedelta(days=HISTORY_DAYS), begin)
        contact = self.port.last_contact(order_id) if last_contact else None
        result = evaluate_period(watch, batch, span, history=history, last_contact_ms=contact)
        existing = self.port.incidents_of(order_id, begin)
        incidents, alerts = self._reconcile(watch, begin, result.incidents, existing, now_ms, report)
        incidents = period_totals(existing, incidents, span)
        self.port.save_evaluation(incidents, alerts, [(order_id, start_ms)])
        self._done.add((order_id, start_ms))
        report.periods += 1

    def _reconcile(self, watch: Watch, begin, found: list[tuple[Draft, Priority]], existing: list[Incident],
                   now_ms: int, report: EvaluationReport) -> tuple[list[Incident], list[Alert]]:
        now = instant(now_ms)
        until = now_ms             # an incident still going has lasted until now
        free = list(existing)
        seen: dict[tuple, int] = {}
        out: list[Incident] = []
        alerts: list[Alert] = []
        for draft, prio in found:
            # The same stretch of the same condition is the same incident, even if the engine
            # now reads it differently (technical or not): its status and history move with it.
            match = max((i for i in free if i.condition == draft.condition and _overlap(draft, i, now_ms) >= 0),
                        key=lambda i: (i.technical == draft.technical, _overlap(draft, i, now_ms)), default=None)
            if match is not None:
                free.remove(match)
            incident_id = match.id if match else derived_id(
                "incident", watch.order_id, draft.condition, str(draft.technical), str(draft.start_ms),
                ms=draft.start_ms)
            draft_alerts = []
            for h in draft.hits:
                key = (h.code, h.condition, h.start_ms)
                seen[key] = seen.get(key, -1) + 1
                draft_alerts.append(self._alert(watch, h, incident_id, seen[key]))
            record = self._incident(watch, begin, draft, prio, incident_id, match, draft_alerts, until, now)
            if match is None:
                report.incidents += 1
            elif _differs(match, record):
                report.changed += 1
            else:
                continue            # nothing new: nothing written
            out.append(record)
            alerts += draft_alerts
            report.alerts += len(draft_alerts) if match is None else 0
        for stale in free:
            if stale.status is IncidentStatus.OPEN and _engine_only(stale):
                out.append(stale.evolve(status=IncidentStatus.AUTO_CLOSED, history=(*stale.history, IncidentChange(
                    at=now, status=IncidentStatus.AUTO_CLOSED, by=ENGINE,
                    reason="no longer supported by the evidence after late or corrected data arrived"))))
                report.changed += 1
        return out, alerts

    def _alert(self, watch: Watch, hit, incident_id: str, nth: int = 0) -> Alert:
        """``nth``: which of the hits with this code, condition and start it is (two devices
        may raise the same code at the same moment)."""
        return Alert(
            id=derived_id("alert", watch.order_id, hit.code, hit.condition, str(hit.start_ms), str(nth),
                          ms=hit.start_ms),
            order_id=watch.order_id, subject_id=watch.subject_id, code=hit.code, condition=hit.condition,
            raised_at=instant(hit.start_ms), ended_at=None if hit.end_ms is None else instant(hit.end_ms),
            incident_id=incident_id, technical_cause=hit.technical, certain=hit.certain,
            confidence=round(hit.confidence, 3), detail=hit.detail)

    def _incident(self, watch: Watch, begin, draft: Draft, prio: Priority, incident_id: str,
                  match: Incident | None, alerts: list[Alert], until_ms: int, now) -> Incident:
        end_ms = draft.end_ms
        excuses = match.excuses if match else ()
        seconds = draft.seconds(until_ms) - excused_seconds(
            draft.start_ms, end_ms if end_ms is not None else until_ms, _excused(match) if match else [])
        history = match.history if match else ()
        status = match.status if match else IncidentStatus.OPEN
        # An operator's classification stands: new evidence moves the stretch, not the verdict.
        technical = match.technical if match is not None and match.classified_by else draft.technical
        if match is None or _engine_only(match):
            wanted = IncidentStatus.AUTO_CLOSED if draft.auto_close else IncidentStatus.OPEN
            if wanted is not status or match is None:
                reason = (f"technical, {draft.confidence:.0%} sure: {draft.detail() or draft.codes[0]}"
                          if wanted is IncidentStatus.AUTO_CLOSED else
                          "raised by the engine" if match is None else "reopened by the engine: new evidence")
                history = (*history, IncidentChange(at=now, status=wanted, by=ENGINE, reason=reason))
                status = wanted
        return Incident(
            id=incident_id, created_at=match.created_at if match else None,
            order_id=watch.order_id, subject_id=watch.subject_id, reference=watch.reference, region=watch.region,
            condition=draft.condition, codes=tuple(draft.codes), period_start=begin,
            started_at=instant(draft.start_ms), ended_at=None if end_ms is None else instant(end_ms),
            seconds=round(max(0.0, seconds), 3), period_seconds=match.period_seconds if match else 0.0, status=status, priority=prio.score, reasons=prio.reasons,
            technical=technical, classified_by=match.classified_by if match else "",
            confidence=round(draft.confidence, 3), certain=draft.certain,
            depth_m=round(draft.depth_m, 1), detail=draft.detail(), alert_ids=tuple(a.id for a in alerts),
            serious=prio.score >= 70 and not technical, excuses=excuses, history=history,
            evaluated_at=now)


def period_totals(existing: list[Incident], changed: list[Incident], span: Span) -> list[Incident]:
    """Stamp every genuine incident of a period with the period's accumulated violation;
    returns what must be written (the changed ones, and any whose total moved)."""
    current = {i.id: i for i in existing}
    current.update((i.id, i) for i in changed)
    genuine = [i for i in current.values() if not i.technical and i.status is not IncidentStatus.AUTO_CLOSED]
    total = round(accumulated_seconds(
        [(ms(i.started_at), None if i.ended_at is None else ms(i.ended_at), _excused(i)) for i in genuine], span), 3)
    out = {i.id: i for i in changed}
    for i in genuine:
        if i.period_seconds != total:
            out[i.id] = out.get(i.id, i).evolve(period_seconds=total)
    return list(out.values())


_COMPARED = ("codes", "started_at", "ended_at", "seconds", "status", "priority", "reasons", "technical",
             "confidence", "certain", "depth_m", "detail", "alert_ids", "excuses", "history")


def _differs(old: Incident, new: Incident) -> bool:
    return any(getattr(old, f) != getattr(new, f) for f in _COMPARED)
