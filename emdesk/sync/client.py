"""The desktop's side of sync: push the outbox, then pull the feed; bootstrap when new.

Use it from a worker thread (one call at a time; it holds a lock):

    client = SyncClient(store, "https://hub.example:8443", ca="/etc/emdesk/ca.pem")
    client.register("jsmith", password, "Laptop 14")     # once: device registration
    report = client.sync_once(progress=lambda stage, done, total: ...)

Nothing is lost at any instant:
  * outbox rows are dropped only after the hub answered for them (``ack_outbox``), in the
    same local transaction that records refusals;
  * each pulled page (or bootstrap page) is applied with its cursor (or keyset position)
    in one local transaction, so a kill leaves the last whole page and no part of the next;
  * a re-sent push is harmless: the hub remembers op ids and answers the same.

Refused ops (a role may not write there, the row is not yours, a deleted record) are
kept in ``sync_state['refusals']`` with the reason the user sees and the local change
itself; the hub sends its own version back, so the replica converges on the next pull.
"""
from __future__ import annotations

import gc
import socket
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import msgspec
from argon2 import PasswordHasher

from emdesk.domain.clock import Clock
from emdesk.store import Store
from emdesk.store.telemetry import COLUMNS as TELEMETRY_COLUMNS

from . import columns
from . import protocol as p
from .errors import HubRefused, HubUnreachable, SyncError, UpgradeRequired
from .ordering import CONFLICTS, TABLE_ORDER

Progress = Callable[[str, int, int], None]

SCHEMA_HEADER = "X-Emdesk-Schema"
REPLICA_TABLES = tuple(t for t in TABLE_ORDER if t != CONFLICTS)

# sync_state keys
HUB_URL, REFRESH, USER_ID, USERNAME, ROLE, REGION = "hub_url", "refresh_token", "user_id", "username", "role", "region"
DEVICE_NAME, CURSOR, LAST_SYNC, OFFSET, REFUSALS = "device_name", "cursor", "last_sync", "clock_offset_ms", "refusals"
BOOT_SNAPSHOT, BOOT_TABLE, BOOT_ID, BOOT_TOTAL, BOOT_DONE = (
    "bootstrap_snapshot", "bootstrap_after_table", "bootstrap_after_id", "bootstrap_total", "bootstrap_done")

AUDIT_ANCHOR = "audit_anchor"
EVENTS_CURSOR = "telemetry_cursor"      # the device-event feed's cursor (a hub event seq)
# A first sync's event snapshot in progress: its head seq and the last (order, at, seq) taken.
EVENTS_HEAD, EVENTS_AFTER = "telemetry_snapshot_head", "telemetry_snapshot_after"
# Roles the hub sends no telemetry (scope: the monitoring centre and supervisors only).
NO_TELEMETRY = frozenset({"field_officer", "technician"})
# Roles whose scope is everything (``scope.ALL``): no order ever leaves it, a deleted one
# included, so they keep every event the hub sends them.
WHOLE_SCOPE = frozenset({"supervisor", "admin"})

MAX_REFUSALS_KEPT = 1000
CLOCK_MARGIN_MS = 60_000       # re-stamped ops land at most this far ahead of the hub
OFFSET_JITTER_MS = 2_000       # smaller disagreements with the hub clock are left alone


class OffsetClock:
    """The store's own clock moved to agree with the hub's (``offset_ms`` = hub - local)."""

    def __init__(self, base: Clock, offset_ms: int):
        self.base, self.offset_ms = base, offset_ms

    def now(self) -> datetime:
        return self.base.now() + timedelta(milliseconds=self.offset_ms)


@dataclass
class Refusal:
    op_id: str
    table: str
    row_id: str
    reason: str


@dataclass
class SyncReport:
    pushed: int = 0
    refused: list[Refusal] = field(default_factory=list)
    restamped: int = 0
    pulled: int = 0
    evicted: int = 0
    conflicts: int = 0
    events: int = 0                # device events new to this desktop (the telemetry feed)
    bootstrapped: int = 0
    rebuilt: bool = False
    cursor: int = 0
    audit_alarm: str = ""          # the hub found this desktop's audit log shorter or rewritten

    def summary(self) -> str:
        parts = [f"pushed {self.pushed}", f"refused {len(self.refused)}", f"pulled {self.pulled}",
                 f"evicted {self.evicted}"]
        if self.events:
            parts.append(f"events {self.events}")
        if self.bootstrapped:
            parts.append(f"loaded {self.bootstrapped}")
        if self.restamped:
            parts.append(f"re-stamped {self.restamped}")
        if self.rebuilt:
            parts.append("rebuilt from the hub")
        parts.append(f"cursor {self.cursor}")
        return ", ".join(parts)


class _ClockAhead(Exception):
    def __init__(self, hub_time_ms: int):
        self.hub_time_ms = hub_time_ms


class _SnapshotExpired(Exception):
    pass


def _tls(ca: str | Path | None) -> ssl.SSLContext | bool:
    if ca is None:
        return True
    if not Path(ca).exists():
        raise HubRefused(f"the CA certificate {ca} does not exist")
    return ssl.create_default_context(cafile=str(ca))


class SyncClient:
    def __init__(self, store: Store, hub_url: str | None = None, *, ca: str | Path | None = None,
                 http: httpx.Client | None = None, push_batch: int = 1000, pull_limit: int = 1000,
                 bootstrap_limit: int = 10000, timeout: float = 30.0, schema_version: int | None = None,
                 events_limit: int = 20000):
        self.store = store
        url = hub_url or store.sync_value(HUB_URL)
        if not url:
            raise HubRefused("This desktop has not joined a hub yet: run `emdesk join --hub URL --user NAME`.")
        self.hub_url = url.rstrip("/")
        self._own_http = http is None
        self.http = http or httpx.Client(timeout=timeout, verify=_tls(ca))
        self.push_batch, self.pull_limit, self.bootstrap_limit = push_batch, pull_limit, bootstrap_limit
        self.events_limit = events_limit
        self.snapshot_format = "columns"     # what a first sync asks its events in ("json": rows)
        self.schema_version = schema_version or store.schema_version
        self._token: str | None = None
        self._token_deadline = 0.0
        self._lock = threading.Lock()
        # One sign-in refresh at a time: the hub rotates the refresh token on use, and the same
        # one presented twice (two requests refreshing at once) revokes this desktop.
        self._token_lock = threading.Lock()
        base = store.clock.base if isinstance(store.clock, OffsetClock) else store.clock
        self._base_clock = base
        offset = int(store.sync_value(OFFSET) or 0)
        if offset:
            store.clock = OffsetClock(base, offset)

    def close(self) -> None:
        if self._own_http:
            self.http.close()

    def __enter__(self) -> "SyncClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- state ------------------------------------------------------------------

    def _state(self, key: str, default: str = "") -> str:
        return self.store.sync_value(key) or default

    def pending_count(self) -> int:
        return self.store.outbox_count()

    def last_sync(self) -> datetime | None:
        text = self._state(LAST_SYNC)
        return datetime.fromisoformat(text) if text else None

    def refusals(self) -> list[dict]:
        text = self._state(REFUSALS)
        return msgspec.json.decode(text) if text else []

    def cursor(self) -> int | None:
        text = self._state(CURSOR)
        return int(text) if text else None

    def reachable(self, timeout: float = 3.0) -> bool:
        """Whether the hub answers its health probe now (no sign-in needed)."""
        try:
            return self.http.get(self.hub_url + "/v1/health", timeout=timeout).status_code == 200
        except httpx.HTTPError:
            return False

    # -- HTTP -------------------------------------------------------------------

    def _observe(self, hub_time_ms: int, *, force: bool = False) -> None:
        """Keep the store's clock within a couple of seconds of the hub's."""
        if not hub_time_ms:
            return
        local = int(self._base_clock.now().timestamp() * 1000)
        offset = hub_time_ms - local
        current = self.store.clock.offset_ms if isinstance(self.store.clock, OffsetClock) else 0
        if abs(offset) < OFFSET_JITTER_MS and not force:
            offset = 0
        if abs(offset - current) < OFFSET_JITTER_MS and not force:
            return
        self.store.clock = OffsetClock(self._base_clock, offset) if offset else self._base_clock
        self.store.set_sync_value(OFFSET, str(offset))

    def _post(self, path: str, body, answer_type, *, auth: bool = True, retry: bool = True, params=None,
              stale: str | None = None):
        """POST ``body`` (or, with ``params``, GET with that query string) and read the answer;
        ``stale``: an access token the hub has just refused."""
        headers = {SCHEMA_HEADER: str(self.schema_version), "Content-Type": "application/json"}
        token = ""
        if auth:
            token = self._access(stale)
            headers["Authorization"] = f"Bearer {token}"
        try:
            if params is not None:
                response = self.http.get(self.hub_url + path, params=params, headers=headers)
            else:
                response = self.http.post(self.hub_url + path, content=p.encode(body), headers=headers)
        except httpx.TransportError as exc:
            raise HubUnreachable(f"Cannot reach the hub at {self.hub_url} ({type(exc).__name__}: {exc}). "
                                 "Working offline: your changes are kept and will be sent next time.",
                                 code="unreachable") from exc
        if response.status_code == 200:
            try:
                if answer_type is p.TelemetrySnapshotPage and \
                        response.headers.get("content-type", "").startswith(p.COLUMNS_MEDIA):
                    answer = msgspec.msgpack.decode(response.content, type=p.EventColumns)
                else:
                    answer = p.decode(response.content, answer_type)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                raise HubRefused(f"The hub's answer could not be read ({exc}).", code="bad_answer") from exc
            self._observe(getattr(answer, "hub_time_ms", 0))
            return answer
        try:
            err = p.decode(response.content, p.ErrorBody)
        except (msgspec.DecodeError, msgspec.ValidationError):
            err = p.ErrorBody(error=f"http_{response.status_code}", message=response.text[:200] or response.reason_phrase)
        if response.status_code == 401 and auth and retry:
            return self._post(path, body, answer_type, auth=auth, retry=False, params=params, stale=token)
        if response.status_code == 426:
            raise UpgradeRequired(err.message, code=err.error)
        if response.status_code == 409 and err.error == "clock_ahead":
            raise _ClockAhead(err.hub_time_ms)
        if response.status_code == 409 and err.error == "snapshot_expired":
            raise _SnapshotExpired()
        if response.status_code >= 500:
            raise HubUnreachable(f"The hub had a problem ({response.status_code}: {err.message}). "
                                 "Your changes are kept; try again later.", code=err.error)
        raise HubRefused(err.message, code=err.error)

    def _access(self, stale: str | None = None) -> str:
        """A live access token, refreshed when it has run out or the hub refused ``stale``; a
        request that waited for another's refresh takes the token that one got."""
        with self._token_lock:
            if self._token and self._token != stale and time.monotonic() < self._token_deadline:
                return self._token
            refresh = self._state(REFRESH)
            if not refresh:
                raise HubRefused("This desktop has not joined the hub: run `emdesk join`.", code="not_joined")
            answer = self._post("/v1/token", p.TokenRequest(device_id=self.store.desktop_id, refresh_token=refresh,
                                                            schema_version=self.schema_version),
                                p.TokenResponse, auth=False)
            self._remember(answer)
            return answer.access_token

    def _remember(self, answer: p.TokenResponse) -> None:
        self._token = answer.access_token
        self._token_deadline = time.monotonic() + max(0.0, (answer.expires_at_ms - answer.hub_time_ms) / 1000 - 30)
        # The hub rotated the refresh token: the old one is spent (presenting it again after a
        # short grace revokes this desktop), so the new one is kept in the same transaction.
        with self.store.transaction():
            for key, value in ((REFRESH, answer.refresh_token), (USER_ID, answer.user.id),
                               (USERNAME, answer.user.username), (ROLE, answer.user.role),
                               (REGION, answer.user.region)):
                self.store.set_sync_value(key, value)

    # -- registration -------------------------------------------------------------

    def register(self, username: str, password: str, device_name: str = "") -> p.UserInfo:
        """Register this desktop for a hub account; keeps the hub URL and refresh token."""
        with self._lock:
            name = device_name or socket.gethostname()
            answer = self._post("/v1/token", p.TokenRequest(device_id=self.store.desktop_id, device_name=name,
                                                            username=username, password=password,
                                                            schema_version=self.schema_version),
                                p.TokenResponse, auth=False)
            with self.store.transaction():
                self.store.set_sync_value(HUB_URL, self.hub_url)
                self.store.set_sync_value(DEVICE_NAME, name)
                self._remember(answer)
            return answer.user

    # -- one round ----------------------------------------------------------------

    def sync_once(self, progress: Progress | None = None) -> SyncReport:
        """Push everything pending, then pull (bootstrapping first if this store is new)."""
        progress = progress or (lambda stage, done, total: None)
        with self._lock:
            report = SyncReport()
            self._push(report, progress)
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="emdesk-telemetry") as early:
                first = None
                if self.cursor() is None:
                    # A first sync: the events' first page is asked for while the records load.
                    first = self._first_snapshot_page(early)
                    report.bootstrapped += self._bootstrap(progress)
                self._pull(report, progress)
                self._pull_events(report, progress, first)
            report.audit_alarm = self._anchor_audit()
            report.cursor = self.cursor() or 0
            self.store.set_sync_value(LAST_SYNC, datetime.now(timezone.utc).isoformat(timespec="seconds"))
            return report

    def bootstrap(self, progress: Progress | None = None) -> int:
        """Load (or finish loading) this user's whole scope from a hub snapshot; returns rows."""
        with self._lock:
            return self._bootstrap(progress or (lambda stage, done, total: None))

    # -- the audit log's anchor ---------------------------------------------------------

    def _anchor_audit(self) -> str:
        """Hand the hub this desktop's audit-log head, proving the log still holds the last
        anchor; keep the hub's answer.  Returns the hub's alarm, if any."""
        for _ in range(2):        # a second time if this desktop did not know the latest anchor
            known = self.audit_anchor()
            seq, digest = self.store.audit_head()
            if known.seq and (seq, digest) == (known.seq, known.hash):
                return ""         # nothing written since the hub took the last anchor
            answer = self._post("/v1/audit", p.AuditAnchorRequest(
                schema_version=self.schema_version, device_id=self.store.desktop_id, head_seq=seq, head_hash=digest,
                proof_seq=known.seq, proof_hash=self.store.audit_hash_at(known.seq) if known.seq else ""),
                p.AuditAnchorResponse)
            self.store.set_sync_value(AUDIT_ANCHOR, p.encode(answer.anchor).decode())
            if answer.alarm or answer.anchor.seq == seq or answer.anchor.seq == known.seq:
                return answer.alarm
        return ""

    def audit_anchor(self) -> p.AuditAnchor:
        """The last anchor the hub confirmed, as this desktop keeps it (offline use)."""
        text = self._state(AUDIT_ANCHOR)
        return p.decode(text.encode(), p.AuditAnchor) if text else p.AuditAnchor()

    def hub_audit_anchor(self) -> p.AuditAnchorResponse:
        """The hub's own record of this desktop's last anchor (and any alarm)."""
        return self._post("/v1/audit", p.AuditAnchorRequest(schema_version=self.schema_version,
                                                             device_id=self.store.desktop_id, head_seq=-1),
                          p.AuditAnchorResponse)

    # -- push -----------------------------------------------------------------------

    def _push(self, report: SyncReport, progress: Progress) -> None:
        total, done, clock_tries = self.store.outbox_count(), 0, 0
        while True:
            batch = self._next_batch()
            if not batch:
                return
            ops = [p.Op(op_id=r["op_id"], device_seq=r["seq"], table=r["table_name"], row_id=r["row_id"],
                        kind=r["op"], hlc=r["hlc"], payload=r["payload"],
                        changed=msgspec.json.decode(r["changed"]) if r["changed"] else None,
                        action=r["action"] or "", action_id=r["action_id"] or "") for r in batch]
            try:
                answer = self._post("/v1/push", p.PushRequest(schema_version=self.schema_version,
                                                              device_id=self.store.desktop_id, ops=ops,
                                                              cursor=self.cursor() or 0), p.PushResponse)
            except _ClockAhead as exc:
                clock_tries += 1
                if clock_tries > 3:
                    raise HubRefused("The hub keeps refusing this desktop's clock: check the date and time.",
                                     code="clock_ahead") from None
                self._observe(exc.hub_time_ms, force=True)
                ceiling = exc.hub_time_ms + CLOCK_MARGIN_MS
                # Every pending op stamped too far ahead, not only this batch's: one refusal
                # re-stamps them all, or each later batch would be refused in turn.
                ahead = self.store.outbox_stamped_after(ceiling)
                now_ms = int(self.store.clock.now().timestamp() * 1000)
                report.restamped += len(self.store.restamp_outbox(ahead, now_ms, ceiling))
                continue
            refused = [Refusal(r.op_id, op.table, op.row_id, r.reason)
                       for op, r in zip(ops, answer.results, strict=True) if r.status == "refused"]
            with self.store.transaction():
                if refused:
                    kept = [x for x in self.refusals() if x.get("op_id") not in {r.op_id for r in refused}]
                    at = datetime.now(timezone.utc).isoformat(timespec="seconds")
                    payloads = {op.op_id: op.payload for op in ops}
                    kept += [{"op_id": r.op_id, "table": r.table, "row_id": r.row_id, "reason": r.reason, "at": at,
                              "payload": payloads[r.op_id]} for r in refused]
                    self.store.set_sync_value(REFUSALS, msgspec.json.encode(kept[-MAX_REFUSALS_KEPT:]).decode())
                self.store.ack_outbox([r.op_id for r in answer.results])
            report.pushed += len(answer.results) - len(refused)
            report.refused += refused
            done += len(batch)
            progress("push", done, max(total, done))

    def _next_batch(self) -> list[dict]:
        """The next ops to push.  A person made here goes with every pending order that names
        them, even past the batch size: the hub judges a new person by their case, and an
        order never reaches it without its person.  A field action (an installation) goes
        whole, for the hub takes all of it or none."""
        batch = self.store.outbox_batch(self.push_batch, TABLE_ORDER)
        if len(batch) < self.push_batch:
            return batch
        have = {r["op_id"] for r in batch}
        people = {r["row_id"] for r in batch if r["table_name"] == "subjects"}
        if people:
            extra = [r for r in self.store.outbox_orders_naming(people) if r["op_id"] not in have]
            batch += extra
            have |= {r["op_id"] for r in extra}
        actions = {r["action_id"] for r in batch if r["action_id"]}
        if actions:
            batch += [r for r in self.store.outbox_actions(actions) if r["op_id"] not in have]
        return batch

    # -- pull -----------------------------------------------------------------------

    def _pull(self, report: SyncReport, progress: Progress) -> None:
        done, rebuilt = 0, False
        while True:
            cursor = self.cursor() or 0
            answer = self._post("/v1/pull", p.PullRequest(schema_version=self.schema_version,
                                                          device_id=self.store.desktop_id, cursor=cursor,
                                                          limit=self.pull_limit), p.PullResponse)
            if answer.rebuild:
                if rebuilt:
                    raise HubRefused("The hub asked for a rebuild twice in one round; try again later.",
                                     code="rebuild_loop")
                rebuilt = report.rebuilt = True
                report.bootstrapped += self._bootstrap(progress, fresh=True)
                continue
            with self.store.applying_remote():
                pulled, evicted, conflicts = self._apply(answer.changes)
                if any(c.table in ("orders", "subjects") for c in answer.changes):
                    self.store.drop_orders_without_person()
                self.store.set_sync_value(CURSOR, str(answer.cursor))
            report.pulled += pulled
            report.evicted += evicted
            report.conflicts += conflicts
            done += len(answer.changes)
            progress("pull", done, done + answer.remaining)
            if not answer.more:
                return

    # -- the device-event feed ---------------------------------------------------------

    def events_cursor(self) -> int:
        return int(self._state(EVENTS_CURSOR, "0"))

    def _get_events(self, path: str, answer_type, params: dict):
        """A page of device events; None from a hub that does not serve ``path``."""
        try:
            page = self._post(path, None, answer_type, params={**params, "limit": self.events_limit})
        except HubRefused as exc:
            if exc.code == "http_404":
                return None
            raise
        if isinstance(page, p.EventColumns):
            return page
        if page.rows and tuple(page.columns) != ("seq", *TELEMETRY_COLUMNS):
            raise HubRefused(f"The hub sends telemetry as {page.columns}, which this emdesk cannot read: "
                             "install the latest emdesk.", code="bad_answer")
        return page

    def _pages(self, ask: Callable[[object], object], first: Future | None = None):
        """The pages ``ask(previous)`` gives (``ask(None)``, or ``first`` when it was asked for
        already, the first), each asked for while the caller writes the one before; stops after
        a page without ``more``."""
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="emdesk-telemetry") as ahead:
            page = first.result() if first is not None else ask(None)
            while page is not None:
                upcoming = ahead.submit(ask, page) if page.more else None
                try:
                    yield page
                except GeneratorExit:
                    if upcoming is not None:
                        upcoming.cancel()
                    raise
                page = upcoming.result() if upcoming is not None else None

    def _first_snapshot_page(self, pool: ThreadPoolExecutor) -> Future | None:
        """The event snapshot's first page, asked for on ``pool``, when this desktop will take
        the snapshot (it holds no events yet and its role receives them)."""
        if self._state(ROLE) in NO_TELEMETRY or self.events_cursor() != 0:
            return None
        return pool.submit(self._snapshot_page, None)

    def _pull_events(self, report: SyncReport, progress: Progress, first: Future | None = None) -> None:
        """The telemetry of this user's scope, appended to the local event log page by page,
        each page with its position in one local transaction.  Not marked for the engine:
        events are evaluated where they are ingested (the hub), whose incidents come as records.

        A desktop that holds none yet takes the hub's snapshot first (``/v1/telemetry/snapshot``:
        every event up to a head seq, in the log's own order, which SQLite appends far faster
        than the feed's seq order) and then follows the feed from that head.  Pages are asked
        for while the previous one is written.  The rows of a page are many small lists with no
        cycles: the collector is kept off meanwhile (a first sync's hundred thousand rows would
        otherwise set it walking the whole heap again and again)."""
        if self._state(ROLE) in NO_TELEMETRY:
            return
        collecting = gc.isenabled()
        gc.disable()
        try:
            if self.events_cursor() == 0:
                self._events_snapshot(report, progress, first)
            self._events_feed(report, progress)
        finally:
            if collecting:
                gc.enable()

    def _snapshot_page(self, previous: p.TelemetrySnapshotPage | None) -> p.TelemetrySnapshotPage | None:
        """The snapshot's page after ``previous`` (None: where this desktop stopped, or the start)."""
        if previous is None:
            head, after = int(self._state(EVENTS_HEAD, "0")), self._state(EVENTS_AFTER)
            order, at, seq = msgspec.json.decode(after) if after else ("", 0, 0)
        else:
            head, order, at, seq = previous.head, previous.after_order, previous.after_at, previous.after_seq
        # As columns (a hub older than them answers in JSON rows, which are read as such).
        return self._get_events("/v1/telemetry/snapshot", p.TelemetrySnapshotPage,
                                {"head": head, "order": order, "at": at, "seq": seq,
                                 "format": self.snapshot_format})

    def _apply_snapshot_page(self, page: p.TelemetrySnapshotPage | p.EventColumns) -> tuple[int, int]:
        """Write one snapshot page; returns (events new here, events on the page)."""
        log = self.store.telemetry
        if not isinstance(page, p.EventColumns):
            return log.apply_feed(page.rows), len(page.rows)
        try:
            got = columns.unpack(page)
        except columns.BadColumns as exc:
            raise HubRefused(f"The hub's page of events could not be read ({exc}); nothing of it was kept.",
                             code="bad_answer") from exc
        return log.apply_indexed(got.orders, got.devices, got.cols, got.received, got.late, got.event_ids), page.rows

    def _events_snapshot(self, report: SyncReport, progress: Progress, first: Future | None = None) -> None:
        done = 0
        try:
            for page in self._pages(self._snapshot_page, first):
                with self.store.transaction():
                    added, size = self._apply_snapshot_page(page)
                    report.events += added
                    if page.more:
                        self.store.set_sync_value(EVENTS_HEAD, str(page.head))
                        self.store.set_sync_value(EVENTS_AFTER, msgspec.json.encode(
                            [page.after_order, page.after_at, page.after_seq]).decode())
                    else:
                        self.store.set_sync_value(EVENTS_CURSOR, str(page.head))
                        self.store.set_sync_value(EVENTS_HEAD, "")
                        self.store.set_sync_value(EVENTS_AFTER, "")
                        # The first page was asked for before the pull of the sync that took
                        # it, which may have taken an order out of this desktop's scope since:
                        # its events go, as after any reload from the hub.
                        self._forget_events_out_of_scope()
                done += size
                progress("telemetry", done, done)
        except HubRefused as exc:
            if exc.code != "bad_request" or not self._state(EVENTS_HEAD):
                raise
            # The hub no longer has the snapshot this desktop was taking (restored from a
            # backup): what came is kept, the rest comes by the feed from the start.
            with self.store.transaction():
                self.store.set_sync_value(EVENTS_HEAD, "")
                self.store.set_sync_value(EVENTS_AFTER, "")

    def _events_feed(self, report: SyncReport, progress: Progress) -> None:
        log, done = self.store.telemetry, 0

        def ask(previous):
            after = self.events_cursor() if previous is None else previous.cursor
            return self._get_events("/v1/telemetry", p.TelemetryPage, {"after": after})

        for page in self._pages(ask):
            with self.store.transaction():
                report.events += log.apply_feed(page.rows)
                self.store.set_sync_value(EVENTS_CURSOR, str(page.cursor))
            done += len(page.rows)
            progress("telemetry", done, done)

    def _apply(self, changes: list[p.Change]) -> tuple[int, int, int]:
        """Apply one page, in order (inside ``applying_remote``): each run of upserts of one
        table in one go.  Returns (rows written, evicted, conflicts)."""
        pulled = evicted = conflicts = 0
        i, n = 0, len(changes)
        while i < n:
            change = changes[i]
            if change.table == CONFLICTS:
                if change.kind != "evict":
                    self.store.apply_conflict(change.payload)
                    conflicts += 1
                i += 1
            elif change.table not in REPLICA_TABLES:
                i += 1
            elif change.kind == "evict":
                self.store.evict(change.table, change.row_id)
                if change.table == "orders":       # out of this desktop's scope: its telemetry too
                    self.store.telemetry.forget_orders([change.row_id])
                evicted += 1
                i += 1
            else:
                j = i + 1
                while j < n and changes[j].table == change.table and changes[j].kind != "evict":
                    j += 1
                pulled += self.store.apply_remote_many(change.table, [c.payload for c in changes[i:j]])
                i = j
        return pulled, evicted, conflicts

    # -- bootstrap ------------------------------------------------------------------

    def _forget_events_out_of_scope(self) -> None:
        """Drop the events of orders this desktop does not hold, which after a reload are the
        ones that left its scope; not for a whole-scope role, which holds deleted orders'
        events too (a reload brings no tombstones, so it cannot tell them apart)."""
        if self._state(ROLE) not in WHOLE_SCOPE:
            self.store.telemetry.forget_orders_not_held()

    def _restore_pending(self) -> None:
        """After a load that started from an empty replica (a rebuild, or a desktop that made
        records before it joined), put back this desktop's changes still waiting to be pushed,
        as it holds them (inside ``applying_remote``): the user's work stays on screen, and
        the hub does not send a new row back to the desktop that pushed it, so a copy gone
        here would be gone for good."""
        pending = self.store.outbox_count()
        if not pending:
            return
        latest: dict[tuple[str, str], dict] = {}
        for op in self.store.outbox_batch(pending, TABLE_ORDER):        # parents' tables first
            latest[(op["table_name"], op["row_id"])] = op                 # its last version
        self._apply([p.Change(seq=0, table=t, row_id=i, kind="delete" if op["op"] == "delete" else "upsert",
                              hlc=op["hlc"], payload=op["payload"]) for (t, i), op in latest.items()])

    def _bootstrap_page(self, snapshot: int, after_table: str, after_id: str) -> p.BootstrapResponse:
        return self._post("/v1/bootstrap", p.BootstrapRequest(
            schema_version=self.schema_version, device_id=self.store.desktop_id, snapshot=snapshot,
            after_table=after_table, after_id=after_id, limit=self.bootstrap_limit,
            protocol=p.PROTOCOL_VERSION), p.BootstrapResponse)

    def _bootstrap(self, progress: Progress, *, fresh: bool = False) -> int:
        snapshot = 0 if fresh else int(self._state(BOOT_SNAPSHOT, "0"))
        after_table, after_id = ("", "") if fresh else (self._state(BOOT_TABLE), self._state(BOOT_ID))
        # The next page is asked for while this one is written (its keyset position is known
        # first), so waiting for the hub and writing the store overlap; pages are still applied
        # in order, each with its position in one local transaction.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="emdesk-bootstrap") as ahead, \
                self.store.bulk_loading():
            return self._bootstrap_pages(progress, ahead, snapshot, after_table, after_id)

    def _bootstrap_pages(self, progress: Progress, ahead: ThreadPoolExecutor, snapshot: int, after_table: str,
                         after_id: str) -> int:
        loaded, restarts, upcoming = 0, 0, None
        while True:
            try:
                answer = upcoming.result() if upcoming else self._bootstrap_page(snapshot, after_table, after_id)
            except _SnapshotExpired:
                upcoming = None
                restarts += 1
                if restarts > 3:
                    raise HubRefused("The hub keeps moving on during loading; try again later.",
                                     code="snapshot_expired") from None
                snapshot, after_table, after_id = 0, "", ""
                continue
            upcoming = (ahead.submit(self._bootstrap_page, answer.snapshot, answer.after_table, answer.after_id)
                        if answer.more else None)
            with self.store.applying_remote():
                if snapshot == 0:
                    # A fresh snapshot: whatever was here (a rebuild, an expired attempt) goes,
                    # in the same transaction as the first page.
                    self.store.clear_replica(REPLICA_TABLES)
                    self.store.set_sync_value(CURSOR, "")
                    self.store.set_sync_value(BOOT_TOTAL, str(answer.total))
                    self.store.set_sync_value(BOOT_DONE, "0")
                count = len(answer.rows)
                for part in answer.tables:      # protocol 2: ready table rows, one insert per table
                    if part.table in REPLICA_TABLES:
                        self.store.apply_remote_rows(part.table, part.columns, bytes(part.rows).decode(),
                                                     part.top_hlc)
                    count += part.count
                self._apply(answer.rows)
                done = int(self._state(BOOT_DONE, "0")) + count
                self.store.set_sync_value(BOOT_DONE, str(done))
                if answer.more:
                    self.store.set_sync_value(BOOT_SNAPSHOT, str(answer.snapshot))
                    self.store.set_sync_value(BOOT_TABLE, answer.after_table)
                    self.store.set_sync_value(BOOT_ID, answer.after_id)
                else:
                    self.store.set_sync_value(CURSOR, str(answer.snapshot))
                    for key in (BOOT_SNAPSHOT, BOOT_TABLE, BOOT_ID):
                        self.store.set_sync_value(key, "")
                    self._restore_pending()
                    # A reload leaves out the orders no longer in scope: their telemetry goes too.
                    self._forget_events_out_of_scope()
            loaded += count
            total = int(self._state(BOOT_TOTAL, "0"))
            progress("bootstrap", done, max(total, done))
            if not answer.more:
                return loaded
            snapshot, after_table, after_id = answer.snapshot, answer.after_table, answer.after_id


# -- joining a hub ------------------------------------------------------------------


def join(hub_url: str, username: str, password: str, db_path: str | Path, *, plain: bool = False,
         ca: str | Path | None = None, device_name: str = "", http: httpx.Client | None = None,
         progress: Progress | None = None, clock: Clock | None = None,
         bootstrap_limit: int = 10000) -> tuple[Store, SyncReport]:
    """Make (or resume) a desktop store joined to a hub for one account.

    A new store is encrypted unless ``plain``, with a key slot for this account; after the
    first load the account's password hash is stored too, so the desktop signs in offline.
    """
    db_path = Path(db_path)
    created = not db_path.exists()
    key = None
    if created:
        store, key = Store.create(db_path, plain=plain, clock=clock)
        store.add_key_slot(username, password, key)
    else:
        store = Store.unlock(db_path, username, password, clock=clock)
        joined = store.sync_value(USERNAME)
        if store.sync_value(HUB_URL) and joined and joined != username:
            store.close()
            raise HubRefused(f"{db_path} already syncs for {joined}; choose another --db for {username}.")
    try:
        client = SyncClient(store, hub_url, ca=ca, http=http, bootstrap_limit=bootstrap_limit)
        try:
            user = client.register(username, password, device_name)
            report = client.sync_once(progress)
        finally:
            client.close()
    except BaseException:
        if created and store.sync_value(REFRESH) is None:
            store.close()
            for suffix in ("", ".keys", "-wal", "-shm"):
                Path(str(db_path) + suffix).unlink(missing_ok=True)
        raise
    remember_password(store, password, user.id, replace=True)
    return store, report


def remember_password(store: Store, password: str, user_id: str | None = None, *, replace: bool = False) -> bool:
    """Keep the joined account's password hash locally (offline sign-in); by default only
    if it is not there yet.  Needs the account's user record (the first page of a load)."""
    user_id = user_id or store.sync_value(USER_ID)
    if not user_id or store.get(store.record_class("users"), user_id, include_deleted=True) is None:
        return False
    if store.password_hash(user_id) is not None and not replace:
        return False
    store.set_password_hash(user_id, PasswordHasher().hash(password))
    return True


__all__ = ["HubRefused", "HubUnreachable", "OffsetClock", "Refusal", "SyncClient", "SyncError", "SyncReport",
           "UpgradeRequired", "join", "remember_password"]
