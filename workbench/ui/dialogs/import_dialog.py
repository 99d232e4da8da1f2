"""Preview of a CSV / JSONL import: the rows that parsed, and every bad line with its reason.

Nothing is written until the user presses Import; lines with errors are skipped, and the button
says so. Values are shown as plain text.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.core.models import Example
from workbench.services.dataset_io import ParseResult
from workbench.services.line_ranges import (
    describe_skipped,
    empty_value_warnings,
    skipped_line_count,
)
from workbench.ui.theme import color

PREVIEW_ROWS = 500


def _item(text: str) -> QTableWidgetItem:
    item = QTableWidgetItem(text.replace("\n", " ⏎ ") if len(text) < 500 else text[:500] + "…")
    item.setToolTip(text[:2000])
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    return item


class ImportDialog(QDialog):
    """Shows a `ParseResult` for `source`; `examples()` is what Import will add."""

    def __init__(
        self,
        result: ParseResult,
        source: str,
        dataset: str | None,
        parent: QWidget | None = None,
        *,
        used_variables: Sequence[str] = (),
        new_name: str = "imported",
    ) -> None:
        super().__init__(parent)
        self.result = result
        self.setWindowTitle("Import examples")
        self.resize(900, 560)
        count, bad = len(result.examples), skipped_line_count(result)
        # Into the open dataset, or a new one (the only choice when none is open).
        self.target = QComboBox()
        self.target.setAccessibleName("Import into")
        if dataset is not None:
            self.target.addItem(f"the open dataset '{dataset}'", dataset)
        self.target.addItem("a new dataset named…", None)
        self.new_name = QLineEdit(new_name)
        self.new_name.setAccessibleName("Name of the new dataset")
        self.target.currentIndexChanged.connect(
            lambda _i: self.new_name.setEnabled(self.target.currentData() is None)
        )
        self.new_name.setEnabled(self.target.currentData() is None)
        target_row = QHBoxLayout()
        target_row.addWidget(QLabel("Import into"))
        target_row.addWidget(self.target)
        target_row.addWidget(self.new_name, 1)

        heading = QLabel(f"From {source} (read as {result.encoding})")
        heading.setTextFormat(Qt.TextFormat.PlainText)
        heading.setWordWrap(True)
        self.summary = QLabel(
            f"{count} example{'s' if count != 1 else ''} ready to import"
            + (f" · {bad} line{'s' if bad != 1 else ''} with errors will be skipped" if bad else "")
        )
        self.summary.setTextFormat(Qt.TextFormat.PlainText)

        self.errors = QListWidget()
        self.errors.setAccessibleName("Lines that could not be imported")
        for text in describe_skipped(result):
            item = QListWidgetItem(text[0].upper() + text[1:])
            item.setForeground(QBrush(color("bad")))
            item.setToolTip(text)
            self.errors.addItem(item)
        self.warnings = QListWidget()
        self.warnings.setAccessibleName("Warnings about the rows that import")
        for text in empty_value_warnings(result.examples, result.lines, used_variables):
            item = QListWidgetItem("⚠ " + text[0].upper() + text[1:])
            item.setForeground(QBrush(color("warning")))
            self.warnings.addItem(item)
        self.warnings.setVisible(self.warnings.count() > 0)
        self.warnings.setMaximumHeight(self.warnings.fontMetrics().lineSpacing() * 4 + 12)
        errors_box = QWidget()
        errors_layout = QVBoxLayout(errors_box)
        errors_layout.setContentsMargins(0, 0, 0, 0)
        errors_title = QLabel(f"Skipped lines ({bad}) — fix them in the file and import again")
        errors_title.setStyleSheet(f"color: {color('bad').name()}; font-weight: bold;")
        errors_layout.addWidget(errors_title)
        errors_layout.addWidget(self.errors)
        errors_box.setVisible(bool(bad))

        self.preview = self._make_preview(result)
        preview_box = QWidget()
        preview_layout = QVBoxLayout(preview_box)
        preview_layout.setContentsMargins(0, 0, 0, 0)
        shown = min(count, PREVIEW_ROWS)
        preview_layout.addWidget(
            QLabel(f"Preview ({shown} of {count})" if shown < count else "Preview")
        )
        preview_layout.addWidget(self.preview)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(errors_box)
        splitter.addWidget(preview_box)
        # The error list only as tall as its first few lines; the preview takes the rest.
        line = self.errors.fontMetrics().lineSpacing() + 6
        splitter.setSizes([line * min(max(bad, 1), 8) + 40, 400])
        splitter.setStretchFactor(1, 3)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        label = f"Import {count} example{'s' if count != 1 else ''}"
        if bad:
            label = f"Import {count}, skip {bad} bad line{'s' if bad != 1 else ''}"
        self.import_button = self.buttons.addButton(label, QDialogButtonBox.ButtonRole.AcceptRole)
        self.import_button.setEnabled(count > 0)
        self.import_button.setDefault(count > 0 and not bad)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addLayout(target_row)
        layout.addWidget(self.summary)
        layout.addWidget(self.warnings)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.buttons)

    @staticmethod
    def _make_preview(result: ParseResult) -> QTableWidget:
        headers = ["Line", *result.columns, "Tags", "Note"]
        rows = list(zip(result.lines, result.examples, strict=True))[:PREVIEW_ROWS]
        table = QTableWidget(len(rows), len(headers))
        table.setAccessibleName("Rows to import")
        table.setHorizontalHeaderLabels(headers)
        table.verticalHeader().setVisible(False)
        table.setWordWrap(False)
        for r, (line, example) in enumerate(rows):
            table.setItem(r, 0, _item(str(line)))
            for c, name in enumerate(result.columns, start=1):
                table.setItem(r, c, _item(example.vars.get(name, "")))
            table.setItem(r, len(headers) - 2, _item(", ".join(example.tags)))
            table.setItem(r, len(headers) - 1, _item(example.note))
        table.resizeColumnsToContents()
        for c in range(1, table.columnCount()):
            table.setColumnWidth(c, max(140, min(table.columnWidth(c), 320)))
        table.horizontalHeader().setStretchLastSection(True)
        return table

    def examples(self) -> list[Example]:
        return list(self.result.examples)

    def target_dataset(self) -> str | None:
        """The open dataset chosen, or None for a new one (named `new_dataset_name()`)."""
        return self.target.currentData()

    def new_dataset_name(self) -> str:
        return self.new_name.text().strip()
