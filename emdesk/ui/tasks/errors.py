"""Failures of background work, worded for the person at the keyboard.

Every failure reaches the user as one sentence: what happened, then what to do.  Errors
the lower layers already word that way (device errors carry ``what`` and ``action``;
service and store errors are written for the user) keep their words; anything else is
a fault in the software, and says so.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TaskError:
    what: str                               # what happened
    action: str                             # what to do about it
    exception: BaseException | None = None  # the original, for logs and tests
    retryable: bool = True

    @property
    def sentence(self) -> str:
        text = f"{self.what}: {self.action}" if self.action else self.what
        text = text.strip().rstrip(".")
        return text[:1].upper() + text[1:] + "."

    def __str__(self) -> str:
        return self.sentence


REPORT = "try again; if it happens again, report it to IT with the time it happened"


def _says_what_to_do(text: str) -> bool:
    # "what: action", "what; action" or two sentences: already worded with the remedy.
    return any(mark in text.rstrip(".") for mark in (": ", "; ", ". "))


def _module(exc: BaseException) -> str:
    return type(exc).__module__ or ""


def explain(exc: BaseException) -> TaskError:
    """The sentence for ``exc`` (never a bare exception message)."""
    if isinstance(exc, TaskError):
        return exc
    what = str(exc).strip()
    action = getattr(exc, "action", None)
    if isinstance(action, str) and hasattr(exc, "what"):           # devices: "what: action"
        return TaskError(str(exc.what), action, exc, bool(getattr(exc, "retryable", True)))
    name = type(exc).__name__
    module = _module(exc)
    if module.startswith("emdesk.services"):
        if name == "AccessDenied":
            return TaskError(what or "your account may not do this", "ask your supervisor if you need it", exc,
                             retryable=False)
        # Service errors are already written for the user; most say what to do.
        return TaskError(what or "the request was refused",
                         "" if _says_what_to_do(what) else "check the details and try again", exc)
    if module.startswith("emdesk.store"):
        return TaskError(what or "the local store could not be used",
                         "" if _says_what_to_do(what) else "sign out and in again; if it persists, ask IT", exc)
    if module.startswith("emdesk.sync"):
        return TaskError(what or "sync failed", "you can keep working offline; sync will try again", exc)
    if "closed database" in what:
        return TaskError("the session was closing while this ran", "sign in again and repeat it", exc)
    if "database is locked" in what or "busy" in what.lower() and "database" in what.lower():
        return TaskError("the local store is busy", "wait a moment and try again", exc)
    if isinstance(exc, TimeoutError):
        return TaskError("this took too long and was stopped", "try again", exc)
    if isinstance(exc, OSError):
        return TaskError(f"the computer refused an operation ({what or name})",
                         "check the file, cable or network it needs and try again", exc)
    detail = f"{name}: {what}" if what else name
    return TaskError(f"something went wrong in emdesk ({detail})", REPORT, exc)
