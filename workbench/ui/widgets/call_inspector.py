"""The inspector: everything logged for one call — the full request (system, messages, params),
the response as plain text, stop reason, usage, cost, timings, every attempt with its request
id, and whether it was served from the cache or is a synthetic (offline demo) response."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.core.errors import WorkbenchError
from workbench.core.records import StoredCall
from workbench.ui.context import Change, ProjectChange, ProjectContext
from workbench.ui.operations import describe_error
from workbench.ui.widgets.call_details_view import CallDetailsView
from workbench.ui.widgets.sent_images import SentImages

SYNTHETIC_TEXT = "offline demo — synthetic responses (not from a model)"
ATTEMPT_HEADERS = ["#", "Status", "Duration", "Retry-after", "Backoff", "Request id", "Error"]


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"


def _tokens(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} s"


def request_text(request: dict[str, Any]) -> str:
    """The logged request as a reader wants it: system, then each message, then params as JSON."""
    parts = ["SYSTEM", request.get("system") or "(none)", ""]
    for number, message in enumerate(request.get("messages", []), start=1):
        parts += [
            f"MESSAGE {number} ({message.get('role', '?')})",
            _content(message.get("content", "")),
            "",
        ]
    params = {k: v for k, v in request.items() if k not in ("system", "messages")}
    parts += ["PARAMS", json.dumps(params, indent=2, ensure_ascii=False, sort_keys=True)]
    return "\n".join(parts)


def _content(content: Any) -> str:
    # Block messages (images, tool calls and results) as pretty JSON; files show their hash.
    if isinstance(content, str):
        return content
    return json.dumps(content, indent=2, ensure_ascii=False)


def _plain_view(name: str) -> QPlainTextEdit:
    view = QPlainTextEdit()
    view.setReadOnly(True)
    view.setAccessibleName(name)
    view.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
    return view


class CallInspector(QWidget):
    """Shows one logged call; `show_call(None)` (or 0) clears it."""

    def __init__(self, ctx: ProjectContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.call: StoredCall | None = None
        self._version_names: dict[int, str] | None = None
        self.title = QLabel("Select a cell in the run grid to see its call.")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setWordWrap(True)
        self.title.setStyleSheet("font-weight: bold;")
        self.markers = QLabel()
        self.markers.setTextFormat(Qt.TextFormat.PlainText)
        self.markers.setWordWrap(True)
        self.markers.setStyleSheet("background: #fff4d6; color: #5c3d00; padding: 4px;")
        self.error = QLabel()
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setWordWrap(True)
        self.error.setStyleSheet("background: #ffd7d9; color: #750e13; padding: 4px;")
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.facts: dict[str, QLabel] = {}
        facts = QFormLayout()
        for name in (
            "Stop reason",
            "Latency",
            "Time to first token",
            "Total with retries",
            "Input tokens",
            "Output tokens",
            "Cache write / read",
            "Cost",
            "Request id",
            "Started",
            "Run / cell",
        ):
            value = QLabel("—")
            value.setTextFormat(Qt.TextFormat.PlainText)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setWordWrap(True)
            facts.addRow(name, value)
            self.facts[name] = value

        self.response = _plain_view("Response text")
        self.request = _plain_view("Request sent")
        self.attempts = QTableWidget(0, len(ATTEMPT_HEADERS))
        self.attempts.setAccessibleName("Attempts")
        self.attempts.setHorizontalHeaderLabels(ATTEMPT_HEADERS)
        self.attempts.verticalHeader().setVisible(False)
        self.attempts.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.attempts.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.attempts.horizontalHeader().setStretchLastSection(True)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.response, "&Response")
        self.tabs.addTab(self.request, "Re&quest")
        self.tabs.addTab(self.attempts, "&Attempts")

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.markers)
        layout.addWidget(self.error)
        layout.addLayout(facts)
        self.details = CallDetailsView()
        layout.addWidget(self.details)
        self.images = SentImages(ctx)
        layout.addWidget(self.images)
        layout.addWidget(self.tabs, 1)
        ctx.changed.connect(self._on_context_changed)
        self.show_call(None)

    def _on_context_changed(self, change: ProjectChange) -> None:
        if change.touches(Change.PROJECT | Change.PROMPTS):
            self._version_names = None
        if change.touches(Change.PROJECT):
            self.show_call(None)

    def _version_name(self, version_id: int | None) -> str | None:
        project = self.ctx.project
        if version_id is None or project is None:
            return None
        if self._version_names is None:
            names: dict[int, str] = {}
            for prompt in project.prompts.list():
                for version in prompt.versions:
                    row_id = project.prompts.version_row_id(prompt.name, version.version)
                    names[row_id] = f"{prompt.name}@v{version.version}"
            self._version_names = names
        return self._version_names.get(version_id)

    def show_call(self, call_id: int | None) -> None:
        """Load and show call `call_id`; None or 0 shows the empty state."""
        self.call = None
        project = self.ctx.project
        if call_id and project is not None:
            try:
                self.call = project.runs.get_call(int(call_id))
            except WorkbenchError as exc:
                self._clear(describe_error(exc))
                return
        if self.call is None:
            self._clear("Select a finished cell in the run grid to see its call.")
            return
        self._render(self.call)

    def _clear(self, message: str) -> None:
        self.title.setText(message)
        self.markers.setVisible(False)
        self.error.setVisible(False)
        for value in self.facts.values():
            value.setText("—")
        self.response.setPlainText("")
        self.details.show_details(None, "")
        self.images.show_request({})
        self.request.setPlainText("")
        self.attempts.setRowCount(0)
        self.tabs.setTabText(2, "&Attempts")

    def _render(self, call: StoredCall) -> None:
        version = call.prompt_name and f"{call.prompt_name}@v{call.prompt_version}"
        version = version or self._version_name(call.version_id)
        self.title.setText(" · ".join(p for p in (f"Call #{call.id}", call.model, version) if p))
        markers = []
        if call.synthetic:
            markers.append(SYNTHETIC_TEXT)
        if call.cached_from is not None:
            markers.append(f"served from the cache: a copy of call #{call.cached_from}, no cost")
        self.markers.setText("\n".join(markers))
        self.markers.setVisible(bool(markers))
        if call.error_type:
            self.error.setText(f"Error ({call.error_type}): {call.error_message or ''}")
        self.error.setVisible(bool(call.error_type))

        cost = call.cost_usd
        started = dt.datetime.fromtimestamp(call.started_at).strftime("%Y-%m-%d %H:%M:%S")
        values = {
            "Stop reason": call.stop_reason or "—",
            "Latency": _ms(call.latency_ms),
            "Time to first token": _ms(call.ttft_ms),
            "Total with retries": _ms(call.total_ms),
            "Input tokens": _tokens(call.input_tokens),
            "Output tokens": _tokens(call.output_tokens),
            "Cache write / read": f"{_tokens(call.cache_creation_tokens)} / "
            f"{_tokens(call.cache_read_tokens)}",
            "Cost": "unknown" if cost is None else f"${cost:.6f}",
            "Request id": call.request_id or "—",
            "Started": started,
            "Run / cell": f"run #{call.run_id or '—'} / cell #{call.cell_id or '—'}",
        }
        for name, text in values.items():
            self.facts[name].setText(text)

        response = call.output or ""
        partial = call.partial_text
        if partial:
            response += ("\n\n" if response else "") + f"[text streamed before an error]\n{partial}"
        self.response.setPlainText(response or "(no text)")
        self.details.show_details(call.details, call.output or "")
        self.images.show_request(call.request or {})
        self.request.setPlainText(request_text(call.request or {}))
        attempts = call.attempts
        self.attempts.setRowCount(len(attempts))
        for row, attempt in enumerate(attempts):
            error = attempt.error_type or ""
            if attempt.error_message:
                error += f": {attempt.error_message}"
            cells = [
                str(attempt.number),
                "—" if attempt.status is None else str(attempt.status),
                _ms(attempt.duration_ms),
                _seconds(attempt.retry_after_s),
                _seconds(attempt.backoff_s),
                attempt.request_id or "—",
                error or "ok",
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.attempts.setItem(row, column, item)
        self.tabs.setTabText(2, f"&Attempts ({len(attempts)})")
