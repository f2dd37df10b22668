"""An unexpected failure, shown with what to do and the details IT will ask for.

Errors the software foresaw are said in one sentence where they happen; a fault in the
software (``TaskError.action == REPORT``) also opens this box, whose "Copy details" puts
the sentence, the time and the traceback on the clipboard for the report (the same
traceback is in the desktop's log file).
"""
from __future__ import annotations

import traceback
from datetime import datetime, timezone

from PySide6.QtWidgets import QApplication, QMessageBox

from .tasks.errors import REPORT, TaskError


def unexpected(error: TaskError) -> bool:
    return error.action == REPORT


def details_text(error: TaskError) -> str:
    when = datetime.now(timezone.utc).isoformat(timespec="seconds")
    trace = "".join(traceback.format_exception(error.exception)) if error.exception else "(no traceback)"
    return f"{error.sentence}\nat {when}\n\n{trace}"


def offer_details(error: TaskError) -> QMessageBox | None:
    """A non-modal box for an unexpected failure (None for a foreseen one)."""
    if not unexpected(error):
        return None
    box = QMessageBox(QMessageBox.Icon.Warning, "Something went wrong", error.sentence,
                      QMessageBox.StandardButton.Close, QApplication.activeWindow())
    box.setObjectName("errorDetails")
    text = details_text(error)
    box.setDetailedText(text)
    copy = box.addButton("Copy details", QMessageBox.ButtonRole.ActionRole)
    copy.setObjectName("copyDetails")
    copy.setAccessibleName("Copy details")
    # An ActionRole button would close the box; keep it open and copy.
    copy.clicked.disconnect()
    copy.clicked.connect(lambda: QApplication.clipboard().setText(text))
    box.setModal(False)
    # Kept until closed: a box with no window to belong to would otherwise go with its last
    # Python reference.
    _open.add(box)
    box.finished.connect(lambda _=0: _open.discard(box))
    box.show()
    return box


_open: set[QMessageBox] = set()
