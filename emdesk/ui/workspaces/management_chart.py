"""The chosen management figure over time: a point a week on a date axis (PySide6.QtCharts).

A week with nothing to measure has no point (the line breaks there), not a zero.
"""
from __future__ import annotations

from datetime import date, datetime, time

from PySide6.QtCharts import QChart, QChartView, QDateTimeAxis, QLineSeries, QScatterSeries, QValueAxis
from PySide6.QtCore import QDateTime, QMargins, Qt
from PySide6.QtGui import QPainter, QPen
from PySide6.QtWidgets import QWidget

from .. import palette


def scaled(value: float | None, unit: str) -> float | None:
    """The plotted value: shares in percent, the rest as they are."""
    if value is None:
        return None
    return value * 100 if unit == "share" else value


def _ms(d: date) -> float:
    return QDateTime(datetime.combine(d, time(12))).toMSecsSinceEpoch()


class SeriesChart(QChartView):
    def __init__(self, parent: QWidget | None = None):
        chart = QChart()
        chart.legend().setVisible(False)
        chart.setMargins(QMargins(4, 4, 8, 4))
        chart.setBackgroundRoundness(4)
        super().__init__(chart, parent)
        self.setObjectName("miChart")
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setMinimumHeight(180)
        self.points: list[tuple[date, float | None]] = []

    def show_series(self, label: str, unit: str, points: list[tuple[date, float | None]],
                    tolerance: float | None = None) -> None:
        chart = self.chart()
        chart.removeAllSeries()
        for axis in chart.axes():
            chart.removeAxis(axis)
        self.points = list(points)
        runs: list[QLineSeries] = []
        dots = QScatterSeries()
        dots.setMarkerSize(7)
        dots.setColor(palette.colour("running"))
        dots.setBorderColor(palette.colour("running"))
        previous = None
        for d, value in points:
            y = scaled(value, unit)
            if y is None:
                previous = None
                continue
            if previous is None:
                runs.append(QLineSeries())
                runs[-1].setPen(QPen(palette.colour("running"), 2))
            runs[-1].append(_ms(d), y)
            dots.append(_ms(d), y)
            previous = y
        days = QDateTimeAxis()
        days.setFormat("d MMM")
        days.setTickCount(min(5, max(2, len(points))))
        days.setTitleText("week beginning")
        if points:
            days.setRange(QDateTime(datetime.combine(points[0][0], time(0))),
                          QDateTime(datetime.combine(points[-1][0], time(23))))
        values = [scaled(v, unit) for _, v in points if v is not None]
        limit = scaled(tolerance, unit)
        if limit is not None and points:
            # The tolerance as a dashed red line: above it the tile is red too.
            line = QLineSeries()
            line.setPen(QPen(palette.colour("bad"), 1.5, Qt.PenStyle.DashLine))
            line.append(_ms(points[0][0]), limit)
            line.append(_ms(points[-1][0]), limit)
            runs.append(line)
            values.append(limit)
        axis = QValueAxis()
        top = max(values, default=0) or 1
        axis.setRange(0, min(100.0, top * 1.15) if unit == "share" else top * 1.15)
        axis.setLabelFormat("%.0f" if unit in ("share", "count") or top >= 10 else "%.1f")
        axis.setTitleText({"share": "%", "hours": "hours", "days": "days", "count": "number",
                           "ratio": "alerts per pack"}.get(unit, ""))
        chart.addAxis(days, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(axis, Qt.AlignmentFlag.AlignLeft)
        for series in (*runs, dots):
            chart.addSeries(series)
            series.attachAxis(days)
            series.attachAxis(axis)
        measured = any(v is not None for _, v in points)
        chart.setTitle(label + ("" if measured else " (nothing to measure yet)"))
