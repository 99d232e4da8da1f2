"""The prompt editor's Try panel: a field per variable, one model per tier preselected, and
Ctrl+Enter runs the *unsaved* draft across them; the answers show side by side with latency,
tokens and cost. "Add as example" keeps the inputs in a dataset.

Calls go through `services.try_service` (the run engine's one call path), are logged like any
other call and are tied to the draft's content hash, never to a saved version.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from workbench.core.errors import WorkbenchError
from workbench.core.models import Example, PromptContent
from workbench.services.money import usd
from workbench.services.project_models import model_catalog
from workbench.services.project_session import Project
from workbench.services.try_service import TryAnswer, one_model_per_tier, try_draft_blocking
from workbench.ui.context import Change, ProjectChange, ProjectContext
from workbench.ui.operations import ProjectOp
from workbench.ui.theme import css, themed_style

MODEL_ROLE = Qt.ItemDataRole.UserRole
TIER_ROLE = Qt.ItemDataRole.UserRole + 1
TIER_RANK = {"haiku": 0, "sonnet": 1, "opus": 2}
# What the panel asks its editor for: the draft and the prompt's name (BadInput if invalid).
DraftSource = Callable[[], tuple[PromptContent, str | None]]


def answer_meta(answer: TryAnswer) -> str:
    """ "1.24 s · 182 in / 64 out tokens · $0.0012" (+ " · synthetic")."""
    parts = []
    if answer.latency_ms is not None:
        parts.append(f"{answer.latency_ms / 1000:.2f} s")
    if answer.input_tokens is not None or answer.output_tokens is not None:
        parts.append(f"{answer.input_tokens or 0} in / {answer.output_tokens or 0} out tokens")
    parts.append(usd(answer.cost_usd, unknown="cost unknown"))
    if answer.synthetic:
        parts.append("synthetic")
    return " · ".join(parts)


class AnswerCard(QFrame):
    """One model's answer: its id, the text (read-only, selectable) and the figures."""

    def __init__(self, answer: TryAnswer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.answer = answer
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName("tryAnswer")
        title = QLabel(answer.model)
        title.setTextFormat(Qt.TextFormat.PlainText)
        title.setStyleSheet("font-weight: bold;")
        self.text = QPlainTextEdit(answer.text if answer.error is None else answer.error)
        self.text.setReadOnly(True)
        self.text.setAccessibleName(f"Answer of {answer.model}")
        self.text.setMinimumHeight(self.text.fontMetrics().lineSpacing() * 4 + 12)
        if answer.error is not None:
            themed_style(self.text, lambda t: f"color: {t.bad.name()};")
        self.meta = QLabel(answer_meta(answer))
        self.meta.setTextFormat(Qt.TextFormat.PlainText)
        self.meta.setWordWrap(True)
        themed_style(self.meta, lambda t: f"color: {t.muted.name()};")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(title)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.meta)


class TryPanel(QWidget):
    """Try the draft `draft()` returns; `status_message(str)` reports what happened."""

    status_message = Signal(str)

    def __init__(
        self, ctx: ProjectContext, draft: DraftSource, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.draft = draft
        self.running = False
        self.answers: list[TryAnswer] = []
        self.fields: dict[str, QPlainTextEdit] = {}

        self.form = QFormLayout()
        self.no_variables = QLabel("The draft has no {{variables}}: Try sends it as it is.")
        self.no_variables.setTextFormat(Qt.TextFormat.PlainText)
        self.form.addRow(self.no_variables)
        self.models = QListWidget()
        self.models.setAccessibleName("Models to try")
        self.models.setMaximumHeight(110)
        self.try_button = QPushButton("Try draft")
        self.try_button.setToolTip("Run the unsaved draft on every checked model (Ctrl+Enter)")
        self.try_button.clicked.connect(self.try_now)
        self.datasets = QComboBox()
        self.datasets.setAccessibleName("Dataset for the example")
        self.add_button = QPushButton("Add as example")
        self.add_button.setToolTip("Save these inputs as an example of the chosen dataset")
        self.add_button.clicked.connect(self.add_as_example)

        inputs = QWidget()
        inputs_layout = QVBoxLayout(inputs)
        inputs_layout.setContentsMargins(0, 0, 0, 0)
        inputs_layout.addLayout(self.form)
        inputs_layout.addWidget(QLabel("Models"))
        inputs_layout.addWidget(self.models)
        buttons = QHBoxLayout()
        buttons.addWidget(self.try_button)
        buttons.addStretch(1)
        inputs_layout.addLayout(buttons)
        example_row = QHBoxLayout()
        example_row.addWidget(self.datasets, 1)
        example_row.addWidget(self.add_button)
        inputs_layout.addLayout(example_row)
        inputs_layout.addStretch(1)
        inputs_scroll = QScrollArea()
        inputs_scroll.setWidgetResizable(True)
        inputs_scroll.setWidget(inputs)

        self.status = QLabel("Fill in the variables, then Try (Ctrl+Enter). Nothing is saved.")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        self.answer_row = QHBoxLayout()
        answers = QWidget()
        answers_layout = QVBoxLayout(answers)
        answers_layout.setContentsMargins(0, 0, 0, 0)
        answers_layout.addWidget(self.status)
        answers_layout.addLayout(self.answer_row, 1)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(inputs_scroll)
        splitter.addWidget(answers)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 3)
        splitter.setChildrenCollapsible(False)
        inputs_scroll.setMinimumWidth(200)
        splitter.setSizes([260, 760])  # the answers get the room: they are what is compared
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        ctx.changed.connect(self._on_project_changed)
        self.reload()

    # -- choices ---------------------------------------------------------------------------------
    def reload(self) -> None:
        """Models (one per tier checked) and datasets from the open project."""
        self.models.clear()
        project = self.ctx.project
        if project is not None:
            catalog = model_catalog(project)
            chosen = set(one_model_per_tier(catalog))
            for model in catalog.models():
                item = QListWidgetItem(f"{model.display_name or model.id}  ({model.id})")
                item.setData(MODEL_ROLE, model.id)
                item.setData(TIER_ROLE, model.tier)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                checked = model.id in chosen
                item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
                self.models.addItem(item)
        self.reload_datasets()

    def reload_datasets(self) -> None:
        """The datasets "Add as example" offers (the chosen one stays chosen)."""
        current = self.datasets.currentText()
        self.datasets.clear()
        if self.ctx.project is not None:
            self.datasets.addItems(self.ctx.project.datasets.names())
        if current:
            self.datasets.setCurrentText(current)
        self._update_buttons()

    def checked_models(self) -> list[str]:
        """The checked models, cheapest tier first (answers read left to right by tier)."""
        items = [
            self.models.item(i)
            for i in range(self.models.count())
            if self.models.item(i).checkState() == Qt.CheckState.Checked
        ]
        items.sort(key=lambda item: TIER_RANK.get(item.data(TIER_ROLE), len(TIER_RANK)))
        return [item.data(MODEL_ROLE) for item in items]

    def set_variables(self, names: list[str]) -> None:
        """One field per `{{variable}}` of the draft (values typed so far are kept)."""
        if list(self.fields) == names:
            return
        kept = {name: field.toPlainText() for name, field in self.fields.items()}
        while self.form.rowCount() > 1:
            self.form.removeRow(1)
        self.fields = {}
        for name in names:
            field = QPlainTextEdit(kept.get(name, ""))
            field.setAccessibleName(f"Value of {name}")
            field.setTabChangesFocus(True)
            field.setFixedHeight(field.fontMetrics().lineSpacing() * 3 + 12)
            self.form.addRow(f"{name}", field)
            self.fields[name] = field
        self.no_variables.setVisible(not names)

    def values(self) -> dict[str, str]:
        return {name: field.toPlainText() for name, field in self.fields.items()}

    def _update_buttons(self) -> None:
        has = self.ctx.project is not None
        writable = has and not self.ctx.read_only
        self.try_button.setEnabled(writable and not self.running)
        self.add_button.setEnabled(writable and self.datasets.count() > 0)

    def _on_project_changed(self, change: ProjectChange) -> None:
        if change.touches(Change.PROJECT | Change.SETTINGS | Change.PRICES):
            self.reload()
        elif change.touches(Change.DATASETS):
            self.reload_datasets()

    # -- trying ----------------------------------------------------------------------------------
    def try_now(self) -> bool:
        """Ctrl+Enter: call the checked models with the draft; False when nothing was started."""
        if self.running or self.ctx.project is None or self.ctx.read_only:
            return False
        models = self.checked_models()
        if not models:
            self._say("Check at least one model to try.", error=True)
            return False
        try:
            content, prompt_name = self.draft()
        except WorkbenchError as exc:
            self._say(exc.user_message, error=True)
            return False
        values = self.values()
        provider = self.ctx.provider_name
        self.running = True
        self._update_buttons()
        self._say(f"Trying the draft on {len(models)} model(s)…")

        def work(project: Project) -> list[TryAnswer]:
            return try_draft_blocking(
                project,
                content,
                values,
                models,
                prompt_name=prompt_name,
                provider_name=provider,
            )

        ProjectOp(self, self.ctx, work, change=Change.RUNS).success(self._show_answers).failure(
            self._failed
        ).run()
        return True

    def _show_answers(self, answers: list[TryAnswer]) -> None:
        self.running = False
        self.answers = answers
        while self.answer_row.count():
            item = self.answer_row.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        for answer in answers:
            self.answer_row.addWidget(AnswerCard(answer), 1)
        spend = sum(a.cost_usd or 0.0 for a in answers)
        synthetic = all(a.synthetic for a in answers)
        tail = " (synthetic, offline demo)" if synthetic else ""
        self._say(
            f"{len(answers)} answer(s) to the unsaved draft · {usd(spend)} spent{tail}. "
            "Logged as a try of this draft, not as a version."
        )
        self._update_buttons()

    def _failed(self, message: str) -> None:
        self.running = False
        self._say(message, error=True)
        self._update_buttons()

    # -- keeping the inputs ----------------------------------------------------------------------
    def add_as_example(self) -> bool:
        """Save the variable values as a new example of the chosen dataset."""
        dataset = self.datasets.currentText()
        if not dataset or self.ctx.project is None:
            return False
        example = Example(vars=self.values())

        def work(project: Project) -> list[int]:
            return project.datasets.add_examples(dataset, [example])

        ProjectOp(self, self.ctx, work, change=Change.DATASETS, detail=dataset).success(
            lambda _ids: self._say(f"Added the inputs as an example of {dataset}.")
        ).failure(lambda message: self._say(message, error=True)).run()
        return True

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status.setStyleSheet(css("bad" if error else "muted"))
        self.status.setText(text)
        self.status_message.emit(text)
