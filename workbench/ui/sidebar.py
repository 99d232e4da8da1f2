"""The sidebar: Prompts (versions with label badges), Datasets (with counts) and Runs.

It only reads the project and emits what the user asked for; the main window decides which
centre tab opens. It rebuilds on `ctx.changed`, keeping what was expanded and selected.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QMenu, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from workbench.core.errors import WorkbenchError
from workbench.core.records import RunSummary
from workbench.services.project_session import Project
from workbench.ui.context import Change, ProjectChange, ProjectContext
from workbench.ui.widgets.version_history import plain_tooltip

ROLE = Qt.ItemDataRole.UserRole
RESUMABLE = ("interrupted", "cancelled", "failed")
SECTIONS = ("Prompts", "Datasets", "Runs")


def short_time(value: str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An ISO timestamp in local time ("" when absent, as written when unreadable)."""
    if not value:
        return ""
    try:
        return dt.datetime.fromisoformat(value).astimezone().strftime(fmt)
    except ValueError:
        return value


def run_text(run: RunSummary) -> str:
    """One short line for a run: "#3 done · 12/12 · 01-05 10:00" (+ " · demo" when synthetic)."""
    done, cells = run.done or 0, run.cells or 0
    when = short_time(run.created_at, "%m-%d %H:%M")
    text = f"#{run.id} {run.status} · {done}/{cells} · {when}"
    return text + (" · demo" if run.synthetic else "")


class Sidebar(QWidget):
    """Navigation tree. Item data: ("prompt", name) / ("version", (name, n)) / ("dataset", name) /
    ("run", id) / ("section", title)."""

    prompt_opened = Signal(str, object)  # name, version number or None (latest)
    dataset_opened = Signal(str)
    run_opened = Signal(int)
    resume_requested = Signal(int)
    run_requested = Signal(object, object)  # prompt refs (list[str]) or None, dataset or None
    new_prompt_requested = Signal()
    compare_requested = Signal(str)
    new_dataset_requested = Signal()
    rename_dataset_requested = Signal(str)
    duplicate_dataset_requested = Signal(str)
    delete_dataset_requested = Signal(str)

    def __init__(self, ctx: ProjectContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.tree = QTreeWidget()
        self.tree.setHeaderHidden(True)
        self.tree.setAccessibleName("Project contents")
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._on_context_menu)
        self.tree.itemActivated.connect(self._on_open)
        self.tree.itemClicked.connect(self._on_open)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree)
        self.sections: dict[str, QTreeWidgetItem] = {}
        self.ctx.changed.connect(self._on_project_changed)
        self.refresh()

    # -- building ----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Rebuild from the project, keeping expanded items and the selection."""
        expanded = self._expanded_keys()
        current = self.tree.currentItem()
        selected = self._key(current) if current else None
        self.tree.clear()
        self.sections = {}
        project = self.ctx.project
        if project is None:
            return
        bold = QFont(self.tree.font())
        bold.setBold(True)
        for title in SECTIONS:
            item = QTreeWidgetItem([title])
            item.setFont(0, bold)
            item.setData(0, ROLE, ("section", title))
            self.tree.addTopLevelItem(item)
            self.sections[title] = item
        try:
            self._add_prompts(project)
            self._add_datasets(project)
            self._add_runs(project)
        except WorkbenchError as exc:
            error = QTreeWidgetItem([exc.user_message])
            self.tree.addTopLevelItem(error)
        first_time = not expanded
        for title, item in self.sections.items():
            item.setExpanded(first_time or ("section", title) in expanded)
        if first_time:  # show the prompts' versions and labels at once
            for i in range(self.sections["Prompts"].childCount()):
                self.sections["Prompts"].child(i).setExpanded(True)
        self._walk(lambda item: item.setExpanded(True) if self._key(item) in expanded else None)
        if selected is not None:
            self.select(*selected)

    def _add_prompts(self, project: Project) -> None:
        parent = self.sections["Prompts"]
        for prompt in project.prompts.list():
            latest = prompt.latest()
            item = QTreeWidgetItem([prompt.name])
            item.setData(0, ROLE, ("prompt", prompt.name))
            item.setToolTip(
                0, plain_tooltip(prompt.description or f"{len(prompt.versions)} version(s)")
            )
            parent.addChild(item)
            for version in sorted(prompt.versions, key=lambda v: v.version, reverse=True):
                labels = [k for k, v in prompt.labels.items() if v == version.version]
                text = f"v{version.version}" + (f"  {'  '.join(labels)}" if labels else "")
                child = QTreeWidgetItem([text])
                child.setData(0, ROLE, ("version", (prompt.name, version.version)))
                note = version.note or "(no note)"
                latest_mark = "latest — " if latest and version.version == latest.version else ""
                child.setToolTip(0, plain_tooltip(latest_mark + note))
                item.addChild(child)
        parent.setText(0, f"Prompts ({parent.childCount()})")

    def _add_datasets(self, project: Project) -> None:
        parent = self.sections["Datasets"]
        counts = project.datasets.counts()
        for name in project.datasets.names():
            item = QTreeWidgetItem([f"{name} ({counts.get(name, 0)})"])
            item.setData(0, ROLE, ("dataset", name))
            item.setToolTip(0, f"{counts.get(name, 0)} example(s)")
            parent.addChild(item)
        parent.setText(0, f"Datasets ({parent.childCount()})")

    def _add_runs(self, project: Project) -> None:
        parent = self.sections["Runs"]
        for run in reversed(project.runs.summaries()):  # newest first
            item = QTreeWidgetItem([run_text(run)])
            item.setData(0, ROLE, ("run", int(run.id)))
            item.setData(0, ROLE + 1, run.status)
            reason = run.status_reason
            tip = f"Run #{run.id}, started {short_time(run.created_at)}: {run.status}"
            tip += f" ({reason})" if reason else ""
            if run.errors:
                tip += f"; {run.errors} error(s)"
            if run.synthetic:
                tip += "; offline demo — synthetic responses"
            item.setToolTip(0, plain_tooltip(tip))
            parent.addChild(item)
        parent.setText(0, f"Runs ({parent.childCount()})")

    # -- helpers -----------------------------------------------------------------------------

    @staticmethod
    def _key(item: QTreeWidgetItem) -> tuple[str, Any]:
        kind, value = item.data(0, ROLE)
        return kind, tuple(value) if isinstance(value, list) else value

    def _walk(self, fn: Any) -> None:
        stack = [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())]
        while stack:
            item = stack.pop()
            fn(item)
            stack.extend(item.child(i) for i in range(item.childCount()))

    def _expanded_keys(self) -> set[tuple[str, Any]]:
        keys: set[tuple[str, Any]] = set()
        self._walk(lambda item: keys.add(self._key(item)) if item.isExpanded() else None)
        return keys

    def find(self, kind: str, value: Any) -> QTreeWidgetItem | None:
        """The item for ("prompt", name), ("version", (name, n)), ("dataset", name), ("run", id)."""
        found: list[QTreeWidgetItem] = []
        wanted = (kind, tuple(value) if isinstance(value, list) else value)
        self._walk(lambda item: found.append(item) if self._key(item) == wanted else None)
        return found[0] if found else None

    def select(self, kind: str, value: Any) -> bool:
        item = self.find(kind, value)
        if item is not None:
            self.tree.setCurrentItem(item)
        return item is not None

    def selected_run(self) -> tuple[int, str] | None:
        """(run id, status) of the selected run, if a run is selected."""
        item = self.tree.currentItem()
        if item is None or self._key(item)[0] != "run":
            return None
        return int(item.data(0, ROLE)[1]), str(item.data(0, ROLE + 1))

    def selected_prompt_ref(self) -> str | None:
        """ "name@N" for a selected version, "name" for a selected prompt, else None."""
        item = self.tree.currentItem()
        if item is None:
            return None
        kind, value = self._key(item)
        if kind == "version":
            return f"{value[0]}@{value[1]}"
        return value if kind == "prompt" else None

    # -- reacting ----------------------------------------------------------------------------

    def _on_project_changed(self, change: ProjectChange) -> None:
        if change.touches(Change.PROJECT | Change.PROMPTS | Change.DATASETS | Change.RUNS):
            self.refresh()

    def _on_open(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        kind, value = self._key(item)
        if kind == "prompt":
            self.prompt_opened.emit(value, None)
        elif kind == "version":
            self.prompt_opened.emit(value[0], value[1])
        elif kind == "dataset":
            self.dataset_opened.emit(value)
        elif kind == "run":
            self.run_opened.emit(value)

    def _on_context_menu(self, pos: QPoint) -> None:
        item = self.tree.itemAt(pos)
        if item is None:
            return
        self.tree.setCurrentItem(item)
        menu = self.context_menu(item)
        menu.popup(self.tree.viewport().mapToGlobal(pos))

    def context_menu(self, item: QTreeWidgetItem) -> QMenu:
        """The actions offered for `item` (built fresh each time)."""
        kind, value = self._key(item)
        menu = QMenu(self)
        writable = self.ctx.project is not None and not self.ctx.read_only
        if kind in ("prompt", "version", "dataset", "run"):
            menu.addAction("Open", lambda: self._on_open(item))
        if kind == "prompt":
            menu.addAction("Run this prompt…", lambda: self.run_requested.emit([value], None))
            menu.addAction("Compare versions", lambda: self.compare_requested.emit(value))
        elif kind == "version":
            ref = f"{value[0]}@{value[1]}"
            menu.addAction(f"Run v{value[1]}…", lambda: self.run_requested.emit([ref], None))
        elif kind == "dataset":
            menu.addAction("Run on this dataset…", lambda: self.run_requested.emit(None, value))
            menu.addSeparator()
            for text, signal in (
                ("Rename…", self.rename_dataset_requested),
                ("Duplicate", self.duplicate_dataset_requested),
                ("Delete…", self.delete_dataset_requested),
            ):
                action = menu.addAction(text, lambda s=signal: s.emit(value))
                action.setEnabled(writable)
        elif kind == "run":
            resume = menu.addAction("Resume", lambda: self.resume_requested.emit(value))
            resume.setEnabled(writable and item.data(0, ROLE + 1) in RESUMABLE)
        if kind == "section" and value == "Prompts" or kind == "prompt":
            new = menu.addAction("New prompt…", self.new_prompt_requested.emit)
            new.setEnabled(writable)
        if kind == "section" and value == "Datasets" or kind == "dataset":
            new = menu.addAction("New dataset…", self.new_dataset_requested.emit)
            new.setEnabled(writable)
        return menu
