"""The composition root: opens the store, builds services, starts the Qt app.

Each command of ``emdesk`` (see cli.py) is one function here; nothing below this
module knows how the pieces are put together.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from emdesk import paths
from emdesk.domain.clock import UTC, LONDON, FixedClock, SystemClock
from emdesk.domain.geocoding import GazetteerGeocoder
from emdesk.domain.users import Role, User
from emdesk.services import auth
from emdesk.services.context import AppContext
from emdesk.services.errors import ServiceError, SignInError
from emdesk.store import Store, StoreError
from emdesk.store.keyring import Keyring

Prompt = Callable[[str], str]


class CommandError(Exception):
    pass


def make_clock():
    """The system clock, or a pinned one when EMDESK_NOW is set (reproducible scripts, tests)."""
    pinned = os.environ.get("EMDESK_NOW")
    if not pinned:
        return SystemClock()
    try:
        at = datetime.fromisoformat(pinned.replace("Z", "+00:00"))
    except ValueError:
        raise CommandError(f"EMDESK_NOW={pinned!r} is not an ISO 8601 date-time like 2026-11-26T09:00:00Z") from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=LONDON)
    return FixedClock(at.astimezone(UTC))


def _role(name: str) -> Role:
    from emdesk.cli import ROLES
    return Role(ROLES[name])


# -- opening stores -------------------------------------------------------------

def _open(path: Path, username: str | None, prompt: Prompt, clock=None) -> Store:
    try:
        ring = Keyring.load(path) if path.exists() else None
        if ring is not None and ring.plain:
            return Store.open(path, clock=clock)
        if not path.exists():
            raise StoreError(f"{path}: no store there; run `emdesk init --db {path}` or `emdesk demo`")
        if not username:
            raise CommandError(f"{path} is encrypted: give --user NAME (password from EMDESK_PASSWORD or a prompt)")
        return Store.unlock(path, username, prompt(f"password for {username}: "), clock=clock)
    except StoreError as exc:
        raise CommandError(str(exc)) from exc


def _acting_user(store: Store, username: str | None, role: Role | None) -> User:
    if username:
        found = store.find(User, where={"username": username})
        if not found:
            raise CommandError(f"no account {username!r} in {store.path}")
        return found[0]
    if store.encrypted:
        raise CommandError("give --user NAME for an encrypted store")
    candidates = store.find(User, where={"role": role} if role else None, order_by="username")
    if not candidates:
        raise CommandError(f"no {role.label.lower() if role else ''} account in {store.path}")
    return candidates[0]


def _context(store: Store, user: User, clock=None) -> AppContext:
    ctx = AppContext.for_user(store, user, clock or store.clock, GazetteerGeocoder())
    if store.sync_value("hub_url"):
        ctx.sync = SyncAdapter(store)
    return ctx


def sign_in_callable(path: Path, clock=None) -> Callable[[str, str], AppContext]:
    """What the sign-in dialog calls (on a worker thread): unlock, check, build the session."""
    def sign_in(username: str, password: str) -> AppContext:
        try:
            store = Store.unlock(path, username, password, clock=clock)
        except StoreError as exc:
            raise SignInError("Unknown user or wrong password. Check both and try again.") from exc
        try:
            user = auth.sign_in(store, username, password)
        except SignInError:
            store.close()
            raise
        return _context(store, user, clock)
    return sign_in


# -- sync ---------------------------------------------------------------------------

def demo_world_source(seed: int, subjects: int, now: datetime):
    """The seeded demo world as the hub loads it: accounts, every record, and how to pair
    today's first install (for the walkthrough of an offline installation)."""
    from emdesk.services.demo import intake_checked
    from emdesk.services.demo_world import generate_world
    world = generate_world(seed, now=now, subjects=subjects)
    records = [*world.subjects, *intake_checked(world), *world.devices, *world.visits,
               *world.notes, *world.telemetry]
    return world.users, records, _pairing_example(world)


def sync_command(name: str, argv: list[str]) -> int:
    from emdesk.sync import cli as sync_cli
    if name == "hub":
        return sync_cli.hub_main(argv, demo_world=demo_world_source)
    if name == "join":
        return sync_cli.join_main(argv)
    return sync_cli.sync_main(argv)


class SyncAdapter:
    """The desktop's sync client behind the services' ``SyncPort`` (the UI knows only that)."""

    def __init__(self, store: Store):
        from emdesk.sync.client import SyncClient
        self._client = SyncClient(store)
        self._hub = store.sync_value("hub_url") or ""
        self._last_message, self._ok = "", True

    def status(self):
        from emdesk.services.sync_port import SyncStatus
        return SyncStatus(
            configured=bool(self._hub), hub=self._hub, last_sync=self._client.last_sync(),
            pending=self._client.pending_count(), ok=self._ok, message=self._last_message,
            refusals=tuple(f"{r.get('table')}/{r.get('row_id')}: {r.get('reason')}" for r in self._client.refusals()),
        )

    def sync_now(self, progress=None):
        from emdesk.sync.errors import SyncError

        def report(stage: str, done: int, total: int) -> None:
            if progress is not None:
                progress(int(100 * done / total) if total else 0, f"{stage} {done}/{total}")
        try:
            result = self._client.sync_once(progress=report)
            self._ok, self._last_message = True, result.summary()
        except SyncError as exc:
            self._ok, self._last_message = False, exc.message
        return self.status()

    def reachable(self) -> bool:
        return self._client.reachable()

    def close(self) -> None:
        self._client.close()


# -- commands ---------------------------------------------------------------------

def _demo_now() -> datetime:
    """Demo day: today at 08:00 UK time, so the officers' schedules are for today."""
    today = make_clock().now().astimezone(LONDON).date()
    return datetime.combine(today, datetime.min.time().replace(hour=8), tzinfo=LONDON).astimezone(UTC)


def build_demo_store(path: Path, seed: int, subjects: int):
    from emdesk.services.demo import build_demo
    for p in (path, Path(f"{path}.keys"), Path(f"{path}-wal"), Path(f"{path}-shm")):
        p.unlink(missing_ok=True)
    store, world = build_demo(path, seed=seed, now=_demo_now(), subjects=subjects)
    store.clock = make_clock()   # the world was made as at 08:00; later edits are live
    return store, world


def demo(args) -> int:
    screenshot, role = args.demo_screenshot, args.demo_role
    if screenshot and not role:
        raise CommandError("--screenshot needs --as ROLE")
    tmp = tempfile.mkdtemp(prefix="emdesk-demo-") if screenshot and not args.demo_db else None
    path = args.demo_db or (Path(tmp) / "demo.db" if tmp else paths.demo_store(args.seed))
    try:
        store, world = build_demo_store(path, args.seed, args.subjects)
        if screenshot:
            user = _acting_user(store, None, _role(role))
            return _screenshot(_context(store, user), screenshot)
        print(f"Demo world (seed {args.seed}) in {path} — UNENCRYPTED demo store")
        print(f"{len(world.subjects)} subjects, {len(world.orders)} orders, {len(world.devices)} devices, "
              f"{len(world.visits)} visits")
        print("Demo users (username / password / role / region):")
        for user, password in world.users:
            print(f"  {user.username:<22} {password:<28} {user.role.label:<20} {user.region}")
        example = _pairing_example(world)
        if example:
            print(example)
        store.close()
        return run_gui(path)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def _pairing_example(world) -> str:
    """How to pair on the demo: today's first install visit with kit allocated, and the
    emulator command that brings up devices with those serials."""
    from emdesk.domain.devices import DeviceState
    from emdesk.domain.visits import VisitKind, VisitStatus
    allocated: dict[str, list] = {}
    for d in world.devices:
        if d.state is DeviceState.ALLOCATED and d.order_id:
            allocated.setdefault(d.order_id, []).append(d)
    today = world.now.astimezone(LONDON).date()
    users = {u.id: u for u, _ in world.users}
    subjects = {s.id: s for s in world.subjects}
    # A tag with its home unit first: the pairing an officer does at most doors.
    def key(v):
        return (len(allocated.get(v.order_id, [])) < 2, v.window_start or world.now, v.id)
    for v in sorted(world.visits, key=key):
        kit = allocated.get(v.order_id, [])
        if (v.kind is VisitKind.INSTALL and v.status is VisitStatus.SCHEDULED and kit and v.officer_id in users
                and v.window_start and v.window_start.astimezone(LONDON).date() == today):
            devices = " ".join(f"--device {d.kind.value}:{d.serial}" for d in sorted(kit, key=lambda d: d.kind.value))
            officer = users[v.officer_id].username
            return (f"To pair devices: start the kit allocated to {subjects[v.subject_id].full_name}'s install,\n"
                    f"  python -m hardware.emulate {devices}\n"
                    f"then sign in as {officer} (password demo-{officer}), select that visit on Today and\n"
                    f"choose Pair devices… with the ports the emulator printed.")
    return ""


def run_app(args, prompt: Prompt) -> int:
    path = args.db or paths.default_store()
    if args.screenshot:
        if not args.role:
            raise CommandError("--screenshot needs --as ROLE")
        store = _open(path, args.user, prompt, make_clock())
        return _screenshot(_context(store, _acting_user(store, args.user, _role(args.role))), args.screenshot)
    if not path.exists():
        raise CommandError(f"no store at {path}: run `emdesk demo` for the demo world, "
                           f"or `emdesk init --db {path}` to create one")
    return run_gui(path)


def _screenshot(ctx: AppContext, out: Path) -> int:
    # A PNG needs no screen: render offscreen unless told otherwise.
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from emdesk.ui.qt_app import make_application
    from emdesk.ui.screenshot import render_workspace
    app = make_application(sys.argv[:1])
    try:
        written = render_workspace(ctx, str(out))
        print(written)
    finally:
        ctx.close()
    del app
    return 0


def run_gui(path: Path) -> int:
    from emdesk.ui.qt_app import make_application
    from emdesk.ui.shell import Shell
    app = make_application(sys.argv[:1])
    shell = Shell(sign_in_callable(path, make_clock()))
    shell.start()
    return app.exec()


def init(args, prompt: Prompt) -> int:
    path = args.init_db or paths.default_store()
    try:
        store, key = Store.create(path, plain=args.plain)
        password = prompt(f"new password for {args.admin}: ")
        auth.add_user(store, User(username=args.admin, display_name="Administrator", role=Role.ADMIN),
                      password, data_key=key, actor="init")
    except (StoreError, ServiceError) as exc:
        raise CommandError(str(exc)) from exc
    print(f"created {'UNENCRYPTED' if args.plain else 'encrypted'} store {path} with administrator {args.admin}")
    store.close()
    return 0


def add_user(args, prompt: Prompt) -> int:
    path = args.sub_db or args.db or paths.default_store()
    # Adding an account to an encrypted store needs the data key: an admin unlocks it.
    store = _open(path, args.user, prompt)
    try:
        key = None
        if store.encrypted:
            key = Keyring.load(path).unlock(args.user, prompt(f"password for {args.user}: "))
            if _acting_user(store, args.user, None).role is not Role.ADMIN:
                raise CommandError("only an administrator can add accounts")
        user = auth.add_user(store, User(username=args.username, display_name=args.name, role=Role(args.role),
                                         region=args.region),
                             prompt(f"new password for {args.username}: "), data_key=key,
                             actor=args.user or "cli")
        print(f"added {user.username} ({user.role.label})")
        return 0
    except ServiceError as exc:
        raise CommandError(str(exc)) from exc
    finally:
        store.close()


def import_orders(args, prompt: Prompt) -> int:
    from emdesk.services.import_files import ImportFileError
    path = args.sub_db or args.db or paths.default_store()
    store = _open(path, args.user, prompt, make_clock())
    try:
        user = _acting_user(store, args.user, Role.MONITORING_OPERATOR) if args.user or store.encrypted else \
            _batch_user(store)
        ctx = _context(store, user)
        try:
            report = ctx.intake.import_file(args.file)
        except ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        except ServiceError as exc:
            raise CommandError(str(exc)) from exc
        print(json.dumps(report.as_json(), indent=2, default=str) if args.json else report.as_text())
        return 0 if report.ok else 1
    finally:
        store.close()


def _batch_user(store: Store) -> User:
    """On a plain store, imports run as the first monitoring operator or supervisor."""
    for role in (Role.MONITORING_OPERATOR, Role.SUPERVISOR):
        found = store.find(User, where={"role": role}, order_by="username")
        if found:
            return found[0]
    # A bare store has only its administrator: imports are recorded as the batch intake.
    return User(id="batch-intake", username="batch-intake", display_name="Batch intake",
                role=Role.MONITORING_OPERATOR)


def audit_verify(args, prompt: Prompt) -> int:
    path = args.sub_db or args.db or paths.default_store()
    store = _open(path, args.user, prompt)
    try:
        verdict = store.verify_audit()
    finally:
        store.close()
    if verdict.ok:
        print(f"audit log intact: {verdict.entries} entries")
        return 0
    print(f"audit log BROKEN at entry {verdict.broken_at}: {verdict.reason}")
    return 1
