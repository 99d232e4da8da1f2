"""What a run will do before anything is paid: cells, estimated tokens and the expected and
worst-case cost per model, problems that block it and warnings that do not."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.services.money import usd as money_usd
from workbench.services.planner import EXPECTED_OUTPUT_TOKENS, RunPlan
from workbench.ui.theme import color, css, themed_style

SHOWN_PROBLEMS = 50
HEADERS = [
    "Model",
    "Cells",
    "Est. input tok",
    "Est. output tok (p90)",
    "Max output tok",
    "Expected cost",
    "Worst case",
]


def usd(value: float | None) -> str:
    """The one money format (`services.money.usd`)."""
    return money_usd(value, unknown="unknown")


def _number(value: int) -> QTableWidgetItem:
    item = QTableWidgetItem(f"{value:,}")
    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


class PreflightPanel(QWidget):
    """Shows a `RunPlan` (or a message while none is ready)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel("Checking…")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        font = self.summary.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setBold(True)
        self.summary.setFont(font)
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setAccessibleName("Estimate per model")
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(HEADERS)):
            self.table.horizontalHeader().setSectionResizeMode(
                column, QHeaderView.ResizeMode.ResizeToContents
            )
        self.issues = QListWidget()
        self.issues.setAccessibleName("Problems and warnings")
        self.issues.setWordWrap(True)
        self.note = QLabel()
        self.note.setWordWrap(True)
        themed_style(self.note, lambda t: f"color: {t.muted.name()};")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(QLabel("Problems and warnings"))
        layout.addWidget(self.issues, 1)
        layout.addWidget(self.note)

    def show_message(self, text: str) -> None:
        self.summary.setText(text)
        self.table.setRowCount(0)
        self.issues.clear()

    def show_plan(self, plan: RunPlan, problems: list[str]) -> None:
        """Render `plan`; `problems` are the plan's plus any the dialog adds (read-only)."""
        synthetic = plan.synthetic
        cells = len(plan.cells)
        text = f"{cells:,} call{'s' if cells != 1 else ''} · {len(plan.models)} model(s) · "
        text += f"estimated {usd(plan.estimated_cost)}"
        if synthetic:
            text += " — offline demo: nothing is paid"
        elif cells:
            text += f" (high {usd(plan.high_cost)}, worst case {usd(plan.worst_case_cost)})"
        if problems:
            text += f" — {len(problems)} problem{'s' if len(problems) != 1 else ''} to fix"
        self.summary.setText(text)
        self.summary.setStyleSheet(css("bad") if problems else "")

        self.table.setRowCount(len(plan.estimates))
        for row, estimate in enumerate(plan.estimates.values()):
            self.table.setItem(row, 0, QTableWidgetItem(estimate.model))
            self.table.setItem(row, 1, _number(estimate.cells))
            self.table.setItem(row, 2, _number(estimate.input_tokens))
            output = _number(estimate.output_tokens)
            output.setText(f"{estimate.output_tokens:,} ({estimate.output_tokens_high:,})")
            self.table.setItem(row, 3, output)
            self.table.setItem(row, 4, _number(estimate.max_output_tokens))
            for column, cost in ((5, estimate.cost_usd), (6, estimate.worst_cost_usd)):
                shown = usd(cost)
                item = QTableWidgetItem(f"{shown} (synthetic)" if synthetic else shown)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)
        self.note.setText(_how_estimated(plan))

        self.issues.clear()
        for problem in problems[:SHOWN_PROBLEMS]:
            self._add_issue(f"✖ {problem}", color("bad"))
        if len(problems) > SHOWN_PROBLEMS:
            self._add_issue(f"… and {len(problems) - SHOWN_PROBLEMS} more problems", color("bad"))
        for warning in plan.warnings:
            self._add_issue(f"⚠ {warning}", color("warning"))
        if not problems and not plan.warnings:
            self._add_issue("✔ No problems found.", color("good"))

    def _add_issue(self, text: str, colour: QColor) -> None:
        item = QListWidgetItem(text)
        item.setForeground(QBrush(colour))
        item.setToolTip(text)
        self.issues.addItem(item)


def _how_estimated(plan: RunPlan) -> str:
    history = sum(e.history_calls for e in plan.estimates.values())
    output = (
        f"output tokens from the median (p90 in brackets) of {history:,} earlier call(s) of the "
        "same version and model"
        if history
        else f"output tokens assumed at {EXPECTED_OUTPUT_TOKENS} per call (capped by max_tokens; "
        "no earlier calls of these versions and models)"
    )
    return (
        f"Input tokens by {plan.token_source}; {output}. The worst case assumes every call "
        "writes max_tokens. Nothing is sent until you press Run."
    )
