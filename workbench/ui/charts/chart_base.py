"""What every chart shares: a titled box with a plot, hover tooltips, and PNG / CSV export.

A chart subclass creates its plot items once in `__init__`, then `show_data` only calls
`setData` / `setOpts` / `setPath` on them (DESIGN §9: never clear and re-add). Hover is one
handler per chart, `hover_text(x, y)` in data coordinates, so tests call it directly.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QCursor
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from workbench.services.chart_data import ChartData
from workbench.services.dataset_io import neutralise
from workbench.ui.theme import Theme, current_theme, notifier

HOVER_PX = 14  # how near (in pixels) the pointer must be to a point for its tooltip
NO_DATA = "No calls match these filters yet: run a prompt, or import production logs."


def model_colour(model: str, all_models: Sequence[str]) -> QColor:
    """The same colour for a model in every chart (by its place among the project's models)."""
    index = list(all_models).index(model) if model in all_models else len(all_models)
    return current_theme().series_colour(index)


def lighter(colour: QColor, alpha: int = 90) -> QColor:
    out = QColor(colour)
    out.setAlpha(alpha)
    return out


def short_model(model: str) -> str:
    """``claude-haiku-5-5`` -> ``haiku-5-5`` for axis ticks (full ids stay in tooltips and CSV)."""
    return model.removeprefix("claude-")


def fmt_seconds(value: float | None) -> str:
    return "unknown" if value is None or not math.isfinite(value) else f"{value:.3f} s"


def fmt_usd(value: float | None) -> str:
    """Dollars to the cent from $1, else to 4 or 6 decimals (a call can cost $0.000232)."""
    if value is None or not math.isfinite(value):
        return "unknown"
    if abs(value) >= 1 or value == 0:
        return f"${value:,.2f}"
    return f"${value:.4f}" if abs(value) >= 0.01 else f"${value:.6f}"


def fmt_percent(fraction: float | None) -> str:
    if fraction is None or not math.isfinite(fraction):
        return "unknown"
    return f"{fraction * 100:.1f} %"


def version_label(prompt: Any, version: Any) -> str:
    return f"{prompt} v{version}" if prompt is not None else "unversioned"


def style_reference_line(line: pg.InfiniteLine, colour: QColor) -> None:
    """Give a reference line (and its label) `colour`; used again after a theme switch."""
    line.setPen(pg.mkPen(colour, width=1.5, style=Qt.PenStyle.DashLine))
    line.label.setColor(colour)


def reference_line(
    plot: pg.PlotItem, value: float, text: str, colour: QColor, *, at: float = 0.98
) -> pg.InfiniteLine:
    """A dashed horizontal line with a label at `at` (0 left .. 1 right), above the line."""
    anchor = (1, 1) if at > 0.5 else (0, 1)
    line = pg.InfiniteLine(
        pos=value,
        angle=0,
        pen=pg.mkPen(colour, width=1.5, style=Qt.PenStyle.DashLine),
        label=text,
        labelOpts={"position": at, "color": colour, "anchors": [anchor, anchor]},
    )
    plot.addItem(line, ignoreBounds=True)
    return line


class ChartBox(QWidget):
    """A chart: title, optional controls, the plot, a note line, Export PNG and Export CSV."""

    exported = Signal(str)  # path written, for the status bar
    TITLE = ""
    CSV_NAME = "chart"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data = ChartData()
        self.last_tooltip: str | None = None
        self.title = QLabel(self.TITLE)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.title.setFont(font)
        self.controls = QHBoxLayout()
        self.controls.setContentsMargins(0, 0, 0, 0)
        self.png_button = QPushButton("Export PNG…")
        self.png_button.setToolTip("Save this chart as a PNG image")
        self.png_button.clicked.connect(self.export_png_dialog)
        self.csv_button = QPushButton("Export CSV…")
        self.csv_button.setToolTip("Save the numbers behind this chart as CSV")
        self.csv_button.clicked.connect(self.export_csv_dialog)
        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addLayout(self.controls)
        header.addStretch(1)
        header.addWidget(self.png_button)
        header.addWidget(self.csv_button)
        self.note = QLabel()
        self.note.setTextFormat(Qt.TextFormat.PlainText)  # model ids and prompt names are data
        self.note.setWordWrap(True)
        self._axis_labels: dict[str, str] = {}
        self._reference_lines: list[tuple[pg.InfiniteLine, str]] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(header)
        body = self.make_body()
        layout.addWidget(body, 1)
        layout.addWidget(self.note)
        ChartBox.restyle(self, current_theme())  # subclasses restyle at the end of their own init
        # A bound method of this widget: the connection ends when the chart is deleted.
        notifier().changed.connect(self._on_theme_changed)

    # -- building ----------------------------------------------------------------------------

    def make_body(self) -> QWidget:
        """The plot widget (a table for the projection); subclasses add their items after."""
        self.plot_widget = pg.PlotWidget(background=current_theme().chart_bg)
        self.plot_widget.setAccessibleName(self.TITLE)
        self.plot = self.plot_widget.getPlotItem()
        self.plot.showGrid(x=False, y=True, alpha=0.25)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot_widget.scene().sigMouseMoved.connect(self._on_mouse_moved)
        return self.plot_widget

    def axis_label(self, name: str, text: str) -> None:
        self._axis_labels[name] = text
        self.plot.setLabel(name, text, color=current_theme().chart_fg.name())

    def reference(self, value: float, text: str, role: str, *, at: float = 0.98) -> pg.InfiniteLine:
        """A dashed reference line in the theme colour `role` ("alert", "bar"), kept themed."""
        line = reference_line(self.plot, value, text, getattr(current_theme(), role), at=at)
        self._reference_lines.append((line, role))
        return line

    # -- theme -------------------------------------------------------------------------------

    def restyle(self, theme: Theme) -> None:
        """Colour the plot area, axes, labels and reference lines from `theme`.

        Subclasses extend it for the items they keep (pens of medians, frontier, whiskers);
        series colours come from `redraw`, which a theme switch calls again.
        """
        self.note.setStyleSheet(f"color: {theme.muted.name()};")
        if not hasattr(self, "plot"):
            return  # a table, not a plot
        self.plot_widget.setBackground(theme.chart_bg)
        for name in ("left", "bottom"):
            axis = self.plot.getAxis(name)
            axis.setPen(pg.mkPen(theme.chart_fg))
            axis.setTextPen(pg.mkPen(theme.chart_fg))
        for name, text in self._axis_labels.items():
            self.plot.setLabel(name, text, color=theme.chart_fg.name())
        for line, role in self._reference_lines:
            style_reference_line(line, getattr(theme, role))

    def _on_theme_changed(self) -> None:
        self.restyle(current_theme())
        self.redraw()

    # -- data --------------------------------------------------------------------------------

    def show_data(self, data: ChartData) -> None:
        """Draw `data` by updating the existing plot items."""
        self.data = data
        self.redraw()

    def redraw(self) -> None:
        raise NotImplementedError

    def set_note(self, text: str) -> None:
        self.note.setText(text)
        self.note.setVisible(bool(text))

    def csv_table(self) -> tuple[list[str], list[list[Any]]]:
        """The chart's numbers: a header and rows (what Export CSV writes)."""
        raise NotImplementedError

    # -- hover -------------------------------------------------------------------------------

    def hover_text(self, x: float, y: float) -> str | None:
        """The tooltip for the pointer at data coordinates (x, y), or None."""
        return None

    def pixel_size(self) -> tuple[float, float]:
        """Data units per screen pixel on (x, y); (1, 1) before the view is laid out."""
        px = self.plot.getViewBox().viewPixelSize()
        return (px[0] or 1.0, px[1] or 1.0)

    def near(self, x: float, y: float, px: float, py: float) -> float:
        """Distance in pixels between the pointer (x, y) and a point (px, py) in data units."""
        sx, sy = self.pixel_size()
        return math.hypot((x - px) / sx, (y - py) / sy)

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        box = self.plot.getViewBox()
        if not box.sceneBoundingRect().contains(scene_pos):
            self.last_tooltip = None
            QToolTip.hideText()
            return
        point = box.mapSceneToView(scene_pos)
        text = self.hover_text(point.x(), point.y())
        self.last_tooltip = text
        if text:
            QToolTip.showText(QCursor.pos(), text, self.plot_widget)
        else:
            QToolTip.hideText()

    # -- export ------------------------------------------------------------------------------

    def export_png(self, path: Path) -> Path:
        """Write the chart (title, plot and note, as seen) to a PNG."""
        target = Path(path)
        if not self.grab().save(str(target), "PNG"):
            raise OSError(f"{target} could not be written.")
        return target

    def export_csv(self, path: Path) -> Path:
        """Write the chart's numbers as CSV; text cells that look like formulas are neutralised."""
        header, rows = self.csv_table()
        target = Path(path)
        with target.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            for row in rows:
                writer.writerow([_csv_cell(v) for v in row])
        return target

    def _export(self, kind: str) -> None:
        suffix = ".png" if kind == "PNG" else ".csv"
        name = self.CSV_NAME + suffix
        path, _ = QFileDialog.getSaveFileName(
            self, f"Export {self.TITLE} as {kind}", name, f"{kind} files (*{suffix})"
        )
        if not path:
            return
        if not path.lower().endswith(suffix):
            path += suffix
        try:
            written = self.export_png(Path(path)) if kind == "PNG" else self.export_csv(Path(path))
        except OSError as exc:
            self.set_note(f"Export failed: {path} could not be written ({exc}).")
            return
        self.exported.emit(str(written))

    def export_png_dialog(self) -> None:
        self._export("PNG")

    def export_csv_dialog(self) -> None:
        self._export("CSV")


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return ""
    if isinstance(value, str):
        return neutralise(value)
    return value
