"""The main window as each role sees it: tabs, menus, status bar, remembered tab."""
import pytest
from PySide6.QtWidgets import QTabWidget

from emdesk.domain.users import Permission, Role
from emdesk.ui.main_window import MainWindow

EXPECTED_TABS = {
    Role.FIELD_OFFICER: ["today", "caseload"],
    Role.TECHNICIAN: ["stock", "bench", "equipment"],
    Role.MONITORING_OPERATOR: ["monitoring", "responses", "orders", "caseload"],
    Role.SUPERVISOR: ["overview", "management", "monitoring", "responses", "orders", "caseload", "equipment"],
    Role.ADMIN: ["stock"],
    Role.POLICE: ["responses"],
    Role.PROBATION: ["responses"],
    Role.HOME_OFFICE: ["responses"],
}
# The demo's casework issued packs on yesterday's breaches: an agency's inbox lists those
# issued to its agency in its region (the Home Office: every region), the centre's those of
# the regions it works (a supervisor: every region), one row a pack series.
ISSUED_ON_THE_DEMO = {"responses"}


def issued_to(store, user) -> set[str]:
    from emdesk.domain.monitoring import BreachPack
    from emdesk.domain.users import AGENCY_OF
    agency = AGENCY_OF.get(user.role)
    everywhere = user.role in (Role.HOME_OFFICE, Role.SUPERVISOR)
    return {p.pack_id for p in store.find(BreachPack) if p.sent_at is not None
            and (agency is None or p.responder.value == agency) and (everywhere or p.region == user.region)}


def open_window(qtbot, ctx, **kw) -> MainWindow:
    window = MainWindow(ctx, load=False, **kw)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.loaded, timeout=20_000):
        window.refresh_all()
    return window


@pytest.mark.parametrize("role", list(Role))
def test_each_role_gets_its_workspaces_with_rows(qtbot, demo_store, ctx_for, role):
    ctx = ctx_for(role)
    window = open_window(qtbot, ctx)
    assert [ws.key for ws in window.workspaces] == EXPECTED_TABS[role]
    assert window.tabs.count() == len(EXPECTED_TABS[role])
    for ws in window.workspaces:
        assert ws.last_error == "", f"{ws.title}: {ws.last_error}"
        assert not ws.busy.isVisible() and not ws.is_loading
        if ws.key in ISSUED_ON_THE_DEMO:
            assert ws.row_count() == len(issued_to(demo_store[0], ctx.user)), \
                f"{role.value}: {ws.title} does not list the packs issued to {ctx.user.username}"
        else:
            assert ws.row_count() > 0, f"{role.value}: {ws.title} shows no rows"
    assert window.windowTitle() == f"emdesk — {ctx.user.display_name} ({role.label})"


def test_the_demo_issued_packs_to_the_agencies_it_has_accounts_for(demo_store):
    store, world = demo_store
    agencies = [u for u, _ in world.users if u.role in (Role.POLICE, Role.PROBATION, Role.HOME_OFFICE)]
    reached = set().union(*(issued_to(store, u) for u in agencies))
    assert reached, "the demo's casework issued no pack to any agency account"


@pytest.mark.parametrize("role", list(Role))
def test_menus_follow_permissions(qtbot, ctx_for, role):
    ctx = ctx_for(role)
    window = MainWindow(ctx, load=False)
    qtbot.addWidget(window)
    menus = window.menu_titles()
    assert menus[:2] == ["File", "View"] and menus[-1] == "Help"
    assert ("Orders" in menus) == ctx.user.can(Permission.ENTER_ORDERS)
    assert (window.new_order_action is not None) == ctx.user.can(Permission.ENTER_ORDERS)
    assert window.refresh_action.shortcut().toString() == "F5"
    # Trail matching reads everyone's trails: only those allowed see the menu at all.
    assert ("Monitoring" in menus) == (window.trail_match_action is not None) == ctx.user.can(Permission.MATCH_TRAILS)


def test_status_bar_says_where_the_data_is_and_who_is_signed_in(qtbot, ctx_for):
    ctx = ctx_for(Role.FIELD_OFFICER)
    window = MainWindow(ctx, load=False)
    qtbot.addWidget(window)
    expected = "encrypted" if ctx.encrypted else "UNENCRYPTED (demo)"
    assert window.store_label.text().endswith(expected)
    assert window.store_label.text().count("NCRYPTED") <= 1
    assert window.sync_label.text() == "Sync: not configured (offline desktop)"
    window.set_sync_state("Sync: 3 changes waiting")
    assert window.sync_label.text() == "Sync: 3 changes waiting"
    assert ctx.user.display_name in window.user_label.text()


def test_last_tab_is_remembered_in_private_settings(qtbot, ctx_for, private_settings):
    ctx = ctx_for(Role.SUPERVISOR)
    first = MainWindow(ctx, load=False)
    qtbot.addWidget(first)
    first.show_workspace("caseload")
    first.close()
    assert any(private_settings.rglob("*.ini")), "settings went somewhere other than the test's folder"
    second = MainWindow(ctx, load=False)
    qtbot.addWidget(second)
    assert second.current_workspace().key == "caseload"


def test_refresh_reloads_the_current_workspace(qtbot, ctx_for):
    window = open_window(qtbot, ctx_for(Role.FIELD_OFFICER))
    ws = window.current_workspace()
    with qtbot.waitSignal(ws.loaded, timeout=10_000):
        window.refresh_action.trigger()
    assert ws.row_count() > 0


def test_new_order_opens_the_form(qtbot, ctx_for):
    window = MainWindow(ctx_for(Role.MONITORING_OPERATOR), load=False)
    qtbot.addWidget(window)
    dialog = window.open_order_form()
    qtbot.addWidget(dialog)
    assert dialog.isVisible() and dialog.windowTitle() == "New order"
    dialog.close()
