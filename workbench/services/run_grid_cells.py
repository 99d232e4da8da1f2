"""What one run-grid cell, row and column hold, and the short text a cell shows: output or
streaming tail with a stats line ("1.2 s · 340 tok · $0.0012 · cached · synthetic") or an error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workbench.services.money import usd as money_usd

PREVIEW_LINES = 4
PREVIEW_CHARS = 600
STREAM_TAIL_CHARS = 160
SYNTHETIC_MARK = "synthetic"


@dataclass(frozen=True)
class GridColumn:
    version_id: int
    prompt_name: str
    version: int
    model: str
    repeat: int

    def title(self, with_repeat: bool) -> str:
        text = f"{self.prompt_name}@v{self.version}\n{self.model}"
        return text + (f" · #{self.repeat + 1}" if with_repeat else "")


@dataclass
class GridRow:
    position: int
    example_id: int | None
    vars: dict[str, str]

    def label(self) -> str:
        # By variable name: a run stores its examples' values with sorted keys, so a planned
        # layout and a reloaded run then label their rows alike.
        ordered = [self.vars[k] for k in sorted(self.vars)]
        values = " · ".join(" ".join(v.split()) for v in ordered if v.strip())
        return f"{self.position + 1}  {values[:28]}{'…' if len(values) > 28 else ''}"


@dataclass(slots=True)
class GridCell:
    """One cell's state: from the database, or live while streaming."""

    cell_id: int  # -1 while the run is only planned
    status: str  # pending | streaming | done | error | cancelled
    version_id: int = 0
    model: str = ""
    repeat: int = 0
    call_id: int | None = None
    output: str = ""
    stream: str = ""
    latency_ms: float | None = None
    output_tokens: int | None = None
    input_tokens: int | None = None
    cost_usd: float | None = None
    error_type: str | None = None
    error_message: str | None = None
    cached_from: int | None = None
    synthetic: bool = False
    badge: str = ""
    """The call's label in short ("✓ 4★ [tone]"), set by the labeling keys; "" if none."""
    _display: str | None = None

    def update_from_call(self, row: dict[str, Any]) -> None:
        """Take the summary columns of a logged call (a `run_grid` row or `get_call`)."""
        call_id = row.get("call_id", row.get("id"))
        if call_id != self.call_id:
            self.badge = ""  # a new call (a resumed cell) has no label yet
        self.call_id = call_id
        self.output = row.get("output") or ""
        self.latency_ms = row.get("latency_ms")
        self.input_tokens = row.get("input_tokens")
        self.output_tokens = row.get("output_tokens")
        self.cost_usd = row.get("cost_usd")
        self.error_type = row.get("error_type")
        self.error_message = row.get("error_message")
        self.cached_from = row.get("cached_from")
        self.synthetic = bool(row.get("synthetic"))
        self.status = "error" if self.error_type else "done"
        self.stream = ""
        self._display = None

    @property
    def text(self) -> str:
        """The full text this cell shows: output, streamed text so far or the error."""
        if self.status == "streaming":
            return self.stream
        if self.status == "error":
            return self.error_message or self.error_type or "error"
        return self.output

    def stats(self) -> str:
        parts = []
        if self.latency_ms is not None:
            parts.append(f"{self.latency_ms / 1000:.1f} s")
        if self.output_tokens is not None:
            parts.append(f"{self.output_tokens} tok")
        if self.cached_from is not None:
            parts.append("cached")
        else:
            parts.append(usd(self.cost_usd))
        if self.synthetic:
            parts.append(SYNTHETIC_MARK)
        return " · ".join(parts)

    def display(self) -> str:
        if self._display is None:
            text = self._build_display()
            self._display = f"{self.badge} · {text}" if self.badge else text
        return self._display

    def _build_display(self) -> str:
        # The view wraps and clips to the row height: the first line is always the status
        # (stats, "streaming…"), then as much text as fits.
        if self.status == "pending":
            return "waiting…"
        if self.status == "cancelled":
            return "cancelled (resume to run it)"
        if self.status == "streaming":
            tail = self.stream[-STREAM_TAIL_CHARS:]
            prefix = "…" if len(self.stream) > STREAM_TAIL_CHARS else ""
            return f"streaming… {len(self.stream):,} chars\n{prefix}{tail}▌"
        if self.status == "error":
            return f"✖ {_clip(' '.join(self.text.split()), PREVIEW_CHARS)}"
        return f"{self.stats()}\n{_clip(self.output, PREVIEW_CHARS)}"


def usd(value: float | None) -> str:
    """The one money format (`services.money.usd`)."""
    return money_usd(value, unknown="cost unknown")


def _clip(line: str, limit: int = PREVIEW_CHARS) -> str:
    return line if len(line) <= limit else line[: limit - 1] + "…"
