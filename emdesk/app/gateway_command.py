"""``emdesk gateway``: take live positions from phones running Traccar Client, over HTTP.

``--db`` (a desktop or monitoring store; an encrypted one as ``--user``, after the password)
or ``--store`` (the hub's storage, ``postgresql://...``).  Runs until Ctrl-C or SIGTERM.
"""
from __future__ import annotations

import logging
import sys

from emdesk import logs
from emdesk.domain.engine.gps_rules import ACCURACY_PER_HDOP_M
from emdesk.domain.engine.watch import Settings
from emdesk.gateway.server import Gateway, make_server, serve_until_stopped

from .errors import CommandError
from .monitor_commands import _port as telemetry_port
from .wiring import Prompt, make_clock

_LOOPBACK = ("127.0.0.1", "localhost", "::1")
POOR_M = Settings().hdop_max * ACCURACY_PER_HDOP_M      # a phone's accuracy beyond this is a poor fix


def gateway(args, prompt: Prompt) -> int:
    make_clock()                     # a bad EMDESK_NOW is said before anything opens
    # The same port ``emdesk ingest`` feeds: the store's, or (--store) the hub's, imported
    # only when asked for (emdesk.sync.hub.telemetry.open_hub_port).
    opened = telemetry_port(args, prompt)
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
              "to the device's serial as recorded here (a non-fitted device, or the protected person's phone); "
              f"set Location accuracy to High (a fix reported worse than {POOR_M:.0f} m counts as poor GPS).", flush=True)
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


__all__ = ["gateway"]
