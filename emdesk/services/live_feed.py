"""A simulated fleet's telemetry fed into a store live, as the gateway would take it.

For the demo: the day's lines are handed over already made (the services layer knows
nothing of the simulator); the feed first takes everything delivered before its start
at once (stored batch by batch, then judged once, as ``emdesk ingest`` does a file: the
morning's incidents are in the queue within seconds), then the rest as simulated time
reaches it, ``pace`` simulated seconds a second, in small batches through
``IngestService.submit`` (the gateway's path: stored once per event, judged at once).  The store's clock for all of it is the simulated one (``SimClock``), so an
event is never "ahead of the clock" and a deadline is counted from simulated time.
"""
from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from emdesk.domain.clock import UTC, local
from emdesk.domain.engine.events import instant, ms
from emdesk.store import Store

from .errors import ServiceError
from .evaluation import Evaluator
from .ingest import IngestReport, IngestService
from .telemetry_port import StoreTelemetry

log = logging.getLogger("emdesk.live_feed")

PACES = {"realtime": 1.0, "60x": 60.0, "600x": 600.0}
CATCH_UP_LINES = 2000          # lines per transaction while catching up: a stop waits for one at most
LIVE_LINES = 5000              # lines per transaction once live (a second's worth even at 600x)
SWEEP_MS = 5 * 60_000          # silent orders judged every 5 simulated minutes, as the gateway does...
SWEEP_MIN_S = 2.0              # ...but no more often than this in real time (a sweep judges every order)
SLICE = 25                     # periods (or orders) judged between looks at stop()
PREFETCH_MS = 2 * 3600_000     # the next day is made this long (simulated) before the current one ends


class LiveFeedError(ServiceError):
    """The feed stopped on an error (the original is its cause)."""


def parse_pace(text: str) -> float:
    """Simulated seconds per real second: ``realtime``, ``60x``, ``600x``, ``N`` or ``Nx``."""
    word = text.strip().lower()
    if word in PACES:
        return PACES[word]
    try:
        value = float(word[:-1] if word.endswith("x") else word)
    except ValueError:
        value = 0.0
    if not 0 < value <= 100_000:
        raise ValueError(f"pace {text!r}: give realtime, 60x, 600x or a speed-up factor between 0 and 100000 "
                         "(e.g. 120x)")
    return value


def pace_words(pace: float) -> str:
    return "real time" if pace == 1 else f"{pace:g}x"


@dataclass(frozen=True)
class FeedDay:
    """One violation period of telemetry: (delivered at ms, line) in delivery order, a line
    as a dict or already encoded as JSON bytes."""

    start_ms: int
    end_ms: int
    telemetry: Sequence[tuple[int, dict | bytes]]


@dataclass(frozen=True)
class FeedProgress:
    """Where the feed is; a new value replaces the old whole, so any thread may read it."""

    phase: str = "starting"      # starting, simulating, catching up, live, finished, stopped, failed
    sim_ms: int | None = None
    events: int = 0              # new events stored
    duplicates: int = 0          # delivered again (a restarted feed, a device resending)
    rejected: int = 0
    incidents: int = 0           # new incidents raised
    error: str | None = None

    @property
    def sim_time(self) -> datetime | None:
        return None if self.sim_ms is None else instant(self.sim_ms)


class SimClock:
    """Simulated time: held at an instant, or running ``pace`` times faster than the wall
    clock from one.  A ``Clock`` (``now()``), safe to read from any thread."""

    def __init__(self, at: datetime, pace: float = 60.0, *, wall: Callable[[], float] = time.monotonic):
        if at.tzinfo is None:
            raise ValueError("SimClock needs an aware datetime")
        self.pace = pace
        self._wall = wall
        self._state = (ms(at), None)         # (base ms, wall seconds it started running, or None: held)

    def now_ms(self) -> int:
        base, wall0 = self._state
        return base if wall0 is None else base + int((self._wall() - wall0) * self.pace * 1000)

    def now(self) -> datetime:
        return instant(self.now_ms())

    @property
    def running(self) -> bool:
        return self._state[1] is not None

    def hold(self, at_ms: int | None = None) -> None:
        """Stand still (at ``at_ms``, or where it is)."""
        self._state = (self.now_ms() if at_ms is None else at_ms, None)

    def run(self) -> None:
        """Run on from where it stands."""
        self._state = (self.now_ms(), self._wall())


def encode(line: dict | bytes) -> bytes:
    """A telemetry line as the gateway hands it to ingest (one JSON object); one already
    encoded is taken as it is."""
    return line if isinstance(line, bytes) else json.dumps(line, separators=(",", ":")).encode()


class _Feeder:
    """The feed's work on its own store connection (one thread)."""

    def __init__(self, store: Store):
        self.db = store
        self.service = IngestService(StoreTelemetry(store))

    def submit(self, lines: Sequence[tuple[int, dict | bytes]]) -> tuple[int, int, int, int]:
        """(new events, duplicates, rejected, new incidents) for one batch, in one transaction."""
        _, report = self.service.submit([encode(line) for _, line in lines])
        return report.events, report.duplicates, report.rejected, report.evaluation.incidents

    def store(self, lines: Sequence[tuple[int, dict | bytes]]) -> tuple[int, int, int, int]:
        """Like ``submit`` but not yet evaluated (catching up: one evaluation at the end
        rather than one a batch over ever longer periods)."""
        report = IngestReport()
        raws = [encode(line) for _, line in lines]
        self.service.store_chunk(raws, list(range(1, len(raws) + 1)), report)
        return report.events, report.duplicates, report.rejected, 0

    def evaluate(self, stop: threading.Event | None = None) -> int:
        """The periods stored lines touched, judged now, a slice at a time (``stop`` is
        looked at between slices; what is left stays marked for the next run); returns
        the new incidents."""
        marks = self.service.port.dirty()
        evaluator = Evaluator(self.service.port, self.service.fleet.watches)
        incidents = 0
        for i in range(0, len(marks), SLICE):
            if stop is not None and stop.is_set():
                break
            incidents += evaluator.run(marks[i:i + SLICE]).incidents
        return incidents

    def sweep(self, period_starts: Iterable[int], stop: threading.Event | None = None) -> int:
        """Every watched order judged in the periods fed so far, events or not (silence is
        evidence), a slice of orders at a time; returns the new incidents.  Unlike the
        gateway's sweep, not the period before the first fed: the demo world's background
        before the feed is not a day anyone was watched."""
        now = self.db.clock.now()
        starts = sorted({s for s in period_starts if s <= ms(now)})
        watches = list(self.service.fleet.watches.items())
        incidents = 0
        for i in range(0, len(watches), SLICE):
            if stop is not None and stop.is_set():
                break
            part = Evaluator(self.service.port, dict(watches[i:i + SLICE]))
            incidents += part.sweep(starts, evaluated=set()).incidents
        return incidents


def feed_until(store: Store, days: Iterable[FeedDay], until: datetime) -> FeedProgress:
    """Everything delivered up to ``until`` into ``store`` at once (stored batch by batch, then
    judged and swept), with the store's clock at ``until``: a fixed point for screenshots and tests.
    Sets ``store.clock`` to a clock held at ``until`` (and leaves it so)."""
    until_ms = ms(until)
    store.clock = SimClock(until)
    feeder = _Feeder(store)
    progress = FeedProgress(phase="catching up", sim_ms=until_ms)
    starts = []
    for day in days:
        if day.start_ms > until_ms:
            break
        starts.append(day.start_ms)
        due = [p for p in day.telemetry if p[0] <= until_ms]
        for i in range(0, len(due), CATCH_UP_LINES):
            progress = _counted(progress, feeder.store(due[i:i + CATCH_UP_LINES]))
    incidents = feeder.evaluate() + feeder.sweep(starts)
    return replace(progress, phase="finished", incidents=progress.incidents + incidents)


def _counted(p: FeedProgress, got: tuple[int, int, int, int]) -> FeedProgress:
    events, duplicates, rejected, incidents = got
    return replace(p, events=p.events + events, duplicates=p.duplicates + duplicates, rejected=p.rejected + rejected,
                   incidents=p.incidents + incidents)


_END = object()


class LiveFeed:
    """Feeds days of telemetry into the store at ``opening`` (``Store.opening()``) on a thread
    of its own, with its own connection.

    ``source`` is called on a second thread and its days taken one by one as simulated time
    nears each one's end, so making them (a simulation) never holds up the caller.  The
    feed catches up at full speed to ``start`` (clamped into the first day), then runs at
    ``pace``; it ends when the days do, or at ``stop()``.
    """

    def __init__(self, opening: tuple[str | Path, bytes | None], source: Callable[[], Iterable[FeedDay]], *,
                 start: datetime, pace: float = 60.0, batch_s: float = 0.5,
                 on_error: Callable[[BaseException], None] | None = None,
                 caught_up: Callable[[Store, datetime], None] | None = None):
        if pace <= 0:
            raise ValueError(f"pace {pace}: give a positive speed-up (1 = real time)")
        self.path, self.key = Path(opening[0]), opening[1]
        self.source = source
        self.pace = pace
        self.batch_s = batch_s
        self.on_error = on_error
        self.caught_up = caught_up      # run on the feed's connection once caught up, before going live
        self.clock = SimClock(start.astimezone(UTC), pace)
        self._start_ms = ms(start)
        self._progress = FeedProgress()
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._want = threading.Event()          # the feed wants the next day made
        self._days: queue.Queue = queue.Queue(maxsize=1)
        self._thread = threading.Thread(target=self._run, name="live-feed", daemon=True)
        self._maker = threading.Thread(target=self._make_days, name="live-feed-days", daemon=True)

    # -- what other threads see ---------------------------------------------------

    @property
    def progress(self) -> FeedProgress:
        return self._progress

    @property
    def error(self) -> BaseException | None:
        return self._error

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def check(self) -> None:
        """Raise the feed's error, if it stopped on one."""
        if self._error is not None:
            raise LiveFeedError(f"the live demo feed stopped: {self._error}") from self._error

    def status_text(self) -> str:
        """One line for a status bar: ``Live demo: 10:42 (60x)``."""
        p = self._progress
        at = f"{local(p.sim_time):%H:%M}" if p.sim_ms is not None else ""
        if p.phase in ("starting", "simulating"):
            return "Live demo: simulating the fleet…"
        if p.phase == "catching up":
            return f"Live demo: catching up to {at}…"
        if p.phase == "failed":
            return f"Live demo stopped: {p.error}"
        if p.phase in ("finished", "stopped"):
            return f"Live demo {p.phase} at {at}"
        return f"Live demo: {at} ({pace_words(self.pace)})"

    # -- control ----------------------------------------------------------------

    def start(self) -> "LiveFeed":
        self._want.set()
        self._maker.start()
        self._thread.start()
        return self

    def stop(self, timeout: float = 1.0) -> bool:
        """Stop after the batch in hand (each is one transaction); True if it has ended."""
        self._stop.set()
        self._want.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the feed to end of itself (its days done); True if it has."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # -- the threads ----------------------------------------------------------------

    def _set(self, **changes) -> None:
        self._progress = replace(self._progress, **changes)

    def _make_days(self) -> None:
        days = None
        try:
            days = iter(self.source())
            while True:
                self._want.wait()              # a day is made only when the feed nears the last one's end
                if self._stop.is_set():
                    return
                self._want.clear()
                day = next(days, _END)
                self._days.put(day)
                if day is _END:
                    return
        except BaseException as exc:          # handed to the feed, which reports it
            self._days.put(exc)
        finally:
            close = getattr(days, "close", None)
            if close is not None:
                close()                        # a generator's own clean-up (a process it started)

    def _next_day(self, block: bool):
        """The next day, None if not made yet (or stopping), _END when there are no more."""
        while True:
            try:
                got = self._days.get(timeout=0.1) if block else self._days.get_nowait()
            except queue.Empty:
                if block and not self._stop.is_set():
                    continue
                return None
            if isinstance(got, BaseException):
                raise got
            return got

    def _run(self) -> None:
        store = None
        try:
            self._set(phase="simulating", sim_ms=self._start_ms)
            first = self._next_day(block=True)
            if first is None or first is _END:
                self._set(phase="stopped" if first is None else "finished")
                return
            # A start in a later day: the days before it are caught up whole, with it.
            days = [first]
            while self._start_ms >= days[-1].end_ms and not self._stop.is_set():
                self._want.set()
                later = self._next_day(block=True)
                if later is None or later is _END:
                    break
                days.append(later)
            joined = days[0] if len(days) == 1 else FeedDay(
                days[0].start_ms, days[-1].end_ms,
                sorted((line for d in days for line in d.telemetry), key=lambda p: p[0]))
            # A start outside the days would feed nothing, or all of them at once.
            start_ms = min(max(self._start_ms, joined.start_ms), joined.end_ms)
            self.clock.hold(start_ms)
            store = Store.open(self.path, key=self.key, clock=self.clock)
            self._feed(_Feeder(store), joined, start_ms, [d.start_ms for d in days])
        except BaseException as exc:
            self._error = exc
            self._set(phase="failed", error=str(exc) or type(exc).__name__)
            log.exception("live demo feed failed")
            if self.on_error is not None:
                self.on_error(exc)
        finally:
            self.clock.hold()
            if store is not None:
                store.close()

    def _feed(self, feeder: _Feeder, day: FeedDay, start_ms: int, starts: list[int]) -> None:
        pending, head, day_end = list(day.telemetry), 0, day.end_ms
        more = True                           # more days may come
        asked = False                         # the next day has been asked for
        self._set(phase="catching up", sim_ms=start_ms)
        head = self._submit_due(feeder, pending, head, start_ms, CATCH_UP_LINES)
        if self._stop.is_set():
            self._set(phase="stopped")
            return
        self._set(incidents=self._progress.incidents + feeder.evaluate(self._stop) + feeder.sweep(starts, self._stop))
        if self.caught_up is not None and not self._stop.is_set():
            self.caught_up(feeder.db, instant(start_ms))
        if self._stop.is_set():
            self._set(phase="stopped")
            return
        last_sweep_ms, last_sweep_s = start_ms, time.monotonic()
        self.clock.run()
        self._set(phase="live")
        while not self._stop.wait(self.batch_s):
            now_ms = self.clock.now_ms()
            if more and not asked and now_ms >= day_end - PREFETCH_MS:
                self._want.set()
                asked = True
            if more and now_ms >= day_end:
                got = self._next_day(block=False)
                if got is _END:
                    more = False
                elif got is not None:
                    # The last day's late backlog and the new day's lines, in delivery order.
                    pending = sorted(pending[head:] + list(got.telemetry), key=lambda p: p[0])
                    head, day_end, asked = 0, got.end_ms, False
                    starts = [*starts[-1:], got.start_ms]
            head = self._submit_due(feeder, pending, head, now_ms, LIVE_LINES)
            if self._stop.is_set():
                break
            if now_ms - last_sweep_ms >= SWEEP_MS and time.monotonic() - last_sweep_s >= SWEEP_MIN_S:
                self._set(incidents=self._progress.incidents + feeder.sweep(starts, self._stop))
                last_sweep_ms, last_sweep_s = now_ms, time.monotonic()
            self._set(sim_ms=now_ms)
            if not more and head >= len(pending):
                self._set(phase="finished")
                return
        self._set(phase="stopped", sim_ms=self.clock.now_ms())

    def _submit_due(self, feeder: _Feeder, pending: list, head: int, until_ms: int, size: int) -> int:
        """Submit what is due by ``until_ms`` in batches of ``size``; returns the new head."""
        while head < len(pending) and pending[head][0] <= until_ms and not self._stop.is_set():
            end = head
            limit = min(len(pending), head + size)
            while end < limit and pending[end][0] <= until_ms:
                end += 1
            # Catching up, lines are stored batch by batch and judged once at the end (with
            # all of them in, no device looks silent for want of its next batch).
            got = feeder.submit(pending[head:end]) if self.clock.running else feeder.store(pending[head:end])
            self._progress = _counted(self._progress, got)
            head = end
        return head


__all__ = ["FeedDay", "FeedProgress", "LiveFeed", "LiveFeedError", "PACES", "SimClock", "encode", "feed_until",
           "pace_words", "parse_pace"]
