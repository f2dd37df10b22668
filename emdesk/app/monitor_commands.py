"""``emdesk ingest``, ``emdesk incidents`` and ``emdesk orders list``: the monitoring engine's
commands.  Output formats are contracts (docs/telemetry.md)."""
from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from emdesk import paths
from emdesk.domain.users import Role, User
from emdesk.services.errors import ServiceError
from emdesk.services.ingest import IngestService
from emdesk.services.telemetry_port import StoreTelemetry
from emdesk.services.watch_lists import WatchLists, incident_json

from .errors import CommandError
from .wiring import Prompt, _acting_user, _open, make_clock


def _store(args, prompt: Prompt):
    path = args.db or paths.default_store()
    if not Path(path).exists():
        raise CommandError(f"--db: no store at {path}: run `emdesk demo` or `emdesk init --db {path}` first")
    return _open(Path(path), args.user, prompt, make_clock())


@contextmanager
def _port(args, prompt: Prompt):
    if getattr(args, "store", None):
        if args.db:
            raise CommandError("give --db (a desktop store) or --store (a hub), not both")
        try:
            from emdesk.sync.hub.telemetry import open_hub_port
        except ImportError as exc:   # the hub extra is not installed
            raise CommandError(f"--store needs the hub installed (pip install 'emdesk[hub]'): {exc}") from exc
        with open_hub_port(args.store) as port:
            yield port
        return
    store = _store(args, prompt)
    try:
        yield StoreTelemetry(store)
    finally:
        store.close()


def ingest(args, prompt: Prompt) -> int:
    source = sys.stdin.buffer if args.file == "-" else None
    if source is None:
        path = Path(args.file)
        if not path.is_file():
            raise CommandError(f"FILE: no file at {path}: give a telemetry file (one JSON event per line) or - "
                               "for standard input")
    with _port(args, prompt) as port:
        service = IngestService(port)
        if source is not None:
            report = service.ingest(source, live=True)
        else:
            with open(args.file, "rb") as f:
                report = service.ingest(f)
    for number, words in report.samples:
        print(f"line {number}: {words}", file=sys.stderr)
    if report.rejected > len(report.samples):
        print(f"... and {report.rejected - len(report.samples)} more rejected lines", file=sys.stderr)
    if args.json:
        json.dump(report.as_json(), sys.stdout)
        print()
    else:
        print(report.line())
    return 0


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CommandError(f"--since: {text!r} is not an ISO 8601 time like 2026-12-01T07:00:00Z") from None
    if at.tzinfo is None:
        raise CommandError(f"--since: {text!r} has no time zone: add Z for UTC, e.g. 2026-12-01T07:00:00Z")
    return at


def incidents(args, prompt: Prompt) -> int:
    since = _since(args.since)
    store = _store(args, prompt)
    try:
        lists = _lists(store, args.user)
        found = lists.incidents(since=since)
    finally:
        store.close()
    if args.json:
        json.dump([incident_json(i) for i in found], sys.stdout, indent=1, ensure_ascii=False)
        print()
        return 0
    if not found:
        print("no incidents")
    for i in found:
        end = "ongoing" if i.ended_at is None else f"{i.ended_at:%Y-%m-%d %H:%M}Z"
        print(f"{i.priority:>3}  {i.status.value:<12} {i.reference:<16} {'+'.join(i.codes):<28} "
              f"{i.started_at:%Y-%m-%d %H:%M}Z .. {end} ({i.seconds / 60:.0f} min)  {i.id}")
        print(f"     {'; '.join(i.reasons)}")
    return 0


def _lists(store, username: str | None) -> WatchLists:
    if not username and not store.encrypted and not store.count(User):
        return WatchLists(store, None)
    user = _acting_user(store, username, Role.SUPERVISOR)
    try:
        return WatchLists(store, user)
    except ServiceError as exc:
        raise CommandError(str(exc)) from exc


def orders_list(args, prompt: Prompt) -> int:
    store = _store(args, prompt)
    try:
        rows = _lists(store, args.user).orders(status=args.status, region=args.region)
    finally:
        store.close()
    if args.json:
        json.dump(rows, sys.stdout, indent=1, ensure_ascii=False)
        print()
        return 0
    for r in rows:
        kit = ", ".join(d["serial"] for d in r["devices"]) or "no kit fitted"
        print(f"{r['reference']:<16} {r['status']:<10} {r['cohort'] or '':<15} {r['region']:<26} "
              f"{r['subject_name']:<28} {kit}")
    print(f"{len(rows)} orders")
    return 0
