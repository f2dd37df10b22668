"""The bodies of ``emdesk``'s commands (cli.py parses, these do the work)."""
from __future__ import annotations

import json
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

from emdesk import paths
from emdesk.domain.clock import LONDON, UTC
from emdesk.domain.users import Role, User
from emdesk.services import auth
from emdesk.services.errors import ServiceError
from emdesk.store import Store, StoreError
from emdesk.store.keyring import Keyring

from .demo_printout import pairing_example
from .errors import CommandError
from .wiring import Prompt, _acting_user, _context, _open, _role, _screenshot, make_clock, run_gui


def demo_world_source(seed: int, subjects: int, now: datetime):
    """The seeded demo world as the hub loads it: accounts, every record, and how to pair
    today's first install (for the walkthrough of an offline installation)."""
    from emdesk.services.demo import intake_checked
    from emdesk.services.demo_world import generate_world
    world = generate_world(seed, now=now, subjects=subjects)
    records = [*world.subjects, *intake_checked(world), *world.devices, *world.visits,
               *world.notes, *world.telemetry]
    return world.users, records, pairing_example(world)


def sync_command(name: str, argv: list[str]) -> int:
    from emdesk.sync import cli as sync_cli
    if name == "hub":
        return sync_cli.hub_main(argv, demo_world=demo_world_source)
    if name == "join":
        return sync_cli.join_main(argv)
    return sync_cli.sync_main(argv)


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
        example = pairing_example(world)
        if example:
            print(example)
        store.close()
        return run_gui(path)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


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
