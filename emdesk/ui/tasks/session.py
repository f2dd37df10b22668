"""One task runner per signed-in session, and the end of a session.

Screens find their session's runner from the context they were given, so a window, a
workspace or a dialog built on its own (tests, screenshots) still shares it.
"""
from __future__ import annotations

import logging
from typing import Any

from .runner import SHUTDOWN_S, TaskRunner

log = logging.getLogger(__name__)
_runners: dict[int, tuple[Any, TaskRunner]] = {}


def runner_for(ctx: Any) -> TaskRunner:
    """The runner of ``ctx``'s session, made on first use."""
    entry = _runners.get(id(ctx))
    if entry is None or entry[0] is not ctx:
        entry = (ctx, TaskRunner(name=f"emdesk-{len(_runners) + 1}"))
        _runners[id(ctx)] = entry
    return entry[1]


def live_runners() -> list[TaskRunner]:
    return [runner for _, runner in _runners.values()]


def end_session(ctx: Any, timeout: float = SHUTDOWN_S, *, close: bool = True) -> bool:
    """Cancel and wait for all of the session's work (bounded), then close its store.

    If work outlives the bound, the store is closed when that work returns, never under it.
    Returns whether everything had stopped in time.
    """
    entry = _runners.pop(id(ctx), None)
    stopped = entry[1].shutdown(timeout) if entry is not None else True
    if close and ctx is not None and hasattr(ctx, "close"):
        if stopped:
            ctx.close()
        else:
            log.warning("closing the store once the last background work returns")
            entry[1].when_idle(ctx.close)
    return stopped
