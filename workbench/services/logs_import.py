"""`workbench logs import`: production call logs (JSONL) become calls with source 'import'.

The line format is docs/production.md's (what `RenderedPrompt.log_record` and `feedback_record`
of the runtime loader write); docs/logs-format.md describes how the importer reads it. Each line
is checked on its own: a bad one is reported with its number and skipped, the good ones are
stored together, in one transaction, as one run of kind 'import'.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.core.errors import BadInput, WorkbenchError
from workbench.core.hashing import content_hash
from workbench.core.records import CallRecord
from workbench.services.log_lines import CallLine, FeedbackLine, LineError, parse_line
from workbench.services.pricing import PriceTable, Usage
from workbench.services.project_models import price_table
from workbench.services.rendering import render_request
from workbench.storage.import_repo import LateFeedback, VersionRef
from workbench.storage.project import Project


@dataclass(slots=True)
class ParsedLog:
    """The lines of one log file, sorted into call lines, feedback lines and bad lines."""

    calls: list[CallLine] = field(default_factory=list)
    feedback: list[FeedbackLine] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)
    lines: int = 0  # non-blank lines read


@dataclass(slots=True)
class ImportReport:
    """What an import did; `imported` and `skipped` count lines."""

    source: str
    run_id: int | None = None
    lines: int = 0
    calls: int = 0
    feedback: int = 0
    duplicates: int = 0
    unlinked: int = 0
    unknown_cost: int = 0
    errors: list[LineError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.calls + self.feedback

    @property
    def skipped(self) -> int:
        return len(self.errors) + self.duplicates

    def summary(self) -> str:
        """``imported N, skipped M`` and what that means."""
        detail = [f"{self.calls} call(s)", f"{self.feedback} feedback"]
        if self.duplicates:
            detail.append(f"{self.duplicates} already imported")
        if self.errors:
            detail.append(f"{len(self.errors)} bad line(s)")
        where = f" into run #{self.run_id}" if self.run_id is not None else ""
        return f"imported {self.imported}, skipped {self.skipped}{where} ({'; '.join(detail)})"

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "run_id": self.run_id,
            "lines": self.lines,
            "imported": self.imported,
            "skipped": self.skipped,
            "calls": self.calls,
            "feedback": self.feedback,
            "duplicates": self.duplicates,
            "unlinked": self.unlinked,
            "unknown_cost": self.unknown_cost,
            "errors": [{"line": e.line, "message": e.message} for e in self.errors],
            "warnings": list(self.warnings),
        }


def _read_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    try:
        with path.open("rb") as handle:
            yield from enumerate(handle, start=1)
    except FileNotFoundError:
        raise BadInput("no such file.", source=str(path), hint="Check the path.") from None
    except IsADirectoryError:
        raise BadInput("is a folder, not a JSONL file.", source=str(path)) from None
    except OSError as exc:
        raise BadInput(f"cannot be read ({exc.strerror}).", source=str(path)) from None


def parse_log(lines: Iterable[tuple[int, bytes]]) -> ParsedLog:
    """Sort numbered raw lines into good call/feedback lines and bad lines (blank lines skipped)."""
    parsed = ParsedLog()
    for number, raw in lines:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            parsed.lines += 1
            parsed.errors.append(LineError(number, "is not UTF-8 text"))
            continue
        text = text.removeprefix("\ufeff").strip()
        if not text:
            continue
        parsed.lines += 1
        try:
            item = parse_line(text, number)
        except LineError as error:
            parsed.errors.append(error)
            continue
        except Exception as exc:  # one odd line must never abort the import
            parsed.errors.append(LineError(number, f"cannot be read ({type(exc).__name__})"))
            continue
        if isinstance(item, CallLine):
            parsed.calls.append(item)
        else:
            parsed.feedback.append(item)
    return parsed


def read_log_file(path: Path) -> ParsedLog:
    """Parse a JSONL log file; raises `BadInput` only when the file itself cannot be read."""
    return parse_log(_read_lines(Path(path)))


class _Linker:
    """Finds the project's version for a log line and renders its request when it can."""

    def __init__(self, project: Project, versions: list[VersionRef]) -> None:
        self._project = project
        self._by_number = {(v.prompt_name, v.version): v for v in versions}
        self._by_name: dict[str, list[VersionRef]] = {}
        for ref in versions:
            self._by_name.setdefault(ref.prompt_name, []).append(ref)
        self._contents: dict[int, Any] = {}

    def find(self, line: CallLine) -> VersionRef | None:
        # Content identity first: a hash names exactly one content, a number may not.
        if line.hash_prefix:
            ref = self._by_number.get((line.prompt, line.version))
            if ref is not None and ref.hash.startswith(line.hash_prefix):
                return ref
            matches = [
                r for r in self._by_name.get(line.prompt, []) if r.hash.startswith(line.hash_prefix)
            ]
            return matches[0] if len(matches) == 1 else None
        return self._by_number.get((line.prompt, line.version))

    def request(self, line: CallLine, ref: VersionRef | None) -> dict[str, Any]:
        """The request as the workbench logs it, plus the variables (imported calls have no cell)."""
        if ref is not None and line.vars is not None:
            content = self._contents.get(ref.row_id)
            if content is None:
                content = self._project.prompts.resolve(ref.prompt_name, ref.version)
                self._contents[ref.row_id] = content
            try:
                request = render_request(content, line.vars, model=line.model).as_dict()
            except WorkbenchError:
                request = {}  # variables that do not fit the version: keep what was logged
            if request:
                return {**request, "vars": line.vars}
        raw: dict[str, Any] = {"model": line.model}
        if line.system is not None:
            raw["system"] = line.system
        if line.messages is not None:
            raw["messages"] = line.messages
        if line.vars is not None:
            raw["vars"] = line.vars
        return raw


def _record(
    line: CallLine, ref: VersionRef | None, request: dict[str, Any], prices: PriceTable
) -> CallRecord:
    at = dt.datetime.fromtimestamp(line.timestamp, dt.UTC)
    counts = (line.input_tokens, line.output_tokens, line.cache_creation_tokens)
    cost = None
    if any(c is not None for c in (*counts, line.cache_read_tokens)):
        usage = Usage(
            input_tokens=line.input_tokens or 0,
            output_tokens=line.output_tokens or 0,
            cache_creation_input_tokens=line.cache_creation_tokens or 0,
            cache_read_input_tokens=line.cache_read_tokens or 0,
        )
        cost = prices.cost_for(line.model, usage, at)
    return CallRecord(
        model=line.model,
        request=request,
        request_hash=content_hash(request),
        started_at=line.timestamp - line.latency_ms / 1000.0,
        finished_at=line.timestamp,
        output=line.output,
        input_tokens=line.input_tokens,
        output_tokens=line.output_tokens,
        cache_creation_tokens=line.cache_creation_tokens,
        cache_read_tokens=line.cache_read_tokens,
        cost_usd=cost,
        latency_ms=line.latency_ms,
        ttft_ms=line.ttft_ms,
        total_ms=line.latency_ms,
        error_type=line.error_type,
        error_message=line.error,
        request_id=line.request_id,
        source="import",
        version_id=ref.row_id if ref is not None else None,
        prompt_name=line.prompt,
        prompt_version=line.version,
        user_id=line.user_id,
        feedback=line.feedback,
    )


def import_logs(project: Project, path: Path, *, prices: PriceTable | None = None) -> ImportReport:
    """Import a JSONL call log into `project`; see docs/logs-format.md.

    :param prices: the price table to cost calls with (default: the project's)
    :raises BadInput: when the file cannot be read (bad lines are reported, not raised)
    """
    project.require_writable("import logs")
    path = Path(path)
    parsed = read_log_file(path)
    report = ImportReport(source=str(path), lines=parsed.lines, errors=list(parsed.errors))
    repo = project.imports
    known = repo.known_external_ids(
        [c.call_id for c in parsed.calls if c.call_id] + [f.call_id for f in parsed.feedback]
    )

    fresh: list[CallLine] = []
    in_file: dict[str, CallLine] = {}
    for line in parsed.calls:
        if line.call_id is not None and (line.call_id in known or line.call_id in in_file):
            report.duplicates += 1
            continue
        if line.call_id is not None:
            in_file[line.call_id] = line
        fresh.append(line)

    late: list[LateFeedback] = []
    for fb in parsed.feedback:  # file order: the last word on a call wins
        if fb.call_id in in_file:
            in_file[fb.call_id].feedback = fb.feedback
        elif fb.call_id in known:
            late.append(LateFeedback(known[fb.call_id], fb.feedback, fb.timestamp))
        else:
            report.errors.append(
                LineError(
                    fb.line, f"call_id '{fb.call_id}' matches no call in this file or project"
                )
            )
            continue
        report.feedback += 1
    report.errors.sort(key=lambda e: e.line)

    linker = _Linker(project, repo.version_index())
    table = prices or price_table(project)
    records: list[CallRecord] = []
    missing: dict[str, int] = {}
    kept: list[CallLine] = []
    for line in fresh:
        try:
            ref = linker.find(line)
            record = _record(line, ref, linker.request(line, ref), table)
        except Exception as exc:  # one odd line must never abort the import
            report.errors.append(LineError(line.line, f"cannot be imported ({exc})"))
            continue
        if ref is None:
            key = line.version_label
            missing[key] = missing.get(key, 0) + 1
        records.append(record)
        kept.append(line)
    report.errors.sort(key=lambda e: e.line)
    report.calls = len(records)
    report.unlinked = sum(missing.values())
    report.unknown_cost = sum(1 for r in records if r.cost_usd is None and r.error_type is None)
    report.warnings = [
        f"{label} is not a version in this project: {n} call(s) kept without a link to it"
        for label, n in sorted(missing.items())
    ]
    if not records and not report.feedback:
        return report
    report.run_id, _ = repo.store_import(
        plan={"source": "import", "file": path.name, "path": str(path.resolve())},
        records=records,
        external_ids=[line.call_id for line in kept],
        late_feedback=late,
        totals={
            "lines": report.lines,
            "calls": report.calls,
            "feedback": report.feedback,
            "duplicates": report.duplicates,
            "bad_lines": len(report.errors),
            "unlinked": report.unlinked,
        },
    )
    return report
