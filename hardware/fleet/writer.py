"""The two output files, written at once (atomically) or paced as simulated time passes."""
from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

TELEMETRY = "telemetry.jsonl"
LABELS = "labels.jsonl"
PACES = {"realtime": 1.0, "60x": 60.0}


def iso(ms: int) -> str:
    """``2026-12-01T21:03:00.000Z`` from epoch milliseconds."""
    s, frac = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s)) + f".{frac:03d}Z"


def encode(line: dict) -> str:
    return json.dumps(line) + "\n"


def write_atomic(path: Path, lines: Iterable[str]) -> None:
    """All lines or nothing: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.writelines(lines)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_paced(out: Path, telemetry: list[tuple[int, dict]], labels: list[tuple[int, dict]], factor: float, *,
                start_ms: int, until_ms: int | None = None, clock: Callable[[], float] = time.monotonic,
                sleep: Callable[[float], None] = time.sleep) -> None:
    """Append lines as simulated time reaches them: ``factor`` simulated seconds a second,
    from ``start_ms``; a label is written once its end has passed.  Lines due before
    ``start_ms`` go out at once; nothing due after ``until_ms`` is written."""
    if factor <= 0:
        raise ValueError(f"pace: {factor} is not a speed; give a positive factor (1 = real time)")
    out.mkdir(parents=True, exist_ok=True)
    queues = [(telemetry, open(out / TELEMETRY, "w", encoding="utf-8", newline="\n")),
              (labels, open(out / LABELS, "w", encoding="utf-8", newline="\n"))]
    heads = [0, 0]
    wall0 = clock()
    try:
        while True:
            now = start_ms + (clock() - wall0) * factor * 1000
            if until_ms is not None:
                now = min(now, until_ms)
            due_next = []
            for q, (items, f) in enumerate(queues):
                i = heads[q]
                while i < len(items) and items[i][0] <= now:
                    i += 1
                if i != heads[q]:
                    # One write of whole lines, then flush: a tail sees lines, not fragments.
                    f.write("".join(encode(line) for _, line in items[heads[q]:i]))
                    f.flush()
                heads[q] = i
                if i < len(items) and (until_ms is None or items[i][0] <= until_ms):
                    due_next.append(items[i][0])
            if not due_next:
                break
            sleep(min(1.0, max(0.001, (min(due_next) - now) / factor / 1000)))
    finally:
        for _, f in queues:
            f.close()
