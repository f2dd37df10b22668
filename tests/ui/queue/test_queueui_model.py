"""The queue model: numpy filter and sort against plain Python over the same rows, and
live batches merged with the selection kept."""
from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import QItemSelectionModel, QPersistentModelIndex, Qt

from emdesk.domain.deadlines import which_deadline
from emdesk.services.queue_items import QueueBatch
from emdesk.ui.queue.columns import KEYS, STATUSES, deadline_text, span
from emdesk.ui.queue.model import ITEM_ROLE, QueueData, QueueFilter, QueueModel

from queueui_kit import NOW, bumped, make_items

ITEMS = make_items(600, seed=7)
ALL = QueueFilter()


def _due(it):
    kind = which_deadline(it.status)
    return float("inf") if kind is None else (it.notify_by if kind == "notify" else it.pack_by).timestamp()


def model_of(items=ITEMS, flt=ALL) -> QueueModel:
    m = QueueModel(now=NOW)
    m.set_items(items)
    m.set_filter(flt)
    return m


# (filter, the same rule in plain Python)
FILTERS = [
    (ALL, lambda it: True),
    (QueueFilter(statuses=frozenset({"open"})), lambda it: it.status == "open"),
    (QueueFilter(statuses=frozenset({"open", "acknowledged", "escalated"})),
     lambda it: it.status in ("open", "acknowledged", "escalated")),
    (QueueFilter(cohort="court_bail"), lambda it: it.cohort == "court_bail"),
    (QueueFilter(condition="curfew"), lambda it: it.condition == "curfew"),
    (QueueFilter(code="AL08"), lambda it: "AL08" in it.codes),
    (QueueFilter(code="al12"), lambda it: "AL12" in it.codes),
    (QueueFilter(text="em-0001"), lambda it: "em-0001" in it.reference.lower()),
    (QueueFilter(text="KHAN"), lambda it: "khan" in it.subject_name.lower()),
    (QueueFilter(text="al20"), lambda it: "AL20" in it.codes),
    (QueueFilter(min_priority=80), lambda it: it.priority >= 80),
    (QueueFilter(statuses=frozenset({"open"}), condition="tamper", min_priority=30),
     lambda it: it.status == "open" and it.condition == "tamper" and it.priority >= 30),
    (QueueFilter(cohort="no such cohort"), lambda it: False),
]


def _case_id(f) -> str:
    """A filter's name for the test id, the same in every process (a set's order is not)."""
    return repr(f).replace(repr(f.statuses), "{" + ",".join(sorted(f.statuses)) + "}")


@pytest.mark.parametrize(("flt", "rule"), FILTERS, ids=[_case_id(f) for f, _ in FILTERS])
def test_a_filter_keeps_exactly_the_rows_the_rule_keeps(flt, rule):
    m = model_of(flt=flt)
    assert set(m.visible_ids()) == {it.id for it in ITEMS if rule(it)}
    assert m.rowCount() == sum(1 for it in ITEMS if rule(it))


TIE = (lambda it: -it.priority, _due, lambda it: it.started_at)
# (column, descending, the column's value in plain Python)
SORTS = [
    ("priority", True, lambda it: it.priority),
    ("priority", False, lambda it: it.priority),
    ("deadline", False, _due),
    ("cohort", False, lambda it: it.cohort.casefold()),
    ("condition", True, lambda it: it.condition.casefold()),
    ("codes", False, lambda it: ", ".join(it.codes).casefold()),
    ("status", False, lambda it: STATUSES.index(it.status)),
    ("status", True, lambda it: STATUSES.index(it.status)),
    ("age", True, lambda it: NOW - it.started_at),
    ("age", False, lambda it: NOW - it.started_at),
    ("reference", False, lambda it: it.reference.casefold()),
    ("name", False, lambda it: it.subject_name.casefold()),
    ("region", True, lambda it: it.region.casefold()),
]


@pytest.mark.parametrize(("key", "descending", "value"), SORTS,
                         ids=[f"{k}-{'desc' if d else 'asc'}" for k, d, _ in SORTS])
def test_a_sort_orders_rows_as_python_sorted_does(key, descending, value):
    m = model_of()
    m.sort_by(key, descending)
    rank = {v: i for i, v in enumerate(sorted({value(it) for it in ITEMS}))}
    expected = sorted(ITEMS, key=lambda it: ((-1 if descending else 1) * rank[value(it)], *(t(it) for t in TIE)))
    assert [m.item_at(r).id for r in range(m.rowCount())] == [it.id for it in expected]


def test_the_default_order_is_risk_first_then_the_nearest_deadline():
    m = QueueModel(now=NOW)
    m.set_items(ITEMS)
    got = [m.item_at(r) for r in range(m.rowCount())]
    assert {it.status for it in got} <= {"open", "acknowledged", "escalated"}
    keys = [(-it.priority, _due(it), it.started_at) for it in got]
    assert keys == sorted(keys)


def test_the_header_sorts_through_the_model():
    m = model_of()
    m.sort(KEYS.index("reference"), Qt.SortOrder.DescendingOrder)
    refs = [m.item_at(r).reference for r in range(m.rowCount())]
    assert refs == sorted(refs, reverse=True)


def test_apply_inserts_updates_and_removes_in_place():
    m = model_of(ITEMS[:100])
    new = make_items(5, seed=99, start=10_000)
    changed = bumped(ITEMS[3], status="closed", priority=1)
    got = m.apply(QueueBatch(items=[*new, changed], removed=(ITEMS[4].id, "never-seen")))
    assert got == (5, 1, 1)
    assert m.total == 100 + 5 - 1
    assert m.item(ITEMS[3].id).status == "closed" and m.item(ITEMS[4].id) is None
    assert {it.id for it in new} <= set(m.visible_ids())
    assert m.apply(QueueBatch()) == (0, 0, 0)


def test_a_later_snapshot_replaces_the_rows_and_keeps_the_selection(qapp):
    m = model_of(ITEMS[:50])
    sel = QItemSelectionModel(m)
    kept = m.item_at(m.row_of(ITEMS[20].id))
    sel.setCurrentIndex(m.index(m.row_of(kept.id), 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
                        | QItemSelectionModel.SelectionFlag.Rows)
    m.set_data(QueueData(ITEMS[10:60]))
    assert sorted(m.visible_ids()) == sorted(it.id for it in ITEMS[10:60])
    assert m.item_at(sel.currentIndex().row()).id == kept.id


@pytest.mark.parametrize("removed_first", [False, True])
def test_apply_moves_the_selection_with_its_incident(qapp, removed_first):
    m = model_of(ITEMS)
    sel = QItemSelectionModel(m)
    row = 40
    chosen = m.item_at(row)
    sel.setCurrentIndex(m.index(row, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
                        | QItemSelectionModel.SelectionFlag.Rows)
    held = QPersistentModelIndex(m.index(row, 2))
    # 1,000 incidents ranked above everything: the chosen row moves down by 1,000.
    above = [bumped(it, priority=101, status="open") for it in make_items(1000, seed=5, start=50_000)]
    removed = (m.item_at(0).id,) if removed_first else ()
    m.apply(QueueBatch(items=above, removed=removed))
    assert m.data(sel.currentIndex(), ITEM_ROLE).id == chosen.id
    assert [m.item_at(i.row()).id for i in sel.selectedRows()] == [chosen.id]
    assert sel.currentIndex().row() == row + 1000 - (1 if removed_first else 0)
    assert held.isValid() and held.column() == 2 and m.item_at(held.row()).id == chosen.id


def test_a_selected_incident_filtered_out_loses_its_index():
    m = model_of(ITEMS, QueueFilter(statuses=frozenset({"open"})))
    held = QPersistentModelIndex(m.index(0, 0))
    gone = m.item_at(0)
    m.apply(QueueBatch(items=[bumped(gone, status="closed")]))
    assert not held.isValid() and m.row_of(gone.id) == -1 and m.item(gone.id).status == "closed"


# (minutes to the running deadline, what the clock says)
CLOCKS = [(125, "notify due in 2h 05m"), (30, "notify due in 30m"), (0.5, "notify due in <1m"),
          (-45, "notify overdue 45m"), (-60 * 27, "notify overdue 1d 3h")]


@pytest.mark.parametrize(("minutes", "text"), CLOCKS)
def test_the_deadline_clock_reads_as_time_left(minutes, text):
    item = bumped(ITEMS[0], status="open", notify_by=NOW + timedelta(minutes=minutes))
    assert deadline_text(item, NOW) == text


# (status, minutes to the due deadline, colour name or None)
COLOURS = [("open", 240, None), ("open", 50, "warn"), ("open", -1, "bad"), ("escalated", 60 * 5, None),
           ("escalated", 60 * 3, "warn"), ("escalated", -10, "bad"), ("closed", -10, None), ("auto_closed", 5, None)]


@pytest.mark.parametrize(("status", "minutes", "name"), COLOURS)
def test_the_deadline_turns_amber_then_red(status, minutes, name):
    from emdesk.ui import palette
    due = NOW + timedelta(minutes=minutes)
    item = bumped(ITEMS[0], status=status, notify_by=due, pack_by=due)
    m = model_of([item])
    cell = m.index(0, KEYS.index("deadline"))
    colour = m.data(cell, Qt.ItemDataRole.ForegroundRole)
    assert (colour.name() if colour is not None else None) == (palette.colour(name).name() if name else None)


def test_the_priority_tooltip_gives_every_reason_in_words():
    m = model_of(ITEMS[:1])
    tip = m.data(m.index(0, KEYS.index("priority")), Qt.ItemDataRole.ToolTipRole)
    assert all(r in tip for r in ITEMS[0].reasons) and str(ITEMS[0].priority) in tip
    assert m.data(m.index(0, KEYS.index("why")), Qt.ItemDataRole.DisplayRole) == ITEMS[0].reasons[0]


def test_the_clock_tick_repaints_deadlines_and_ages(qtbot):
    m = model_of(ITEMS[:20])
    with qtbot.waitSignals([m.dataChanged, m.dataChanged]):
        m.set_now(NOW + timedelta(minutes=30))
    assert m.data(m.index(0, KEYS.index("age"))) .startswith(span((NOW + timedelta(minutes=30)
                                                                   - m.item_at(0).started_at).total_seconds()))
