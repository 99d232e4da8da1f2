"""The one window: toolbar, sidebar dock, centre tabs (prompt editor, dataset, run grid),
inspector dock, run status bar, and every action in a menu with a shortcut and a status tip.

Screens never call each other for refreshes: they listen to `ctx.changed`. The window only
routes what the user asked for (open this prompt, show that run) to the right screen.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QStackedWidget,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workbench.services.endpoint import effective_endpoint, key_origin
from workbench.services.projects import checkpoint_project
from workbench.services.run_service import spend_summary
from workbench.ui.batch_watch import BatchWatch
from workbench.ui.charts import ChartsPane
from workbench.ui.context import Change, ProjectChange, ProjectContext
from workbench.ui.dataset_manager import DatasetManager
from workbench.ui.icons import themed_icon
from workbench.ui.project_files import ProjectFileActions
from workbench.ui.recent import RecentProjects
from workbench.ui.review_queue import ReviewQueue
from workbench.ui.run_controller import RunController
from workbench.ui.run_status import RunStatus
from workbench.ui.sidebar import RESUMABLE, Sidebar
from workbench.ui.theme import on_theme_change, themed_style
from workbench.ui.welcome import WelcomeScreen
from workbench.ui.widgets.call_inspector import CallInspector
from workbench.ui.widgets.dataset_editor import DatasetEditor
from workbench.ui.widgets.eval_views import EvalsPane
from workbench.ui.widgets.production_view import ProductionView
from workbench.ui.widgets.prompt_editor import PromptEditor
from workbench.ui.widgets.run_grid import RunGrid
from workbench.ui.window_menus import build_menus

APP_TITLE = "Prompt Workbench"
DEMO_BANNER = "offline demo — synthetic responses"
# The widest a centre page may ask to be: with the panels at their minimum (160 + 200 px) the
# window then fits 1024 px.
MAX_PAGE_MIN_WIDTH = 630
EDITOR_TAB, DATASET_TAB, GRID_TAB, CHARTS_TAB, REVIEW_TAB, EVALS_TAB = 0, 1, 2, 3, 4, 5


class MainWindow(ProjectFileActions, QMainWindow):
    """The application window for one `ProjectContext`.

    :param settings: where layout and recent files are remembered (default: the app's QSettings)
    :param remember_layout: restore and save dock/splitter layout (off for the self-test)
    """

    def __init__(
        self,
        ctx: ProjectContext,
        *,
        settings: QSettings | None = None,
        remember_layout: bool = True,
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.settings = settings or QSettings()
        self.recent = RecentProjects(self.settings)
        self.remember_layout = remember_layout
        self._temp_dirs: list[tempfile.TemporaryDirectory[str]] = []
        self._bundle_origin: dict[Path, str] = {}
        self.settings_dialog: QWidget | None = None
        self.log_import_dialog: QWidget | None = None
        self.shortcuts_dialog: QWidget | None = None
        self.message_box: QMessageBox | None = None
        self.setObjectName("mainWindow")
        self.resize(1280, 800)
        self.controller = RunController(ctx, self)
        self._build_centre()
        self._build_docks()
        self.datasets = DatasetManager(
            self,
            ctx,
            self.dataset_editor,
            prompt_of=self._selected_prompt,
            opened=self.show_dataset,
            draft_variables=self.editor.draft_variables,
        )
        self.actions_by_name: dict[str, QAction] = build_menus(self)
        self._build_toolbar()
        self._build_status_bar()
        self._name_overflow_buttons()
        self._default_state = self.saveState()
        self._connect()
        if remember_layout:
            self.restore_layout()
        self._on_project_changed(ProjectChange(Change.PROJECT, ctx.project))

    # -- building ----------------------------------------------------------------------------

    def _build_centre(self) -> None:
        self.editor = PromptEditor(self.ctx)
        self.dataset_editor = DatasetEditor(self.ctx)
        self.grid = RunGrid(self.ctx)
        self.charts = ChartsPane(self.ctx)
        self.review = ReviewQueue(self.ctx)
        self.evals = EvalsPane(self.ctx)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.editor, "Prompt editor")
        self.tabs.addTab(self.dataset_editor, "Dataset")
        self.tabs.addTab(self.grid, "Run grid")
        self.tabs.addTab(self.charts, "Charts")
        self.tabs.addTab(self.review, "Review")
        self.tabs.addTab(self.evals, "Evals")
        self.production = ProductionView(self.ctx, open_review=self._review_production_sample)
        self.tabs.addTab(self.production, "Production")
        for index in range(self.tabs.count()):
            page = self.tabs.widget(index)
            # No page may make the window wider than a 1024 px screen allows with both panels.
            if page.minimumSizeHint().width() > MAX_PAGE_MIN_WIDTH:
                page.setMinimumWidth(MAX_PAGE_MIN_WIDTH)
        self.banner = QLabel(DEMO_BANNER)
        self.banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        themed_style(
            self.banner,
            lambda t: (
                f"background: {t.banner_bg.name()}; color: {t.banner_fg.name()}; "
                f"border-bottom: 1px solid {t.banner_border.name()}; padding: 4px;"
            ),
        )
        self.banner.setAccessibleName("Offline demo notice")
        self.banner.setVisible(self.ctx.demo)
        workspace = QWidget()
        layout = QVBoxLayout(workspace)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)
        self.welcome = WelcomeScreen(self.recent.entries)
        self.centre = QStackedWidget()
        self.centre.addWidget(self.welcome)
        self.centre.addWidget(workspace)
        self.setCentralWidget(self.centre)
        self.setAcceptDrops(True)  # a .pwb or .yaml dropped on the window opens

    def _build_docks(self) -> None:
        self.sidebar = Sidebar(self.ctx)
        self.sidebar_dock = QDockWidget("Project", self)
        self.sidebar_dock.setObjectName("sidebarDock")
        self.sidebar_dock.setWidget(self.sidebar)
        self.sidebar.setMinimumWidth(160)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.sidebar_dock)
        self.inspector = CallInspector(self.ctx)
        self.inspector_dock = QDockWidget("Inspector", self)
        self.inspector_dock.setObjectName("inspectorDock")
        self.inspector_dock.setWidget(self.inspector)
        self.inspector.setMinimumWidth(200)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.inspector_dock)
        self.resizeDocks(
            [self.sidebar_dock, self.inspector_dock], [250, 320], Qt.Orientation.Horizontal
        )

    def _build_toolbar(self) -> None:
        bar = self.addToolBar("Main")
        bar.setObjectName("mainToolbar")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.project_button = QToolButton()
        self.project_button.setText("Project")  # the menu arrow is drawn by Qt
        self.project_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.project_button.setToolTip("New, open, recent, save as, close")
        self.project_button.setMenu(self.file_menu)
        self.project_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        bar.addWidget(self.project_button)
        bar.addSeparator()
        for name in ("run", "stop", "review"):
            bar.addAction(self.actions_by_name[name])
        # Export: the production config and the text bundle, from one button.
        self.export_button = QToolButton()
        self.export_button.setText("Export")
        self.export_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.export_button.setToolTip("Export the production config (Ctrl+E) or the text bundle")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        export_menu = QMenu(self.export_button)
        export_menu.addActions(
            [self.actions_by_name["export_production"], self.actions_by_name["export"]]
        )
        self.export_button.setMenu(export_menu)
        bar.addWidget(self.export_button)
        # SVG icons drawn in the palette's text colour: drawn again when the theme switches.
        on_theme_change(self, self._apply_toolbar_icons)
        self.toolbar = bar

    def _build_status_bar(self) -> None:
        # Where calls go and where the key is from, in full (a permanent widget is never
        # squeezed below its size hint, so the URL is not elided).
        self.key_label = QLabel()
        self.key_label.setTextFormat(Qt.TextFormat.PlainText)
        self.key_label.setAccessibleName("Where calls go and where the key comes from")
        self.statusBar().addPermanentWidget(self.key_label)
        self.run_status = RunStatus()
        self.statusBar().addPermanentWidget(self.run_status)
        self.batch_watch = BatchWatch()
        self.statusBar().addPermanentWidget(self.batch_watch)

    def _connect(self) -> None:
        self.ctx.changed.connect(self._on_project_changed)
        self.batch_watch.collected.connect(lambda _: self.ctx.notify(Change.RUNS))
        self.editor.title_changed.connect(lambda text: self.tabs.setTabText(EDITOR_TAB, text))
        self.editor.status_message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.welcome.new_requested.connect(self.new_project)
        self.welcome.open_requested.connect(self.open_dialog)
        self.welcome.demo_requested.connect(self.open_demo)
        self.welcome.recent_opened.connect(self.open_path)
        self.sidebar.prompt_opened.connect(self.show_prompt)
        self.sidebar.dataset_opened.connect(self.show_dataset)
        self.sidebar.run_opened.connect(self.show_run)
        self.sidebar.resume_requested.connect(self.resume_run)
        self.sidebar.run_requested.connect(self.open_run_dialog)
        self.sidebar.new_prompt_requested.connect(self.new_prompt)
        self.sidebar.compare_requested.connect(self._on_compare_requested)
        self.dataset_editor.used_variables = self.editor.draft_variables
        self.dataset_editor.dataset_created.connect(self.show_dataset)
        self.sidebar.new_dataset_requested.connect(self.datasets.ask_new)
        self.sidebar.rename_dataset_requested.connect(self.datasets.ask_rename)
        self.sidebar.duplicate_dataset_requested.connect(self.datasets.duplicate)
        self.sidebar.delete_dataset_requested.connect(self.datasets.ask_delete)
        self.grid.attach(self.controller)  # the grid streams the controller's runs itself
        self.grid.call_selected.connect(self._on_call_selected)
        self.review.call_shown.connect(self._on_call_selected)
        self.controller.run_started.connect(self._on_run_started)
        self.controller.progress.connect(self.run_status.update_progress)
        self.controller.run_finished.connect(self._on_run_finished)
        self.controller.error.connect(self._on_run_error)
        self.run_status.cancel_requested.connect(self.stop_run)

    # -- layout memory -----------------------------------------------------------------------

    def restore_layout(self) -> None:
        geometry = self.settings.value("mainwindow/geometry")
        state = self.settings.value("mainwindow/state")
        splitter = self.settings.value("mainwindow/editorSplitter")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            self.restoreState(state)
        if isinstance(splitter, QByteArray):
            self.editor.splitter.restoreState(splitter)

    def save_layout(self) -> None:
        self.settings.setValue("mainwindow/geometry", self.saveGeometry())
        self.settings.setValue("mainwindow/state", self.saveState())
        self.settings.setValue("mainwindow/editorSplitter", self.editor.splitter.saveState())
        self.settings.sync()

    def reset_layout(self) -> None:
        """View ▸ Reset layout: docks and toolbar back where they started."""
        self.restoreState(self._default_state)
        for dock in (self.sidebar_dock, self.inspector_dock):
            dock.show()
        self.resizeDocks(
            [self.sidebar_dock, self.inspector_dock], [250, 320], Qt.Orientation.Horizontal
        )

    # -- projects ----------------------------------------------------------------------------

    def _message_box(
        self, icon: QMessageBox.Icon, text: str, buttons: QMessageBox.StandardButton
    ) -> QMessageBox:
        box = QMessageBox(icon, APP_TITLE, text, buttons, self)
        box.setTextFormat(Qt.TextFormat.PlainText)  # messages quote file names and user text
        box.finished.connect(box.deleteLater)
        self.message_box = box
        return box

    def show_error(self, text: str) -> QMessageBox:
        """One sentence in a message box that does not block (and in the status bar)."""
        self.statusBar().showMessage(text, 10000)
        box = self._message_box(QMessageBox.Icon.Warning, text, QMessageBox.StandardButton.Ok)
        box.open()
        return box

    # -- routing user requests ---------------------------------------------------------------

    def show_prompt(self, name: str, version: int | None = None) -> None:
        same = self.editor.prompt_name == name and version in (None, self.editor.base_version)
        if same or self.editor.show_prompt(name, version):
            self.tabs.setCurrentIndex(EDITOR_TAB)

    def show_dataset(self, name: str) -> None:
        self.dataset_editor.show_dataset(name)
        self.tabs.setCurrentIndex(DATASET_TAB)
        self.sidebar.select("dataset", name)
        self.datasets.update_actions()

    def _selected_prompt(self) -> str | None:
        """The prompt the user is working on: the editor's, else the sidebar's selection."""
        if self.editor.prompt_name:
            return self.editor.prompt_name
        ref = self.sidebar.selected_prompt_ref()
        return ref.split("@", 1)[0] if ref else None

    def show_run(self, run_id: int) -> None:
        self.grid.show_run(run_id)
        self.tabs.setCurrentIndex(GRID_TAB)

    def open_review(self) -> None:
        """Run ▸ Review outputs: the review queue, scoped to the run on screen (if any)."""
        if self.ctx.project is None:
            return
        if not self.review.reviewing:
            self.review.set_run(self.grid.model.run_id)
        self.tabs.setCurrentIndex(REVIEW_TAB)
        (self.review.card if self.review.reviewing else self.review.start_button).setFocus()

    def _review_production_sample(self, call_ids: list[int]) -> None:
        """The Production tab's weekly sample, walked in the review queue."""
        self.review.review_calls(call_ids)
        self.tabs.setCurrentWidget(self.review)

    def new_prompt(self) -> None:
        self.tabs.setCurrentIndex(EDITOR_TAB)
        self.editor.new_prompt()

    def _on_compare_requested(self, name: str) -> None:
        self.show_prompt(name)
        if self.editor.prompt_name == name:
            self.editor.compare()

    def _prompt_refs(self) -> list[str] | None:
        ref = self.sidebar.selected_prompt_ref()
        if ref is None and self.editor.prompt_name and self.editor.base_version:
            ref = f"{self.editor.prompt_name}@{self.editor.base_version}"
        return [ref] if ref else None

    def open_run_dialog(self, prompts: Any = None, dataset: Any = None) -> None:
        """Run ▸ Run…: the run dialog (preflight first) for the selected prompt version."""
        if self.ctx.project is None:
            return
        self.controller.open_run_dialog(
            self, prompts=prompts or self._prompt_refs(), dataset=dataset
        )

    def stop_run(self) -> None:
        if self.controller.running:
            self.controller.cancel()
            self.statusBar().showMessage("Stopping: no new calls start; calls in flight finish.")

    def resume_run(self, run_id: int | None = None) -> None:
        """Run ▸ Resume: the selected run, else the latest run that did not finish."""
        project = self.ctx.project
        if project is None or self.controller.running:
            return
        if run_id is None:
            selected = self.sidebar.selected_run()
            if selected is not None and selected[1] in RESUMABLE:
                run_id = selected[0]
        if run_id is None:
            open_runs = [r for r in project.runs.summaries() if r.status in RESUMABLE]
            run_id = open_runs[-1].id if open_runs else None
        if run_id is None:
            self.statusBar().showMessage("No interrupted or cancelled run to resume.", 8000)
            return
        self.controller.resume(run_id)

    def _on_call_selected(self, call_id: int) -> None:
        self.inspector.show_call(call_id)
        self.inspector_dock.show()

    def _on_run_started(self, run_id: int) -> None:
        self.run_status.started(run_id)
        self.tabs.setCurrentIndex(GRID_TAB)
        self._update_actions()

    def _on_run_error(self, text: str) -> None:
        self.run_status.set_idle("No run in progress")
        self._update_actions()
        self.show_error(text)

    def _on_run_finished(self, outcome: Any) -> None:
        project = self.ctx.project
        spend = spend_summary(project, outcome.run_id) if project is not None else None
        self.run_status.finished(outcome, spend)
        if project is not None:
            checkpoint_project(project)  # a copy of the file now holds the whole run
        self.statusBar().showMessage(f"Run #{outcome.run_id} {outcome.status}.", 8000)
        self._update_actions()

    def _name_overflow_buttons(self) -> None:
        # Qt's own » buttons (shown when a bar is too narrow) have no text for a screen reader.
        names = {"qt_toolbar_ext_button": "More tools", "qt_menubar_ext_button": "More menus"}
        for button in self.findChildren(QToolButton):
            if button.objectName() in names and not button.accessibleName():
                button.setAccessibleName(names[button.objectName()])

    def _apply_toolbar_icons(self, _theme: object) -> None:
        for name in ("run", "stop", "review"):
            self.actions_by_name[name].setIcon(themed_icon(name))
        self.export_button.setIcon(themed_icon("export"))
        self.project_button.setIcon(themed_icon("project"))

    # -- state -------------------------------------------------------------------------------

    def _on_project_changed(self, change: ProjectChange) -> None:
        if change.touches(Change.PROJECT | Change.SETTINGS | Change.API_KEY | Change.EXPORT):
            self._update_title()
            self._update_key_label()
        if change.touches(Change.PROJECT | Change.RUNS):
            self.batch_watch.show_project(self.ctx.project)
        if change.touches(Change.PROJECT):
            self._show_welcome(self.ctx.project is None)
            self.banner.setVisible(self.ctx.demo)
            if self.ctx.project is None:
                self.dataset_editor.show_dataset(None)
                self.inspector.show_call(None)
        self._update_actions()

    def _show_welcome(self, welcome: bool) -> None:
        """The welcome screen in the centre while no project is open."""
        if welcome:
            self.welcome.refresh()
            self.centre.setCurrentWidget(self.welcome)
        else:
            self.centre.setCurrentIndex(1)

    def _update_title(self) -> None:
        project = self.ctx.project
        if project is None:
            self.setWindowTitle(APP_TITLE)
            return
        flags = " [read-only]" if project.read_only else ""
        flags += " [offline demo]" if self.ctx.demo else ""
        self.setWindowTitle(f"{project.name} — {project.path}{flags} — {APP_TITLE}")

    def _update_key_label(self) -> None:
        if self.ctx.demo:
            self.key_label.setText("offline demo · synthetic answers per tier · $0  ")
            return
        endpoint = effective_endpoint(self.ctx.project)
        self.key_label.setText(f"{endpoint.describe()} · {key_origin()}  ")
        self.key_label.setToolTip(
            f"Model calls go to {endpoint.url} ({endpoint.source}); {key_origin()}."
        )

    def _update_actions(self) -> None:
        has = self.ctx.project is not None
        writable = has and not self.ctx.read_only
        running = self.controller.running
        enable = {
            "save_as": has,
            "save_copy": has,
            "close": has,
            "export": has,
            "export_production": has,
            "import_logs": writable,
            "new_prompt": writable,
            "save_version": writable,
            "compare": has,
            "move_label": writable,
            "run": writable and not running,
            "stop": running,
            "resume": writable and not running,
            "review": has,
        }
        for name, on in enable.items():
            self.actions_by_name[name].setEnabled(on)
        self.export_button.setEnabled(has)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if self.controller.running:
            answer = QMessageBox.question(
                self,
                APP_TITLE,
                "A run is in progress. Stop it and close the window?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
            self.controller.cancel()
        if not self.editor.maybe_discard_changes():
            event.ignore()
            return
        if self.remember_layout:
            self.save_layout()
        event.accept()

    def keyboard_shortcuts(self) -> list[tuple[str, str, str]]:
        """(menu, action, shortcut) for every menu action with a shortcut, for Help."""
        out = []
        for menu in self.menuBar().findChildren(type(self.file_menu)):
            for action in menu.actions():
                keys = ", ".join(
                    k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()
                )
                if keys and not action.isSeparator():
                    out.append(
                        (menu.title().replace("&", ""), action.text().replace("&", ""), keys)
                    )
        return out
