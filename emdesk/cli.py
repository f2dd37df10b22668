"""The ``emdesk`` command: the app, the demo world, order import, audit checks.

Command names, flags and output formats here are a contract others script against.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from emdesk.app.roles import NAMES, ROLES, role_named
from emdesk.domain.orders import OrderStatus
from emdesk.prompts import password

# Options that may stand anywhere on the line (``emdesk sync --db F --user U`` and
# ``emdesk --user U --db F sync`` mean the same): they are moved in front of the command.
GLOBAL_OPTIONS = ("--db", "--user", "--screenshot", "--as")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="emdesk", description="Electronic monitoring desktop.")
    p.add_argument("--db", type=Path, help="store file (default: the user data directory)")
    p.add_argument("--screenshot", type=Path, metavar="PATH", help="render a workspace to PNG and exit")
    p.add_argument("--as", dest="role", type=_workspace_role, metavar="ROLE",
                   help=f"role whose workspace --screenshot renders: {', '.join(sorted(ROLES))}")
    p.add_argument("--user", help="account to act as (default: first account with the role, plain stores only)")
    sub = p.add_subparsers(dest="command")

    d = sub.add_parser("demo", help="build the seeded demo world in a fresh store and open the app on it")
    d.add_argument("--seed", type=int, default=2026)
    d.add_argument("--subjects", type=int, default=300)
    d.add_argument("--replace", action="store_true",
                   help="replace the store at --db (it is kept beside it as a .bak copy)")
    d.add_argument("--pace", type=_pace, default=60.0, metavar="PACE",
                   help="how fast the live fleet's day runs: 60x (default: a simulated minute a second), "
                        "600x, realtime, or a factor such as 120x")
    d.add_argument("--no-live", dest="live", action="store_false",
                   help="no live fleet: the demo world as built, nothing moving")

    i = sub.add_parser("init", help="create a new store with its first administrator")
    i.add_argument("--admin", default="admin", help="administrator's username")
    i.add_argument("--plain", action="store_true", help="do NOT encrypt the store (tests and demos only)")

    o = sub.add_parser("orders", help="order intake")
    osub = o.add_subparsers(dest="orders_command", required=True)
    imp = osub.add_parser("import", help="validate and import orders from a JSON or CSV file")
    imp.add_argument("file", type=Path)
    imp.add_argument("--json", action="store_true", help="print the report as JSON")
    ol = osub.add_parser("list", help="the orders being watched: conditions, zones, fitted devices")
    ol.add_argument("--status", choices=[s.value for s in OrderStatus], help="only orders with this status")
    ol.add_argument("--region", help="only orders of this region")
    ol.add_argument("--json", action="store_true", help="print the orders as JSON")

    ing = sub.add_parser("ingest", help="store device telemetry (one JSON event per line) and run the monitoring "
                                        "engine over it")
    ing.add_argument("file", metavar="FILE|-", help="telemetry file, or - for standard input")
    ing.add_argument("--store", metavar="URL", help="ingest into a hub (postgresql://... or a hub file) "
                                                    "instead of a desktop store")
    ing.add_argument("--json", action="store_true", help="print the summary as JSON")

    inc = sub.add_parser("incidents", help="list the monitoring engine's incidents, highest priority first")
    inc.add_argument("--since", metavar="T", help="only incidents that end at or after T (ISO 8601), or are open")
    inc.add_argument("--json", action="store_true", help="print the incidents as JSON")

    a = sub.add_parser("audit", help="the audit trail")
    asub = a.add_subparsers(dest="audit_command", required=True)
    asub.add_parser("verify", help="check the audit log's hash chain (and, on a synced desktop, its anchor "
                                   "on the hub)")

    n = sub.add_parser("nmea", help="NMEA 0183 captures")
    nsub = n.add_subparsers(dest="nmea_command", required=True)
    dec = nsub.add_parser("decode", help="print one JSON fix per epoch, as gpsd would report it")
    dec.add_argument("file")

    for name, text in (("hub", "run or manage the sync hub (emdesk hub --help)"),
                       ("join", "join this desktop to a hub and load your records (emdesk join --help)"),
                       ("sync", "send local changes to the hub and fetch new ones (emdesk sync --help)")):
        sub.add_parser(name, help=text, add_help=False)

    pl = sub.add_parser("plan", help="plan (or re-plan) a day's visits into each field officer's route")
    pl.add_argument("--date", required=True, type=_plan_date, metavar="YYYY-MM-DD", help="the day to plan (UK time)")
    pl.add_argument("--region", help="plan one region only (default: every region)")
    pl.add_argument("--json", action="store_true", help="print the plan as JSON")
    pl.add_argument("--time-limit", type=_seconds, default=10.0, metavar="S",
                    help="seconds the route search may take (default 10)")
    pl.add_argument("--off-duty", action="append", default=[], metavar="USERNAME",
                    help="a field officer not working that day (off sick, on leave); repeat for more")

    m = sub.add_parser("mi", help="the management picture (NAO Figure 5): installs, backlog, unmonitored, breaches, "
                                  "packs, responses, outcomes, recovery",
                       description="Print the management figures for a period (UK days, both ends included; "
                                   "default: since the records begin, to today) and, optionally, one region (a "
                                   "region no order names gives figures over nothing and a note on stderr). Text: "
                                   "one line a figure with value, numerator/denominator and tolerance.")
    m.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="first day of the period (UK)")
    m.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="last day of the period (UK; default today)")
    m.add_argument("--region", help="only this region's orders and what hangs off them")
    m.add_argument("--json", action="store_true", help="print the figures as JSON: a list of objects with key, "
                   "label, value (share 0..1, hours, days, count or ratio by unit; null: nothing to measure), unit, "
                   "numerator, denominator, tolerance (null: none), beyond, note, cases")

    gw = sub.add_parser("gateway", help="take live positions over HTTP from phones running Traccar Client "
                                        "(the OsmAnd protocol)")
    gw.add_argument("--port", required=True, type=_port, metavar="N", help="TCP port to listen on (0: any free one)")
    gw.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 for all)")
    gw.add_argument("--store", metavar="URL", help="the hub's storage (postgresql://...) instead of --db")

    from emdesk.app.pack_verify import DESCRIPTION, HELP
    pk = sub.add_parser("packs", help="breach packs for the responsible agencies")
    pksub = pk.add_subparsers(dest="packs_command", required=True)
    pv = pksub.add_parser("verify", help=HELP, description=DESCRIPTION)
    pv.add_argument("file", type=Path, metavar="FILE", help="a pack's .pdf or .json")
    pb = pksub.add_parser("build", help="build (or rebuild) the pack of an escalated incident: writes "
                                        "<order reference>-pack-v<N>.pdf and .json and prints their paths")
    pb.add_argument("incident_id", metavar="INCIDENT_ID", help="the incident's id (`emdesk incidents` lists them)")
    pb.add_argument("--out", type=Path, default=Path("."), metavar="DIR",
                    help="directory to write the files to (default: the current directory)")

    u = sub.add_parser("users", help="local accounts")
    usub = u.add_subparsers(dest="users_command", required=True)
    add = usub.add_parser("add", help="add an account")
    add.add_argument("username")
    add.add_argument("--name", required=True, help="display name")
    add.add_argument("--role", required=True, type=_any_role, metavar="ROLE", help=", ".join(NAMES))
    add.add_argument("--region", default="")
    return p


def _any_role(text: str):
    try:
        return role_named(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _plan_date(text: str):
    from datetime import date
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-12-03 (YYYY-MM-DD)") from None


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"{text!r}: give seconds between 0 and 3600, e.g. 10")
    return value


def _pace(text: str) -> float:
    from emdesk.services.live_feed import parse_pace
    try:
        return parse_pace(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r}: give a port number 0..65535, e.g. 5055")
    return int(text)


def _workspace_role(text: str) -> str:
    role = _any_role(text)
    name = next((n for n, value in ROLES.items() if value == role.value), None)
    if name is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no workspace to show: choose {', '.join(sorted(ROLES))}")
    return name


SYNC_COMMANDS = ("hub", "join", "sync")
COMMANDS = ("demo", "init", "orders", "audit", "nmea", "plan", "gateway", "users", "ingest", "incidents", "packs",
            "mi",
            *SYNC_COMMANDS)


def hoist(argv: list[str]) -> tuple[list[str], list[str]]:
    """(global options, the rest): ``--db``, ``--user``, ``--screenshot`` and ``--as`` taken
    from wherever they stand, as ``--opt value`` or ``--opt=value``."""
    front, rest, i = [], [], 0
    while i < len(argv):
        arg = argv[i]
        name = arg.split("=", 1)[0]
        if arg == "--":
            rest += argv[i:]
            break
        if name in GLOBAL_OPTIONS:
            if "=" in arg:
                front.append(arg)
            elif i + 1 < len(argv):
                front += [arg, argv[i + 1]]
                i += 1
            else:
                front.append(arg)        # argparse says what is missing
        else:
            rest.append(arg)
        i += 1
    return front, rest


def _sync_argv(command: str, front: list[str], rest: list[str]) -> list[str]:
    """Global options handed to the sync commands' own parsers (``hub`` takes --store, not --db)."""
    if command == "hub":
        if front:
            raise SystemExit(f"emdesk: hub commands take --store, not {front[0].split('=')[0]}: "
                             "see `emdesk hub --help`")
        return rest
    return rest + front


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    front, rest = hoist(argv)
    command = next((a for a in rest if not a.startswith("-")), None)
    if command in SYNC_COMMANDS and rest and rest[0] == command:
        # Sync commands have their own parsers (emdesk/sync/cli.py).
        from emdesk.app import commands
        return commands.sync_command(command, _sync_argv(command, front, rest[1:]))
    args = _parser().parse_args(front + rest)
    from emdesk.app import commands
    from emdesk.app.errors import CommandError

    try:
        if args.command == "demo":
            return commands.demo(args)
        if args.command == "init":
            return commands.init(args, password)
        if args.command == "orders":
            if args.orders_command == "list":
                from emdesk.app.monitor_commands import orders_list
                return orders_list(args, password)
            return commands.import_orders(args, password)
        if args.command == "ingest":
            from emdesk.app.monitor_commands import ingest
            return ingest(args, password)
        if args.command == "incidents":
            from emdesk.app.monitor_commands import incidents
            return incidents(args, password)
        if args.command == "packs" and args.packs_command == "build":
            from emdesk.app.pack_commands import packs_build
            return packs_build(args, password)
        if args.command == "audit":
            return commands.audit_verify(args, password)
        if args.command == "nmea":
            from emdesk.devices.nmea.cli import main as nmea_main
            return nmea_main([args.nmea_command, args.file])
        if args.command == "plan":
            from emdesk.app.plan_command import plan
            return plan(args, password)
        if args.command == "mi":
            from emdesk.app.mi_command import mi
            return mi(args, password)
        if args.command == "gateway":
            from emdesk.app.gateway_command import gateway
            return gateway(args, password)
        if args.command == "users":
            return commands.add_user(args, password)
        if args.command == "packs" and args.packs_command == "verify":
            from emdesk.app.pack_verify import verify
            return verify(args, password)
        return commands.run_app(args, password)
    except CommandError as exc:
        print(f"emdesk: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # Output piped into `head` and the like: stop quietly, as command-line tools do.
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    raise SystemExit(main())
