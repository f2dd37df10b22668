"""``TrailMap``: the selected wearer's trail on the map, live, with replay controls.

The trail is read and its page written on the store lane (a week is thousands of
fixes); only loading the page happens on the GUI thread.  While the map is shown it asks
the service for fixes newer than the last it holds every few seconds and appends them
to the page (``emdesk.trail.addFixes``) without reloading it.  Replay runs in the page;
the slider follows it while it plays and seeks it when dragged.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Callable, Sequence

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout,
                               QWidget)

from emdesk.domain.clock import LONDON
from emdesk.domain.trails import Fix

from ..tasks import STORE, TaskError, runner_for
from .trail_page import fixes_script, render_trail
from .view import MapView

_DRAWN = "emdesk:trail:drawn#"
SPEEDS = (1, 10, 60, 600)
POLL_MS = 3_000
WINDOWS = (("24 hours", timedelta(hours=24)), ("7 days", timedelta(days=7)), ("Incident period", None))
_INCIDENT_MARGIN = timedelta(hours=1)      # some of the way there and back around the incident


def _clock(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, timezone.utc).astimezone(LONDON).strftime("%a %d %b %H:%M:%S")


def _short(at_ms: int) -> str:
    """The replay's time beside the slider: the weekday is enough within a week's window."""
    return datetime.fromtimestamp(at_ms / 1000, timezone.utc).astimezone(LONDON).strftime("%a %H:%M:%S")


class TrailMap(QWidget):
    loaded = Signal(bool)          # the trail is drawn (True) or could not be (False)
    failed = Signal(str)           # why a trail could not be shown, in words

    def __init__(self, ctx, parent: QWidget | None = None, *, poll_ms: int = POLL_MS):
        super().__init__(parent)
        self.setObjectName("trailMap")
        self.ctx = ctx
        self.view = MapView(self)
        self.order_id: str | None = None
        self.start: datetime | None = None
        self.end: datetime | None = None
        self.highlight: tuple[datetime, datetime] | None = None
        self.trail = None                      # the Trail drawn (services.trails.Trail)
        self._anchor: datetime | None = None   # the end the window choices count back from
        self.last_ms: int | None = None       # the newest fix the page holds
        self.drawn = False
        self._generation = 0
        self._polling = False
        self._render_task = None
        self._pending: list[Fix] = []          # fixes that came while the page was loading

        self.play = QPushButton("Play", objectName="trailPlay", checkable=True)
        self.play.setToolTip("Replay the trail (Space, while the map has the focus)")
        # Only while the map has the focus: Space elsewhere in the window is not ours (the queue's).
        QShortcut(QKeySequence(Qt.Key.Key_Space), self, self.play.toggle,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.slider = QSlider(Qt.Orientation.Horizontal, objectName="trailSlider")
        self.slider.setAccessibleName("Replay time")
        self.slider.setEnabled(False)
        self.when = QLabel("", objectName="trailTime")
        self.speed = QComboBox(objectName="trailSpeed")
        self.speed.setAccessibleName("Replay speed")
        for s in SPEEDS:
            self.speed.addItem(f"{s}x", s)
        self.speed.setCurrentIndex(2)
        self.follow = QCheckBox("Follow", objectName="trailFollow")
        self.follow.setToolTip("Keep the wearer in view as the marker moves")
        self.window = QComboBox(objectName="trailWindow")
        self.window.setAccessibleName("Trail window")
        for label, _span in WINDOWS:
            self.window.addItem(label)
        self.window.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.window.setMinimumContentsLength(8)
        self.window.view().setMinimumWidth(180)
        self.status = QLabel("", objectName="trailStatus")
        # A long line wraps rather than widen the map past a laptop's screen.
        self.status.setWordWrap(True)

        controls = QHBoxLayout()
        controls.setContentsMargins(6, 4, 6, 4)
        controls.setSpacing(8)
        speed_label = QLabel("Spee&d")
        speed_label.setBuddy(self.speed)
        window_label = QLabel("Sho&w")
        window_label.setBuddy(self.window)
        # Two rows: the time slider gets the width of the map, the settings go below it.
        for w in (self.play, self.slider, self.when):
            controls.addWidget(w, 1 if w is self.slider else 0)
        settings = QHBoxLayout()
        settings.setContentsMargins(6, 0, 6, 4)
        settings.setSpacing(8)
        for w in (speed_label, self.speed, self.follow, window_label, self.window):
            settings.addWidget(w)
        settings.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.view, 1)
        layout.addLayout(controls)
        layout.addLayout(settings)
        self.status.setContentsMargins(8, 0, 8, 4)
        layout.addWidget(self.status)

        self._poll = QTimer(self, interval=poll_ms)
        self._poll.timeout.connect(self.poll)
        self._follow_replay = QTimer(self, interval=250)
        self._follow_replay.timeout.connect(self._sync_slider)

        self.view.web.titleChanged.connect(self._title)
        self.view.page_loaded.connect(self._page_loaded)
        self.play.toggled.connect(self._play)
        self.slider.sliderMoved.connect(self._seek)
        self.speed.currentIndexChanged.connect(self._speed)
        self.follow.toggled.connect(lambda on: self.js(f"emdesk.trail.follow({json.dumps(on)})"))
        self.window.activated.connect(self._window)

    # -- showing an order --------------------------------------------------------

    def show_order(self, order_id: str, start: datetime, end: datetime,
                   highlight: tuple[datetime, datetime | None] | None = None) -> None:
        """Read and draw ``order_id``'s trail from ``start`` to ``end`` (aware datetimes),
        the incident period ``highlight`` standing out; ``loaded`` says when it is drawn."""
        self._anchor = end
        span = end - start
        for i, (_label, length) in enumerate(WINDOWS):
            if length == span:
                self.window.setCurrentIndex(i)
        self._load(order_id, start, end, highlight)

    def _load(self, order_id: str, start: datetime, end: datetime,
              highlight: tuple[datetime, datetime] | None) -> None:
        self.order_id, self.start, self.end, self.highlight = order_id, start, end, highlight
        self._generation += 1
        generation = self._generation
        self.drawn = False
        self._pending = []
        self.play.setChecked(False)
        self.window.model().item(2).setEnabled(highlight is not None)
        self.status.setText("Loading the trail…")
        trails, tiles, folder = self.ctx.trails, self.view.tiles, self.view.folder

        def work():
            trail = trails.trail(order_id, start, end)
            return generation, trail, render_trail(trail, tiles=tiles, folder=folder, highlight=highlight)

        # Bound methods, never closures over self: Qt drops them if this widget goes first.
        self._render_task = runner_for(self.ctx).run(work, lane=STORE, name="trail map", on_done=self._on_rendered,
                                                     on_error=self._on_render_failed)

    @Slot(object)
    def _on_rendered(self, result) -> None:
        self._rendered(*result)

    @Slot(object)
    def _on_render_failed(self, error: TaskError) -> None:
        if self.sender() is self._render_task:
            self._failed(self._generation, error)

    def _rendered(self, generation: int, trail, page) -> None:
        if generation != self._generation:
            return                             # a newer show_order is on its way
        self.trail = trail
        self.last_ms = trail.last_ms
        lo, hi = trail.start_ms, max(trail.end_ms, trail.last_ms or trail.end_ms)
        self.slider.setRange(0, (hi - lo) // 1000)
        self.slider.setValue(((trail.last_ms or lo) - lo) // 1000)
        self.slider.setEnabled(len(trail) > 0)
        self.play.setEnabled(len(trail) > 0)
        self.when.setText(_short(trail.last_ms) if trail.last_ms else "")
        reference = trail.reference or trail.order_id
        self.status.setText(f"{reference}: {len(trail)} fixes, {len(trail.kept)} drawn, {len(trail.stops)} stops, "
                            f"{len(trail.incidents)} incidents, {_clock(trail.start_ms)} to {_clock(trail.end_ms)}"
                            if len(trail) else f"{reference}: no fixes in this window")
        if not self.view.show_page(page):
            self.loaded.emit(False)

    def _failed(self, generation: int, error: TaskError) -> None:
        if generation != self._generation:
            return
        self.status.setText(error.sentence)
        self.view.show_message(error.sentence)
        self.failed.emit(error.sentence)
        self.loaded.emit(False)

    @Slot(bool)
    def _page_loaded(self, ok: bool) -> None:
        if not ok:
            self.loaded.emit(False)
            return
        generation = self._generation

        def check(drawn):
            # The page draws before it finishes loading: not drawn now is a script error.
            if not drawn and not self.drawn and generation == self._generation:
                self.status.setText("The trail could not be drawn: the map page's script failed; "
                                    "report it to IT with the time it happened.")
                self.loaded.emit(False)
        self.view.run_js("!!(window.emdesk && emdesk.trail && emdesk.trail.drawn)", check)

    @Slot(str)
    def _title(self, title: str) -> None:
        if title.startswith(_DRAWN) and not self.drawn:
            self.drawn = True
            if self.follow.isChecked():
                self.js("emdesk.trail.follow(true)")
            if self._pending:
                self.push_fixes(self._pending)
                self._pending = []
            self._poll.start()
            self.loaded.emit(True)

    # -- live fixes --------------------------------------------------------------

    def push_fixes(self, fixes: Sequence[Fix]) -> None:
        """Append ``fixes`` (oldest first) to the page without reloading it."""
        fixes = [f for f in fixes if self.last_ms is None or f.at_ms > self.last_ms]
        if not fixes:
            return
        if not self.drawn:
            self._pending.extend(fixes)
            return
        self.last_ms = fixes[-1].at_ms
        if self.trail is not None and self.last_ms - self.trail.start_ms > self.slider.maximum() * 1000:
            self.slider.setMaximum((self.last_ms - self.trail.start_ms) // 1000)
        if not self.play.isChecked():
            self.slider.setValue((self.last_ms - self.trail.start_ms) // 1000)
            self.when.setText(_short(self.last_ms))
        self.js(fixes_script(fixes))

    @Slot()
    def poll(self) -> None:
        """Ask for fixes newer than the page's newest (on the store lane), and push them."""
        if not self.drawn or self._polling or self.order_id is None or not self.isVisible():
            return
        self._polling = True
        generation, trails, order_id = self._generation, self.ctx.trails, self.order_id
        after = self.last_ms if self.last_ms is not None else self.trail.start_ms
        runner_for(self.ctx).run(lambda: (generation, trails.since(order_id, after)), lane=STORE, name="trail live",
                                 on_done=self._polled, on_error=self._poll_failed)

    @Slot(object)
    def _polled(self, result) -> None:
        self._polling = False
        generation, fixes = result
        if generation == self._generation:
            self.push_fixes(fixes)

    @Slot(object)
    def _poll_failed(self, error: TaskError) -> None:
        self._polling = False
        self.status.setText(error.sentence)

    # -- replay ------------------------------------------------------------------

    def js(self, script: str, callback: Callable | None = None) -> None:
        if self.drawn:
            self.view.run_js(script, callback or (lambda _result: None))

    def state(self, callback: Callable[[dict], None]) -> None:
        """The page's ``emdesk.trail.state()`` as a dict, to ``callback``."""
        self.view.run_js("JSON.stringify(window.emdesk && emdesk.trail ? emdesk.trail.state() : null)",
                         lambda text: callback(json.loads(text) if text else None))

    @Slot(bool)
    def _play(self, on: bool) -> None:
        self.play.setText("Pause" if on else "Play")
        if on:
            self._seek(self.slider.value())
            self.js(f"emdesk.trail.replay.start({self.speed.currentData()})")
            self._follow_replay.start()
        else:
            self.js("emdesk.trail.replay.pause()")
            self._follow_replay.stop()

    def seek(self, at_ms: int) -> None:
        if self.trail is None:
            return
        self.slider.setValue((at_ms - self.trail.start_ms) // 1000)
        self._seek(self.slider.value())

    @Slot(int)
    def _seek(self, value: int) -> None:
        if self.trail is None:
            return
        at = self.trail.start_ms + value * 1000
        self.when.setText(_short(at))
        self.js(f"emdesk.trail.replay.seek({at})")

    @Slot(int)
    def _speed(self, _index: int) -> None:
        self.js(f"emdesk.trail.replay.setSpeed({self.speed.currentData()})")

    @Slot()
    def _sync_slider(self) -> None:
        def got(state):
            if not state or self.trail is None:
                return
            if state.get("t") is not None and not self.slider.isSliderDown():
                self.slider.setValue(int((state["t"] - self.trail.start_ms) // 1000))
                self.when.setText(_short(int(state["t"])))
            if not state.get("playing") and self.play.isChecked():
                self.play.setChecked(False)         # it reached the end
        if self.drawn:
            self.state(got)

    @Slot(int)
    def _window(self, index: int) -> None:
        if self.order_id is None or self._anchor is None:
            return
        span = WINDOWS[index][1]
        if span is not None:
            self._load(self.order_id, self._anchor - span, self._anchor, self.highlight)
        elif self.highlight is not None:
            lo, hi = self.highlight
            end = hi + _INCIDENT_MARGIN if hi is not None else self._anchor     # still going: to now
            self._load(self.order_id, lo - _INCIDENT_MARGIN, end, self.highlight)

    def hideEvent(self, event) -> None:     # noqa: N802 (Qt's name)
        self._poll.stop()
        self._follow_replay.stop()
        super().hideEvent(event)

    def showEvent(self, event) -> None:     # noqa: N802 (Qt's name)
        super().showEvent(event)
        if self.drawn:
            self._poll.start()
