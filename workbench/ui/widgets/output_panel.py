"""Structured output (a JSON Schema), thinking and effort, and the assistant prefill.

A thinking type or an effort the current model refuses (resources/models.yaml) is said under
the controls, as the parameters panel says it for sampling params: it is kept in the version
but not sent to that model.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from workbench.core.blocks import EFFORT_LEVELS, MIN_THINKING_BUDGET, Thinking
from workbench.core.models import Message, Params, PromptContent
from workbench.services.model_list import ModelCatalog
from workbench.ui.widgets.json_schema_edit import JsonSchemaEdit

THINKING_MODES = (("Off", None), ("Budget (enabled)", "enabled"), ("Adaptive", "adaptive"))


class OutputPanel(QWidget):
    """Output schema editor, thinking mode + budget, effort, prefill; `changed` on edits."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._catalog = ModelCatalog([])
        self._model = ""
        self.schema = JsonSchemaEdit(
            "Output schema",
            allow_empty=True,
            placeholder='Empty: free text. A JSON Schema, e.g. {"type": "object", ...}',
        )
        self.schema.editor.setMinimumHeight(self.fontMetrics().lineSpacing() * 7)
        self.thinking = QComboBox()
        self.thinking.setAccessibleName("Thinking")
        for label, kind in THINKING_MODES:
            self.thinking.addItem(label, kind)
        self.budget = QSpinBox()
        self.budget.setRange(MIN_THINKING_BUDGET, 1_000_000)
        self.budget.setSingleStep(1024)
        self.budget.setValue(4096)
        self.budget.setAccessibleName("Thinking budget tokens")
        self.effort = QComboBox()
        self.effort.setAccessibleName("Effort")
        self.effort.addItem("Default", None)
        for level in EFFORT_LEVELS:
            self.effort.addItem(level, level)
        self.prefill = QLineEdit()
        self.prefill.setAccessibleName("Assistant prefill")
        self.prefill.setPlaceholderText("Start of the answer, e.g. {  ({{variables}} allowed)")
        self.reasons = QLabel()
        self.reasons.setTextFormat(Qt.TextFormat.PlainText)
        self.reasons.setWordWrap(True)
        self.reasons.setStyleSheet("color: #6f6f6f;")
        self.reasons.setAccessibleName("Why some settings are not sent")
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Output schema", self.schema)
        form.addRow("Thinking", self.thinking)
        form.addRow("Budget tokens", self.budget)
        form.addRow("Effort", self.effort)
        form.addRow(self.reasons)
        form.addRow("Prefill", self.prefill)
        self.schema.changed.connect(self.changed)
        self.thinking.currentIndexChanged.connect(self._on_setting)
        self.budget.valueChanged.connect(self._on_setting)
        self.effort.currentIndexChanged.connect(self._on_setting)
        self.prefill.textChanged.connect(self.changed)
        self._sync()

    def set_catalog(self, catalog: ModelCatalog) -> None:
        self._catalog = catalog
        self._sync()

    def set_model(self, model: str) -> None:
        """The model the version calls, for the refusal notes."""
        self._model = model.strip()
        self._sync()

    def set_content(self, content: PromptContent) -> None:
        self.schema.set_value(content.output_schema)
        mode = content.thinking.type if content.thinking else None
        self.thinking.setCurrentIndex(max(0, self.thinking.findData(mode)))
        if content.thinking and content.thinking.budget_tokens:
            self.budget.setValue(content.thinking.budget_tokens)
        self.effort.setCurrentIndex(max(0, self.effort.findData(content.effort)))
        self.prefill.setText(content.prefill)
        self._sync()

    def raw(self) -> dict[str, Any]:
        return {
            "schema": self.schema.text(),
            "thinking": self.thinking.currentData(),
            "budget": self.budget.value(),
            "effort": self.effort.currentData(),
            "prefill": self.prefill.text(),
        }

    def thinking_value(self) -> Thinking | None:
        mode = self.thinking.currentData()
        if mode is None:
            return None
        budget = self.budget.value() if mode == "enabled" else None
        return Thinking(type=mode, budget_tokens=budget)

    def values(self) -> dict[str, Any]:
        """output_schema, thinking, effort and prefill; ValueError when the schema is invalid."""
        try:
            schema = self.schema.value()
        except ValueError as exc:
            raise ValueError(f"output schema, {exc}") from None
        return {
            "output_schema": schema,
            "thinking": self.thinking_value(),
            "effort": self.effort.currentData(),
            "prefill": self.prefill.text(),
        }

    def set_read_only(self, read_only: bool) -> None:
        self.schema.set_read_only(read_only)
        for widget in (self.thinking, self.budget, self.effort):
            widget.setEnabled(not read_only)
        self.prefill.setReadOnly(read_only)

    def _on_setting(self) -> None:
        self._sync()
        self.changed.emit()

    def _sync(self) -> None:
        self.budget.setEnabled(self.thinking.currentData() == "enabled")
        reasons = self._refusals()
        self.reasons.setVisible(bool(reasons))
        self.reasons.setText(" ".join(reasons))

    def _refusals(self) -> list[str]:
        if not self._model:
            return []
        probe = PromptContent(
            messages=[Message(role="user", content="x")],
            params=Params(model=self._model, max_tokens=max(self.budget.value() + 1, 2048)),
            thinking=self.thinking_value(),
            effort=self.effort.currentData(),
        )
        return self._catalog.accepted_thinking(self._model, probe)[2]
