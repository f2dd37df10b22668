"""Risk flags drawn as small coloured chips, so a dog or a weapon cannot be missed."""
from __future__ import annotations

from PySide6.QtCore import QModelIndex, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from . import palette
from .formatting import humanize
from .table_model import SORT_ROLE

# Flags that put an officer at risk at the door: red. Everything else: amber.
DANGER = {"dangerous_dog", "violence_to_staff", "weapons", "lone_working_risk", "domestic_abuse"}
RED = (palette.colour("bad"), palette.colour("bad-chip"))
AMBER = (palette.colour("warn"), palette.colour("warn-chip"))

PAD_X, GAP, RADIUS = 6, 4, 8


def flag_colours(flag: str) -> tuple[QColor, QColor]:
    key = flag.strip().lower().replace(" ", "_")
    return RED if key in DANGER else AMBER


class ChipDelegate(QStyledItemDelegate):
    """Paints a column whose raw value is a tuple of flag codes or labels."""

    def _flags(self, index: QModelIndex) -> list[str]:
        value = index.data(SORT_ROLE)
        flags = [str(v) for v in value] if value else []
        # Danger to the officer first: if the cell is too narrow, those are the ones kept.
        return sorted(flags, key=lambda f: flag_colours(f) is not RED)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        flags = self._flags(index)
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        style = opt.widget.style() if opt.widget else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        if not flags:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = opt.font
        font.setPointSizeF(max(font.pointSizeF() - 1, 7))
        font.setBold(True)
        painter.setFont(font)
        fm = QFontMetrics(font)
        h = fm.height() + 4
        x = option.rect.x() + 4
        y = option.rect.y() + (option.rect.height() - h) / 2
        right = option.rect.right() - 4
        for i, flag in enumerate(flags):
            text = humanize(flag)
            w = fm.horizontalAdvance(text) + 2 * PAD_X
            if x + w > right and i > 0:
                # No room: say how many more rather than clip a chip in half.
                more = f"+{len(flags) - i}"
                painter.setPen(palette.colour("muted"))
                painter.drawText(QRectF(x, y, right - x, h), Qt.AlignmentFlag.AlignVCenter, more)
                break
            fg, bg = flag_colours(flag)
            rect = QRectF(x, y, w, h)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(bg)
            painter.drawRoundedRect(rect, RADIUS, RADIUS)
            painter.setPen(fg)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
            x += w + GAP
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        base = super().sizeHint(option, index)
        fm = QFontMetrics(option.font)
        width = sum(fm.horizontalAdvance(humanize(f)) + 2 * PAD_X + GAP for f in self._flags(index)) + 8
        return QSize(max(base.width(), width), max(base.height(), fm.height() + 10))
