"""The run dialog: choose prompt versions, dataset (and tags), models, repeats, concurrency and a
budget; the preflight beside it is recomputed on every change, and Run stays disabled while the
plan has problems (the budget rule is one of them). Nothing is paid before Run.

Planning is the run façade's (`services.run_service.plan_run`, the same as `workbench run`:
input tokens counted through the API when a key is set), in the background (`Operation`) over
its own connection, so a large dataset never stalls the window; only the newest answer is shown.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from workbench.core.errors import WorkbenchError
from workbench.services.dataset_io import split_tags
from workbench.services.planner import RunPlan
from workbench.services.project_models import model_catalog
from workbench.services.run_service import RunRequest, plan_run_blocking
from workbench.services.runner import RunOptions
from workbench.services.try_service import one_model_per_tier
from workbench.ui.context import ProjectContext
from workbench.ui.dialogs.batch_choice import BatchChoice
from workbench.ui.dialogs.run_choices import (
    checked,
    fill_models,
    fill_versions,
    follow_version_models,
)
from workbench.ui.operations import Operation, describe_error
from workbench.ui.theme import themed_style
from workbench.ui.widgets.preflight_panel import PreflightPanel

DEBOUNCE_MS = 120
SYNTHETIC_BANNER = (
    "Offline demo — synthetic responses (demo provider, answers differ by tier): "
    "nothing is sent or paid."
)


class RunDialog(QDialog):
    """Set up a run; `plan` is the checked plan once `accepted`, `options()` how to run it."""

    def __init__(
        self,
        ctx: ProjectContext,
        parent: QWidget | None = None,
        *,
        prompts: list[str] | None = None,
        dataset: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.project = ctx.require()
        self.plan: RunPlan | None = None
        self.problems: list[str] = []
        self._generation = 0
        self._models_touched = False
        self._catalog = model_catalog(self.project)
        self.setWindowTitle("Run prompts")
        self.resize(1180, 700)

        self.versions = QListWidget()
        self.versions.setAccessibleName("Prompt versions to run")
        self.dataset = QComboBox()
        self.dataset.setAccessibleName("Dataset")
        self.tags = QLineEdit()
        self.tags.setAccessibleName("Only examples with these tags")
        self.models = QListWidget()
        self.models.setAccessibleName("Models")
        self.repeats = QSpinBox()
        self.repeats.setRange(1, 50)
        self.repeats.setToolTip("Run each cell this many times (to see variation)")
        self.concurrency = QSpinBox()
        self.concurrency.setRange(1, 256)
        self.concurrency.setValue(self.project.settings.default_concurrency)
        self.concurrency.setToolTip("Calls in flight at once")
        self.budget = QDoubleSpinBox()
        self.budget.setRange(0, 100_000)
        self.budget.setDecimals(2)
        self.budget.setPrefix("$")
        self.budget.setSpecialValueText("no limit")
        self.budget.setToolTip(
            "Refuse to start if the cost could exceed this, and stop once spend reaches it"
        )
        self.budget_basis = QComboBox()
        self.budget_basis.addItem("the worst case (every call writes max_tokens)", "worst")
        self.budget_basis.addItem("the expected cost", "expected")
        self.budget_basis.setAccessibleName("What the budget is compared with before the run")
        self.use_cache = QCheckBox("Reuse identical earlier answers (free)")
        self.use_cache.setChecked(True)
        self.preflight = PreflightPanel()
        self._fill(prompts, dataset)

        form = QFormLayout()
        form.addRow("&Dataset", self.dataset)
        form.addRow("Only &tags", self.tags)
        form.addRow("&Repeats", self.repeats)
        form.addRow("&Concurrency", self.concurrency)
        form.addRow("&Budget", self.budget)
        form.addRow("Budget &compares", self.budget_basis)
        form.addRow("", self.use_cache)
        self.as_batch = BatchChoice()
        form.addRow("", self.as_batch)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(_buddy("&Prompt versions", self.versions))
        left_layout.addWidget(self.versions, 2)
        left_layout.addWidget(_buddy("&Models", self.models))
        left_layout.addWidget(self.models, 3)
        left_layout.addLayout(form)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        heading = QLabel("Preflight")
        heading.setStyleSheet("font-weight: bold;")
        right_layout.addWidget(heading)
        right_layout.addWidget(self.preflight, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([460, 720])
        splitter.setChildrenCollapsible(False)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.run_button = self.buttons.addButton("Run", QDialogButtonBox.ButtonRole.AcceptRole)
        self.run_button.setToolTip("Start the run (Ctrl+Enter)")
        self.buttons.accepted.connect(self._on_run)
        self.buttons.rejected.connect(self.reject)
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=self._on_run)
        layout = QVBoxLayout(self)
        if ctx.demo:
            banner = QLabel(SYNTHETIC_BANNER)
            themed_style(
                banner,
                lambda t: (
                    f"background: {t.banner_bg.name()}; color: {t.banner_fg.name()}; padding: 6px;"
                ),
            )
            layout.addWidget(banner)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.buttons)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self.refresh)
        self.versions.itemChanged.connect(self._on_versions_changed)
        self.models.itemChanged.connect(self._on_models_changed)
        self.dataset.currentIndexChanged.connect(self._update_tag_hint)
        for signal in (
            self.dataset.currentIndexChanged,
            self.tags.textChanged,
            self.repeats.valueChanged,
            self.budget.valueChanged,
            self.budget_basis.currentIndexChanged,
        ):
            signal.connect(self.schedule_refresh)
        self.refresh()

    # -- choices ---------------------------------------------------------------------------------
    def _fill(self, prompts: list[str] | None, dataset: str | None) -> None:
        fill_versions(self.versions, self.project.prompts.list(), prompts)
        counts = self.project.datasets.counts()
        for name, count in counts.items():
            self.dataset.addItem(f"{name} ({count} example{'s' if count != 1 else ''})", name)
        if dataset is not None and dataset in counts:
            self.dataset.setCurrentIndex(self.dataset.findData(dataset))
        fill_models(self.models, self._catalog.models())
        self._default_models()
        self._update_tag_hint()

    def _default_models(self) -> None:
        """Side by side by default: the checked versions' models plus one current model per
        tier (Haiku, Sonnet, Opus), from the project's model list."""
        follow_version_models(self.versions, self.models)
        tiers = set(one_model_per_tier(self._catalog))
        self.models.blockSignals(True)
        for i in range(self.models.count()):
            item = self.models.item(i)
            if item.data(Qt.ItemDataRole.UserRole) in tiers:
                item.setCheckState(Qt.CheckState.Checked)
        self.models.blockSignals(False)

    def _update_tag_hint(self) -> None:
        name = self.dataset.currentData()
        tags: dict[str, None] = {}
        if name:
            try:
                for example in self.project.datasets.get(name).examples:
                    tags.update(dict.fromkeys(example.tags))
            except WorkbenchError:
                pass
        hint = ", ".join(list(tags)[:8]) if tags else "this dataset has no tags"
        self.tags.setPlaceholderText(f"all examples (tags: {hint})")

    def _on_versions_changed(self) -> None:
        if not self._models_touched:  # until the user picks models, follow the versions
            self._default_models()
        self.schedule_refresh()

    def _on_models_changed(self) -> None:
        self._models_touched = True
        self.schedule_refresh()

    def options(self) -> RunOptions:
        budget = self.budget.value()
        return RunOptions(
            concurrency=self.concurrency.value(),
            budget_usd=budget if budget > 0 else None,
            use_cache=self.use_cache.isChecked(),
        )

    def request(self) -> RunRequest | None:
        dataset = self.dataset.currentData()
        if not dataset:
            return None
        return RunRequest(
            prompts=tuple(checked(self.versions)),
            dataset=dataset,
            models=tuple(checked(self.models)),
            tags=tuple(split_tags(self.tags.text())),
            repeats=self.repeats.value(),
            budget_usd=self.options().budget_usd,
            budget_basis="expected" if self.budget_basis.currentData() == "expected" else "worst",
        )

    # -- preflight -------------------------------------------------------------------------------
    def schedule_refresh(self) -> None:
        self._generation += 1
        self.run_button.setEnabled(False)
        self.preflight.summary.setText("Checking…")
        self._debounce.start()

    def refresh(self) -> None:
        """Recompute the plan now (in the background)."""
        self._debounce.stop()
        self._generation += 1
        generation = self._generation
        self.run_button.setEnabled(False)
        request = self.request()
        if request is None:
            self._show_blocked("Add a dataset with examples first.")
            return
        if not request.prompts:
            self._show_blocked("Choose at least one prompt version.")
            return
        if not request.models:
            self._show_blocked("Choose at least one model.")
            return
        project = self.project
        provider = self.ctx.provider_name

        def plan() -> RunPlan:
            return plan_run_blocking(project, request, provider)

        if project.read_only:  # no second connection; plans are small enough to wait for
            self._on_planned(generation, plan())
            return
        Operation(self, plan).success(lambda p: self._on_planned(generation, p)).failure(
            lambda exc: self._on_plan_failed(generation, exc)
        ).run()

    def _show_blocked(self, message: str) -> None:
        self.plan, self.problems = None, [message]
        self.preflight.show_message(message)
        self._update_run_button()

    def _on_plan_failed(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation:
            self._show_blocked(describe_error(exc))

    def _on_planned(self, generation: int, plan: RunPlan) -> None:
        if generation != self._generation:
            return  # a newer change is being planned
        problems = list(plan.problems)
        if self.ctx.read_only:
            problems.insert(0, "The project is open read-only, so it cannot record a run.")
        self.plan, self.problems = plan, problems
        if plan.prices is not None:
            self.as_batch.show_price(plan, plan.prices, demo=self.ctx.demo)
        self.preflight.show_plan(plan, problems)
        self._update_run_button()

    def _update_run_button(self) -> None:
        ready = self.plan is not None and not self.problems and bool(self.plan.cells)
        self.run_button.setEnabled(ready)
        self.run_button.setDefault(ready)
        if ready and self.plan is not None:
            self.run_button.setText(f"Run {len(self.plan.cells):,} calls")
            self.run_button.setToolTip("Start the run (Ctrl+Enter)")
        else:
            self.run_button.setText("Run")
            self.run_button.setToolTip("Fix the problems listed in the preflight first")

    def _on_run(self) -> None:
        if self.run_button.isEnabled() and not self._debounce.isActive():
            self.accept()


def _buddy(text: str, widget: QWidget) -> QLabel:
    label = QLabel(text)
    label.setBuddy(widget)
    return label
