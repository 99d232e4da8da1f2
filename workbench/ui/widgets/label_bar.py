"""The strip under the run grid (and in the review queue): the selected call's label — verdict,
rating, failure tags, note — and the labeling keys.

`label_badge` is the short form the grid cells show ("✓ 4★ [tone]"); it is plain text, like every
label a person typed.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from workbench.core.errors import WorkbenchError
from workbench.services.project_session import CallLabel
from workbench.ui.context import Change, ProjectChange, ProjectContext
from workbench.ui.theme import themed_style

KEY_HINT = "J/K move · P pass · F fail · 1–5 rate · T tag · N note · E promote · U clear"
REVIEW_KEY_HINT = (
    "Space/J next · Backspace/K previous · P pass · F fail · 1–5 rate · T tag · N note · "
    "E promote · U clear"
)
PASS_MARK, FAIL_MARK, STAR, NOTE_MARK = "✓", "✗", "★", "✎"
MESSAGE_MS = 6000
NOTE_PREVIEW = 80


def label_badge(label: CallLabel | None) -> str:
    """The compact form for a grid cell: "✓ 4★ [tone, length] ✎" ("" when unlabelled)."""
    if label is None:
        return ""
    parts = []
    if label.verdict == "pass":
        parts.append(PASS_MARK)
    elif label.verdict == "fail":
        parts.append(FAIL_MARK)
    if label.rating is not None:
        parts.append(f"{label.rating}{STAR}")
    if label.tags:
        parts.append(f"[{', '.join(label.tags)}]")
    if label.note.strip():
        parts.append(NOTE_MARK)
    return " ".join(parts)


def label_summary(label: CallLabel | None) -> str:
    """The long form for the bar: "✓ pass · 4★ · tags: tone · note: too chatty"."""
    if label is None:
        return "not labelled yet"
    parts = []
    if label.verdict == "pass":
        parts.append(f"{PASS_MARK} pass")
    elif label.verdict == "fail":
        parts.append(f"{FAIL_MARK} fail")
    if label.rating is not None:
        parts.append(f"{label.rating}{STAR}")
    if label.tags:
        parts.append("tags: " + ", ".join(label.tags))
    note = " ".join(label.note.split())
    if note:
        clipped = note if len(note) <= NOTE_PREVIEW else note[: NOTE_PREVIEW - 1] + "…"
        parts.append(f"note: {clipped}")
    return " · ".join(parts) or "not labelled yet"


class LabelBar(QWidget):
    """Shows one call's label and the key hint; follows ("labels", call_id) notices."""

    def __init__(
        self, ctx: ProjectContext, parent: QWidget | None = None, *, hint: str = KEY_HINT
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.call_id: int | None = None
        self.label: CallLabel | None = None
        self.setObjectName("labelBar")
        self.setAccessibleName("Label of the selected output")
        themed_style(
            self,
            lambda t: (
                f"#labelBar {{ background: {t.panel.name()};"
                f" border-top: 1px solid {t.border.name()}; }}"
            ),
        )
        self.state = QLabel()
        self.state.setTextFormat(Qt.TextFormat.PlainText)
        self.state.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.state.setStyleSheet("font-weight: bold;")
        self.message = QLabel()
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        themed_style(self.message, lambda t: f"color: {t.info.name()};")
        self.hint = QLabel(hint)
        self.hint.setTextFormat(Qt.TextFormat.PlainText)
        themed_style(self.hint, lambda t: f"color: {t.muted.name()};")
        self.hint.setAccessibleName("Labeling keys")
        # Two lines, so a narrow centre pane never clips the label to make room for the keys.
        top = QHBoxLayout()
        top.addWidget(self.state, 1)
        top.addWidget(self.message)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.hint)
        self._clear_message = QTimer(self)
        self._clear_message.setSingleShot(True)
        self._clear_message.setInterval(MESSAGE_MS)
        self._clear_message.timeout.connect(self.message.clear)
        ctx.changed.connect(self._on_context_changed)
        self.show_call(None)

    def show_call(self, call_id: int | None) -> None:
        """Show call `call_id`'s label (None or 0: nothing selected)."""
        self.call_id = call_id or None
        self.label = None
        project = self.ctx.project
        if self.call_id is None or project is None:
            self.state.setText("Select an output to label it")
            self.state.setToolTip("")
            return
        try:
            self.label = project.labels.get(self.call_id)
        except WorkbenchError as exc:
            self.state.setText(str(exc))
            return
        text = f"Call #{self.call_id}: {label_summary(self.label)}"
        self.state.setText(text)
        self.state.setToolTip(self.label.note if self.label and self.label.note else text)

    def show_message(self, text: str) -> None:
        """A short confirmation or refusal next to the label ("Saved: fail")."""
        self.message.setText(text)
        self._clear_message.start()

    def _on_context_changed(self, change: ProjectChange) -> None:
        detail = change.detail
        if change.touches(Change.PROJECT):
            self.show_call(None)
        elif change.touches(Change.LABELS) and (detail is None or detail == self.call_id):
            self.show_call(self.call_id)
