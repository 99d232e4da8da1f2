""" "Export eval set": a dataset as a promptfoo config (with the chosen prompt and models) or as
JSONL, written by the same service functions as `workbench export --format promptfoo|jsonl`
(`services.eval_exports`, through the one atomic writer)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from workbench.services.eval_exports import export_jsonl, export_promptfoo
from workbench.services.project_session import Project
from workbench.ui.context import ProjectContext
from workbench.ui.operations import ProjectOp
from workbench.ui.widgets.eval_run_dialog import prompt_refs
from workbench.ui.widgets.eval_views import _note

FORMATS = {"promptfoo": ("promptfoo config (YAML)", ".yaml"), "jsonl": ("JSONL cases", ".jsonl")}


class EvalExportDialog(QDialog):
    """Choose the eval set, the format and the file; Export writes it in the background."""

    def __init__(self, ctx: ProjectContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export eval set")
        self.ctx = ctx
        self.written: Path | None = None
        project = ctx.require()
        self.format = QComboBox()
        self.format.setAccessibleName("Format")
        for key, (text, _suffix) in FORMATS.items():
            self.format.addItem(text, key)
        self.dataset = QComboBox()
        self.dataset.setAccessibleName("Dataset")
        self.dataset.addItems(project.datasets.names())
        self.prompt = QComboBox()
        self.prompt.setAccessibleName("Prompt version or label (promptfoo)")
        self.prompt.addItems(prompt_refs(project))
        production = self.prompt.findText("@production", Qt.MatchFlag.MatchEndsWith)
        self.prompt.setCurrentIndex(max(0, production))
        self.models = QLineEdit()
        self.models.setAccessibleName("Models (promptfoo)")
        self.models.setPlaceholderText("comma-separated; empty: each version's own model")
        self.path = QLineEdit()
        self.path.setAccessibleName("File")
        browse = QPushButton("&Browse…")
        browse.clicked.connect(self._browse)
        where = QHBoxLayout()
        where.addWidget(self.path, 1)
        where.addWidget(browse)
        form = QFormLayout()
        form.addRow("&Format", self.format)
        form.addRow("&Dataset", self.dataset)
        form.addRow("&Prompt", self.prompt)
        form.addRow("&Models", self.models)
        form.addRow("F&ile", where)
        self.status = _note()
        buttons = QDialogButtonBox()
        self.export_button = buttons.addButton("&Export", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.export_button.clicked.connect(self.export)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.format.currentIndexChanged.connect(self._on_format)
        self.dataset.currentTextChanged.connect(lambda _t: self._suggest_path())
        self._on_format()
        self.resize(620, 280)

    def _on_format(self) -> None:
        promptfoo = self.format.currentData() == "promptfoo"
        self.prompt.setEnabled(promptfoo)
        self.models.setEnabled(promptfoo)
        self._suggest_path()

    def _suggest_path(self) -> None:
        project = self.ctx.project
        if project is None:
            return
        suffix = FORMATS[self.format.currentData()][1]
        current = Path(self.path.text()) if self.path.text() else None
        folder = current.parent if current is not None else project.path.parent
        name = f"{self.dataset.currentText() or 'eval'}-{self.format.currentData()}{suffix}"
        self.path.setText(str(folder / name))

    def _browse(self) -> None:
        chosen, _ = QFileDialog.getSaveFileName(self, "Export eval set", self.path.text())
        if chosen:
            self.path.setText(chosen)

    def export(self) -> None:
        """Write the chosen file (the project is only read)."""
        fmt, dataset = self.format.currentData(), self.dataset.currentText()
        target = Path(self.path.text().strip()) if self.path.text().strip() else None
        if not dataset or target is None:
            self.status.setText("Choose a dataset and a file first.")
            return
        prompt = self.prompt.currentText()
        models = [m.strip() for m in self.models.text().split(",") if m.strip()] or None

        def work(own: Project) -> str:
            if fmt == "jsonl":
                return f"{export_jsonl(own, dataset, target)} case(s)"
            config = export_promptfoo(own, dataset, [prompt], target, models)
            return f"{len(config['tests'])} test(s) × {len(config['providers'])} provider(s)"

        self.status.setText("Exporting…")
        ProjectOp(self, self.ctx, work).success(lambda what: self._done(target, what)).failure(
            self.status.setText
        ).run()

    def _done(self, target: Path, what: str) -> None:
        self.written = target
        self.status.setText(f"Wrote {what} to {target}.")
