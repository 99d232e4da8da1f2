"""Moving examples in and out of the dataset editor: copy and paste with a spreadsheet
(tab-separated, header row optional), import CSV / JSONL through a preview, export CSV.

A mixin of `DatasetEditor`: it uses the editor's model, table, `_insert` (an undoable add) and
`_report` (the status line).
"""

from __future__ import annotations

import re
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
from workbench.services.datasets import free_dataset_name, new_dataset
from workbench.services.line_ranges import skipped_line_count
from workbench.services.project_session import Project
from workbench.ui.context import Change
from workbench.ui.dialogs.import_dialog import ImportDialog
from workbench.ui.operations import Operation, ProjectOp, describe_error

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
        if self.ctx.project is None or self.ctx.read_only:
            return
        path, _ = QFileDialog.getOpenFileName(self, "Import examples", "", IMPORT_FILTER)
        if not path:
            return
        self._report(f"Reading {path}…")
        Operation(self, lambda: parse_file(Path(path))).success(
            lambda result: self._show_import(result, path)
        ).failure(lambda exc: self._report(describe_error(exc), error=True)).run()

    def _show_import(self: DatasetEditor, result: ParseResult, path: str) -> ImportDialog | None:
        """The preview; Import adds the rows to the open dataset or to a new one."""
        project = self.ctx.project
        if project is None:
            return None
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(path).stem).strip("-.") or "imported"
        dialog = ImportDialog(
            result,
            path,
            self.dataset,
            self,
            used_variables=self.used_variables(),
            new_name=free_dataset_name(project, stem),
        )
        dialog.accepted.connect(lambda: self._import_accepted(dialog, result))
        dialog.finished.connect(dialog.deleteLater)
        self.import_dialog = dialog
        skipped = skipped_line_count(result)
        self._report(f"{len(result.examples)} example(s) read, {skipped} line(s) to skip.")
        dialog.open()
        return dialog

    def _import_accepted(self: DatasetEditor, dialog: ImportDialog, result: ParseResult) -> None:
        target = dialog.target_dataset()
        examples = dialog.examples()
        if target is not None:
            self._insert(len(self.model.rows), examples, f"Import {len(examples)} example(s)")
            return
        name = dialog.new_dataset_name()

        def work(project: Project) -> str:
            created = new_dataset(project, name)
            project.datasets.add_examples(created, examples)
            return created

        ProjectOp(self, self.ctx, work, change=Change.DATASETS).success(
            self._open_imported
        ).failure(lambda message: self._report(message, error=True)).run()

    def _open_imported(self: DatasetEditor, name: str) -> None:
        self.dataset_created.emit(name)
        self.show_dataset(name)
        self._report(f"Imported into the new dataset {name}.")

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
