"""``emdesk gateway``: take live positions from phones running Traccar Client, over HTTP.

``--db`` (a desktop or monitoring store; an encrypted one as ``--user``, after the password)
or ``--store`` (the hub's storage, ``postgresql://...``).  Runs until Ctrl-C or SIGTERM.
"""
from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager

from emdesk import logs, paths
from emdesk.gateway.server import Gateway, make_server, serve_until_stopped
from emdesk.services.telemetry_port import StoreTelemetry, TelemetryPort

from .errors import CommandError
from .wiring import Prompt, _open, make_clock

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def hub_port(store: str) -> AbstractContextManager[TelemetryPort]:
    """The hub's telemetry port.  Imported here, when asked for, so that a desktop install
    (no hub storage driver) runs ``--db`` without it."""
    from emdesk.sync.hub.telemetry import open_hub_port
    return open_hub_port(store)


@contextlib.contextmanager
def _store_port(args, prompt: Prompt, clock) -> Iterator[TelemetryPort]:
    path = args.db or paths.default_store()
    if not path.exists():
        raise CommandError(f"--db: no store at {path}: run `emdesk demo` or `emdesk init --db {path}` first")
    store = _open(path, args.user, prompt, clock)
    try:
        yield StoreTelemetry(store)
    finally:
        store.close()


def gateway(args, prompt: Prompt) -> int:
    if args.store and args.db:
        raise CommandError("give --db (a store file) or --store (the hub's storage), not both")
    clock = make_clock()             # honours EMDESK_NOW; a bad one is said before anything opens
    opened = hub_port(args.store) if args.store else _store_port(args, prompt, clock)
    logs.setup("gateway")
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    logging.getLogger("emdesk.gateway").addHandler(console)
    with opened as port:
        try:
            server = make_server(Gateway(port), args.host, args.port)
        except OSError as exc:
            raise CommandError(f"--port {args.port}: cannot listen on {args.host}:{args.port} ({exc.strerror or exc}): "
                               "choose another port, or stop what is using it") from exc
        print(f"emdesk gateway: listening on {server.url}", flush=True)
        print(f"  In Traccar Client set Server URL to {_phone_url(server)} and Device identifier "
              "to the device's serial as recorded here (a non-fitted device, or the protected person's phone).",
              flush=True)
        if args.host in _LOOPBACK:
            print("  Listening on this computer only: use --host 0.0.0.0 for phones on the network "
                  "(behind a TLS proxy: positions are personal data).", flush=True)
        print("  Ctrl-C to stop.", flush=True)
        serve_until_stopped(server)
    print("emdesk gateway: stopped", flush=True)
    return 0


def _phone_url(server) -> str:
    """The URL to type into the phone: a wildcard address is no use to it."""
    host, port = server.server_address[:2]
    return f"http://<this computer's address>:{port}/" if host in ("0.0.0.0", "::") else server.url


__all__ = ["gateway", "hub_port"]
