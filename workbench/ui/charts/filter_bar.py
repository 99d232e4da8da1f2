"""The charts' filter bar: source (runs / production imports), run, prompt."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from workbench.core.records import RunSummary
from workbench.services.chart_data import SOURCES, ChartFilters
from workbench.ui.sidebar import short_time

ALL_RUNS = "All runs"
ALL_PROMPTS = "All prompts"


def run_choice(run: RunSummary) -> str:
    """``#4 import · 11-20 10:00`` or ``#3 run · done · 11-20 09:12 · demo``."""
    parts = [f"#{run.id} {run.kind or 'run'}"]
    if run.kind != "import":
        parts.append(run.status)
    parts.append(short_time(run.created_at, "%m-%d %H:%M"))
    if run.synthetic:
        parts.append("demo")
    return " · ".join(p for p in parts if p)


class ChartFilterBar(QWidget):
    """Three combo boxes; `changed` carries the new `ChartFilters`."""

    changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = QComboBox()
        for key, (text, _) in SOURCES.items():
            self.source.addItem(text, key)
        self.run = QComboBox()
        self.run.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.run.setMinimumContentsLength(12)
        self.prompt = QComboBox()
        self.prompt.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.prompt.setMinimumContentsLength(10)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        for text, combo, name in (
            ("S&ource", self.source, "Which calls: workbench runs, production imports or both"),
            ("R&un", self.run, "Only the calls of one run or import"),
            ("Pro&mpt", self.prompt, "Only the calls of one prompt"),
        ):
            label = QLabel(text)
            label.setBuddy(combo)
            combo.setAccessibleName(text.replace("&", ""))
            combo.setToolTip(name)
            layout.addWidget(label)
            layout.addWidget(combo)
            combo.currentIndexChanged.connect(self._on_changed)
        layout.addStretch(1)
        self._filling = False
        self.set_choices([], [])

    def set_choices(self, runs: list[RunSummary], prompts: list[str]) -> None:
        """Refill the run and prompt lists, keeping the current choice when it still exists."""
        run_id, prompt = self.filters().run_id, self.filters().prompt_name
        self._filling = True
        try:
            self.run.clear()
            self.run.addItem(ALL_RUNS, None)
            for run in reversed(runs):  # newest first
                self.run.addItem(run_choice(run), run.id)
            self.prompt.clear()
            self.prompt.addItem(ALL_PROMPTS, None)
            for name in prompts:
                self.prompt.addItem(name, name)
            self.run.setCurrentIndex(max(self.run.findData(run_id), 0))
            self.prompt.setCurrentIndex(max(self.prompt.findData(prompt), 0))
        finally:
            self._filling = False
        if (run_id, prompt) != (self.filters().run_id, self.filters().prompt_name):
            self._on_changed()

    def filters(self) -> ChartFilters:
        return ChartFilters(
            source=self.source.currentData() or "all",
            run_id=self.run.currentData(),
            prompt_name=self.prompt.currentData(),
        )

    def _on_changed(self, *_args: object) -> None:
        if not self._filling:
            self.changed.emit(self.filters())
