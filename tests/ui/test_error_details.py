"""A fault in the software is shown with its details and a button that copies them."""
from __future__ import annotations

from PySide6.QtWidgets import QApplication, QMessageBox

from emdesk.ui.tasks.runner import TaskRunner


def _boom():
    raise RuntimeError("a bug")


def test_an_unexpected_failure_offers_copy_details(qtbot):
    runner = TaskRunner("test")
    try:
        errors = []
        runner.run(_boom, on_error=errors.append)
        qtbot.waitUntil(lambda: bool(errors), timeout=5000)

        def boxes():
            return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)
                    and w.objectName() == "errorDetails" and w.isVisible()]
        # This failure's own box (an earlier test in this process may have left one open).
        def mine():
            return [b for b in boxes() if "RuntimeError: a bug" in b.detailedText()]
        qtbot.waitUntil(lambda: bool(mine()), timeout=5000)
        box = mine()[-1]
        assert "Something went wrong in emdesk" in box.text()
        copy = next(b for b in box.buttons() if b.text() == "Copy details")
        copy.click()
        assert "Traceback" in QApplication.clipboard().text() and box.isVisible()
        box.close()
        box.deleteLater()
    finally:
        runner.shutdown(2.0)


def test_a_foreseen_failure_opens_no_box(qtbot):
    from emdesk.services.errors import ServiceError
    runner = TaskRunner("test")
    try:
        before = {id(w) for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()}
        errors = []

        def refused():
            raise ServiceError("that visit is booked to another officer: only she can record it")
        runner.run(refused, on_error=errors.append)
        qtbot.waitUntil(lambda: bool(errors), timeout=5000)
        qtbot.wait(200)
        after = {id(w) for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()}
        assert after == before
    finally:
        runner.shutdown(2.0)
