"""Python's cycle collector, run on the GUI thread only.

The automatic collector runs in whichever thread happens to allocate past its threshold.
Work on the lanes allocates a lot (Today renders its map page on one), so a cycle holding
a Qt wrapper from the GUI thread (a closed dialog, a lambda that captured a widget) can be
freed on a worker thread, where deleting a Qt object crashes the process (the full test
run did, in folium's rendering).  So while the application runs the automatic collector
is off, and a timer on the GUI thread collects each generation once it is due, as the
automatic one would.
"""
from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 200


class GuiThreadCollector(QObject):
    def __init__(self, parent: QObject, interval_ms: int = INTERVAL_MS):
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        gc.disable()
        self.timer = QTimer(self, interval=interval_ms, timeout=self.collect_due)
        self.timer.start()

    def collect_due(self) -> None:
        """Collect the generations past their thresholds (the automatic collector's rule)."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        for generation in (2, 1, 0):
            if counts[generation] > thresholds[generation]:
                gc.collect(generation)
                return

    def stop(self) -> None:
        """Back to the automatic collector (tests end with this; the app never stops it)."""
        self.timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()


def collect_on_gui_thread(app: QObject) -> GuiThreadCollector:
    """Install (once) the GUI-thread collector on the application."""
    found = app.findChild(GuiThreadCollector)
    return found if found is not None else GuiThreadCollector(app)


def stop_collecting(app: QObject) -> None:
    """At the end (the application about to quit): every cycle collected while Qt still
    lives, and the automatic collector back.  Left to the interpreter's last collection,
    cycles holding Qt wrappers are freed after Qt has gone, which crashes the process."""
    for collector in app.findChildren(GuiThreadCollector):
        collector.stop()
    gc.collect()


__all__ = ["GuiThreadCollector", "collect_on_gui_thread", "stop_collecting"]
