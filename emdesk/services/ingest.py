"""Telemetry ingest: lines in, events stored once, the engine run over what changed.

Streams in bounded memory: lines are taken in chunks; each chunk's events and the
periods they touch are stored in one transaction, so a killed ingest re-run stores the
rest (duplicates are ignored) and evaluates every period it had not finished.
Bad lines are counted with their reason and never stop the run.
"""
from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np

from emdesk.domain.engine.periods import period_starts
from emdesk.domain.telemetry_lines import Line, Rejected, check, decode_many

from .evaluation import EvaluationReport, Evaluator
from .telemetry_port import TelemetryPort

# Lines per transaction: a national minute's pages written once, ~60 MB at most.
# EMDESK_INGEST_CHUNK makes it smaller (tests that kill an ingest part-way use it).
CHUNK = int(os.environ.get("EMDESK_INGEST_CHUNK", "200000"))
FLUSH_S = 1.0           # a live stream is stored at least this often
SAMPLES = 20            # rejected lines kept, with their line numbers, to show the user


@dataclass
class IngestReport:
    events: int = 0                  # new events stored
    duplicates: int = 0              # delivered again: already stored
    late: int = 0                    # arrived after later events from the same device
    positions: int = 0
    rejected: int = 0
    reasons: Counter = field(default_factory=Counter)
    samples: list[tuple[int, str]] = field(default_factory=list)   # (line number, words)
    evaluation: EvaluationReport = field(default_factory=EvaluationReport)
    seconds: float = 0.0
    sample_limit: int = SAMPLES

    @property
    def fixes_per_s(self) -> float:
        return self.positions / self.seconds if self.seconds > 0 else 0.0

    def as_json(self) -> dict:
        return {"events": self.events, "rejected": self.rejected, "alerts": self.evaluation.alerts,
                "incidents": self.evaluation.incidents, "fixes_per_s": round(self.fixes_per_s),
                "rejected_reasons": dict(sorted(self.reasons.items())), "duplicates": self.duplicates,
                "late": self.late}

    def line(self) -> str:
        return (f"events {self.events}, rejected {self.rejected}, alerts {self.evaluation.alerts}, "
                f"incidents {self.evaluation.incidents}, fixes/s {round(self.fixes_per_s)}")


class IngestService:
    def __init__(self, port: TelemetryPort):
        self.port = port
        self.fleet = port.fleet()
        self._high = port.high_water()     # device -> newest event time already stored
        self._lock = threading.Lock()       # the gateway serves requests on many threads

    def reject(self, report: IngestReport, number: int, why: Rejected) -> None:
        report.rejected += 1
        report.reasons[why.reason] += 1
        if len(report.samples) < report.sample_limit:
            report.samples.append((number, f"{why.reason}: {why.words}"))

    def _rows(self, lines: list[Line | Rejected], numbers: list[int], now_ms: int, report: IngestReport):
        places, unfitted, high = self.fleet.places, self.fleet.unfitted, self._high
        rows, orders, ats = [], [], []
        add_row, add_order, add_at = rows.append, orders.append, ats.append
        for n, line in zip(numbers, lines):
            if line.__class__ is Rejected:
                self.reject(report, n, line)
                continue
            device = line.device
            place = places.get(device)
            if place is None and device in unfitted:
                self.reject(report, n, Rejected("not_fitted", f"device {device!r} is not fitted to any order "
                                                              "being monitored: check its allocation"))
                continue
            ok = check(line, place, now_ms)
            if ok.__class__ is Rejected:
                self.reject(report, n, ok)
                continue
            at, kind = ok
            newest = high.get(device)
            if newest is None or at >= newest:
                high[device] = at
                late = 0
            else:
                late = 1
            add_row((place.order_id, device, at, kind, line.lat, line.lon, line.hdop, line.speed,
                     line.value, line.id, now_ms, late))
            add_order(place.order_id)
            add_at(at)
        return rows, orders, ats

    def store_chunk(self, raws: list[bytes], numbers: list[int], report: IngestReport) -> list[tuple[str, int]]:
        """Store one chunk of lines (``numbers``: their line numbers, for the user)."""
        now_ms = self.port.now_ms()
        rows, orders, ats = self._rows(decode_many(raws), numbers, now_ms, report)
        if not rows:
            return []
        late = [r for r in rows if r[11]]
        if late:
            # Out of time order: a late delivery, or a resend of what is stored already.
            again = self.port.known(late)
            report.late += sum(1 for r in late if (r[1], r[2], r[3]) not in again)
        starts = period_starts(np.array(ats, np.int64)).tolist()
        dirty = sorted(set(zip(orders, starts)))
        added = self.port.append(rows, dirty)
        report.events += added
        report.duplicates += len(rows) - added
        report.positions += sum(1 for r in rows if r[3] == "position")
        return dirty

    def ingest(self, source: BinaryIO | Iterable[bytes], *, live: bool = False) -> IngestReport:
        """Read, store, evaluate.  ``live``: evaluate after each flush (a stream being tailed)
        rather than once at the end."""
        report = IngestReport()
        started = time.perf_counter()
        evaluator = Evaluator(self.port, self.fleet.watches)
        for numbers, chunk in _chunks(source, live):
            self.store_chunk(chunk, numbers, report)
            if live:
                _add(report.evaluation, evaluator.run())
        _add(report.evaluation, evaluator.run())
        evaluator.silent(report.evaluation)
        report.seconds = time.perf_counter() - started
        return report


    def submit(self, raws: list[bytes]) -> tuple[list[Rejected | None], IngestReport]:
        """Live events (the gateway): store and evaluate at once.  Returns, per line, None
        if it was taken (new, or a resend of one already stored) or why it was refused."""
        with self._lock:
            report = IngestReport(sample_limit=len(raws))
            numbers = list(range(1, len(raws) + 1))
            self.store_chunk(raws, numbers, report)
            _add(report.evaluation, Evaluator(self.port, self.fleet.watches).run())
            refused: dict[int, Rejected] = {}
            for number, words in report.samples:
                reason, _, text = words.partition(": ")
                refused[number] = Rejected(reason, text)
            return [refused.get(n) for n in numbers], report


def _add(total: EvaluationReport, part: EvaluationReport) -> None:
    total.periods += part.periods
    total.alerts += part.alerts
    total.incidents += part.incidents
    total.changed += part.changed


def _chunks(source: BinaryIO | Iterable[bytes], live: bool) -> Iterator[tuple[list[int], list[bytes]]]:
    """(line numbers, non-blank lines), a chunk at a time."""
    chunk: list[bytes] = []
    numbers: list[int] = []
    last = time.monotonic()
    for number, raw in enumerate(source, 1):
        if raw[-1:] == b"\n":
            raw = raw[:-1]
        if raw.strip():
            chunk.append(raw)
            numbers.append(number)
        if len(chunk) >= CHUNK or (live and chunk and time.monotonic() - last >= FLUSH_S):
            yield numbers, chunk
            chunk, numbers, last = [], [], time.monotonic()
    if chunk:
        yield numbers, chunk
