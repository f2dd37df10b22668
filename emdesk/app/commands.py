"""The bodies of ``emdesk``'s commands (cli.py parses, these do the work)."""
from __future__ import annotations

import getpass
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from emdesk import paths
from emdesk.domain.clock import LONDON, UTC
from emdesk.domain.users import Permission, Role, User, region_refusal
from emdesk.services import auth
from emdesk.services.errors import ServiceError
from emdesk.store import Store, StoreError
from emdesk.store.errors import WrongSecret
from emdesk.store.keyring import Keyring

from .demo_printout import pairing_example
from .errors import CommandError
from .roles import name_of
from .wiring import Prompt, _acting_user, _context, _open, _role, _screenshot, make_clock, run_gui


def demo_world_source(seed: int, subjects: int, now: datetime):
    """The seeded demo world as the hub loads it: accounts, every record, and how to pair
    today's first install (for the walkthrough of an offline installation)."""
    from emdesk.services.demo import intake_checked, planned_visits
    from emdesk.services.demo_world import generate_world
    # The same demo day as `emdesk demo`: made as at 08:00, so today's visits are still to make.
    world = generate_world(seed, now=_demo_now(now), subjects=subjects)
    records = [*world.subjects, *intake_checked(world), *world.devices, *planned_visits(world),
               *world.notes, *world.telemetry]
    return world.users, records, pairing_example(world)


def sync_command(name: str, argv: list[str]) -> int:
    from emdesk.sync import cli as sync_cli
    if name == "hub":
        return sync_cli.hub_main(argv, demo_world=demo_world_source)
    if name == "join":
        return sync_cli.join_main(argv)
    return sync_cli.sync_main(argv)


def _demo_now(now: datetime | None = None) -> datetime:
    """Demo day: today at 08:00 UK time, so the officers' schedules are for today."""
    today = (now or make_clock().now()).astimezone(LONDON).date()
    return datetime.combine(today, datetime.min.time().replace(hour=8), tzinfo=LONDON).astimezone(UTC)


def _is_demo_store(path: Path) -> bool:
    from emdesk.services.demo import is_demo_store
    return is_demo_store(path)


def _set_aside(path: Path) -> Path:
    """Move a store and its key file out of the way, kept as a backup beside it."""
    stamp = make_clock().now().strftime("%Y%m%dT%H%M%S")
    backup = path.with_name(f"{path.name}.bak-{stamp}")
    for suffix in ("", ".keys", "-wal", "-shm"):
        src = Path(f"{path}{suffix}")
        if src.exists():
            os.replace(src, Path(f"{backup}{suffix}"))
    return backup


def build_demo_store(path: Path, seed: int, subjects: int, *, replace: bool = False):
    """The demo world in a fresh store at ``path``.  A demo store there is rebuilt; any other
    store is never overwritten: refused, or with ``replace`` moved aside as a backup first."""
    from emdesk.services.demo import build_demo
    there = path.exists() or Path(f"{path}.keys").exists()
    ours = Path(path) == paths.demo_store(seed)         # the app's own demo file, rebuilt every run
    if there and not ours and not _is_demo_store(path):
        if not replace:
            raise CommandError(f"{path} holds a store that is not a demo store: it is left as it is. Choose "
                               "another --db for the demo, or add --replace to move it aside (kept as a backup)")
        print(f"moved the store at {path} aside to {_set_aside(path)}")
    for p in (path, Path(f"{path}.keys"), Path(f"{path}-wal"), Path(f"{path}-shm")):
        p.unlink(missing_ok=True)
    store, world = build_demo(path, seed=seed, now=_demo_now(), subjects=subjects)
    store.clock = make_clock()   # the world was made as at 08:00; later edits are live
    return store, world


def _agency_with_packs(store, first):
    """The role's demo account that yesterday's casework issued packs to (else ``first``)."""
    from emdesk.domain.monitoring import BreachPack, BreachPackStatus
    from emdesk.domain.users import AGENCY_OF, User
    sent = [p for p in store.find(BreachPack) if p.status is BreachPackStatus.SENT
            and p.responder.value == AGENCY_OF[first.role]]
    for user in store.find(User, order_by="username"):
        if user.role is first.role and any(not user.region or p.region == user.region for p in sent):
            return user
    return first


SCREENSHOT_AHEAD = 100 * 60    # a demo screenshot shows 09:40: yesterday's notifications due at 10:00 are amber


def demo(args) -> int:
    screenshot, role = args.screenshot, args.role
    if screenshot and not role:
        raise CommandError("--screenshot needs --as ROLE")
    live = getattr(args, "live", True)
    tmp = tempfile.mkdtemp(prefix="emdesk-demo-") if screenshot and not args.db else None
    path = args.db or (Path(tmp) / "demo.db" if tmp else paths.demo_store(args.seed))
    try:
        store, world = build_demo_store(path, args.seed, args.subjects, replace=args.replace)
        if screenshot:
            user = _acting_user(store, None, _role(role))
            if live and (user.can(Permission.WORK_ALERTS) or user.can(Permission.RESPOND_TO_BREACHES)):
                # A fixed point of the day, so the queue and the map show the same thing every
                # time (only the monitoring screens and the agencies' inboxes show the fleet's
                # telemetry and the casework on it).
                from datetime import timedelta

                from .live_demo import catch_up
                catch_up(store, _demo_now() + timedelta(seconds=SCREENSHOT_AHEAD), seed=args.seed)
                if user.can(Permission.RESPOND_TO_BREACHES):
                    user = _agency_with_packs(store, user)
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
        feed = None
        if live:
            from emdesk.services.live_feed import pace_words

            from .live_demo import start_live_demo
            # Simulated on the feed's own threads: the window opens while the day is made.
            feed = start_live_demo(store, seed=args.seed, pace=args.pace, start=make_clock().now())
            print(f"Live demo: the fleet's day fed in at {pace_words(args.pace)} (--no-live to stop it, "
                  "--pace to change it)")
        store.close()
        try:
            return run_gui(path, live_feed=feed)
        finally:
            if feed is not None:
                feed.stop()
                if feed.error is not None:
                    print(f"emdesk: the live demo feed stopped on an error: {feed.error}", file=sys.stderr)
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
    _need_display()
    return run_gui(path)


def _need_display() -> None:
    """The desktop needs a screen: say how to get one, rather than let Qt abort."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) \
            and os.environ.get("QT_QPA_PLATFORM", "") in ("", "xcb", "wayland"):
        raise CommandError("there is no display to open the app on: run it in a desktop session, or under a "
                           "virtual screen (`xvfb-run -a emdesk ...`), or save a picture of a workspace with "
                           "`--screenshot shot.png --as ROLE`")


def init(args, prompt: Prompt) -> int:
    from emdesk.services.setup import check_new_password, create_store
    path = args.db or paths.default_store()
    if path.exists() or Path(f"{path}.keys").exists():
        raise CommandError(f"{path}: a store is already there; open it, or choose another --db")
    try:
        # The first administrator is the account that will sign in: EMDESK_PASSWORD is hers.
        password = new_password(args.admin, prompt, variable="EMDESK_PASSWORD")
        check_new_password(args.admin, password)
        create_store(path, args.admin, password, plain=args.plain, clock=make_clock())
    except (StoreError, ServiceError) as exc:
        raise CommandError(str(exc)) from exc
    print(f"created {'UNENCRYPTED' if args.plain else 'encrypted'} store {path} with administrator {args.admin}")
    return 0


def new_password(username: str, prompt: Prompt, *, variable: str = "EMDESK_NEW_PASSWORD") -> str:
    """A new account's own password: from ``variable`` for scripts, else asked twice."""
    given = os.environ.get(variable)
    if given:
        return given
    if not sys.stdin.isatty():
        other = "" if variable == "EMDESK_PASSWORD" else \
            " (it is never taken from EMDESK_PASSWORD, which is the signing-in account's)"
        raise CommandError(f"a password for {username} is needed: set {variable} or run in a terminal{other}")
    first = getpass.getpass(f"new password for {username}: ")
    if getpass.getpass(f"new password for {username} again: ") != first:
        raise CommandError(f"the two passwords for {username} differ: nothing was changed")
    return first


def add_user(args, prompt: Prompt) -> int:
    """An administrator adds an account, on every store (plain ones too): signed in with her
    own password (asked once), the new account getting its own (never the admin's)."""
    path = args.db or paths.default_store()
    if not args.user:
        raise CommandError("adding an account needs an administrator: give --user ADMIN")
    refusal = region_refusal(args.role, args.region)
    if refusal:
        raise CommandError(f"--{refusal}: nothing was changed")
    admin_password = prompt(f"password for {args.user}: ")
    try:
        ring = Keyring.load(path) if path.exists() else None
        store = (Store.unlock(path, args.user, admin_password) if ring is not None and not ring.plain
                 else _open(path, args.user, lambda _: admin_password))
    except (StoreError, WrongSecret) as exc:
        raise CommandError(f"{exc}" if not isinstance(exc, WrongSecret) else
                           f"the password for {args.user} does not unlock {path}: nothing was changed") from exc
    try:
        try:
            admin = auth.sign_in(store, args.user, admin_password)
        except ServiceError as exc:
            raise CommandError(f"{exc} (as {args.user}): nothing was changed") from exc
        if admin.role is not Role.ADMIN:
            raise CommandError(f"{args.user} is not an administrator: only an administrator can add accounts")
        key = ring.unlock(args.user, admin_password) if ring is not None and not ring.plain else None
        password = new_password(args.username, prompt)
        user = auth.add_user(store, User(username=args.username, display_name=args.name, role=args.role,
                                         region=args.region), password, data_key=key, actor=admin.id)
        print(f"added {user.username} ({name_of(user.role)})")
        return 0
    except ServiceError as exc:
        raise CommandError(str(exc)) from exc
    finally:
        store.close()


def import_orders(args, prompt: Prompt) -> int:
    from emdesk.services.import_files import ImportFileError
    path = args.db or paths.default_store()
    store = _open(path, args.user, prompt, make_clock())
    try:
        user = _acting_user(store, args.user, Role.MONITORING_OPERATOR) if args.user or store.encrypted else \
            _batch_user(store)
        ctx = _context(store, user)
        line = _ProgressLine(args.file) if sys.stderr.isatty() else None
        try:
            report = ctx.intake.import_file(args.file, progress=line)
        except ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        except ServiceError as exc:
            raise CommandError(str(exc)) from exc
        except KeyboardInterrupt:
            if line:
                line.clear()
            print(f"emdesk: interrupted: nothing from {args.file} was imported (a file goes in whole or not "
                  "at all); run the same command again", file=sys.stderr)
            return 130
        if line:
            line.clear()
        print(json.dumps(report.as_json(), indent=2, default=str) if args.json else report.as_text())
        return 0 if report.ok else 1
    finally:
        store.close()


class _ProgressLine:
    """One line on the terminal, rewritten as an import goes: orders, bytes, percent."""

    def __init__(self, file: Path):
        self.name, self.last = Path(file).name, 0.0

    def __call__(self, orders: int, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < 0.2 and done < total:
            return
        self.last = now
        percent = 100 * done // total if total else 100
        sys.stderr.write(f"\rimporting {self.name}: {orders:,} orders, {done / 1e6:,.1f} of "
                         f"{total / 1e6:,.1f} MB ({percent}%)")
        sys.stderr.flush()

    def clear(self) -> None:
        sys.stderr.write("\r\x1b[2K")
        sys.stderr.flush()


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
    path = args.db or paths.default_store()
    store = _open(path, args.user, prompt)
    try:
        verdict = store.verify_audit()
        anchored = None
        if verdict.ok and store.sync_value("hub_url"):
            from emdesk.sync import audit_anchor
            from emdesk.sync.client import SyncClient
            anchored = audit_anchor.check(store, lambda: SyncClient(store), now=make_clock().now())
    finally:
        store.close()
    if not verdict.ok:
        print(f"audit log BROKEN at entry {verdict.broken_at}: {verdict.reason}")
        return 1
    if anchored is not None and not anchored.ok:
        print(f"audit log BROKEN: {anchored.lines[0]}")
        return 1
    print(f"audit log intact: {verdict.entries} entries")
    for line in anchored.lines if anchored else ["this desktop does not sync with a hub, so nothing anchors the "
                                                 "log outside this store: entries cut off its end by someone "
                                                 "holding the store key would not be detected"]:
        print(f"  {line}")
    return 0
