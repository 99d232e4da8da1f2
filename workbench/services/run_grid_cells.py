"""What one run-grid cell, row and column hold, and the short text a cell shows: output or
streaming tail with a stats line ("1.2 s · 340 tok · $0.0012 · cached · synthetic") or an error."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from workbench.core.records import CellWithCall, StoredCall
from workbench.services.call_details_text import cell_body
from workbench.services.money import usd as money_usd

PREVIEW_LINES = 4
PREVIEW_CHARS = 600
STREAM_TAIL_CHARS = 160
SYNTHETIC_MARK = "synthetic"


class ScoreLike(Protocol):
    """One stored expectation score (`ScoreRow`): what a cell's verdict is made of."""

    type: str
    passed: bool
    reason: str
    weight: float


FLAKY_MARK = "⚡ flaky"


@dataclass(frozen=True)
class GridColumn:
    """One column: a prompt version × model; its repeats share it (k/n passes, flaky mark)."""

    version_id: int
    prompt_name: str
    version: int
    model: str
    repeats: int = 1

    def title(self) -> str:
        text = f"{self.prompt_name}@v{self.version}\n{self.model}"
        return text + (f" · ×{self.repeats}" if self.repeats > 1 else "")


def verdict_passed(scores: Sequence[ScoreLike]) -> bool:
    """A case passes when every expectation with a weight above 0 passes."""
    return all(s.passed for s in scores if s.weight > 0)


def failing(scores: Sequence[ScoreLike]) -> list[ScoreLike]:
    return [s for s in scores if not s.passed and s.weight > 0]


def pass_count(cells: Sequence[GridCell]) -> tuple[int, int]:
    """(passed, scored) over `cells` that have a verdict."""
    scored = [c for c in cells if c.verdict is not None]
    return sum(verdict_passed(c.verdict or ()) for c in scored), len(scored)


def repeats_line(cells: Sequence[GridCell]) -> str:
    """``3/4 repeats pass · ⚡ flaky`` for a cell with repeats ("" for one repeat)."""
    if len(cells) < 2:
        return ""
    passed, scored = pass_count(cells)
    done = sum(c.status in ("done", "error") for c in cells)
    if not scored:
        return f"{done}/{len(cells)} repeats done"
    flaky = f" · {FLAKY_MARK}" if 0 < passed < scored else ""
    return f"{passed}/{scored} repeats pass{flaky}"


def verdict_text(scores: Sequence[ScoreLike]) -> str:
    """The hover text of a verdict: pass, or each failing expectation with its reason."""
    bad = failing(scores)
    if not bad:
        return f"✓ passes all {len(scores)} expectation(s)"
    return "✗ fails:\n" + "\n".join(f"• {s.reason}" for s in bad)


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
    details: dict[str, Any] | None = None
    """Tool calls and thinking of the call (``RunsRepo.call_details``), None if neither."""
    badge: str = ""
    """The call's label in short ("✓ 4★ [tone]"), set by the labeling keys; "" if none."""
    verdict: tuple[Any, ...] | None = None
    """The call's expectation scores (`ScoreRow`s) once scored; None while not scored."""
    _display: str | None = None

    @property
    def passed(self) -> bool | None:
        """True/False once scored, None while not (or without expectations)."""
        return None if self.verdict is None else verdict_passed(self.verdict)

    def update_from_call(self, row: CellWithCall | StoredCall) -> None:
        """Take the summary columns of a logged call (a `run_grid` cell or a stored call)."""
        call_id = row.call_id if isinstance(row, CellWithCall) else row.id
        if call_id != self.call_id:
            self.badge = ""  # a new call (a resumed cell) has no label yet
            self.verdict = None  # nor a score
        self.call_id = call_id
        self.output = row.output or ""
        self.latency_ms = row.latency_ms
        self.input_tokens = row.input_tokens
        self.output_tokens = row.output_tokens
        self.cost_usd = row.cost_usd
        self.error_type = row.error_type
        self.error_message = row.error_message
        self.cached_from = row.cached_from
        self.synthetic = row.synthetic
        self.details = row.details
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
        thinking = (self.details or {}).get("thinking_tokens")
        if thinking:
            parts.append(f"{thinking} thinking")
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
        body = _clip(cell_body(self.output, self.details), PREVIEW_CHARS)
        return f"{self._verdict_mark()}{self.stats()}\n{body}"

    def _verdict_mark(self) -> str:
        if self.verdict is None:
            return ""
        bad = failing(self.verdict)
        if not bad:
            return "✓ pass · "
        return f"✗ {bad[0].type}{f' +{len(bad) - 1}' if len(bad) > 1 else ''} · "


def differs_from(cell: GridCell, first: GridCell | None) -> bool:
    """Whether a finished cell's output differs from the first column's (whitespace aside)."""
    if first is None or cell is first or cell.status != "done" or first.status != "done":
        return False
    return " ".join(cell.output.split()) != " ".join(first.output.split())


def cell_tooltip(
    cell: GridCell, repeats: Sequence[GridCell], *, differs: bool = False, limit: int = 4000
) -> str:
    """A cell's hover text: its full text (up to `limit` characters), stats, the verdict with
    each failing expectation's reason, whether it differs from the first column, and each
    repeat's verdict when the column has repeats."""
    text = cell.text
    clipped = text[:limit] + ("\n…" if len(text) > limit else "")
    stats = cell.stats() if cell.status in ("done", "error") else cell.status
    parts = [clipped, stats] if clipped else [stats]
    if cell.verdict is not None:
        parts.append(verdict_text(cell.verdict))
    if differs:
        parts.append("≠ differs from the first column")
    if len(repeats) > 1:
        lines = [repeats_line(repeats)]
        for c in repeats:
            if c.status == "pending":
                state = "waiting"
            elif c.verdict is None:
                state = "not scored"
            else:
                state = verdict_text(c.verdict).replace("\n", "\n   ")
            lines.append(f"#{c.repeat + 1}: {state}")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def usd(value: float | None) -> str:
    """The one money format (`services.money.usd`)."""
    return money_usd(value, unknown="cost unknown")


def _clip(line: str, limit: int = PREVIEW_CHARS) -> str:
    return line if len(line) <= limit else line[: limit - 1] + "…"
