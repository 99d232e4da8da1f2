"""The review queue: the weekly "read 20 random outputs" ritual as a screen.

Choose how many (N, default 20) and where from (this run, all runs, production imports); the
queue draws a random sample of unlabelled outputs and walks it one at a time — input variables,
the output large and readable as plain text, model and prompt version — with the grid's keys
(P/F, 1–5, T, N, E, U; J/Space next, K/Backspace previous), then sums up what was said.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.services.call_case import CallCase, CaseLoader, sample_calls
from workbench.services.project_session import Project
from workbench.ui.context import Change, ProjectChange, ProjectContext
from workbench.ui.labeling import LabelKeys
from workbench.ui.operations import ProjectOp
from workbench.ui.theme import Theme, themed_style
from workbench.ui.widgets.label_bar import FAIL_MARK, PASS_MARK, REVIEW_KEY_HINT, LabelBar

SCOPES = {"run": "This run", "all": "All runs", "import": "Production imports"}
DEFAULT_N = 20
OUTPUT_POINT_SIZE = 13
SYNTHETIC_TEXT = "offline demo — synthetic responses"


def _plain_label(text: str = "", style: str | Callable[[Theme], str] = "") -> QLabel:
    """A plain-text label; a `style` that is a function of the theme follows theme switches."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    if callable(style):
        themed_style(label, style)
    else:
        label.setStyleSheet(style)
    return label


class ReviewQueue(QWidget):
    """Setup → one output at a time → summary. `finished_review(counts)` at the end."""

    finished_review = Signal(dict)
    call_shown = Signal(int)  # the inspector follows the output on screen

    def __init__(self, ctx: ProjectContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.run_id: int | None = None
        self.seed: int | None = None  # tests fix it; people get a fresh sample each time
        self.cases: list[CallCase] = []
        self.position = 0
        self.pages = QStackedWidget()
        self.pages.addWidget(self._build_setup())
        self.pages.addWidget(self._build_card())
        self.pages.addWidget(self._build_summary())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)
        self.keys = LabelKeys(
            ctx,
            self.card,
            self.current_call,
            move=(self.next, self.previous),
            move_keys=(["Space"], ["Backspace"]),
        )
        self.keys.message.connect(self.label_bar.show_message)
        ctx.changed.connect(self._on_context_changed)
        self.set_run(None)

    # -- building ----------------------------------------------------------------------------
    def _build_setup(self) -> QWidget:
        page = QWidget()
        title = _plain_label("Review outputs", "font-size: 18pt; font-weight: bold;")
        intro = _plain_label(
            "Read a random sample of outputs nobody has labelled yet, one at a time, and say "
            "what you see: pass or fail, a 1–5 rating, failure tags, a note. Failures you find "
            "are the seeds of your eval set (E promotes one)."
        )
        self.count = QSpinBox()
        self.count.setRange(1, 500)
        self.count.setValue(DEFAULT_N)
        self.count.setAccessibleName("How many outputs")
        self.scope = QComboBox()
        self.scope.setAccessibleName("Where from")
        for key, text in SCOPES.items():
            self.scope.addItem(text, key)
        self.start_button = QPushButton("&Start review")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start)
        self.setup_status = _plain_label("", lambda t: f"color: {t.muted.name()};")
        form = QFormLayout()
        form.addRow("&How many", self.count)
        form.addRow("&From", self.scope)
        box = QVBoxLayout()
        box.addWidget(title)
        box.addWidget(intro)
        box.addSpacing(12)
        box.addLayout(form)
        box.addWidget(self.start_button, 0, Qt.AlignmentFlag.AlignLeft)
        box.addWidget(self.setup_status)
        box.addStretch(1)
        outer = QHBoxLayout(page)
        outer.addStretch(1)
        outer.addLayout(box, 3)
        outer.addStretch(1)
        return page

    def _build_card(self) -> QWidget:
        self.card = QWidget()
        self.card.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.progress = _plain_label("", "font-size: 15pt; font-weight: bold;")
        self.progress.setAccessibleName("Review progress")
        self.meta = _plain_label("", lambda t: f"color: {t.muted.name()}; font-size: 11pt;")
        self.synthetic = _plain_label(SYNTHETIC_TEXT, lambda t: t.banner_style())
        self.synthetic.setWordWrap(False)
        self.inputs = self._reader("Input variables", 11)
        self.output = self._reader("Output", OUTPUT_POINT_SIZE)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        for title, view in (("Input", self.inputs), ("Output", self.output)):
            pane = QWidget()
            pane_layout = QVBoxLayout(pane)
            pane_layout.setContentsMargins(0, 0, 0, 0)
            pane_layout.addWidget(
                _plain_label(title, lambda t: f"font-weight: bold; color: {t.muted.name()};")
            )
            pane_layout.addWidget(view, 1)
            splitter.addWidget(pane)
        splitter.setSizes([350, 650])
        splitter.setChildrenCollapsible(False)
        self.label_bar = LabelBar(self.ctx, hint=REVIEW_KEY_HINT)
        self.prev_button = QPushButton("◀ Previous")
        self.next_button = QPushButton("Next ▶")
        self.end_button = QPushButton("End review")
        for button, slot in (
            (self.prev_button, self.previous),
            (self.next_button, self.next),
            (self.end_button, self.finish),
        ):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the card
            button.clicked.connect(slot)
        head = QHBoxLayout()
        head.addWidget(self.progress)
        head.addWidget(self.meta, 1)
        head.addWidget(self.synthetic)
        head.addWidget(self.prev_button)
        head.addWidget(self.next_button)
        head.addWidget(self.end_button)
        layout = QVBoxLayout(self.card)
        layout.addLayout(head)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.label_bar)
        return self.card

    def _reader(self, name: str, points: int) -> QPlainTextEdit:
        view = QPlainTextEdit()
        view.setReadOnly(True)
        view.setAccessibleName(name)
        # The card keeps focus so single-letter keys label; the wheel still scrolls the text.
        view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        font = QFont(view.font())
        font.setPointSize(points)
        view.setFont(font)
        view.document().setDocumentMargin(10)
        return view

    def _build_summary(self) -> QWidget:
        page = QWidget()
        self.summary = _plain_label("", "font-size: 14pt;")
        self.summary.setAccessibleName("Review summary")
        again = QPushButton("Review &another sample")
        again.clicked.connect(lambda: self.pages.setCurrentIndex(0))
        layout = QVBoxLayout(page)
        layout.addWidget(_plain_label("Review finished", "font-size: 18pt; font-weight: bold;"))
        layout.addWidget(self.summary)
        layout.addWidget(again, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)
        return page

    # -- choosing and sampling -----------------------------------------------------------------
    def set_run(self, run_id: int | None) -> None:
        """The run "This run" means (the grid's); without one the scope starts at all runs."""
        self.run_id = run_id
        index = self.scope.findData("run")
        self.scope.setItemText(index, f"This run (#{run_id})" if run_id else "This run (none open)")
        item = self.scope.model().item(index)  # type: ignore[attr-defined]
        item.setEnabled(run_id is not None)
        if run_id is None and self.scope.currentData() == "run":
            self.scope.setCurrentIndex(self.scope.findData("all"))
        elif run_id is not None:
            self.scope.setCurrentIndex(index)

    def start(self) -> None:
        """Draw the sample in the background, then show its first output."""
        project = self.ctx.project
        if project is None:
            self.setup_status.setText("Open a project first.")
            return
        n, scope, run_id, seed = (
            self.count.value(),
            self.scope.currentData(),
            self.run_id,
            self.seed,
        )
        self.start_button.setEnabled(False)
        self.setup_status.setText("Drawing a sample…")

        def work(own: Project) -> list[CallCase]:
            loader = CaseLoader(own)
            return [loader.load(i) for i in sample_calls(own, n, scope, run_id, seed)]

        ProjectOp(self, self.ctx, work).success(self._on_sampled).failure(self._on_failed).run()

    def review_calls(self, call_ids: list[int]) -> None:
        """Walk these calls (a sample drawn elsewhere: the Production tab's weekly review)."""
        project = self.ctx.project
        if project is None or not call_ids:
            return
        self.start_button.setEnabled(False)
        self.setup_status.setText("Loading the sample…")
        ids = list(call_ids)

        def work(own: Project) -> list[CallCase]:
            loader = CaseLoader(own)
            return [loader.load(i) for i in ids]

        ProjectOp(self, self.ctx, work).success(self._on_sampled).failure(self._on_failed).run()

    def _on_sampled(self, cases: list[CallCase]) -> None:
        self.start_button.setEnabled(True)
        if not cases:
            self.setup_status.setText(
                f"No unlabelled outputs in {self.scope.currentText().lower()}: nothing to review."
            )
            return
        self.setup_status.clear()
        self.cases, self.position = cases, 0
        self.pages.setCurrentWidget(self.card)
        self._show_current()
        self.card.setFocus()

    def _on_failed(self, message: str) -> None:
        self.start_button.setEnabled(True)
        self.setup_status.setText(message)

    # -- walking -------------------------------------------------------------------------------
    @property
    def reviewing(self) -> bool:
        return self.pages.currentWidget() is self.card and bool(self.cases)

    def current_call(self) -> int | None:
        return self.cases[self.position].call_id if self.reviewing else None

    def next(self) -> None:
        if not self.reviewing:
            return
        if self.position + 1 >= len(self.cases):
            self.finish()
            return
        self.position += 1
        self._show_current()

    def previous(self) -> None:
        if self.reviewing and self.position > 0:
            self.position -= 1
            self._show_current()

    def _show_current(self) -> None:
        case = self.cases[self.position]
        self.progress.setText(f"{self.position + 1} of {len(self.cases)}")
        self.meta.setText(
            f"Call #{case.call_id} · {case.model} · {case.version_text} · {case.origin_text}"
        )
        self.synthetic.setVisible(case.synthetic)
        self.inputs.setPlainText(case.vars_text())
        self.output.setPlainText(case.output or f"(no output: {case.error or 'empty'})")
        self.label_bar.show_call(case.call_id)
        self.call_shown.emit(case.call_id)
        self.prev_button.setEnabled(self.position > 0)
        last = self.position + 1 == len(self.cases)
        self.next_button.setText("Finish ▶" if last else "Next ▶")

    def finish(self) -> dict[str, int]:
        """Show the summary of the sample's labels; returns the counts."""
        project = self.ctx.project
        labels = project.labels.for_calls(c.call_id for c in self.cases) if project else {}
        verdicts = Counter(label.verdict for label in labels.values())
        ratings = [label.rating for label in labels.values() if label.rating is not None]
        tags = Counter(tag for label in labels.values() for tag in label.tags)
        counts = {
            "reviewed": len(self.cases),
            "pass": verdicts["pass"],
            "fail": verdicts["fail"],
            "no_verdict": len(self.cases) - verdicts["pass"] - verdicts["fail"],
        }
        lines = [
            f"{counts['reviewed']} outputs: {PASS_MARK} {counts['pass']} pass · "
            f"{FAIL_MARK} {counts['fail']} fail · {counts['no_verdict']} without a verdict"
        ]
        if ratings:
            lines.append(
                f"Average rating {sum(ratings) / len(ratings):.1f} of 5 ({len(ratings)} rated)"
            )
        if tags:
            lines.append("Failure tags: " + ", ".join(f"{t} ×{n}" for t, n in tags.most_common()))
        self.summary.setText("\n".join(lines))
        self.pages.setCurrentIndex(2)
        self.finished_review.emit(counts)
        return counts

    def _on_context_changed(self, change: ProjectChange) -> None:
        if change.touches(Change.PROJECT):
            self.cases, self.position = [], 0
            self.set_run(None)
            self.pages.setCurrentIndex(0)
