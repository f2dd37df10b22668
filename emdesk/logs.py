"""Where the desktop and the hub write what went wrong: a rotating file per program under the
platform's log directory, every unexpected exception with its traceback.

Logs carry no personal data at INFO or below: record ids, counts, codes and reasons, never
names, addresses or notes (a line that needs a person says which record, by id).
"""
from __future__ import annotations

import logging
import logging.handlers
import sys
import threading
from pathlib import Path

from platformdirs import user_log_path

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"
MAX_BYTES = 2_000_000
BACKUPS = 5


def log_dir() -> Path:
    return user_log_path("emdesk", "emdesk")


def setup(program: str, *, directory: Path | None = None, level: int = logging.INFO) -> Path:
    """Log ``program`` ("desktop", "hub") to ``<log dir>/<program>.log`` (rotated at 2 MB, five
    kept), and log every uncaught exception, in any thread, with its traceback.  Returns the file."""
    directory = directory or log_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{program}.log"
    root = logging.getLogger()
    if not any(getattr(h, "baseFilename", None) == str(path) for h in root.handlers):
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS,
                                                       encoding="utf-8")
        handler.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(handler)
    root.setLevel(min(root.level or level, level) if root.handlers else level)
    log = logging.getLogger(f"emdesk.{program}")
    previous = sys.excepthook

    def on_uncaught(kind, value, tb):
        if not issubclass(kind, KeyboardInterrupt):
            log.critical("unexpected error", exc_info=(kind, value, tb))
        previous(kind, value, tb)

    def on_thread(args: threading.ExceptHookArgs) -> None:
        if not issubclass(args.exc_type, SystemExit):
            log.critical("unexpected error in thread %s", getattr(args.thread, "name", "?"),
                         exc_info=(args.exc_type, args.exc_value, args.exc_traceback))

    sys.excepthook = on_uncaught
    threading.excepthook = on_thread
    return path
