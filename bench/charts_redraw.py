"""Charts benchmark: recompute and redraw every chart over 100 000 logged calls.

The redraw half of issue 7's benchmark (bench/charts_compute.py times each analytics step).
Builds a project with N calls (4 models x 3 prompt versions, runs and imports, 30 days, a
fifth scored) through `RunsRepo.record_calls`, then times, as the Charts tab does them:

(a) the recompute, off the GUI thread in the app: reading the calls on a connection of its own
    (`load_project_data`), and reducing them to what the charts draw (`compute_chart_data`),
    once for all calls and once with a filter (no new read);
(b) the redraw on the GUI thread: `ChartsPane.show_data` (setData on the plot items every chart
    created once) plus processEvents, then a full paint of all six charts (`grab()`), alternating
    two data sets so every redraw changes every item. Target: under 200 ms (DESIGN §9).

Prints medians and maxima measured in one run; never a timed test.
Usage: ``python bench/charts_redraw.py [--calls 100000] [--redraws 20]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))


def timings(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    """Milliseconds of each of `repeat` runs, and the last result."""
    out, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out, result


def line(label: str, ms: list[float]) -> str:
    return f"{label:<52} p50 {statistics.median(ms):7.1f} ms   max {max(ms):7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--redraws", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3, help="repeats of the recompute")
    args = parser.parse_args()

    from charts_compute import build
    from PySide6.QtWidgets import QApplication

    from workbench.services.chart_data import ChartFilters, compute_chart_data, load_project_data
    from workbench.ui.charts import ChartsPane
    from workbench.ui.context import ProjectContext

    app = QApplication.instance() or QApplication([])
    app.setStyle("Fusion")  # type: ignore[attr-defined]
    with tempfile.TemporaryDirectory(prefix="wb-charts-") as tmp:
        path = Path(tmp) / "bench.pwb"
        t0 = time.perf_counter()
        build(path, args.calls)
        print(f"built {args.calls:,} calls in {time.perf_counter() - t0:.1f} s")

        read_ms, calls = timings(lambda: load_project_data(path), args.repeat)
        imports = ChartFilters(source="import")

        def reduce(filters: ChartFilters = ChartFilters()) -> Any:  # noqa: B008
            return compute_chart_data(
                calls.frame, filters, prices=calls.prices, synthetic_runs=calls.synthetic_runs
            )

        all_ms, everything = timings(reduce, args.repeat)
        filtered_ms, imported = timings(lambda: reduce(imports), args.repeat)
        print(f"(a) recompute, on a worker thread in the app ({len(calls.frame):,} calls)")
        print(line("    read the calls (own read-only connection)", read_ms))
        print(line("    reduce for every chart (all calls)", all_ms))
        print(line("    reduce for every chart (source filter, no read)", filtered_ms))
        print(
            line(
                "    total after a change (read + reduce)",
                [r + a for r, a in zip(read_ms, all_ms, strict=True)],
            )
        )

        pane = ChartsPane(ProjectContext())
        pane.resize(1000, 640)
        pane.show()
        app.processEvents()
        charts = list(pane.charts.values())
        sets = [everything, imported]
        pane.show_data(sets[1])  # warm-up: fonts, caches, items created
        for chart in charts:
            chart.grab()
        set_ms, paint_ms, total_ms = [], [], []
        for i in range(args.redraws):
            t0 = time.perf_counter()
            pane.show_data(sets[i % 2])
            app.processEvents()
            t1 = time.perf_counter()
            for chart in charts:
                chart.grab()  # a full paint of every chart, the hidden tabs included
            t2 = time.perf_counter()
            set_ms.append((t1 - t0) * 1000)
            paint_ms.append((t2 - t1) * 1000)
            total_ms.append((t2 - t0) * 1000)
        print(f"(b) redraw on the GUI thread, {args.redraws} redraws of all 6 charts")
        print(line("    show_data (setData on existing items) + events", set_ms))
        print(line("    full paint of all 6 charts (grab)", paint_ms))
        print(line("    redraw total (target < 200 ms)", total_ms))
        print(f"    {pane.frontier.answer.text()}")
        pane.close()


if __name__ == "__main__":
    main()
