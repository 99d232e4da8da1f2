"""Per-prompt production settings: feature flag, rollout, kill switch, alert thresholds.

`ProductionSettingsForm` edits one `ProductionSettings` (rates are stored as fractions and shown
as percentages); `PromptSettingsPanel` lists the prompts and saves the selected one's edits.
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.core.errors import WorkbenchError
from workbench.core.models import AlertThresholds, FeatureFlag, ProductionSettings, Prompt
from workbench.services.production_export import (
    get_production_settings,
    set_production_settings,
)
from workbench.services.project_session import Project
from workbench.ui.context import ProjectContext
from workbench.ui.operations import ProjectOp
from workbench.ui.theme import color, themed_style

# (field, label, unit, maximum, decimals, tooltip); rates are fractions stored, percent shown.
ALERT_FIELDS: list[tuple[str, str, str, float, int, str]] = [
    ("p95_latency_s", "p95 latency above", "s", 600.0, 1, "Page when the 95th percentile of call latency exceeds this"),
    ("error_rate", "Error rate above", "%", 100.0, 2, "Page when this share of calls fail"),
    ("cost_per_user_per_day_multiple", "Cost per user per day above", "× baseline", 100.0, 2, "Page when a day's cost per active user exceeds this multiple of the baseline"),
    ("cost_baseline_usd", "Cost baseline", "$", 1000.0, 4, "Cost per user per day to compare with; at 0 the trailing 7-day median"),
    ("cost_per_user_per_day_usd", "Cost per user per day cap", "$", 1000.0, 2, "Also page above this absolute cost per user per day; at 0 no cap"),
    ("eval_pass_rate_drop", "Eval pass rate drops by", "%", 100.0, 2, "Page when the weekly eval pass rate falls by this many points"),
    ("thumbs_down_rate", "Thumbs-down rate above", "%", 100.0, 2, "Page when this share of answers get a thumbs-down"),
    ("hallucination_rate", "Hallucination rate above", "%", 100.0, 2, "Page when this share of reviewed production calls are tagged hallucination"),
]  # fmt: skip
# Optional thresholds: the spin box's minimum (0) stands for None, shown as this text.
OPTIONAL_ALERTS = {"cost_baseline_usd": "7-day median", "cost_per_user_per_day_usd": "no cap"}


def audience(settings: ProductionSettings) -> str:
    """Who gets the feature under these settings, in one sentence (mirrors the runtime)."""
    flag = settings.feature_flag
    if settings.kill_switch:
        return "Nobody: the kill switch is on."
    if not flag.enabled:
        return "Nobody: the feature flag is off."
    if flag.staff_only:
        return "Staff only (the rollout applies once Staff only is off)."
    if flag.rollout_percent >= 100:
        return "Everyone, signed-in or not."
    if flag.rollout_percent <= 0:
        return "Staff only: the rollout is 0 %."
    return f"Staff and {flag.rollout_percent:g} % of signed-in users (stable per user id)."


class ProductionSettingsForm(QWidget):
    """Edits one prompt's production settings; `edited` fires on user changes only."""

    edited = Signal(object)  # ProductionSettings

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._loading = False
        self.enabled = QCheckBox("Feature enabled")
        self.enabled.setToolTip("Off turns the feature off for everyone, staff included")
        self.staff_only = QCheckBox("Staff only")
        self.staff_only.setToolTip("Only staff get it, whatever the rollout says")
        self.rollout = QDoubleSpinBox()
        self.rollout.setRange(0, 100)
        self.rollout.setDecimals(1)
        self.rollout.setSingleStep(1)
        self.rollout.setSuffix(" %")
        self.rollout.setMinimumWidth(120)
        self.rollout.setAccessibleName("Rollout percent")
        self.rollout.setToolTip("Share of signed-in users who get it (stable per user id)")
        self.kill_switch = QCheckBox("Kill switch: disable this feature for everyone")
        themed_style(
            self.kill_switch,
            lambda t: f"QCheckBox:checked {{ color: {t.bad.name()}; font-weight: bold; }}",
        )
        self.kill_switch.setToolTip("One flip turns the feature off, whatever the flag says")
        self.audience = QLabel()
        self.audience.setTextFormat(Qt.TextFormat.PlainText)
        self.audience.setWordWrap(True)
        themed_style(self.audience, lambda t: f"color: {t.muted.name()};")
        self.audience.setAccessibleName("Who gets the feature")

        flag_box = QGroupBox("Feature flag")
        flag_form = QFormLayout(flag_box)
        flag_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        flag_form.addRow(self.enabled)
        flag_form.addRow(self.staff_only)
        flag_form.addRow("Rollout", self.rollout)
        flag_form.addRow(self.kill_switch)
        flag_form.addRow(self.audience)

        alerts_box = QGroupBox("Alert thresholds")
        alerts_form = QFormLayout(alerts_box)
        alerts_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        self.alerts: dict[str, QDoubleSpinBox] = {}
        for field, label, unit, maximum, decimals, tip in ALERT_FIELDS:
            spin = QDoubleSpinBox()
            spin.setDecimals(decimals)
            # These must stay above zero (the model says gt=0).
            positive = field in ("p95_latency_s", "cost_per_user_per_day_multiple")
            spin.setRange(0.1 if positive else 0.0, maximum)
            if field in OPTIONAL_ALERTS:
                spin.setSpecialValueText(OPTIONAL_ALERTS[field])
            if unit == "$":
                spin.setPrefix("$ ")
            else:
                spin.setSuffix(f" {unit}")
            spin.setToolTip(tip)
            spin.setMinimumWidth(120)
            spin.setAccessibleName(label)
            self.alerts[field] = spin
            alerts_form.addRow(label, spin)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(flag_box)
        layout.addWidget(alerts_box)
        for box in (self.enabled, self.staff_only, self.kill_switch):
            box.toggled.connect(self._on_edited)
        for spin in (self.rollout, *self.alerts.values()):
            spin.valueChanged.connect(self._on_edited)

    def set_settings(self, settings: ProductionSettings) -> None:
        """Show `settings` without emitting `edited`."""
        self._loading = True
        try:
            flag = settings.feature_flag
            self.enabled.setChecked(flag.enabled)
            self.staff_only.setChecked(flag.staff_only)
            self.rollout.setValue(flag.rollout_percent)
            self.kill_switch.setChecked(settings.kill_switch)
            for field, _label, unit, *_ in ALERT_FIELDS:
                value = float(getattr(settings.alerts, field) or 0.0)  # None: the minimum
                self.alerts[field].setValue(value * 100 if unit == "%" else value)
        finally:
            self._loading = False
        self.audience.setText(audience(settings))

    def settings(self) -> ProductionSettings:
        """The settings as the controls show them."""
        alerts: dict[str, float | None] = {}
        for field, _label, unit, *_ in ALERT_FIELDS:
            value = self.alerts[field].value()
            # Round away float noise (2.0 / 100 -> 0.02) so the export stays readable.
            alerts[field] = round(value / 100, 6) if unit == "%" else value
            if field in OPTIONAL_ALERTS and value == 0:
                alerts[field] = None
        return ProductionSettings(
            feature_flag=FeatureFlag(
                enabled=self.enabled.isChecked(),
                staff_only=self.staff_only.isChecked(),
                rollout_percent=self.rollout.value(),
            ),
            kill_switch=self.kill_switch.isChecked(),
            alerts=AlertThresholds.model_validate(alerts),
        )

    def _on_edited(self, *_args: object) -> None:
        if self._loading:
            return
        settings = self.settings()
        self.audience.setText(audience(settings))
        self.edited.emit(settings)


class PromptSettingsPanel(QWidget):
    """The prompts, each with the version the chosen label points at, and the selected one's
    settings form. Edits are saved in the project at once; `saved(name)` follows each save.
    """

    saved = Signal(str)
    selected = Signal(str)
    failed = Signal(str)  # one sentence for the user

    def __init__(self, ctx: ProjectContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.project: Project | None = None
        self.prompts: list[Prompt] = []
        self.prompt_list = QListWidget()
        self.prompt_list.setAccessibleName("Prompts")
        self.prompt_list.currentRowChanged.connect(self._on_prompt_selected)
        self.form = ProductionSettingsForm()
        self.form.edited.connect(self._on_edited)
        self.form_box = QGroupBox("Rollout")
        form_layout = QVBoxLayout(self.form_box)
        form_layout.addWidget(self.form)
        self.note = QLabel("Saved in the project as you change them.")
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setWordWrap(True)
        themed_style(self.note, lambda t: f"color: {t.muted.name()};")
        form_layout.addWidget(self.note)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Prompts"))
        layout.addWidget(self.prompt_list, 1)
        layout.addWidget(self.form_box)

    def selected_prompt(self) -> str | None:
        item = self.prompt_list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def set_prompts(self, project: Project | None, prompts: list[Prompt], label: str) -> None:
        """List `prompts` (the selection is kept when it still exists)."""
        selected = self.selected_prompt()
        self.project, self.prompts = project, prompts
        with QSignalBlocker(self.prompt_list):
            self.prompt_list.clear()
            for prompt in prompts:
                item = QListWidgetItem(prompt.name)
                item.setData(Qt.ItemDataRole.UserRole, prompt.name)
                self.prompt_list.addItem(item)
        self.show_label(label)
        names = [p.name for p in prompts]
        self.prompt_list.setCurrentRow(names.index(selected) if selected in names else 0)
        self.form.setEnabled(project is not None and not project.read_only and bool(prompts))
        if project is not None and project.read_only:
            self.note.setText(
                f"Read-only project, so these cannot be changed ({project.read_only_reason}); "
                "exporting still works."
            )

    def show_label(self, label: str) -> None:
        """Each prompt with the version `label` points at, or that it has none."""
        for row, prompt in enumerate(self.prompts):
            item = self.prompt_list.item(row)
            number = prompt.labels.get(label)
            if number is None:
                item.setText(f"{prompt.name}  —  no '{label}' label")
                item.setForeground(color("faint"))
            else:
                item.setText(f"{prompt.name}  —  v{number}")
                item.setData(Qt.ItemDataRole.ForegroundRole, None)

    def _on_prompt_selected(self, row: int) -> None:
        if self.project is None or not 0 <= row < len(self.prompts):
            self.form_box.setTitle("Rollout")
            return
        name = self.prompts[row].name
        self.form_box.setTitle(f"Rollout of '{name}'")
        try:
            settings = get_production_settings(self.project, name)
        except WorkbenchError as exc:  # stored settings that no longer validate
            self.failed.emit(exc.user_message)
            settings = ProductionSettings()
        self.form.set_settings(settings)
        self.selected.emit(name)

    def _on_edited(self, settings: ProductionSettings) -> None:
        name = self.selected_prompt()
        if self.project is None or name is None:
            return
        # No broadcast per keystroke: the export dialog announces the edits once they settle.
        ProjectOp(
            self, self.ctx, lambda project: set_production_settings(project, name, settings)
        ).success(lambda _: self.saved.emit(name)).failure(self.failed.emit).run()
