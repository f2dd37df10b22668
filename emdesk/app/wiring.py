"""Wiring: open the store, build a signed-in session's services, start the Qt app.

Nothing below this package knows how the pieces are put together.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from emdesk.domain.clock import UTC, LONDON, FixedClock, SystemClock
from emdesk.domain.geocoding import GazetteerGeocoder
from emdesk.domain.users import Role, User
from emdesk.services import auth
from emdesk.services.context import AppContext
from emdesk.services.errors import SignInError
from emdesk.store import Store, StoreError
from emdesk.store.keyring import Keyring

from .errors import CommandError
from .roles import ROLES
from .sync_adapter import SyncAdapter

Prompt = Callable[[str], str]


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


def sign_in_callable(path: Path, clock=None, live_feed=None) -> Callable[[str, str], AppContext]:
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
        ctx = _context(store, user, clock)
        ctx.live_feed = live_feed
        from emdesk.ui.maps.snapshot import attach_pack_maps
        attach_pack_maps(ctx)          # packs built in the desktop carry the trail map
        return ctx
    return sign_in


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


def run_gui(path: Path, live_feed=None) -> int:
    """The desktop on the store at ``path``; with the live demo's ``live_feed``, every
    session runs on its simulated clock and can show its status."""
    from emdesk import logs
    from emdesk.ui.qt_app import make_application
    logs.setup("desktop")
    from emdesk.ui.shell import Shell
    app = make_application(sys.argv[:1])
    shell = Shell(sign_in_callable(path, live_feed.clock if live_feed else make_clock(), live_feed))
    shell.start()
    return app.exec()
