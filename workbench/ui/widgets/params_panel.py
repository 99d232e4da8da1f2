"""Model and sampling-parameter controls for the prompt editor.

Parameters the chosen model refuses are disabled, with the catalog's reason as the tooltip; the
values stay in the version (the run engine does not send them) so switching models loses nothing.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QSpinBox,
    QWidget,
)

from workbench.core.errors import BadInput
from workbench.core.models import Params
from workbench.services.model_list import SAMPLING_PARAMS, ModelCatalog


def encode_stops(stops: list[str]) -> str:
    """Stop sequences one per line; newlines and backslashes inside them written as escapes."""
    return "\n".join(s.replace("\\", "\\\\").replace("\n", "\\n") for s in stops)


def decode_stops(text: str) -> list[str]:
    """Inverse of `encode_stops`; blank lines are ignored."""
    out = []
    for line in text.split("\n"):
        if not line:
            continue
        value, i = [], 0
        while i < len(line):
            if line[i] == "\\" and i + 1 < len(line) and line[i + 1] in "n\\":
                value.append("\n" if line[i + 1] == "n" else "\\")
                i += 2
            else:
                value.append(line[i])
                i += 1
        out.append("".join(value))
    return out


class ParamsPanel(QWidget):
    """Model combo (editable: ids are data) and max_tokens/temperature/top_p/top_k/stop controls."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._catalog = ModelCatalog([])
        self.model_combo = QComboBox()
        self.model_combo.setEditable(True)
        self.model_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.model_combo.setAccessibleName("Model")
        self.max_tokens = QSpinBox()
        self.max_tokens.setRange(1, 1_000_000)
        self.max_tokens.setAccessibleName("Max tokens")
        self.toggles: dict[str, QCheckBox] = {}
        self.spins: dict[str, QAbstractSpinBox] = {}
        for name, spin in (
            ("temperature", self._double(0.0, 1.0, 0.1)),
            ("top_p", self._double(0.0, 1.0, 0.05)),
            ("top_k", self._int(1, 100_000)),
        ):
            toggle = QCheckBox(name)
            toggle.setToolTip(f"Send {name} (unchecked: the model's default)")
            spin.setEnabled(False)
            spin.setAccessibleName(name)
            toggle.toggled.connect(self._on_toggle)
            self.toggles[name] = toggle
            self.spins[name] = spin
        self.stops = QPlainTextEdit()
        self.stops.setPlaceholderText("One per line (\\n for a newline)")
        self.stops.setFixedHeight(self.fontMetrics().lineSpacing() * 3 + 12)
        self.stops.setAccessibleName("Stop sequences")
        self.reasons = QLabel()
        self.reasons.setTextFormat(Qt.TextFormat.PlainText)
        self.reasons.setWordWrap(True)
        self.reasons.setStyleSheet("color: #6f6f6f;")
        self.reasons.setAccessibleName("Why some parameters are disabled")
        self.cache_system = QCheckBox("Cache the system prompt")
        self.cache_system.setToolTip("Mark the system prompt for prompt caching")

        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Model", self.model_combo)
        form.addRow("Max tokens", self.max_tokens)
        for name in SAMPLING_PARAMS:
            row = QHBoxLayout()
            row.addWidget(self.toggles[name])
            row.addWidget(self.spins[name], 1)
            form.addRow(row)
        form.addRow(self.reasons)
        form.addRow("Stop sequences", self.stops)
        form.addRow(self.cache_system)

        self.model_combo.currentTextChanged.connect(self._on_model)
        self.max_tokens.valueChanged.connect(self.changed)
        for spin in self.spins.values():
            spin.valueChanged.connect(self.changed)  # type: ignore[attr-defined]
        self.stops.textChanged.connect(self.changed)
        self.cache_system.toggled.connect(self.changed)

    @staticmethod
    def _double(low: float, high: float, step: float) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(low, high)
        spin.setSingleStep(step)
        spin.setDecimals(2)
        return spin

    @staticmethod
    def _int(low: int, high: int) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(low, high)
        return spin

    # -- data in and out ----------------------------------------------------------------------

    def set_catalog(self, catalog: ModelCatalog) -> None:
        """Offer the catalog's models (the current text is kept, known or not)."""
        self._catalog = catalog
        current = self.model_combo.currentText()
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for model in catalog.models():
            self.model_combo.addItem(model.id)
            tip = model.display_name or model.id
            if model.max_output_tokens:
                tip += f" — up to {model.max_output_tokens:,} output tokens"
            self.model_combo.setItemData(
                self.model_combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole
            )
        self.model_combo.setEditText(current)
        self.model_combo.blockSignals(False)
        self._update_capabilities()

    def set_params(self, params: Params) -> None:
        """Show `params` without emitting `changed` for each control."""
        widgets = [self.model_combo, self.max_tokens, self.stops, self.cache_system]
        widgets += [*self.toggles.values(), *self.spins.values()]
        for widget in widgets:
            widget.blockSignals(True)
        if self.model_combo.findText(params.model) < 0:
            self.model_combo.addItem(params.model)
        self.model_combo.setCurrentText(params.model)
        self.model_combo.setEditText(params.model)
        self.max_tokens.setValue(params.max_tokens)
        for name in SAMPLING_PARAMS:
            value = getattr(params, name)
            self.toggles[name].setChecked(value is not None)
            if value is not None:
                self.spins[name].setValue(value)  # type: ignore[attr-defined]
        self.stops.setPlainText(encode_stops(params.stop_sequences))
        self.cache_system.setChecked(params.cache_system)
        for widget in widgets:
            widget.blockSignals(False)
        self._update_capabilities()

    def raw(self) -> dict[str, Any]:
        """The controls' values as a params dict (not validated)."""
        out: dict[str, Any] = {
            "model": self.model_combo.currentText().strip(),
            "max_tokens": self.max_tokens.value(),
            "stop_sequences": decode_stops(self.stops.toPlainText()),
            "cache_system": self.cache_system.isChecked(),
        }
        for name in SAMPLING_PARAMS:
            checked = self.toggles[name].isChecked()
            out[name] = self.spins[name].value() if checked else None  # type: ignore[attr-defined]
        if out["temperature"] is not None:
            out["temperature"] = round(out["temperature"], 2)
        if out["top_p"] is not None:
            out["top_p"] = round(out["top_p"], 2)
        return out

    def params(self) -> Params:
        """The controls as `Params`; `BadInput` naming the field when a value is not allowed."""
        try:
            return Params.model_validate(self.raw())
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "params"
            raise BadInput(
                first["msg"], field=f"params.{field}", hint="Fix it in the Parameters panel."
            ) from None

    def set_read_only(self, read_only: bool) -> None:
        self.setEnabled(not read_only)

    # -- capabilities ---------------------------------------------------------------------------

    def reason(self, name: str) -> str | None:
        """Why `name` will not be sent to the current model (None if it will be)."""
        model = self.model_combo.currentText().strip()
        if not model:
            return None
        try:
            params = Params.model_validate(self.raw())
        except ValidationError:
            params = None
        return self._catalog.rejection_reason(model, name, params)

    def _update_capabilities(self) -> None:
        model = self.model_combo.currentText().strip()
        unknown = bool(model) and self._catalog.get(model) is None
        self.model_combo.setToolTip(
            f"{model} is not in the model list: every parameter will be sent and the API will "
            "say if it objects."
            if unknown
            else "The model id sent to the API (type any id: model ids are data)"
        )
        found = self._catalog.get(model) if model else None
        self.max_tokens.setToolTip(
            f"{model} allows up to {found.max_output_tokens:,} output tokens"
            if found and found.max_output_tokens
            else "Upper bound on the tokens the model may generate"
        )
        refused: dict[str, str] = {}
        for name in SAMPLING_PARAMS:
            why = self.reason(name)
            if why is not None:
                refused[name] = why
            toggle, spin = self.toggles[name], self.spins[name]
            toggle.setEnabled(why is None)
            spin.setEnabled(why is None and toggle.isChecked())
            tip = why or f"Send {name} (unchecked: the model's default)"
            toggle.setToolTip(tip)
            spin.setToolTip(tip)
        # The reason under the controls too, so it is seen without hovering.
        self.reasons.setVisible(bool(refused))
        if len(refused) == 1:
            self.reasons.setText(next(iter(refused.values())))
        elif refused:
            self.reasons.setText(
                f"{model} does not accept {', '.join(refused)}; they are not sent."
            )

    def _on_model(self, _text: str) -> None:
        self._update_capabilities()
        self.changed.emit()

    def _on_toggle(self, _checked: bool) -> None:
        # The temperature toggle can change whether top_p is allowed, so recheck all three.
        self._update_capabilities()
        self.changed.emit()
