"""``python -m hardware.fleet --db PATH --day YYYY-MM-DD --out DIR [--seed N] [--wearers N] [--pace max|realtime|60x]``"""
from __future__ import annotations

import argparse
import sys
from datetime import date

from emdesk.store import StoreError

from . import run


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; give YYYY-MM-DD, e.g. 2026-12-01") from None


def _count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number of wearers, 1 or more")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m hardware.fleet",
                                description="Simulate a day of telemetry from every fitted wearer in a store, "
                                            "with labels saying which episodes are violations and which noise.")
    p.add_argument("--db", required=True, help="the emdesk store (plain) to read orders and kit from")
    p.add_argument("--day", required=True, type=_day, help="the violation period: 07:00 that day to 07:00 the next")
    p.add_argument("--out", required=True, help="directory for telemetry.jsonl and labels.jsonl")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--wearers", type=_count, default=None, help="simulate only this many wearers")
    p.add_argument("--pace", choices=("max", "realtime", "60x"), default="max",
                   help="max: write both files at once; realtime/60x: append as simulated time passes")
    args = p.parse_args(argv)
    try:
        summary = run(args.db, args.day, args.out, seed=args.seed, wearers=args.wearers, pace=args.pace)
    except StoreError as exc:
        print(f"--db: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
