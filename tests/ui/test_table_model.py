from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from emdesk.ui.table_model import ROW_ROLE, SORT_ROLE, Column, RowSortFilterProxy, RowTableModel

DISPLAY, TOOLTIP, BACKGROUND = Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.BackgroundRole


@dataclass(frozen=True)
class Row:
    name: str
    count: int
    due: date | None


ROWS = [Row("beta", 10, date(2026, 1, 2)), Row("Alpha", 2, None), Row("gamma", 1, date(2025, 12, 31))]
RED = QColor("#ff0000")
COLUMNS = [
    Column("Name", lambda r: r.name, tooltip=lambda r: f"name {r.name}"),
    Column("Count", lambda r: r.count, background=lambda r: RED if r.count > 5 else None,
           align=Qt.AlignmentFlag.AlignRight),
    Column("Due", lambda r: r.due, fmt=lambda d: d.strftime("%d/%m/%Y") if d else "—"),
]


def model_with_rows():
    model = RowTableModel(COLUMNS)
    model.set_rows(ROWS)
    return model


def test_shape_and_headers():
    model = model_with_rows()
    assert (model.rowCount(), model.columnCount()) == (3, 3)
    assert [model.headerData(i, Qt.Orientation.Horizontal) for i in range(3)] == ["Name", "Count", "Due"]


def test_roles():
    model = model_with_rows()
    assert model.index(0, 0).data(DISPLAY) == "beta"
    assert model.index(0, 1).data(DISPLAY) == "10"          # numbers shown as text
    assert model.index(0, 1).data(SORT_ROLE) == 10          # ...but kept raw for sorting
    assert model.index(1, 2).data(DISPLAY) == "—"
    assert model.index(0, 2).data(DISPLAY) == "02/01/2026"
    assert model.index(0, 0).data(TOOLTIP) == "name beta"
    assert model.index(0, 1).data(BACKGROUND) == RED
    assert model.index(1, 1).data(BACKGROUND) is None
    assert model.index(2, 0).data(ROW_ROLE) == ROWS[2]
    assert model.index(0, 1).data(Qt.ItemDataRole.TextAlignmentRole) == int(Qt.AlignmentFlag.AlignRight)


def test_set_rows_applies_changes_row_by_row_and_never_resets(qtbot):
    from emdesk.ui.table_view import make_table

    table = make_table(COLUMNS, name="t", sort_column=None)
    qtbot.addWidget(table.view)
    table.set_rows(ROWS)
    table.view.selectRow(2)                                     # gamma
    resets, changed = [], []
    table.model.modelReset.connect(lambda: resets.append(True))
    table.model.dataChanged.connect(lambda a, b: changed.append(a.row()))
    # beta goes, gamma's count changes and it moves first, delta arrives.
    table.set_rows([Row("gamma", 7, None), Row("Alpha", 2, None), Row("delta", 3, None)])
    assert not resets
    assert [table.model.index(i, 0).data() for i in range(3)] == ["gamma", "Alpha", "delta"]
    assert table.model.index(0, 1).data() == "7" and changed == [0]
    assert table.selected_row() == Row("gamma", 7, None)      # the selection followed its record


def test_rows_without_an_identity_fall_back_to_a_reset(qtbot):
    model = model_with_rows()
    with qtbot.waitSignal(model.modelReset):
        model.set_rows([ROWS[0], ROWS[0]])
    assert model.rowCount() == 2


def names(proxy):
    return [proxy.index(i, 0).data() for i in range(proxy.rowCount())]


def test_sorting_uses_raw_values_and_puts_empty_last():
    proxy = RowSortFilterProxy()
    proxy.setSourceModel(model_with_rows())
    proxy.sort(1, Qt.SortOrder.AscendingOrder)
    assert names(proxy) == ["gamma", "Alpha", "beta"]        # 1 < 2 < 10, not "10" < "2"
    proxy.sort(0, Qt.SortOrder.AscendingOrder)
    assert names(proxy) == ["Alpha", "beta", "gamma"]        # case-insensitive
    proxy.sort(2, Qt.SortOrder.AscendingOrder)
    assert names(proxy) == ["gamma", "beta", "Alpha"]        # dates as dates, no date last
    assert proxy.row_at(0) == ROWS[2]


def test_filter_matches_any_column_text():
    proxy = RowSortFilterProxy()
    proxy.setSourceModel(model_with_rows())
    proxy.setFilterFixedString("2026")
    assert names(proxy) == ["beta"]
    proxy.setFilterFixedString("ALPHA")
    assert names(proxy) == ["Alpha"]
