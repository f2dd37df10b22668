"""A configured, sortable table view over a ``RowTableModel`` (one call per workspace)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from .chips import ChipDelegate
from .table_model import Column, RowSortFilterProxy, RowTableModel


@dataclass
class Table:
    view: QTableView
    model: RowTableModel
    proxy: RowSortFilterProxy

    def set_rows(self, rows) -> None:
        self.model.set_rows(rows)

    def selected_row(self):
        indexes = self.view.selectionModel().selectedRows()
        return self.proxy.row_at(indexes[0].row()) if indexes else None

    def visible_count(self) -> int:
        return self.proxy.rowCount()


def make_table(columns: Sequence[Column], parent: QWidget | None = None, *, sort_column: int | None = 0,
               order: Qt.SortOrder = Qt.SortOrder.AscendingOrder, name: str = "") -> Table:
    model = RowTableModel(columns, parent)
    proxy = RowSortFilterProxy(parent)
    proxy.setSourceModel(model)
    view = QTableView(parent)
    if name:
        view.setObjectName(name)
    view.setModel(proxy)
    view.setSortingEnabled(True)
    if sort_column is None:
        # Keep the order the service chose (e.g. by family name) until a header is clicked.
        view.horizontalHeader().setSortIndicator(-1, order)
        proxy.sort(-1)
    else:
        view.sortByColumn(sort_column, order)
    view.setAlternatingRowColors(True)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setWordWrap(False)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    view.setShowGrid(False)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(30)
    header = view.horizontalHeader()
    header.setStretchLastSection(True)
    header.setHighlightSections(False)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    delegate = None
    for i, col in enumerate(columns):
        if col.width:
            view.setColumnWidth(i, col.width)
        if col.chips:
            delegate = delegate or ChipDelegate(view)
            view.setItemDelegateForColumn(i, delegate)
    return Table(view, model, proxy)
