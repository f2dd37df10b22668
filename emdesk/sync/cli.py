"""Command lines for sync, routed to from ``emdesk.cli``:

  emdesk hub serve     --store S [--host H] [--port N] [--cert F --key F] [--gc-interval SEC]
  emdesk hub init      --store S [--hub-role emdesk_hub] [--hub-password-env VAR]
  emdesk hub load-demo --store S [--seed N] [--subjects N]
  emdesk hub gc        --store S
  emdesk hub revoke    --store S DEVICE_ID
  emdesk hub enrol     --store S DEVICE_ID
  emdesk hub devices   --store S
  emdesk join --hub URL --user NAME [--db PATH] [--plain] [--ca FILE] [--device-name NAME]
  emdesk sync [--db PATH] [--user NAME] [--ca FILE]

``S`` is ``postgresql://user@host:port/db`` or a SQLite file path; only ``init`` and
``load-demo`` create a SQLite hub, and on PostgreSQL only the owner may ``enrol``.  Passwords come from
EMDESK_PASSWORD or a prompt.  Exit codes: 0 done, 2 refused / bad use, 3 hub unreachable
(offline: nothing lost, run again later).
"""
from __future__ import annotations

import argparse
import gc
import ipaddress
import os
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from emdesk.prompts import password as ask_password

from .errors import HubUnreachable, SyncError

SERVE_GC_THRESHOLD = (100_000, 50, 1000)     # (see serve)

# (seed, subjects, now) -> ([(User, password)], [Record]): the seeded demo world.  The
# generator lives in emdesk.services, which sync may not import: emdesk.cli passes it in.
# (seed, subjects, now) -> (users, records) or (users, records, a hint printed after loading)
DemoWorldSource = Callable[[int, int, datetime], tuple]


def _fail(message: str, code: int = 2) -> int:
    print(f"emdesk: {message}", file=sys.stderr)
    return code


def _progress(stage: str, done: int, total: int) -> None:
    if sys.stderr.isatty():
        print(f"\r{stage}: {done}/{total}   ", end="", file=sys.stderr, flush=True)


# -- emdesk hub ----------------------------------------------------------------------


def _hub_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="emdesk hub", description="The sync hub that desktops push to and pull from.")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="run the hub (HTTPS with --cert/--key)")
    s.add_argument("--store", required=True, help="postgresql://... or a SQLite file path")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8765)
    s.add_argument("--cert", type=Path, help="TLS certificate chain (PEM)")
    s.add_argument("--key", type=Path, help="TLS private key (PEM)")
    s.add_argument("--allow-plain-http", action="store_true",
                   help="serve plain HTTP on a non-loopback address (only behind a TLS-terminating proxy)")
    s.add_argument("--gc-interval", type=float, default=3600.0, help="seconds between tombstone GC runs (0: never)")
    s.add_argument("--log-level", default="info")
    i = sub.add_parser("init", help="create the hub's schema (PostgreSQL: as the owner, with RLS and the hub role)")
    i.add_argument("--store", required=True)
    i.add_argument("--hub-role", default="emdesk_hub", help="PostgreSQL role the hub connects as")
    i.add_argument("--hub-password-env", metavar="VAR", help="environment variable holding the hub role's password")
    d = sub.add_parser("load-demo", help="load the seeded demo world (accounts with demo passwords, all records)")
    d.add_argument("--store", required=True)
    d.add_argument("--seed", type=int, default=2026)
    d.add_argument("--subjects", type=int, default=300)
    g = sub.add_parser("gc", help="drop tombstones all active desktops have synced past")
    g.add_argument("--store", required=True)
    r = sub.add_parser("revoke", help="revoke a desktop: its tokens stop working, a password does not bring it back")
    r.add_argument("--store", required=True)
    r.add_argument("device_id")
    e = sub.add_parser("enrol", help="re-enrol a revoked desktop (PostgreSQL: as the owner)")
    e.add_argument("--store", required=True)
    e.add_argument("device_id")
    v = sub.add_parser("devices", help="list the desktops: user, name, last seen, revoked")
    v.add_argument("--store", required=True)
    return p


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def hub_main(argv: list[str], *, demo_world: DemoWorldSource | None = None, **hub_options) -> int:
    """``emdesk hub ...``; ``hub_options`` go to ``Hub`` (clock, hasher, ...: tests, benchmarks)."""
    args = _hub_parser().parse_args(argv)
    from .hub import Hub, StorageUnavailable, create_app, open_storage
    from .hub.storage import is_postgres

    try:
        if args.command == "init":
            if is_postgres(args.store):
                from .hub.postgres import init_postgres
                password = os.environ.get(args.hub_password_env) if args.hub_password_env else None
                for line in init_postgres(args.store, args.hub_role, hub_password=password):
                    print(line)
            else:
                open_storage(args.store).close()
                print(f"hub store ready: {args.store}")
            return 0
        storage = open_storage(args.store, create=args.command == "load-demo")
    except StorageUnavailable as exc:
        return _fail(str(exc))
    hub = Hub(storage, **hub_options)
    try:
        if args.command == "serve":
            if (args.cert is None) != (args.key is None):
                return _fail("give both --cert and --key for HTTPS")
            if args.cert is None and not _is_loopback(args.host) and not args.allow_plain_http:
                return _fail(f"refusing plain HTTP on {args.host}: give --cert and --key "
                             "(or --allow-plain-http behind a TLS-terminating proxy)")
            warning = storage.rls_warning()
            if warning:
                print(f"emdesk: {warning}", file=sys.stderr, flush=True)
            hub.rescope_visitors()      # a hub made before visitors were kept: cover gets its cases
            # A page of events or records is tens of thousands of short-lived tuples, none in a
            # cycle: at Python's default threshold (700) the collector would walk the heap
            # dozens of times per page.  Collections still run, a hundred times less often.
            gc.set_threshold(*SERVE_GC_THRESHOLD)
            import uvicorn

            from emdesk import logs
            log_file = logs.setup("hub")
            scheme = "https" if args.cert else "http"
            print(f"emdesk hub on {scheme}://{args.host}:{args.port} ({storage.kind}: {storage.label}); "
                  f"log {log_file}", flush=True)
            uvicorn.run(create_app(hub, gc_interval_s=args.gc_interval), host=args.host, port=args.port,
                        ssl_certfile=str(args.cert) if args.cert else None,
                        ssl_keyfile=str(args.key) if args.key else None, log_level=args.log_level)
            return 0
        if args.command == "load-demo":
            if demo_world is None:
                return _fail("load-demo needs the demo world generator: run it as `emdesk hub load-demo`")
            held = _records_held(storage)
            if held:
                return _fail(f"this hub already holds records ({held}): load-demo only fills an empty hub. "
                             f"Make a new one with `emdesk hub init --store NEW` and load that.")
            users, records, *hint = demo_world(args.seed, args.subjects, hub.clock.now())
            counts = hub.load(users, records)
            print("loaded " + ", ".join(f"{n} {t}" for t, n in counts.items()))
            if hint and hint[0]:
                print(hint[0])
            return 0
        if args.command == "gc":
            report = hub.gc()
            print(", ".join(f"{k} {v}" for k, v in report.items()))
            return 0
        if args.command in ("revoke", "enrol"):
            return _revoke_or_enrol(hub, args)
        if args.command == "devices":
            _print_devices(hub.devices())
            return 0
    except StorageUnavailable as exc:
        return _fail(str(exc))
    finally:
        storage.close()
    return 2


def _records_held(storage) -> str:
    """How many records a hub already holds ('' when empty)."""
    with storage.read("all") as tx:
        rows = int(tx.scalar("SELECT count(*) FROM hub_rows", default=0))
    return f"{rows} records" if rows else ""


def _who(device) -> str:
    return f"desktop {device.device_id} ({device.name}) of {device.username or '?'} (user {device.user_id})"


def _revoke_or_enrol(hub, args) -> int:
    if args.command == "revoke":
        device = hub.revoke_device(args.device_id)
    else:
        device = hub.enrol_device(args.device_id)
    if device is None:
        return _fail(f"no desktop {args.device_id} on this hub: `emdesk hub devices --store {args.store}` "
                     "lists them")
    if args.command == "revoke":
        print(f"revoked {_who(device)}: its tokens stop working at once, and it cannot sign in again, even with "
              f"the password, until it is re-enrolled (`emdesk hub enrol --store {args.store} {device.device_id}`)")
    else:
        print(f"re-enrolled {_who(device)}: it may sign in again with its user's password (`emdesk join`)")
    return 0


def _print_devices(devices) -> None:
    from datetime import timezone
    rows = [("DEVICE", "USER", "NAME", "LAST SEEN (UTC)", "STATUS")]
    for d in devices:
        seen = datetime.fromtimestamp(d.last_seen_ms / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M")
        rows.append((d.device_id, d.username or d.user_id, d.name, seen, "revoked" if d.revoked else "active"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())


# -- emdesk join / emdesk sync -------------------------------------------------------------


def _default_db() -> Path:
    from emdesk.paths import default_store
    return default_store()


def join_main(argv: list[str], *, http=None, clock=None) -> int:
    p = argparse.ArgumentParser(prog="emdesk join", description="Join this desktop to a hub and load your records.")
    p.add_argument("--hub", required=True, help="hub URL, e.g. https://hub.example:8765")
    p.add_argument("--user", required=True)
    p.add_argument("--db", type=Path, help="store to create (default: the user data directory)")
    p.add_argument("--plain", action="store_true", help="do NOT encrypt the store (tests and demos only)")
    p.add_argument("--ca", type=Path, help="CA certificate (PEM) for a hub with a private CA")
    p.add_argument("--device-name", default="")
    p.add_argument("--page", type=int, default=5000, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    from emdesk.store import StoreError

    from .client import join

    db = args.db or _default_db()
    password = ask_password(f"Password for {args.user}: ")
    try:
        store, report = join(args.hub, args.user, password, db, plain=args.plain, ca=args.ca,
                             device_name=args.device_name, http=http, progress=_progress, clock=clock,
                             bootstrap_limit=args.page)
    except HubUnreachable as exc:
        return _fail(exc.message, 3)
    except SyncError as exc:
        return _fail(exc.message)
    except StoreError as exc:      # an existing store: wrong password, another account's store
        return _fail(str(exc))
    mode = "UNENCRYPTED" if not store.encrypted else "encrypted"
    print(f"joined {args.hub} as {args.user}: {db} ({mode}); {report.summary()}")
    store.close()
    return 0


def _open_store(db: Path, user: str | None):
    """The store, and the password that unlocked it (None for a plain store)."""
    from emdesk.store import Store, StoreLocked
    from emdesk.store.keyring import Keyring

    try:
        return Store.open(db), None
    except StoreLocked:
        ring = Keyring.load(db)
        names = sorted(ring.slots) if ring else []
        if user is None:
            if len(names) != 1:
                raise SystemExit(f"emdesk: {db} has several accounts ({', '.join(names)}): "
                                 "say which with --user") from None
            user = names[0]
        password = ask_password(f"Password for {user}: ")
        return Store.unlock(db, user, password), password


def sync_main(argv: list[str], *, http=None) -> int:
    p = argparse.ArgumentParser(prog="emdesk sync", description="Send local changes to the hub and fetch new ones.")
    p.add_argument("--db", type=Path)
    p.add_argument("--user", help="account that unlocks an encrypted store (default: its only account)")
    p.add_argument("--ca", type=Path, help="CA certificate (PEM) for a hub with a private CA")
    p.add_argument("--page", type=int, default=1000, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    from emdesk.store import StoreError

    from .client import SyncClient, remember_password

    db = args.db or _default_db()
    try:
        store, password = _open_store(db, args.user)
    except StoreError as exc:
        return _fail(str(exc))
    try:
        with SyncClient(store, ca=args.ca, http=http, pull_limit=args.page, bootstrap_limit=args.page) as client:
            report = client.sync_once(progress=_progress)
        if password:
            # A join interrupted during its first load finishes here: keep the offline sign-in.
            remember_password(store, password)
    except HubUnreachable as exc:
        return _fail(exc.message, 3)
    except SyncError as exc:
        return _fail(exc.message)
    finally:
        store.close()
    print(report.summary())
    for refusal in report.refused:
        print(f"refused {refusal.table}/{refusal.row_id}: {refusal.reason}")
    return 0
