"""The prompt editor: system and messages with `{{var}}` highlighting, live variables, model
parameters, "Save version" (an immutable version with a note), history, labels and diffs.

The editor always edits *from* a base version; saving stores the content as the next version
(identical content is not stored twice). Unsaved edits are guarded before anything replaces them.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.core.blocks import Tool
from workbench.core.errors import BadInput, WorkbenchError
from workbench.core.models import Message, Params, Prompt, PromptContent, PromptVersion
from workbench.core.templates import variables_of
from workbench.services.model_list import ModelCatalog
from workbench.services.project_models import model_catalog
from workbench.ui.context import Change, ProjectChange, ProjectContext
from workbench.ui.operations import ProjectOp, describe_error
from workbench.ui.theme import css
from workbench.ui.widgets.message_list import MessageList, make_text_editor
from workbench.ui.widgets.output_panel import OutputPanel
from workbench.ui.widgets.params_panel import ParamsPanel
from workbench.ui.widgets.tools_panel import ToolsPanel
from workbench.ui.widgets.try_panel import TryPanel
from workbench.ui.widgets.version_diff import VersionDiff
from workbench.ui.widgets.version_history import VersionHistory, label_badges

EDITOR_PAGE, DIFF_PAGE, EMPTY_PAGE = 0, 1, 2


def default_content(catalog: ModelCatalog) -> PromptContent:
    """What a new prompt starts with: one user message and a mid-tier model."""
    ids = catalog.ids()
    model = next((i for i in ids if "sonnet" in i), ids[0] if ids else "claude-sonnet-4-6")
    return PromptContent(
        messages=[Message(role="user", content="{{input}}")], params=Params(model=model)
    )


class PromptEditor(QWidget):
    """Edits one prompt of `ctx`'s project. Signals: `title_changed(str)`, `status_message(str)`."""

    title_changed = Signal(str)
    status_message = Signal(str)

    def __init__(self, ctx: ProjectContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.prompt: Prompt | None = None
        self.base: PromptVersion | None = None
        self._base_snapshot: dict[str, Any] | None = None
        self._catalog = ModelCatalog([])
        self._loading = False
        self.note_dialog: QInputDialog | None = None
        self.label_question: QMessageBox | None = None
        self._build()
        self.ctx.changed.connect(self._on_project_changed)
        self._show_empty()

    # -- layout ------------------------------------------------------------------------------

    def _build(self) -> None:
        self.heading = QLabel()
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setBold(True)
        self.heading.setFont(font)
        self.notice = QLabel()
        self.notice.setTextFormat(Qt.TextFormat.PlainText)
        self.notice.setWordWrap(True)
        self.compare_button = QPushButton("Compare versions")
        self.compare_button.setToolTip("Word-level diff of two versions (Ctrl+D)")
        self.compare_button.clicked.connect(self.toggle_compare)
        self.save_button = QPushButton("Save version")
        self.save_button.setToolTip("Save the edits as a new immutable version (Ctrl+S)")
        self.save_button.clicked.connect(self.save_version)
        top = QHBoxLayout()
        top.addWidget(self.heading)
        top.addWidget(self.notice, 1)
        top.addWidget(self.compare_button)
        top.addWidget(self.save_button)

        self.system_editor = make_text_editor("System prompt", "System prompt (optional)")
        self.messages = MessageList()
        texts = QWidget()
        texts_layout = QVBoxLayout(texts)
        texts_layout.addWidget(QLabel("System"))
        texts_layout.addWidget(self.system_editor, 3)  # the system prompt is usually the long one
        texts_layout.addWidget(QLabel("Messages"))
        texts_layout.addWidget(self.messages, 2)
        self.tools = ToolsPanel()
        self.output = OutputPanel()
        self.extras = QTabWidget()
        self.extras.setAccessibleName("Tools, output and thinking")
        self.extras.addTab(self.tools, "Tools")
        self.extras.addTab(self.output, "Output && thinking")
        texts_layout.addWidget(self.extras, 2)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(texts)

        self.params = ParamsPanel()
        params_box = QGroupBox("Parameters")
        QVBoxLayout(params_box).addWidget(self.params)
        self.variables = QListWidget()
        self.variables.setAccessibleName("Template variables")
        self.variables.setMinimumHeight(40)  # lets the Try panel below take the room
        self.variables_box = QGroupBox("Variables")
        QVBoxLayout(self.variables_box).addWidget(self.variables)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(params_box)
        side_layout.addWidget(self.variables_box, 1)

        side_scroll = QScrollArea()  # scrolls on a short screen instead of pushing Try away
        side_scroll.setWidgetResizable(True)
        side_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        side_scroll.setWidget(side)
        upper = QSplitter(Qt.Orientation.Horizontal)
        upper.addWidget(scroll)
        upper.addWidget(side_scroll)
        upper.setStretchFactor(0, 3)
        upper.setStretchFactor(1, 2)
        upper.setChildrenCollapsible(False)
        self.history = VersionHistory()
        history_box = QWidget()
        QVBoxLayout(history_box).addWidget(self.history)
        # The Try panel beside the history: the draft is tried without saving a version.
        self.try_panel = TryPanel(self.ctx, self._draft_for_try)
        self.lower_tabs = QTabWidget()
        self.lower_tabs.setDocumentMode(True)
        self.lower_tabs.addTab(history_box, "Version history")
        self.try_tab = self.lower_tabs.addTab(self.try_panel, "Try (Ctrl+Enter)")
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(upper)
        self.splitter.addWidget(self.lower_tabs)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setObjectName("promptEditorSplitter")

        self.diff = VersionDiff()
        self.empty = QLabel(
            "Open a prompt from the sidebar, or create one with Prompt ▸ New prompt."
        )
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.splitter)
        self.stack.addWidget(self.diff)
        self.stack.addWidget(self.empty)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)

        self.system_editor.textChanged.connect(self._on_edit)
        self.messages.changed.connect(self._on_edit)
        self.params.changed.connect(self._on_edit)
        self.params.model_combo.currentTextChanged.connect(self.output.set_model)
        self.tools.changed.connect(self._on_edit)
        self.output.changed.connect(self._on_edit)
        self.history.version_activated.connect(self._on_version_activated)
        self.history.label_requested.connect(self.set_label)
        self.history.label_removed.connect(self.remove_label)
        self.history.compare_requested.connect(self._on_compare_with)
        self.try_panel.status_message.connect(self.status_message)
        # The toggle follows the page on screen, however the page changed.
        self.stack.currentChanged.connect(self._sync_compare_button)
        # Window-wide, but only while the editor is on screen (a hidden widget's shortcut is off).
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, activated=self.try_draft)

    # -- state -------------------------------------------------------------------------------

    @property
    def prompt_name(self) -> str | None:
        return self.prompt.name if self.prompt else None

    @property
    def base_version(self) -> int | None:
        return self.base.version if self.base else None

    @property
    def is_dirty(self) -> bool:
        """Whether the editor holds edits not saved as a version (a new prompt always does)."""
        if self.prompt is None:
            return False
        return self._base_snapshot is None or self._snapshot() != self._base_snapshot

    def _snapshot(self) -> dict[str, Any]:
        return {
            "system": self.system_editor.toPlainText(),
            "messages": self.messages.values(),
            "params": self.params.raw(),
            "tools": self.tools.raw(),
            "output": self.output.raw(),
        }

    def current_content(self) -> PromptContent:
        """The edited content; `BadInput` naming the field if it is not a valid prompt."""
        params = self.params.params()
        problem = self.messages.block_problem()
        if problem:
            raise BadInput(problem, field="messages")
        try:
            tools = self.tools.tools()
        except ValueError as exc:
            raise BadInput(str(exc), field="tools") from None
        try:
            output = self.output.values()
        except ValueError as exc:
            raise BadInput(str(exc), field="output_schema") from None
        try:
            return PromptContent(
                system=self.system_editor.toPlainText(),
                messages=[Message.model_validate(m) for m in self.messages.values()],
                params=params,
                tools=[Tool.model_validate(t) for t in tools],
                tool_choice=self.tools.tool_choice(),
                **output,
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "prompt"
            raise BadInput(str(first["msg"]).removeprefix("Value error, "), field=field) from None

    def title(self) -> str:
        """Tab title: prompt, base version and a "•" while there are unsaved edits."""
        if self.prompt is None:
            return "Prompt editor"
        version = f" v{self.base.version}" if self.base else " (new)"
        return f"{self.prompt.name}{version}{' •' if self.is_dirty else ''}"

    # -- loading -----------------------------------------------------------------------------

    def show_prompt(self, name: str, version: int | None = None, *, guard: bool = True) -> bool:
        """Edit `name` from `version` (default: latest); False if the user kept unsaved edits."""
        if guard and not self.maybe_discard_changes():
            return False
        project = self.ctx.require()
        try:
            prompt = project.prompts.get(name)
        except WorkbenchError as exc:
            self._say(exc.user_message, error=True)
            return False
        self._catalog = model_catalog(project)
        self.params.set_catalog(self._catalog)
        self.output.set_catalog(self._catalog)
        self.prompt = prompt
        numbers = [v.version for v in prompt.versions]
        chosen = version if version in numbers else (numbers[-1] if numbers else None)
        self.base = next((v for v in prompt.versions if v.version == chosen), None)
        self._load_content(self.base or default_content(self._catalog))
        self._base_snapshot = self._snapshot() if self.base else None
        self.history.read_only = self.ctx.read_only
        self.history.set_prompt(prompt, chosen, self._label_history(prompt))
        self._set_read_only(self.ctx.read_only)
        self.notice.clear()
        self.stack.setCurrentIndex(EDITOR_PAGE)
        self._refresh_header()
        return True

    def _load_content(self, content: PromptContent) -> None:
        self._loading = True
        try:
            self.system_editor.setPlainText(content.system)
            self.messages.set_messages(content.messages)
            self.params.set_params(content.params)
            self.tools.set_tools(content.tools, content.tool_choice)
            self.output.set_content(content)
            self.output.set_model(content.params.model)
            self.extras.setTabText(0, f"Tools ({len(content.tools)})")
        finally:
            self._loading = False
        self._refresh_variables()

    def _label_history(self, prompt: Prompt) -> list[Any]:
        """When each label moved (for the version list); empty when it cannot be read."""
        if self.ctx.project is None:
            return []
        try:
            return list(self.ctx.project.prompts.label_history(prompt.name))
        except WorkbenchError:
            return []

    def _show_empty(self) -> None:
        self.prompt = self.base = None
        self._base_snapshot = None
        self.history.set_prompt(None)
        self.stack.setCurrentIndex(EMPTY_PAGE)
        self.notice.clear()
        self._refresh_header()

    def _set_read_only(self, read_only: bool) -> None:
        self.system_editor.setReadOnly(read_only)
        self.messages.set_read_only(read_only)
        self.params.set_read_only(read_only)
        self.tools.set_read_only(read_only)
        self.output.set_read_only(read_only)
        self.save_button.setEnabled(not read_only and self.prompt is not None)
        if read_only:
            reason = self.ctx.project.read_only_reason if self.ctx.project else None
            self.save_button.setToolTip(f"The project is read-only. {reason or ''}".strip())

    def _refresh_header(self) -> None:
        if self.prompt is None:
            self.heading.setText("No prompt open")
        else:
            labels = label_badges(self.prompt, self.base.version) if self.base else []
            where = f"editing from v{self.base.version}" if self.base else "no versions yet"
            badge = f" ({', '.join(labels)})" if labels else ""
            self.heading.setText(f"{self.prompt.name} — {where}{badge}")
        has_pair = self.prompt is not None and len(self.prompt.versions) >= 2
        self.compare_button.setEnabled(has_pair or self.stack.currentIndex() == DIFF_PAGE)
        self.save_button.setEnabled(self.prompt is not None and not self.ctx.read_only)
        self.title_changed.emit(self.title())

    def draft_variables(self) -> list[str]:
        """The `{{variables}}` of the draft in the editor (saved or not): texts, tool
        descriptions and the prefill."""
        if self.prompt is None:
            return []
        texts = [self.system_editor.toPlainText(), *self.messages.texts()]
        texts += [row.description.text() for row in self.tools.rows]
        texts.append(self.output.prefill.text())
        return variables_of(texts)

    def _refresh_variables(self) -> None:
        names = self.draft_variables()
        self.try_panel.set_variables(names)
        self.variables.clear()
        self.variables.addItems([f"{{{{{n}}}}}" for n in names])
        self.variables_box.setTitle(f"Variables ({len(names)})")

    def _on_edit(self) -> None:
        if self._loading:
            return
        self._refresh_variables()
        self._refresh_header()
        self.extras.setTabText(0, f"Tools ({len(self.tools.rows)})")

    # -- trying the draft --------------------------------------------------------------------

    def _draft_for_try(self) -> tuple[PromptContent, str | None]:
        return self.current_content(), self.prompt_name

    def try_draft(self) -> bool:
        """Ctrl+Enter: run the unsaved draft across the Try panel's models."""
        if self.prompt is None:
            return False
        self.lower_tabs.setCurrentIndex(self.try_tab)
        total = sum(self.splitter.sizes())
        if self.splitter.sizes()[1] < total // 2:
            # Room for the answers: the Try panel gets the larger share while it is in use.
            upper = max(self.splitter.widget(0).minimumSizeHint().height(), total * 2 // 5)
            self.splitter.setSizes([upper, max(0, total - upper)])
        return self.try_panel.try_now()

    def _say(self, text: str, *, error: bool = False) -> None:
        self.notice.setStyleSheet(css("bad" if error else "muted"))
        self.notice.setText(text)
        self.status_message.emit(text)

    # -- saving ------------------------------------------------------------------------------

    def _existing_with_same_content(self, content: PromptContent) -> PromptVersion | None:
        digest = content.content_hash()
        versions = self.prompt.versions if self.prompt else []
        return next((v for v in versions if v.hash == digest), None)

    def save_version(self) -> QInputDialog | None:
        """Ctrl+S: check the edits, then ask for a note (non-blocking); None if nothing to ask."""
        if self.prompt is None or self.ctx.read_only:
            return None
        try:
            content = self.current_content()
        except BadInput as exc:
            self._say(f"Not saved: {exc.user_message}", error=True)
            return None
        same = self._existing_with_same_content(content)
        if same is not None:
            self._say(f"No changes: this is v{same.version}.")
            return None
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Save version")
        dialog.setLabelText(f"What changed in {self.prompt.name}? (a note kept with the version)")
        dialog.textValueSelected.connect(self.save_with_note)
        dialog.finished.connect(dialog.deleteLater)
        self.note_dialog = dialog
        dialog.open()
        return dialog

    def save_with_note(self, note: str, *, wait: bool = False) -> bool:
        """Store the edits as the next version with `note` (in the background) and edit from it.

        False when there was nothing to save or the edits do not validate; with `wait`, also
        when the write failed (the caller learns the outcome before it goes on).
        """
        if self.prompt is None:
            return False
        try:
            content = self.current_content()
        except WorkbenchError as exc:
            self._say(f"Not saved: {exc.user_message}", error=True)
            return False
        name = self.prompt.name

        def saved(result: tuple[PromptVersion, bool]) -> None:
            version, created = result
            if self.prompt is not None and self.prompt.name == name:
                self.show_prompt(name, version.version, guard=False)
            self._say(
                f"Saved {name} v{version.version}."
                if created
                else f"No changes: this is v{version.version}."
            )

        op = ProjectOp(
            self,
            self.ctx,
            lambda project: project.prompts.save_version(name, content, note=note.strip()),
            change=Change.PROMPTS,
            detail=name,
        )
        op.success(saved).failure(lambda message: self._say(f"Not saved: {message}", error=True))
        if wait:
            return op.run_and_wait()
        op.run()
        return True

    def maybe_discard_changes(self) -> bool:
        """Before edits are replaced: Save / Discard / Cancel. True when it is fine to go on."""
        if not self.is_dirty or self.ctx.read_only:
            return True
        assert self.prompt is not None
        answer = QMessageBox.question(
            self,
            "Unsaved changes",
            f"{self.prompt.name} has edits that are not saved as a version. Save them now?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Discard:
            return True
        if answer != QMessageBox.StandardButton.Save:
            return False
        note, ok = QInputDialog.getText(
            self, "Save version", "What changed? (a note kept with the version)"
        )
        return bool(ok) and self.save_with_note(note, wait=True)

    # -- labels ------------------------------------------------------------------------------

    def set_label(self, label: str, version: int, *, confirmed: bool = False) -> QMessageBox | None:
        """Point `label` at `version` of the open prompt; moving `production` asks first
        (returns the question, answered later) since production apps serve that version."""
        if self.prompt is None:
            return None
        current = self.prompt.labels.get(label)
        if label == "production" and not confirmed and current != version:
            was = f" from v{current}" if current is not None else ""
            box = QMessageBox(
                QMessageBox.Icon.Question,
                "Move production",
                f"Move 'production' of {self.prompt.name}{was} to v{version}? Apps that load the "
                "production config serve v{version} after the next export; the move is recorded "
                "in the label history.".replace("{version}", str(version)),
                QMessageBox.StandardButton.Cancel,
                self,
            )
            move = box.addButton("Move production", QMessageBox.ButtonRole.AcceptRole)
            box.setDefaultButton(QMessageBox.StandardButton.Cancel)
            box.buttonClicked.connect(
                lambda button: (
                    self.set_label(label, version, confirmed=True) if button is move else None
                )
            )
            box.finished.connect(box.deleteLater)
            self.label_question = box
            box.open()
            return box
        self._store_label(label, version)
        return None

    def _store_label(self, label: str, version: int) -> None:
        assert self.prompt is not None
        name = self.prompt.name
        ProjectOp(
            self,
            self.ctx,
            lambda project: project.prompts.set_label(name, label, version),
            change=Change.PROMPTS,
            detail=name,
        ).success(lambda _: self._say(f"'{label}' now points at {name} v{version}.")).failure(
            lambda message: self._say(message, error=True)
        ).run()

    def remove_label(self, label: str) -> None:
        if self.prompt is None:
            return
        name = self.prompt.name
        ProjectOp(
            self,
            self.ctx,
            lambda project: project.prompts.remove_label(name, label),
            change=Change.PROMPTS,
            detail=name,
        ).success(lambda _: self._say(f"Removed '{label}' from {name}.")).failure(
            lambda message: self._say(message, error=True)
        ).run()

    def show_label_menu(self) -> None:
        """Prompt ▸ Move label…: the label menu of the selected version."""
        if self.prompt is not None:
            self.stack.setCurrentIndex(EDITOR_PAGE)
            self.history.setFocus()
            self.history.popup_label_menu()

    def _reload_prompt(self) -> None:
        """Re-read versions and labels from the project, keeping the edits in the widgets."""
        if self.prompt is None or self.ctx.project is None:
            return
        try:
            self.prompt = self.ctx.project.prompts.get(self.prompt.name)
        except WorkbenchError:
            self._show_empty()
            return
        selected = self.history.current_version()
        self.history.read_only = self.ctx.read_only
        self.history.set_prompt(self.prompt, self.base_version, self._label_history(self.prompt))
        if selected is not None:
            self.history.select_version(selected)
        self._refresh_header()

    # -- comparing ---------------------------------------------------------------------------

    def compare(self, left: int | None = None, right: int | None = None) -> None:
        """Show the word diff of two versions (default: the base and the one before it)."""
        if self.prompt is None or not self.prompt.versions:
            return
        self.diff.set_prompt(self.prompt, left, right if right is not None else self.base_version)
        self.stack.setCurrentIndex(DIFF_PAGE)
        self._refresh_header()

    def close_compare(self) -> None:
        self.stack.setCurrentIndex(EDITOR_PAGE if self.prompt else EMPTY_PAGE)
        self._refresh_header()

    def _sync_compare_button(self, page: int) -> None:
        diffing = page == DIFF_PAGE
        self.compare_button.setText("Back to editor" if diffing else "Compare versions")
        self.compare_button.setToolTip(
            "Back to the editor (Ctrl+D)" if diffing else "Word-level diff of two versions (Ctrl+D)"
        )

    def toggle_compare(self) -> None:
        """Ctrl+D: open the diff view, or go back to the editor."""
        if self.stack.currentIndex() == DIFF_PAGE:
            self.close_compare()
        else:
            self.compare()

    def _on_compare_with(self, version: int) -> None:
        base = self.base_version
        if base is not None:
            self.compare(min(version, base), max(version, base))

    # -- reacting ----------------------------------------------------------------------------

    def _on_version_activated(self, version: int) -> None:
        if self.prompt is not None and version != self.base_version:
            self.show_prompt(self.prompt.name, version)

    def _on_project_changed(self, change: ProjectChange) -> None:
        try:
            if change.touches(Change.PROJECT):
                self._show_empty()
            elif (
                change.touches(Change.PROMPTS)
                and self.prompt is not None
                and change.detail in (None, self.prompt.name)
            ):
                self._reload_prompt()
            elif (
                change.touches(Change.PRICES | Change.SETTINGS | Change.API_KEY | Change.EXPORT)
                and self.prompt is not None
                and self.ctx.project
            ):
                self._catalog = model_catalog(self.ctx.project)
                self.params.set_catalog(self._catalog)
        except WorkbenchError as exc:  # a refresh must never take the window down
            self._say(describe_error(exc), error=True)

    def new_prompt(self) -> QInputDialog | None:
        """Ask for a name (non-blocking), create the prompt and open it for its first version."""
        if self.ctx.project is None or self.ctx.read_only or not self.maybe_discard_changes():
            return None
        dialog = QInputDialog(self)
        dialog.setWindowTitle("New prompt")
        dialog.setLabelText("Prompt name (letters, digits, '_', '.', '-'):")
        dialog.textValueSelected.connect(self.create_prompt)
        dialog.finished.connect(dialog.deleteLater)
        self.note_dialog = dialog
        dialog.open()
        return dialog

    def create_prompt(self, name: str) -> None:
        """Create an empty prompt called `name` (in the background) and open it.

        Its first save makes v1; a refused name is reported in the notice line.
        """
        name = name.strip()

        def created(_: object) -> None:
            self.show_prompt(name, guard=False)
            self._say("New prompt: write it, then Save version (Ctrl+S) to create v1.")

        ProjectOp(
            self,
            self.ctx,
            lambda project: project.prompts.create(name),
            change=Change.PROMPTS,
            detail=name,
        ).success(created).failure(lambda message: self._say(message, error=True)).run()
