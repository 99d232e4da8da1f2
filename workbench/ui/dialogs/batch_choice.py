"""The Run dialog's "Run as a batch" choice and submitting a plan as Message Batches.

Submitting happens in the background on a connection of its own; once the batches exist their
ids are in the project and the status bar's batch panel takes over (poll, Collect).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtWidgets import QCheckBox, QWidget

from workbench.services import batch_runs
from workbench.services.planner import RunPlan
from workbench.services.pricing import PriceTable
from workbench.ui.context import Change
from workbench.ui.operations import Operation, describe_error

LABEL = "Run as a batch (half price, results within 24 h)"


def usd_text(value: float | None) -> str:
    return "unknown" if value is None else f"${value:,.4f}"


class BatchChoice(QCheckBox):
    """Checked: the run goes to the Message Batches API instead of live calls."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(LABEL, parent)
        self.setToolTip(
            "Submit the calls as Message Batches: half the price, answers within 24 hours. "
            "You can close the app; the status bar collects them later."
        )

    @property
    def chosen(self) -> bool:
        return self.isEnabled() and self.isChecked()

    def show_price(self, plan: RunPlan, prices: PriceTable, *, demo: bool) -> None:
        """Put the plan's batch price in the label (no batches in the offline demo)."""
        self.setEnabled(not demo)
        if demo:
            self.setText(f"{LABEL} — not in the offline demo")
            return
        estimate = batch_runs.batch_estimate(plan, prices, dt.date.today())
        self.setText(f"Run as a batch: estimated {usd_text(estimate)}, results within 24 h")


def submit_batch(controller: Any, plan: RunPlan, use_cache: bool) -> Operation | None:
    """Submit ``plan`` in the background; the project is told "runs" changed when done."""
    ctx = controller.ctx
    project = ctx.project
    if project is None:
        return None
    path, base_url = project.path, project.settings.base_url

    def done(report: batch_runs.BatchReport) -> None:
        ctx.notify(Change.RUNS)
        controller.batch_submitted.emit(report)

    def failed(exc: BaseException) -> None:
        ctx.notify(Change.RUNS)  # a refused batch still leaves a resumable run behind
        controller.error.emit(f"The batch could not be submitted: {describe_error(exc)}")

    operation = Operation(
        controller, lambda: batch_runs.submit_open_project(path, plan, base_url, use_cache)
    )
    return operation.success(done).failure(failed).run()
