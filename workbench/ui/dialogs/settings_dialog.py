"""Settings: the API key (OS keyring, or why not), base URL, default concurrency, price table.

The stored key is never shown in full; project settings live in the project file (never the
key). Price rows are immutable: changing a price means adding a row with a later date.
"""

from __future__ import annotations

import datetime as dt

from pydantic import ValidationError
from PySide6.QtCore import QDate, QSettings, Qt
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from workbench.core.errors import WorkbenchError
from workbench.core.models import PriceRow, Settings
from workbench.services import api_key_store
from workbench.services.endpoint import effective_endpoint, key_origin
from workbench.services.pricing import load_default_prices
from workbench.services.project_session import Project
from workbench.ui.context import Change, ProjectContext
from workbench.ui.dialogs.price_table import PRICE_FIELDS, PriceTableModel
from workbench.ui.operations import ProjectOp
from workbench.ui.theme import ThemeChoice, apply_theme, css, stored_choice

DEFAULT_BASE_URL = "https://api.anthropic.com"


def mask_key(key: str | None) -> str:
    """A key as "sk-ant-…1234": enough to recognise it, never enough to use it."""
    if not key:
        return ""
    key = key.strip()
    if len(key) < 12:
        return "…" + key[-2:]
    prefix = "sk-ant-" if key.startswith("sk-ant-") else key[:3]
    return f"{prefix}…{key[-4:]}"


def key_status() -> str:
    """Where the key comes from, masked: for the dialog and the toolbar."""
    source = api_key_store.api_key_source()
    if source is None:
        return "No API key set"
    where = "OS keyring" if source == "keyring" else f"{api_key_store.ENV_VAR} environment variable"
    return f"{mask_key(api_key_store.get_api_key())} (from the {where})"


class SettingsDialog(QDialog):
    """Non-modal-friendly: call `open()`; every change is written when its button is pressed."""

    def __init__(
        self,
        ctx: ProjectContext,
        parent: QWidget | None = None,
        *,
        settings: QSettings | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.app_settings = settings  # where the appearance is remembered (default: the app's)
        self.setWindowTitle("Settings — Prompt Workbench")
        self.resize(980, 700)
        top = QHBoxLayout()
        top.addWidget(self._build_key_box(), 1)
        top.addWidget(self._build_project_box(), 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(self._build_appearance_row())
        layout.addWidget(self._build_prices_box(), 1)
        layout.addWidget(buttons)
        self.refresh()

    # -- appearance ----------------------------------------------------------------------------

    def _build_appearance_row(self) -> QHBoxLayout:
        self.appearance = QComboBox()
        self.appearance.setAccessibleName("Appearance")
        for choice, text in (
            (ThemeChoice.SYSTEM, "System (follow the desktop)"),
            (ThemeChoice.LIGHT, "Light"),
            (ThemeChoice.DARK, "Dark"),
        ):
            self.appearance.addItem(text, choice.value)
        self.appearance.setCurrentIndex(
            self.appearance.findData(stored_choice(self.app_settings).value)
        )
        self.appearance.currentIndexChanged.connect(self._on_appearance_chosen)
        row = QHBoxLayout()
        label = QLabel("&Appearance")
        label.setBuddy(self.appearance)
        row.addWidget(label)
        row.addWidget(self.appearance)
        row.addStretch(1)
        return row

    def _on_appearance_chosen(self, _index: int) -> None:
        # Applied at once (charts included) and remembered for the next start.
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, self.appearance.currentData(), self.app_settings)

    # -- API key -------------------------------------------------------------------------------

    def _build_key_box(self) -> QGroupBox:
        box = QGroupBox("Anthropic API key")
        self.key_status = QLabel()
        self.key_status.setTextFormat(Qt.TextFormat.PlainText)
        self.key_status.setWordWrap(True)
        self.key_edit = QLineEdit()
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("Paste a key (sk-ant-…) to store it in the OS keyring")
        self.key_edit.setAccessibleName("New API key")
        self.save_key_button = QPushButton("Save key")
        self.save_key_button.clicked.connect(self.save_key)
        self.remove_key_button = QPushButton("Remove from keyring")
        self.remove_key_button.clicked.connect(self.remove_key)
        self.keyring_note = QLabel()
        self.keyring_note.setTextFormat(Qt.TextFormat.PlainText)
        self.keyring_note.setWordWrap(True)
        self.key_message = QLabel()
        self.key_message.setTextFormat(Qt.TextFormat.PlainText)
        self.key_message.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.key_edit, 1)
        row.addWidget(self.save_key_button)
        layout = QVBoxLayout(box)
        layout.addWidget(self.key_status)
        layout.addLayout(row)
        layout.addWidget(self.remove_key_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.keyring_note)
        layout.addWidget(self.key_message)
        layout.addStretch(1)
        return box

    def _refresh_key(self) -> None:
        self.key_status.setText(key_status())
        available, why = api_key_store.keyring_available()
        self.key_edit.setEnabled(available)
        self.save_key_button.setEnabled(available)
        self.remove_key_button.setEnabled(available and api_key_store.api_key_source() == "keyring")
        if available:
            self.keyring_note.setText(
                f"Keys are stored in the {why}, never in a project file or an export."
            )
        else:
            self.keyring_note.setText(
                f"The key cannot be stored here because {why}. Set the {api_key_store.ENV_VAR} "
                "environment variable before starting Prompt Workbench instead; the offline "
                "demo needs no key."
            )

    def save_key(self) -> bool:
        """Store the typed key in the keyring; the field is cleared either way."""
        typed = self.key_edit.text()
        self.key_edit.clear()  # the key never lingers in a widget
        try:
            api_key_store.set_api_key(typed)
        except WorkbenchError as exc:
            self._say(self.key_message, exc.user_message, error=True)
            return False
        self._say(self.key_message, f"Saved {mask_key(typed)} in the OS keyring.")
        self.ctx.notify(Change.API_KEY)
        self._refresh_key()
        return True

    def remove_key(self) -> None:
        removed = api_key_store.delete_api_key()
        self._say(
            self.key_message,
            "Removed the key from the OS keyring."
            if removed
            else "No key was stored in the keyring.",
        )
        self.ctx.notify(Change.API_KEY)
        self._refresh_key()

    # -- project settings ----------------------------------------------------------------------

    def _build_project_box(self) -> QGroupBox:
        self.project_box = QGroupBox("This project")
        self.base_url = QLineEdit()
        self.base_url.setPlaceholderText(f"Default: {effective_endpoint(None).url}")
        self.base_url.setToolTip(
            "Leave empty for the Anthropic API (or ANTHROPIC_BASE_URL when it is set)"
        )
        self.base_url.setAccessibleName("Base URL")
        self.concurrency = QSpinBox()
        self.concurrency.setRange(1, 256)
        self.concurrency.setAccessibleName("Default concurrency")
        self.concurrency.setToolTip("Calls in flight at once when a run starts (1–256)")
        self.save_project_button = QPushButton("Save project settings")
        self.save_project_button.clicked.connect(self.save_project_settings)
        self.project_message = QLabel()
        self.project_message.setTextFormat(Qt.TextFormat.PlainText)
        self.project_message.setWordWrap(True)
        form = QFormLayout(self.project_box)
        form.addRow("Base URL", self.base_url)
        self.endpoint_label = QLabel()
        self.endpoint_label.setTextFormat(Qt.TextFormat.PlainText)
        self.endpoint_label.setWordWrap(True)  # never elided: the whole URL is the point
        self.endpoint_label.setAccessibleName("Where calls go")
        form.addRow("Calls go to", self.endpoint_label)
        form.addRow("Default concurrency", self.concurrency)
        form.addRow(self.save_project_button)
        form.addRow(self.project_message)
        return self.project_box

    def save_project_settings(self) -> bool:
        project = self.ctx.project
        if project is None:
            return False
        url = self.base_url.text().strip() or None
        if url is not None and not url.startswith(("http://", "https://")):
            self._say(
                self.project_message, "Base URL: use an http:// or https:// address.", error=True
            )
            return False
        concurrency = self.concurrency.value()

        def save(own: Project) -> None:
            settings = own.settings.model_copy(
                update={"base_url": url, "default_concurrency": concurrency}
            )
            own.set_settings(Settings.model_validate(settings.model_dump()))

        ProjectOp(self, self.ctx, save, change=Change.SETTINGS).success(
            lambda _: self._say(self.project_message, "Saved in the project file.")
        ).failure(lambda message: self._say(self.project_message, message, error=True)).run()
        return True

    # -- prices --------------------------------------------------------------------------------

    def _build_prices_box(self) -> QGroupBox:
        box = QGroupBox("Prices (USD per million tokens)")
        self.prices_model = PriceTableModel(self)
        self.prices_view = QTableView()
        self.prices_view.setModel(self.prices_model)
        self.prices_view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.prices_view.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.prices_view.setAlternatingRowColors(True)
        self.prices_view.verticalHeader().setVisible(False)
        self.prices_view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.prices_view.setWordWrap(False)
        self.prices_view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.prices_view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.prices_view.setAccessibleName("Price table")
        self.prices_view.selectionModel().currentRowChanged.connect(self._on_price_selected)
        self.prices_note = QLabel()
        self.prices_note.setTextFormat(Qt.TextFormat.PlainText)
        self.prices_note.setWordWrap(True)

        self.new_model = QComboBox()
        self.new_model.setEditable(True)
        self.new_model.setAccessibleName("Model for the new price row")
        self.new_date = QDateEdit(QDate.currentDate())
        self.new_date.setCalendarPopup(True)
        self.new_date.setDisplayFormat("yyyy-MM-dd")
        self.new_date.setAccessibleName("Effective from")
        self.new_values: dict[str, QDoubleSpinBox] = {}
        form = QGridLayout()
        form.addWidget(QLabel("Model"), 0, 0)
        form.addWidget(self.new_model, 0, 1, 1, 3)
        form.addWidget(QLabel("Effective from"), 0, 4)
        form.addWidget(self.new_date, 0, 5)
        for i, (field, title) in enumerate(PRICE_FIELDS):
            spin = QDoubleSpinBox()
            spin.setRange(0, 10_000)
            spin.setDecimals(3)
            spin.setAccessibleName(title)
            self.new_values[field] = spin
            form.addWidget(QLabel(title), 1 + i // 3, (i % 3) * 2)
            form.addWidget(spin, 1 + i // 3, (i % 3) * 2 + 1)
        self.new_source = QLineEdit()
        self.new_source.setPlaceholderText("Where the price comes from (e.g. a pricing page URL)")
        self.add_price_button = QPushButton("Add dated row")
        self.add_price_button.setToolTip("Rows are never edited: a new row with a later date wins")
        self.add_price_button.clicked.connect(self.add_price_row)
        form.addWidget(QLabel("Source"), 3, 0)
        form.addWidget(self.new_source, 3, 1, 1, 3)
        form.addWidget(self.add_price_button, 3, 5)
        self.prices_message = QLabel()
        self.prices_message.setTextFormat(Qt.TextFormat.PlainText)
        self.prices_message.setWordWrap(True)

        layout = QVBoxLayout(box)
        layout.addWidget(self.prices_view, 1)
        layout.addWidget(self.prices_note)
        caption = QLabel(
            "New price row — rows are never edited: a row with a later date takes over from "
            "that day (select a row to start from its values)."
        )
        caption.setWordWrap(True)
        caption.setStyleSheet("font-weight: bold;")
        layout.addWidget(caption)
        layout.addLayout(form)
        layout.addWidget(self.prices_message)
        return box

    def _project_prices(self) -> tuple[list[PriceRow], bool]:
        """The project's price rows, or the built-in defaults (True) when it has none yet."""
        project = self.ctx.project
        rows = project.catalog.list_prices() if project is not None else []
        return (rows, False) if rows else (load_default_prices(), True)

    def _refresh_prices(self) -> None:
        rows, defaults = self._project_prices()
        self.prices_model.set_rows(rows)
        models = list(dict.fromkeys(r.model for r in rows))
        current = self.new_model.currentText()
        self.new_model.clear()
        self.new_model.addItems(models)
        if current:
            self.new_model.setCurrentText(current)
        self.prices_note.setText(
            "Showing the built-in price table; adding a row copies it into this project."
            if defaults
            else "Costs are computed when a call is logged, with the row in effect on that day."
        )

    def _on_price_selected(self, current: object, _previous: object) -> None:
        row = self.prices_model.row_at(self.prices_view.currentIndex().row())
        if row is None:
            return
        self.new_model.setCurrentText(row.model)
        for field, spin in self.new_values.items():
            spin.setValue(float(getattr(row, field)))
        self.new_source.setText(row.source)

    def add_price_row(self) -> PriceRow | None:
        """Add the form as a new dated row (the defaults are copied in first if needed)."""
        project = self.ctx.project
        if project is None:
            return None
        qdate = self.new_date.date()
        try:
            row = PriceRow(
                model=self.new_model.currentText().strip(),
                effective_from=dt.date(qdate.year(), qdate.month(), qdate.day()),
                source=self.new_source.text().strip() or "entered in Settings",
                **{field: spin.value() for field, spin in self.new_values.items()},
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            self._say(self.prices_message, f"Not added: {field}: {first['msg']}.", error=True)
            return None
        rows, defaults = self._project_prices()
        # A project with no rows costs calls with the defaults; copying them in first keeps
        # that true for every other model once this row exists.
        new_rows = [*rows, row] if defaults else [row]

        def added(count: int) -> None:
            self._refresh_prices()
            if count:
                self._say(
                    self.prices_message,
                    f"Added a price for {row.model} from {row.effective_from}.",
                )
            else:
                self._say(self.prices_message, "That exact row is already in the table.")

        ProjectOp(
            self,
            self.ctx,
            lambda own: own.catalog.add_prices(new_rows),
            change=Change.PRICES,
            detail=row.model,
        ).success(added).failure(
            lambda message: self._say(self.prices_message, message, error=True)
        ).run()
        return row

    # -- common --------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Re-read the key status, the project settings and the price table."""
        self._refresh_key()
        project = self.ctx.project
        writable = project is not None and not project.read_only
        if project is not None:
            settings = project.settings
            self.base_url.setText(settings.base_url or "")
            self.concurrency.setValue(settings.default_concurrency)
            self.project_box.setTitle(f"This project ({project.name})")
        self.endpoint_label.setText(
            f"{effective_endpoint(self.ctx.project).describe()} · {key_origin()}"
        )
        for widget in (self.base_url, self.concurrency, self.save_project_button):
            widget.setEnabled(writable)
        for widget in (self.new_model, self.new_date, self.new_source, self.add_price_button):
            widget.setEnabled(writable)
        for spin in self.new_values.values():
            spin.setEnabled(writable)
        if project is None:
            self._say(self.project_message, "Open a project to change its settings and prices.")
        elif project.read_only:
            self._say(self.project_message, f"Read-only project: {project.read_only_reason}")
        self._refresh_prices()

    @staticmethod
    def _say(label: QLabel, text: str, *, error: bool = False) -> None:
        label.setStyleSheet(css("bad" if error else "muted"))
        label.setText(text)
