"""``emdesk nmea ...`` -- NMEA capture tools.

    emdesk nmea decode FILE

prints one JSON object per fix epoch on stdout (``time``, ``lat``, ``lon``, ``mode``
and, where known, ``hdop``, ``speed`` in m/s and ``sats``) and a one-line summary on
stderr.  Malformed sentences are skipped and counted; exit status 0.  An unreadable
file is exit status 2.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from . import SentenceDecoder, decode_stream, fix_to_json, read_lines

__all__ = ["main"]

EXIT_OK = 0
EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="emdesk nmea",
                                     description="NMEA 0183 capture tools.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    decode = commands.add_parser(
        "decode", help="print one JSON fix per epoch (gpsd-compatible epochs)")
    decode.add_argument("file", metavar="FILE", help="NMEA capture (text, one sentence a line)")
    return parser


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None,
         stderr: TextIO | None = None) -> int:
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    parser = _parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # argparse has already printed the usage message
        return int(exc.code or 0)
    if args.command == "decode":
        return _decode(args.file, stdout, stderr)
    return EXIT_USAGE  # pragma: no cover - argparse rejects unknown commands


def _decode(path: str, stdout: TextIO, stderr: TextIO) -> int:
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below; read as a stream
    except OSError as exc:
        return _unreadable(path, exc, stderr)
    decoder = SentenceDecoder()
    fixes = 0
    write = stdout.write
    dumps = json.dumps
    try:
        with fh:
            for fix in decode_stream(read_lines(fh), decoder):
                write(dumps(fix_to_json(fix), separators=(",", ":")) + "\n")
                fixes += 1
        stdout.flush()
    except BrokenPipeError:  # e.g. piped into `head`: stop quietly
        if stdout is sys.stdout:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except OSError as exc:   # e.g. a directory, or the disk failing half way
        return _unreadable(path, exc, stderr)
    print(f"{fixes} fixes, {decoder.malformed_count} malformed sentences skipped",
          file=stderr)
    return EXIT_OK


def _unreadable(path: str, exc: OSError, stderr: TextIO) -> int:
    reason = exc.strerror or exc.__class__.__name__
    print(f"emdesk nmea decode: cannot read {path}: {reason}", file=stderr)
    return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
