"""Qt fixtures for the overview's widgets: the app's look, widgets deleted after each
test (a QtWebEngine page alive at exit crashes the process), no session work left."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QCoreApplication, QEvent


@pytest.fixture
def styled_app(qapp):
    from emdesk.ui.qt_app import apply_look
    apply_look(qapp)
    return qapp


@pytest.fixture
def widgets_deleted(qapp):
    yield
    qapp.processEvents()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture
def session(styled_app, widgets_deleted):
    """``session(ctx)`` remembers a context; its task runner is shut down after the test."""
    from emdesk.ui.tasks import end_session

    made = []
    yield made.append
    for ctx in made:
        assert end_session(ctx, close=False), "the session's work did not stop in time"
