"""Tools a prompt version offers the model: name, description and input schema each, plus
tool_choice. Schemas are checked as they are typed (json_schema_edit)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from workbench.core.blocks import Tool, ToolChoice
from workbench.ui.widgets.json_schema_edit import JsonSchemaEdit

DEFAULT_SCHEMA = {"type": "object", "properties": {}, "required": []}
# tool_choice entries before the per-tool ones: (label, type)
CHOICES = (("API default (auto)", None), ("auto", "auto"), ("any tool", "any"), ("no tool", "none"))


class ToolRow(QFrame):
    """One tool: name, description ({{variables}} allowed) and its input JSON Schema."""

    changed = Signal()
    remove_requested = Signal(object)

    def __init__(self, index: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel()
        self.name = QLineEdit()
        self.name.setPlaceholderText("lookup_order")
        self.description = QLineEdit()
        self.description.setPlaceholderText("What the tool does; {{variables}} are filled in")
        self.schema = JsonSchemaEdit(f"Tool {index + 1} input schema", allow_empty=False)
        self.schema.editor.setMinimumHeight(self.fontMetrics().lineSpacing() * 7)
        self.remove = QPushButton("Remove")
        self.remove.setToolTip("Remove this tool")
        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addStretch(1)
        header.addWidget(self.remove)
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Description", self.description)
        form.addRow("Input schema", self.schema)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 6)
        layout.addLayout(header)
        layout.addLayout(form)
        self.set_index(index)
        self.name.textChanged.connect(self.changed)
        self.description.textChanged.connect(self.changed)
        self.schema.changed.connect(self.changed)
        self.remove.clicked.connect(lambda: self.remove_requested.emit(self))

    def set_index(self, index: int) -> None:
        self.title.setText(f"Tool {index + 1}")
        self.name.setAccessibleName(f"Tool {index + 1} name")
        self.description.setAccessibleName(f"Tool {index + 1} description")

    def raw(self) -> dict[str, Any]:
        return {
            "name": self.name.text(),
            "description": self.description.text(),
            "schema": self.schema.text(),
        }


class ToolsPanel(QWidget):
    """The tool rows, "Add tool" and the tool_choice combo; `changed` on any edit."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[ToolRow] = []
        self.choice = QComboBox()
        self.choice.setAccessibleName("Tool choice")
        self.choice.setToolTip("tool_choice: how the model may use the tools")
        self.add_button = QPushButton("Add tool")
        self.add_button.clicked.connect(lambda: self.add_tool())
        top = QHBoxLayout()
        top.addWidget(QLabel("Tool choice"))
        top.addWidget(self.choice, 1)
        top.addWidget(self.add_button)
        self._rows = QVBoxLayout()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(self._rows)
        layout.addStretch(1)
        self._fill_choices(None)
        self.choice.currentIndexChanged.connect(self.changed)

    def set_tools(self, tools: list[Tool], choice: ToolChoice | None) -> None:
        for row in list(self.rows):
            self._drop(row)
        for tool in tools:
            row = self.add_tool(emit=False)
            row.name.setText(tool.name)
            row.description.setText(tool.description)
            row.schema.set_value(tool.input_schema)
        self._fill_choices(choice)

    def add_tool(self, *, emit: bool = True) -> ToolRow:
        row = ToolRow(len(self.rows), self)
        row.schema.set_value(DEFAULT_SCHEMA)
        row.changed.connect(self._on_row_changed)
        row.remove_requested.connect(self.remove_tool)
        self.rows.append(row)
        self._rows.addWidget(row)
        if emit:
            self._fill_choices(self.tool_choice())
            self.changed.emit()
        return row

    def remove_tool(self, row: ToolRow) -> None:
        self._drop(row)
        self._fill_choices(self.tool_choice())
        self.changed.emit()

    def _drop(self, row: ToolRow) -> None:
        self.rows.remove(row)
        row.hide()
        self._rows.removeWidget(row)
        row.deleteLater()
        for i, other in enumerate(self.rows):
            other.set_index(i)

    def _on_row_changed(self) -> None:
        self._fill_choices(self.tool_choice())
        self.changed.emit()

    def _fill_choices(self, current: ToolChoice | None) -> None:
        """The combo: the fixed choices, then "tool: NAME" for each named tool."""
        self.choice.blockSignals(True)
        self.choice.clear()
        for label, kind in CHOICES:
            self.choice.addItem(label, (kind, None))
        for row in self.rows:
            name = row.name.text().strip()
            if name:
                self.choice.addItem(f"tool: {name}", ("tool", name))
        wanted = (current.type, current.name) if current else (None, None)
        index = next(
            (i for i in range(self.choice.count()) if tuple(self.choice.itemData(i)) == wanted), 0
        )
        self.choice.setCurrentIndex(index)
        self.choice.blockSignals(False)

    def tool_choice(self) -> ToolChoice | None:
        kind, name = self.choice.currentData() or (None, None)
        return None if kind is None else ToolChoice(type=kind, name=name)

    def raw(self) -> dict[str, Any]:
        return {"tools": [r.raw() for r in self.rows], "choice": self.choice.currentData()}

    def tools(self) -> list[dict[str, Any]]:
        """The tools as data; ValueError naming the tool and the problem when one is invalid."""
        out = []
        for index, row in enumerate(self.rows):
            try:
                schema = row.schema.value()
            except ValueError as exc:
                raise ValueError(f"tool {index + 1} input schema, {exc}") from None
            out.append(
                {
                    "name": row.name.text().strip(),
                    "description": row.description.text(),
                    "input_schema": schema,
                }
            )
        return out

    def set_read_only(self, read_only: bool) -> None:
        self.add_button.setEnabled(not read_only)
        self.choice.setEnabled(not read_only)
        for row in self.rows:
            row.name.setReadOnly(read_only)
            row.description.setReadOnly(read_only)
            row.schema.set_read_only(read_only)
            row.remove.setEnabled(not read_only)
