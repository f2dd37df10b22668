"""The ``emdesk`` command: the app, the demo world, order import, audit checks.

Command names, flags and output formats here are a contract others script against.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from emdesk.app.roles import ROLES
from emdesk.prompts import password


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="emdesk", description="Electronic monitoring desktop.")
    p.add_argument("--db", type=Path, help="store file (default: the user data directory)")
    p.add_argument("--screenshot", type=Path, metavar="PATH", help="render a workspace to PNG and exit")
    p.add_argument("--as", dest="role", choices=sorted(ROLES), help="role whose workspace --screenshot renders")
    p.add_argument("--user", help="account to act as (default: first account with the role, plain stores only)")
    sub = p.add_subparsers(dest="command")

    d = sub.add_parser("demo", help="build the seeded demo world in a fresh store and open the app on it")
    d.add_argument("--seed", type=int, default=2026)
    d.add_argument("--subjects", type=int, default=300)
    d.add_argument("--db", dest="demo_db", type=Path, help="where to build it (replaced if it exists)")
    d.add_argument("--screenshot", dest="demo_screenshot", type=Path, metavar="PATH")
    d.add_argument("--as", dest="demo_role", choices=sorted(ROLES))

    i = sub.add_parser("init", help="create a new store with its first administrator")
    i.add_argument("--db", dest="init_db", type=Path)
    i.add_argument("--admin", default="admin", help="administrator's username")
    i.add_argument("--plain", action="store_true", help="do NOT encrypt the store (tests and demos only)")

    o = sub.add_parser("orders", help="order intake")
    osub = o.add_subparsers(dest="orders_command", required=True)
    imp = osub.add_parser("import", help="validate and import orders from a JSON or CSV file")
    imp.add_argument("file", type=Path)
    imp.add_argument("--db", dest="sub_db", type=Path)
    imp.add_argument("--json", action="store_true", help="print the report as JSON")

    a = sub.add_parser("audit", help="the audit trail")
    asub = a.add_subparsers(dest="audit_command", required=True)
    ver = asub.add_parser("verify", help="check the audit log's hash chain")
    ver.add_argument("--db", dest="sub_db", type=Path)

    n = sub.add_parser("nmea", help="NMEA 0183 captures")
    nsub = n.add_subparsers(dest="nmea_command", required=True)
    dec = nsub.add_parser("decode", help="print one JSON fix per epoch, as gpsd would report it")
    dec.add_argument("file")

    for name, text in (("hub", "run or manage the sync hub (emdesk hub --help)"),
                       ("join", "join this desktop to a hub and load your records (emdesk join --help)"),
                       ("sync", "send local changes to the hub and fetch new ones (emdesk sync --help)")):
        sub.add_parser(name, help=text, add_help=False)

    u = sub.add_parser("users", help="local accounts")
    usub = u.add_subparsers(dest="users_command", required=True)
    add = usub.add_parser("add", help="add an account")
    add.add_argument("username")
    add.add_argument("--db", dest="sub_db", type=Path)
    add.add_argument("--name", required=True, help="display name")
    add.add_argument("--role", required=True, choices=["field_officer", "technician", "monitoring_operator", "supervisor", "admin"])
    add.add_argument("--region", default="")
    return p


SYNC_COMMANDS = ("hub", "join", "sync")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SYNC_COMMANDS:
        # Sync commands have their own parsers (emdesk/sync/cli.py).
        from emdesk.app import commands
        return commands.sync_command(argv[0], argv[1:])
    args = _parser().parse_args(argv)
    from emdesk.app import commands
    from emdesk.app.errors import CommandError

    try:
        if args.command == "demo":
            return commands.demo(args)
        if args.command == "init":
            return commands.init(args, password)
        if args.command == "orders":
            return commands.import_orders(args, password)
        if args.command == "audit":
            return commands.audit_verify(args, password)
        if args.command == "nmea":
            from emdesk.devices.nmea.cli import main as nmea_main
            return nmea_main([args.nmea_command, args.file])
        if args.command == "users":
            return commands.add_user(args, password)
        return commands.run_app(args, password)
    except CommandError as exc:
        print(f"emdesk: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
