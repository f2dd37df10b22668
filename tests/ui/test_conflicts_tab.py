"""A synced supervisor sees the edits that lost a merge; an unsynced desktop has no such tab."""
import json

from emdesk.domain.users import Role
from emdesk.domain.visits import Visit
from emdesk.services.sync_port import SyncStatus
from emdesk.ui.main_window import MainWindow


class _Port:
    """A sync port that is configured but never goes to the network (load=False windows)."""

    def status(self):
        return SyncStatus(configured=True, hub="http://hub.test")

    def sync_now(self, progress=None):
        return self.status()

    def reachable(self):
        return False


def test_synced_supervisor_sees_conflicts(qtbot, store, clock):
    from emdesk.domain.geocoding import GazetteerGeocoder
    from emdesk.domain.people import Subject
    from emdesk.domain.orders import Order, Cohort
    from emdesk.domain.users import User
    from emdesk.domain.visits import VisitKind
    from emdesk.services.context import AppContext

    boss = store.put(User(username="boss", display_name="Boss", role=Role.SUPERVISOR))
    ann = store.put(Subject(given_name="Ann", family_name="Evans"))
    order = store.put(Order(subject_id=ann.id, cohort=Cohort.COURT_BAIL))
    visit = store.put(Visit(order_id=order.id, subject_id=ann.id, kind=VisitKind.INSTALL))
    with store.applying_remote():
        store.apply_conflict(json.dumps({"id": "c1", "table_name": "visits", "row_id": visit.id, "field": "notes",
                                         "losing_value": "written at the door", "losing_hlc": "1", "winning_hlc": "2",
                                         "at": "2026-11-26T09:00:00.000+00:00"}))
    ctx = AppContext.for_user(store, boss, clock, GazetteerGeocoder())
    assert "conflicts" not in [w.key for w in MainWindow(ctx, load=False).workspaces]
    ctx.sync = _Port()
    window = MainWindow(ctx, load=False)
    qtbot.addWidget(window)
    tab = window.workspace("conflicts")
    with qtbot.waitSignal(window.loaded, timeout=20_000):
        window.refresh_all()
    assert tab.row_count() == 1
    row = tab.table.model.rows()[0]
    assert (row.describes, row.field, row.losing_value) == ("install visit · Ann Evans", "notes", "written at the door")
