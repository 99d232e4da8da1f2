"""Moving examples in and out of the dataset editor: copy and paste with a spreadsheet
(tab-separated, header row optional), import CSV / JSONL through a preview, export CSV.

A mixin of `DatasetEditor`: it uses the editor's model, table, `_insert` (an undoable add) and
`_report` (the status line).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QApplication, QFileDialog

from workbench.services.dataset_io import (
    ParseResult,
    export_csv,
    neutralise,
    parse_file,
    parse_pasted,
    table_rows,
)
from workbench.ui.dialogs.import_dialog import ImportDialog
from workbench.ui.operations import Operation, describe_error

if TYPE_CHECKING:
    from workbench.ui.widgets.dataset_editor import DatasetEditor

IMPORT_FILTER = "Data files (*.csv *.tsv *.jsonl *.ndjson *.json);;All files (*)"


class DatasetTransfer:
    """Clipboard and file actions for `DatasetEditor`."""

    def copy_rows(self: DatasetEditor) -> None:
        keys = self.selected_keys()
        if not keys:
            return
        header, rows = table_rows([self.model.rows[self.model.row_of(k)].example for k in keys])
        # Neutralised like a CSV export: a spreadsheet would run "=..." pasted into it.
        lines = ["\t".join(_tsv_cell(neutralise(c)) for c in line) for line in [header, *rows]]
        QApplication.clipboard().setText("\n".join(lines) + "\n")
        self._report(f"Copied {len(keys)} row(s) with a header row.")

    def paste(self: DatasetEditor) -> None:
        text = QApplication.clipboard().text()
        if self.dataset is None or not text.strip():
            return
        single = text.rstrip("\r\n")
        current = self.table.currentIndex()
        if current.isValid() and "\t" not in single and "\n" not in single:
            # One value onto one cell, as in a spreadsheet.
            self.model.setData(current, single)
            return
        columns = [*self.model.variables(), "tags", "note"]
        result = parse_pasted(text, columns)
        keys = self.selected_keys()
        position = self.model.row_of(keys[-1]) + 1 if keys else len(self.model.rows)
        self._insert(position, result.examples, f"Paste {len(result.examples)} example(s)")
        if result.errors:
            self._report(
                f"Pasted {len(result.examples)} row(s); skipped: {result.describe_errors()}",
                error=True,
            )

    # -- files -------------------------------------------------------------------------------
    def import_file(self: DatasetEditor) -> None:
        if self.dataset is None:
            return
        path, _ = QFileDialog.getOpenFileName(self, "Import examples", "", IMPORT_FILTER)
        if not path:
            return
        self._report(f"Reading {path}…")
        Operation(self, lambda: parse_file(Path(path))).success(
            lambda result: self._show_import(result, path)
        ).failure(lambda exc: self._report(describe_error(exc), error=True)).run()

    def _show_import(self: DatasetEditor, result: ParseResult, path: str) -> None:
        if self.dataset is None:
            return
        dialog = ImportDialog(result, path, self.dataset, self)
        dialog.accepted.connect(
            lambda: self._insert(
                len(self.model.rows), dialog.examples(), f"Import {len(result.examples)} example(s)"
            )
        )
        dialog.finished.connect(dialog.deleteLater)
        self.import_dialog = dialog
        self._report(f"{len(result.examples)} example(s) read, {len(result.errors)} error(s).")
        dialog.open()

    def export_file(self: DatasetEditor) -> None:
        if self.dataset is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Export examples as CSV", f"{self.dataset}.csv", "CSV files (*.csv)"
        )
        if not path:
            return
        examples = [row.example for row in self.model.rows]
        Operation(self, lambda: export_csv(examples, Path(path))).success(
            lambda _: self._report(f"Exported {len(examples)} example(s) to {path}.")
        ).failure(lambda exc: self._report(describe_error(exc), error=True)).run()


def _tsv_cell(text: str) -> str:
    # Spreadsheets quote cells holding tabs, newlines or quotes in copied text; do the same.
    if any(ch in text for ch in '\t\n\r"'):
        return '"' + text.replace('"', '""') + '"'
    return text
