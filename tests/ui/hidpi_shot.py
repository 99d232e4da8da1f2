"""Run with QT_SCALE_FACTOR=2 by test_hidpi.py (not a test module): draws the charts pane with
synthetic data and the toolbar icons, saves screenshots, prints what it measured as JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from charts_support import synthetic_frame
from PySide6.QtWidgets import QApplication, QToolBar

from workbench.services.chart_data import compute_chart_data
from workbench.services.pricing import PriceTable
from workbench.ui.charts import ChartsPane
from workbench.ui.context import ProjectContext
from workbench.ui.icons import TOOLBAR_ICONS, themed_icon


def main(out: Path) -> None:
    app = QApplication.instance() or QApplication([])
    app.setStyle("Fusion")
    pane = ChartsPane(ProjectContext())
    pane.resize(1280, 800)
    pane.show()
    pane.show_data(compute_chart_data(synthetic_frame(2000), prices=PriceTable.default()))
    app.processEvents()
    shot = pane.grab()
    shot.save(str(out / "hidpi_2x_charts_latency.png"))
    bar = QToolBar()
    for name in TOOLBAR_ICONS:
        bar.addAction(themed_icon(name), name)
    bar.show()
    app.processEvents()
    bar_shot = bar.grab()
    bar_shot.save(str(out / "hidpi_2x_toolbar.png"))
    # What the icon hands Qt for a 16-pixel icon on this screen: drawn at 32 pixels, not scaled.
    pixmap = themed_icon("run").pixmap(
        16,
        16,
    )
    print(
        json.dumps(
            {
                "screen_ratio": app.primaryScreen().devicePixelRatio(),
                "shot_ratio": shot.devicePixelRatio(),
                "shot_pixels": [shot.width(), shot.height()],
                "icon_pixels": [pixmap.width(), pixmap.height()],
                "icon_ratio": pixmap.devicePixelRatio(),
            }
        )
    )
    bar.close()
    pane.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
