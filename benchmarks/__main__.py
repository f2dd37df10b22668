"""Run every benchmark: ``python -m benchmarks`` (or ``./dev bench``); ``--only NAME`` picks one.

Each benchmark measures its baseline in the same run and prints the ratio against it,
so a slow machine or a busy one moves both sides together.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--only", choices=names, action="append")
    args = parser.parse_args(argv)
    for name in args.only or names:
        print(f"== {name} ==", flush=True)
        module = importlib.import_module(f"benchmarks.{name}")
        module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
