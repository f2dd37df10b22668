"""The sync wire protocol between a desktop and the hub (version 2).

Push first, then pull.  Every message carries the client's store schema version; the
hub serves the current and the previous one and answers older clients with 426 and
a message telling them to upgrade.  Bodies are JSON (msgspec) over HTTP(S):

  POST /v1/token       TokenRequest   -> TokenResponse    (password or refresh token)
  POST /v1/push        PushRequest    -> PushResponse     (bearer token)
  POST /v1/pull        PullRequest    -> PullResponse     (bearer token)
  POST /v1/bootstrap   BootstrapRequest -> BootstrapResponse (bearer token)
  POST /v1/audit       AuditAnchorRequest -> AuditAnchorResponse (bearer token)
  GET  /v1/telemetry?after=SEQ&limit=N -> TelemetryPage   (bearer token)
  GET  /v1/telemetry/snapshot?head=SEQ&order=ID&at=MS&seq=SEQ&limit=N -> TelemetrySnapshotPage
                       a first sync's events in the log's order, then the feed from ``head``
  GET  /v1/health      -> {"ok": true, "hub_time_ms": ...}

Version 2 ships bootstrap pages as ready table rows (``TableRows``: per table one JSON array
of arrays, the columns the desktop's table holds) instead of one JSON record per row; a
client asks for it with ``BootstrapRequest.protocol = 2`` and the hub serves version 1
pages (``rows``) to clients that do not, or whose store schema is not the hub's.

Errors are HTTP status codes with an ``ErrorBody`` naming what went wrong and what to do.
"""
from __future__ import annotations

from collections.abc import Collection
from typing import Any, Literal

import msgspec

PROTOCOL_VERSION = 2

OpKind = Literal["upsert", "delete"]
ChangeKind = Literal["upsert", "delete", "evict"]
OpStatus = Literal["applied", "merged", "duplicate", "refused"]


class ErrorBody(msgspec.Struct, kw_only=True):
    error: str            # a stable code: "unauthorised", "upgrade_required", "clock_ahead", ...
    message: str          # what happened and what to do, for the person at the desk
    hub_time_ms: int = 0


class TokenRequest(msgspec.Struct, kw_only=True):
    device_id: str                    # the desktop's store id (Store.desktop_id)
    device_name: str = ""
    username: str = ""
    password: str = ""                # first registration of this device for this user
    refresh_token: str = ""           # afterwards: a long-lived per-device token
    schema_version: int


class UserInfo(msgspec.Struct, kw_only=True):
    id: str
    username: str
    role: str
    region: str


class TokenResponse(msgspec.Struct, kw_only=True):
    access_token: str                 # short-lived (minutes)
    expires_at_ms: int
    refresh_token: str                # per device; revocable on the hub
    user: UserInfo
    hub_time_ms: int


class Op(msgspec.Struct, kw_only=True):
    """One captured local change (an outbox row)."""

    op_id: str                        # unique; the hub remembers it, so a resend is a no-op
    device_seq: int                   # the outbox sequence number on the sending device
    table: str
    row_id: str
    kind: OpKind
    hlc: str
    payload: str                      # the record's JSON, as stored locally
    changed: list[str] | None = None  # top-level fields this op changed (None: all)
    action: str = ""                  # a field action this op is part of ("installation"...)
    action_id: str = ""               # ops of one action share it: the hub takes all or none


class PushRequest(msgspec.Struct, kw_only=True):
    schema_version: int
    device_id: str
    ops: list[Op]
    cursor: int = 0                   # the hub seq this device had pulled to when pushing: a value
                                      # written after it was unseen, so overwriting it is a conflict


class OpResult(msgspec.Struct, kw_only=True):
    op_id: str
    status: OpStatus                  # merged: applied, but some fields lost to newer edits
    reason: str = ""                  # for refused: what and why, shown to the user
    hub_seq: int = 0


class PushResponse(msgspec.Struct, kw_only=True):
    results: list[OpResult]
    hub_time_ms: int


class AuditAnchorRequest(msgspec.Struct, kw_only=True):
    """The desktop's audit-log head, with proof that its log still holds the last anchor."""

    schema_version: int
    device_id: str
    head_seq: int                     # -1: only ask for the last anchor
    head_hash: str = ""
    proof_seq: int = 0                # the last anchor this desktop knows of (0: none)
    proof_hash: str = ""              # its log's hash at that entry ("" if the entry is gone)


class AuditAnchor(msgspec.Struct, kw_only=True):
    seq: int = 0                      # 0: nothing anchored yet
    hash: str = ""
    at_ms: int = 0                    # when the hub took it (the hub's clock)
    alarm: str = ""                   # the log came back shorter or rewritten: what the hub saw, and when


class AuditAnchorResponse(msgspec.Struct, kw_only=True):
    anchor: AuditAnchor               # the last good anchor after this request
    hub_time_ms: int
    alarm: str = ""                   # what this request showed, or the newest alarm on record


class Change(msgspec.Struct, kw_only=True):
    seq: int                          # hub-assigned, strictly increasing in commit order
    table: str
    row_id: str
    kind: ChangeKind                  # evict: this row left your scope, drop it
    hlc: str = ""
    payload: str = ""


class PullRequest(msgspec.Struct, kw_only=True):
    schema_version: int
    device_id: str
    cursor: int                       # last hub seq applied locally
    limit: int = 1000


class PullResponse(msgspec.Struct, kw_only=True):
    changes: list[Change]
    cursor: int                       # store this with the page, in the same transaction
    more: bool
    hub_time_ms: int
    rebuild: bool = False             # the cursor is older than the hub keeps: bootstrap again
    remaining: int = 0                # changes still waiting after this page (for progress)


class BootstrapRequest(msgspec.Struct, kw_only=True):
    schema_version: int
    device_id: str
    snapshot: int = 0                 # 0: start a new snapshot; else continue that one
    after_table: str = ""             # keyset position: resume after (table, row_id)
    after_id: str = ""
    limit: int = 2000
    protocol: int = 1                 # 2: send the page as ready table rows (``tables``)


class TableRows(msgspec.Struct, kw_only=True):
    """Rows of one table in a bootstrap page, ready for the desktop's table."""

    table: str
    columns: list[str]                # the desktop table's columns, in the order of each row's values
    rows: msgspec.Raw                 # a JSON array of arrays of column values, inserted as it is
    count: int
    top_hlc: str                      # the newest stamp among them


class BootstrapResponse(msgspec.Struct, kw_only=True):
    snapshot: int                     # hub seq the snapshot is consistent at; pull from here
    rows: list[Change]                # kind "upsert" only (protocol 2: only rows not in ``tables``)
    after_table: str
    after_id: str
    more: bool
    hub_time_ms: int
    total: int = 0                    # rows in the whole snapshot (first page only; for progress)
    tables: list[TableRows] = []      # protocol 2: the page's rows, table by table in rank order


encode = msgspec.json.encode


class TelemetryPage(msgspec.Struct, kw_only=True):
    """One page of the append-only device-event feed: the events of the orders the caller may
    see with a hub seq after ``after``, in seq order, as arrays in ``columns`` order (``seq``
    first, then ``emdesk.store.telemetry.COLUMNS``).  ``cursor``: the ``after`` of the next
    page; ``more``: ask again at once."""

    columns: list[str]
    rows: list[list]
    cursor: int
    more: bool = False
    hub_time_ms: int = 0


class SnapshotPosition(msgspec.Struct, kw_only=True):
    """Where a page of a first sync's events stands: the snapshot's ``head`` seq, and where the
    next page starts (``after_order``, ``after_at``, ``after_seq``); once ``more`` is false, the
    feed continues after ``head``."""

    head: int
    after_order: str = ""
    after_at: int = 0
    after_seq: int = 0
    more: bool = False
    hub_time_ms: int = 0


class TelemetrySnapshotPage(SnapshotPosition, kw_only=True):
    """One page of a first sync's events (``GET /v1/telemetry/snapshot``): the events of the
    caller's scope with a hub seq up to ``head``, ordered by (order id, time, seq), as arrays
    in ``columns`` order (as ``TelemetryPage``)."""

    columns: list[str]
    rows: list[list]


# A snapshot page as columns, in msgpack (``GET /v1/telemetry/snapshot?format=columns``).
COLUMNS_MEDIA = "application/vnd.emdesk.columns+msgpack"


class EventColumns(SnapshotPosition, kw_only=True):
    """One page of a first sync's events as ``TelemetrySnapshotPage`` holds them (same rows,
    same position), as columns (``emdesk.sync.columns``): ``rows`` events; ``order``,
    ``device`` and ``kind`` are little-endian indexes (uint32, uint32, uint16) into ``orders``,
    ``devices`` and ``kinds``; ``at`` and ``received`` int64 ms; ``lat`` to ``value`` float64,
    NaN for none; ``late`` uint8; ``event_ids`` one per event, or None when the page has none."""

    rows: int = 0
    orders: list[str] = msgspec.field(default_factory=list)
    devices: list[str] = msgspec.field(default_factory=list)
    kinds: list[str] = msgspec.field(default_factory=list)
    order: bytes = b""
    device: bytes = b""
    kind: bytes = b""
    at: bytes = b""
    lat: bytes = b""
    lon: bytes = b""
    hdop: bytes = b""
    speed: bytes = b""
    value: bytes = b""
    received: bytes = b""
    late: bytes = b""
    event_ids: list[str | None] | None = None


def decode(data: bytes, cls):
    return msgspec.json.decode(data, type=cls)


def nul_at(value: Any, path: str = "", *, skip: Collection[tuple[type, str]] = ()) -> str | None:
    """Where a decoded message (structs, lists, dicts, strings) holds a NUL character (U+0000),
    as a path such as ``ops[3].op_id``; None if nowhere.  ``skip``: (struct type, field) pairs
    not to look into."""
    if isinstance(value, str):
        return (path or "the message") if "\x00" in value else None
    if isinstance(value, msgspec.Struct):
        items = [(f"{path}.{name}" if path else name, getattr(value, name)) for name in value.__struct_fields__
                 if (type(value), name) not in skip]
    elif isinstance(value, (list, tuple)):
        items = [(f"{path}[{i}]", item) for i, item in enumerate(value)]
    elif isinstance(value, dict):
        items = [(f"{path} key", key) for key in value] + [(f"{path}.{key}" if path else str(key), item)
                                                           for key, item in value.items()]
    else:
        return None
    return next((found for where, item in items if (found := nul_at(item, where, skip=skip))), None)
