"""Telemetry ingest: lines in, events stored once, the engine run over what changed.

Streams in bounded memory: lines are taken in chunks; each chunk's events and the
periods they touch are stored in one transaction, so a killed ingest re-run stores the
rest (duplicates are ignored) and evaluates every period it had not finished.
Bad lines are counted with their reason and never stop the run.
"""
from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import Counter, deque
from concurrent.futures import ProcessPoolExecutor
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np

from emdesk.domain.engine.events import KINDS, POSITION
from emdesk.domain.engine.periods import period_of_ms, period_starts
from emdesk.domain.telemetry_lines import Rejected

from .evaluation import EvaluationReport, Evaluator
from .ingest_parse import (Parsed, Placement, late_marks, parse_block_in_worker, parse_chunk,
                           set_worker_placement)
from .telemetry_port import TelemetryPort

# Lines per transaction: a national minute's pages written once, ~60 MB at most.
# EMDESK_INGEST_CHUNK makes it smaller (tests that kill an ingest part-way use it).
CHUNK = int(os.environ.get("EMDESK_INGEST_CHUNK", "200000"))
PARALLEL_BYTES = int(os.environ.get("EMDESK_INGEST_PARALLEL_BYTES", str(64 << 20)))
FLUSH_S = 1.0
# A bulk ingest folds its landed rows in this often (the inbox stays small, the fold sorted).
FOLD_ROWS = int(os.environ.get("EMDESK_INGEST_FOLD_ROWS", "1000000"))
SWEEP_PERIODS = 3       # the latest periods an input covers in which silent orders are judged           # a live stream is stored at least this often
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
        self._lock = threading.Lock()       # the gateway serves requests on many threads
        self._periods: set[int] = set()     # violation periods the input touched
        self._landed = 0                     # rows in the store's inbox, not yet folded in
        self.refresh()

    def refresh(self) -> None:
        """Read the fleet again (kit fitted or taken off since)."""
        port = self.port
        self.fleet = port.fleet()
        serials = list(self.fleet.places)
        orders = sorted({p.order_id for p in self.fleet.places.values()})
        # A store port keeps columns as they are parsed; any other takes text rows.
        self._columns = hasattr(port, "append_columns")
        if self._columns:
            okey, dkey = port.register(orders, serials)
            high = port.high_by_key()
        else:
            okey = {o: i for i, o in enumerate(orders)}
            dkey = {s: i for i, s in enumerate(serials)}
            high = {dkey[s]: at for s, at in port.high_water().items() if s in dkey}
        self.placement = Placement(self.fleet.places, okey, dkey, self.fleet.unfitted)
        self._order_id = {k: o for o, k in okey.items()}
        self._serial = {k: s for s, k in dkey.items()}
        self._high = np.full(max(dkey.values(), default=0) + 1, -1, np.int64)   # newest time per device key
        for k, at in high.items():
            if k < self._high.shape[0]:
                self._high[k] = at

    def reject(self, report: IngestReport, number: int, why: Rejected) -> None:
        report.rejected += 1
        report.reasons[why.reason] += 1
        if len(report.samples) < report.sample_limit:
            report.samples.append((number, f"{why.reason}: {why.words}"))

    def _text_rows(self, p: Parsed, index, received_ms: int, late: np.ndarray) -> list[tuple]:
        def num(a, i):
            v = a[i]
            return None if v != v else float(v)
        return [(self._order_id[int(p.order[i])], self._serial[int(p.device[i])], int(p.at[i]), KINDS[p.kind[i]].value,
                 num(p.lat, i), num(p.lon, i), num(p.hdop, i), num(p.speed, i), num(p.value, i),
                 p.event_ids[i] if p.event_ids else None, received_ms, int(late[i])) for i in index]

    def store_parsed(self, p: Parsed, report: IngestReport, now_ms: int, *, landing: bool = False
                     ) -> list[tuple[str, int]]:
        """Store one parsed chunk; returns the (order, period) marks it made.  ``landing``: into
        the store's inbox, counted when ``fold`` moves it in."""
        for number, reason, words in p.rejects:
            self.reject(report, number, Rejected(reason, words))
        if not len(p):
            return []
        late = late_marks(p.device, p.at, self._high)
        if late.any():
            # Out of time order: a late delivery, or a resend (of a line earlier in this chunk,
            # or of what is stored already).
            keys = np.stack([p.device, p.at, p.kind], axis=1)
            _, first = np.unique(keys, axis=0, return_index=True)
            again_here = np.ones(len(p), bool)
            again_here[first] = False
            index = np.flatnonzero(late & ~again_here)
            if landing:
                self._fold(report)           # what landed must be in place to be found
            rows = self._text_rows(p, index, now_ms, late)
            again = self.port.known(rows)
            report.late += sum(1 for r in rows if (r[1], r[2], r[3]) not in again)
        starts = period_starts(p.at)
        # (order key, period) pairs as one integer each: a flat unique is a fraction of a 2-D one.
        firsts = np.unique(starts)
        self._periods.update(firsts.tolist())
        pairs = np.unique(p.order * len(firsts) + np.searchsorted(firsts, starts))
        dirty = [(self._order_id[int(k // len(firsts))], int(firsts[k % len(firsts)])) for k in pairs]
        if landing:
            self.port.append_columns(p, p.event_ids, now_ms, late, dirty, landing=True)
            self._landed += len(p)
        else:
            if self._columns:
                added = self.port.append_columns(p, p.event_ids, now_ms, late, dirty)
            else:
                added = self.port.append(self._text_rows(p, range(len(p)), now_ms, late), dirty)
            report.events += added
            report.duplicates += len(p) - added
        report.positions += int(np.count_nonzero(p.kind == POSITION))
        return dirty

    def store_chunk(self, raws: list[bytes], numbers: list[int], report: IngestReport) -> list[tuple[str, int]]:
        """Parse and store one chunk of lines (``numbers``: their line numbers, for the user)."""
        now_ms = self.port.now_ms()
        return self.store_parsed(parse_chunk(raws, numbers, self.placement, now_ms), report, now_ms)

    def ingest(self, source: BinaryIO | Iterable[bytes], *, live: bool = False) -> IngestReport:
        """Read, store, evaluate.  ``live``: evaluate after each flush (a stream being tailed)
        rather than once at the end.  A big file is parsed in a second process while this
        one writes, so both cores work."""
        report = IngestReport()
        started = time.perf_counter()
        evaluator = Evaluator(self.port, self.fleet.watches)
        self._periods = set()
        if not live and self._columns and _big(source):
            self._ingest_parallel(source, report)
        else:
            for numbers, chunk in _chunks(source, live):
                self.store_chunk(chunk, numbers, report)
                if live:
                    _add(report.evaluation, evaluator.run())
        _add(report.evaluation, evaluator.run())
        # Orders that said nothing in the periods this input covers are judged too: silence
        # is evidence (a missed check-in, a tag gone quiet).
        _add(report.evaluation, evaluator.sweep(sorted(self._periods)[-SWEEP_PERIODS:]))
        evaluator.silent(report.evaluation)
        report.seconds = time.perf_counter() - started
        return report

    def _ingest_parallel(self, source, report: IngestReport) -> None:
        workers = int(os.environ.get("EMDESK_INGEST_WORKERS", "0")) or max(1, (os.cpu_count() or 2) - 1)
        context = multiprocessing.get_context("spawn")      # never fork a process that may hold Qt or threads
        pending: deque = deque()
        with ProcessPoolExecutor(workers, mp_context=context, initializer=set_worker_placement,
                                 initargs=(self.placement,)) as pool:
            # The worker reads its block of the file itself: this process only finds where
            # blocks end (at a newline) and how many lines came before.
            for first, offset, length in _blocks(source):
                now_ms = self.port.now_ms()
                pending.append((pool.submit(parse_block_in_worker, source.name, offset, length, first, now_ms),
                                now_ms))
                # Bounded: at most one chunk parsing per worker and one being written.
                while len(pending) > workers:
                    future, at = pending.popleft()
                    self.store_parsed(future.result(), report, at, landing=True)
                    if self._landed >= FOLD_ROWS:
                        self._fold(report)
            while pending:
                future, at = pending.popleft()
                self.store_parsed(future.result(), report, at, landing=True)
        self._fold(report)

    def _fold(self, report: IngestReport) -> None:
        new, landed = self.port.fold()
        report.events += new
        report.duplicates += landed - new
        self._landed = 0

    def sweep(self) -> EvaluationReport:
        """Judge every watched order in the current violation period and the one before,
        events or not: a live gateway calls this every few minutes, since silence (a missed
        check-in, a tag gone quiet) sends nothing to react to."""
        with self._lock:
            now = self.port.now_ms()
            current = period_of_ms(now)[0]
            previous = period_of_ms(current - 1)[0]
            return Evaluator(self.port, self.fleet.watches).sweep([previous, current], evaluated=set())

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


def _big(source) -> bool:
    """A file worth a second process (spawning one costs about a second)."""
    try:
        return os.fstat(source.fileno()).st_size >= PARALLEL_BYTES
    except (AttributeError, OSError, ValueError):
        return False


def _add(total: EvaluationReport, part: EvaluationReport) -> None:
    total.periods += part.periods
    total.alerts += part.alerts
    total.incidents += part.incidents
    total.changed += part.changed


BLOCK_BYTES = int(os.environ.get("EMDESK_INGEST_BLOCK_BYTES", str(32 << 20)))   # about 200,000 lines


def _blocks(source: BinaryIO) -> Iterator[tuple[int, int, int]]:
    """(number of the block's first line, byte offset, length): blocks of about BLOCK_BYTES
    that end at a newline (the last may not)."""
    offset, first, carry = source.tell(), 1, b""
    while True:
        data = source.read(BLOCK_BYTES)
        if not data:
            break
        data = carry + data
        cut = data.rfind(b"\n") + 1
        if cut == 0:                       # no newline yet: one very long line, read on
            carry = data
            continue
        yield first, offset, cut
        first += data.count(b"\n", 0, cut)
        offset += cut
        carry = data[cut:]
    if carry:
        yield first, offset, len(carry)


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
