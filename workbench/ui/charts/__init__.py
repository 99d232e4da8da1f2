"""The Charts tab: latency, cost, pass rate, quality vs cost, error rate, monthly projection.

Figures come from `services.analytics` and `services.tier` (computed on a worker thread by
`ChartsPane`); each chart creates its plot items once and only calls `setData` afterwards.
"""

from workbench.ui.charts.charts_pane import ChartsPane

__all__ = ["ChartsPane"]
