"""Parts of the production export dialog: the per-prompt settings form and the diff view.

The form edits a `ProductionSettings` (feature flag, kill switch, alert thresholds); the diff
view shows a unified diff between the file already at the target and the text about to replace
it, ignoring the export time, with added and removed lines coloured.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFontDatabase, QTextCharFormat, QTextCursor, QTextFormat
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QPlainTextEdit,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from workbench.services.production_export import (
    AlertThresholds,
    FeatureFlag,
    ProductionSettings,
)

# (field, label, unit, maximum, decimals, tooltip); rates are fractions stored, percent shown.
ALERT_FIELDS: list[tuple[str, str, str, float, int, str]] = [
    ("p95_latency_s", "p95 latency above", "s", 600.0, 1, "Page when the 95th percentile of call latency exceeds this"),
    ("error_rate", "Error rate above", "%", 100.0, 2, "Page when this share of calls fail"),
    ("cost_per_user_per_day_usd", "Cost per user per day above", "$", 1000.0, 2, "Page when one user's calls cost more than this in a day"),
    ("eval_pass_rate_drop", "Eval pass rate drops by", "%", 100.0, 2, "Page when the eval pass rate falls by this many points"),
    ("thumbs_down_rate", "Thumbs-down rate above", "%", 100.0, 2, "Page when this share of answers get a thumbs-down"),
]  # fmt: skip
MAX_DIFF_COLOURED_LINES = 20_000  # beyond this, colouring costs more than it tells
_EXPORTED_AT = re.compile(r'^(?:exported_at:|  "exported_at":).*$', re.MULTILINE)


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
        self.rollout.setAccessibleName("Rollout percent")
        self.rollout.setToolTip("Share of signed-in users who get it (stable per user id)")
        self.kill_switch = QCheckBox("Kill switch: disable this feature for everyone")
        self.kill_switch.setStyleSheet("QCheckBox:checked { color: #a2191f; font-weight: bold; }")
        self.kill_switch.setToolTip("One flip turns the feature off, whatever the flag says")
        self.audience = QLabel()
        self.audience.setTextFormat(Qt.TextFormat.PlainText)
        self.audience.setWordWrap(True)
        self.audience.setStyleSheet("color: #525252;")
        self.audience.setAccessibleName("Who gets the feature")

        flag_box = QGroupBox("Feature flag")
        flag_form = QFormLayout(flag_box)
        flag_form.addRow(self.enabled)
        flag_form.addRow(self.staff_only)
        flag_form.addRow("Rollout", self.rollout)
        flag_form.addRow(self.kill_switch)
        flag_form.addRow(self.audience)

        alerts_box = QGroupBox("Alert thresholds")
        alerts_form = QFormLayout(alerts_box)
        self.alerts: dict[str, QDoubleSpinBox] = {}
        for field, label, unit, maximum, decimals, tip in ALERT_FIELDS:
            spin = QDoubleSpinBox()
            spin.setDecimals(decimals)
            # p95 latency must stay above zero (the model says gt=0).
            spin.setRange(0.1 if field == "p95_latency_s" else 0.0, maximum)
            if unit == "$":
                spin.setPrefix("$ ")
            else:
                spin.setSuffix(f" {unit}")
            spin.setToolTip(tip)
            spin.setAccessibleName(label)
            self.alerts[field] = spin
            alerts_form.addRow(label, spin)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(flag_box)
        layout.addWidget(alerts_box)
        layout.addStretch(1)
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
                value = float(getattr(settings.alerts, field))
                self.alerts[field].setValue(value * 100 if unit == "%" else value)
        finally:
            self._loading = False
        self.audience.setText(audience(settings))

    def settings(self) -> ProductionSettings:
        """The settings as the controls show them."""
        alerts = {}
        for field, _label, unit, *_ in ALERT_FIELDS:
            value = self.alerts[field].value()
            # Round away float noise (2.0 / 100 -> 0.02) so the export stays readable.
            alerts[field] = round(value / 100, 6) if unit == "%" else value
        return ProductionSettings(
            feature_flag=FeatureFlag(
                enabled=self.enabled.isChecked(),
                staff_only=self.staff_only.isChecked(),
                rollout_percent=self.rollout.value(),
            ),
            kill_switch=self.kill_switch.isChecked(),
            alerts=AlertThresholds(**alerts),
        )

    def _on_edited(self, *_args: object) -> None:
        if self._loading:
            return
        settings = self.settings()
        self.audience.setText(audience(settings))
        self.edited.emit(settings)


# --- the diff against the file already at the target -----------------------------------------


@dataclass(frozen=True)
class ExportDiff:
    """A unified diff of old → new text and how many lines it adds and removes."""

    text: str
    added: int
    removed: int

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


def same_export_time(old: str, new: str) -> str:
    """`old` with its top-level ``exported_at`` line replaced by the one in `new`.

    Only the top level is touched: a prompt's text never starts a line in JSON, and is indented
    in YAML, so it cannot match.
    """
    found = _EXPORTED_AT.search(new)
    if found is None:
        return old
    return _EXPORTED_AT.sub(lambda _m: found.group(0), old, count=1)


def export_diff(old: str, new: str, old_name: str, new_name: str) -> ExportDiff:
    """The unified diff between the file on disk and the new export, ignoring the export time."""
    lines = difflib.unified_diff(
        same_export_time(old, new).splitlines(),
        new.splitlines(),
        fromfile=old_name,
        tofile=new_name,
        lineterm="",
    )
    out = list(lines)
    body = [line for line in out if not line.startswith(("+++", "---"))]
    added = sum(1 for line in body if line.startswith("+"))
    removed = sum(1 for line in body if line.startswith("-"))
    return ExportDiff("\n".join(out), added, removed)


class DiffView(QPlainTextEdit):
    """Read-only, monospace, plain text; added lines green, removed red, hunks blue."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setAccessibleName("Changes against the file on disk")
        self._formats = {
            "+": _line_format("#0e6027", "#c8f0d2"),
            "-": _line_format("#a2191f", "#ffd7d9"),
            "@": _line_format("#0043ce", "#e5f0ff"),
        }

    def show_diff(self, text: str) -> None:
        """Show `text` (a unified diff) with full-width colour on changed lines."""
        self.setPlainText(text)
        selections = []
        block = self.document().firstBlock()
        while block.isValid() and len(selections) < MAX_DIFF_COLOURED_LINES:
            line = block.text()
            key = "@" if line.startswith("@@") else line[:1]
            if key in self._formats and not line.startswith(("+++", "---")):
                selection = QTextEdit.ExtraSelection()
                selection.format = self._formats[key]  # type: ignore[attr-defined]
                selection.cursor = QTextCursor(block)  # type: ignore[attr-defined]
                selections.append(selection)
            block = block.next()
        self.setExtraSelections(selections)


def _line_format(foreground: str, background: str) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(foreground))
    fmt.setBackground(QColor(background))
    fmt.setProperty(QTextFormat.Property.FullWidthSelection, True)
    return fmt
