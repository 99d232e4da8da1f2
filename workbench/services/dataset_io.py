"""Dataset rows in and out of CSV and JSONL files, and tab-separated text pasted from a spreadsheet.

Parsing never raises for bad rows: every problem is reported with its 1-based line number so the
import preview can list them, and the good rows are still returned.

CSV layout: a header row names the columns; ``tags`` (comma-separated), ``note`` and ``expect``
(a JSON list of expectations) are special, every other column is a variable. A ``vars.`` prefix
(``vars.note``) forces a column to be a variable, for variables named like a special column.

JSONL layout: one object per line, either ``{"vars": {...}, "tags": [...], "note": "...",
"expect": [...]}`` or a flat object of variables (where ``tags`` and ``note`` keys keep their
special meaning).

CSV exports neutralise cells that a spreadsheet would run as a formula (OWASP "CSV injection"):
a cell starting with ``=``, ``+``, ``-``, ``@``, tab or CR gets a leading apostrophe. Imports remove
exactly one such apostrophe again, so export → import round-trips.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from workbench.core.errors import BadInput
from workbench.core.models import Example
from workbench.formats.atomic import write_text_atomic
from workbench.services.dataset_formats import (
    META_COLUMNS,
    VARS_PREFIX,
    ParseResult,
    Source,
    check_variable,
    decode,
    neutralise,
    read_source,
    seen_columns,
    split_tags,
    unneutralise,
    validation_message,
)
from workbench.services.dataset_jsonl import parse_jsonl

__all__ = [
    "ParseResult",
    "decode",
    "export_csv",
    "neutralise",
    "parse_csv",
    "parse_file",
    "parse_jsonl",
    "parse_pasted",
    "parse_table",
    "split_tags",
    "table_rows",
    "to_csv_text",
    "unneutralise",
]


# -- tables (CSV, TSV, pasted text) -----------------------------------------------------------


@dataclass
class _Column:
    kind: str  # "var" | "tags" | "note" | "expect" | "skip"
    name: str


def _header_columns(header: Sequence[str], result: ParseResult, line: int) -> list[_Column]:
    columns: list[_Column] = []
    seen: set[str] = set()
    for index, raw in enumerate(header):
        title = raw.strip()
        lowered = title.lower()
        if not title:
            columns.append(_Column("blank", f"column {index + 1}"))
            continue
        if lowered in META_COLUMNS:
            column = _Column(lowered, lowered)
        else:
            name = title[len(VARS_PREFIX) :] if lowered.startswith(VARS_PREFIX) else title
            problem = check_variable(name)
            if problem:
                result.errors.append((line, f"column {index + 1}: {problem}"))
                column = _Column("skip", name)
            else:
                column = _Column("var", name)
        key = f"{column.kind}:{column.name}"
        if column.kind not in ("skip", "blank") and key in seen:
            result.errors.append((line, f"column {index + 1}: '{title}' appears twice"))
            column = _Column("skip", title)
        seen.add(key)
        columns.append(column)
    return columns


def _row_example(cells: Sequence[str], columns: Sequence[_Column]) -> Example:
    values: dict[str, str] = {}
    tags: list[str] = []
    note = ""
    expect: Any = []
    for column, raw in zip(columns, cells, strict=False):
        cell = unneutralise(raw)
        if column.kind == "var":
            values[column.name] = cell
        elif column.kind == "tags":
            tags = split_tags(cell)
        elif column.kind == "note":
            note = cell
        elif column.kind == "expect" and cell.strip():
            try:
                expect = json.loads(cell)
            except json.JSONDecodeError as exc:
                raise ValueError(f"the expect cell is not valid JSON ({exc.msg})") from exc
    return Example(vars=values, tags=tags, note=note, expect=expect)


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """CSV records with the line each starts on (quoted fields may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _CsvStop(start, str(exc)) from exc
        yield start, row
        start = reader.line_num + 1


class _CsvStop(Exception):
    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.message = message


def _sniff_delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    return "\t" if first.count("\t") > first.count(",") else ","


def parse_table(
    text: str,
    *,
    delimiter: str = ",",
    columns: Sequence[str] | None = None,
    header: bool | None = True,
) -> ParseResult:
    """Parse delimited text into examples.

    :param columns: column names to use when the text has no header row
    :param header: True: the first row is a header; False: it is data (needs `columns`);
        None: a header if every non-empty cell of the first row names a known column
    """
    result = ParseResult()
    # Long documents in a cell are normal here; the csv module's default cap is 128 KiB.
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 26))
    records = _records(text, delimiter)
    table: list[_Column] | None = None
    try:
        for line, row in records:
            if not any(cell.strip() for cell in row):
                continue  # blank lines (and rows of empty cells) are not examples
            if table is None:
                is_header = header
                if is_header is None:
                    is_header = _looks_like_header(row, columns or ())
                if is_header or not columns:
                    table = _header_columns(row, result, line)
                    continue
                table = _header_columns(list(columns), result, line)
            _add_row(result, table, line, row)
    except _CsvStop as stop:
        result.errors.append(
            (stop.line, f"cannot read as CSV from here on ({stop.message}); not imported")
        )
        last = len(text.splitlines())
        if last > stop.line:
            result.error_spans[stop.line] = last
    result.columns = seen_columns(result.examples)
    return result


def _looks_like_header(row: Sequence[str], columns: Sequence[str]) -> bool:
    """Every cell could name a column and at least one names a column we already have."""
    known = {c.lower() for c in columns} | set(META_COLUMNS)
    titles = [c.strip() for c in row if c.strip()]
    names = [t.lower().removeprefix(VARS_PREFIX) for t in titles]
    return (
        bool(titles)
        and all(
            n in META_COLUMNS or check_variable(t) is None
            for n, t in zip(names, titles, strict=True)
        )
        and any(n in known for n in names)
    )


def _add_row(result: ParseResult, table: list[_Column], line: int, row: list[str]) -> None:
    extra = row[len(table) :]
    if any(cell.strip() for cell in extra):
        result.errors.append((line, f"{len(row)} cells, but there are only {len(table)} columns"))
        return
    for column, cell in zip(table, row, strict=False):
        if column.kind == "blank" and cell.strip():
            result.errors.append(
                (line, f"{column.name} has a value but no name in the header; name the column")
            )
            return
    try:
        example = _row_example(row, table)
    except ValidationError as exc:
        result.errors.append((line, validation_message(exc)))
        return
    except ValueError as exc:
        result.errors.append((line, str(exc)))
        return
    result.examples.append(example)
    result.lines.append(line)


def parse_csv(source: Source, *, delimiter: str | None = None) -> ParseResult:
    """Parse a CSV (or tab-separated) file with a header row.

    :param source: a `Path` to read, raw `bytes`, or the text itself as `str`
    :param delimiter: None picks tab when the header line has more tabs than commas
    """
    text, encoding, _ = read_source(source)
    result = parse_table(text, delimiter=delimiter or _sniff_delimiter(text), header=True)
    result.encoding = encoding
    return result


def parse_pasted(text: str, columns: Sequence[str]) -> ParseResult:
    """Rows copied from a spreadsheet (tab-separated); the header row is optional.

    Without a header the cells fill `columns` left to right (variables, then tags and note).
    """
    return parse_table(text.removeprefix("\ufeff"), delimiter="\t", columns=columns, header=None)


def parse_file(path: Path) -> ParseResult:
    """Parse by extension: ``.jsonl``/``.ndjson``/``.json`` as JSON Lines, anything else as CSV."""
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        return parse_jsonl(path)
    return parse_csv(path, delimiter="\t" if path.suffix.lower() == ".tsv" else None)


# -- export -----------------------------------------------------------------------------------


def table_rows(examples: Sequence[Example]) -> tuple[list[str], list[list[str]]]:
    """Header and rows for writing examples as a table (cells not yet neutralised)."""
    names = seen_columns(examples)
    header = [VARS_PREFIX + n if n.lower() in META_COLUMNS else n for n in names]
    header += ["tags", "note"]
    with_expect = any(e.expect for e in examples)
    if with_expect:
        header.append("expect")
    rows = []
    for example in examples:
        row = [example.vars.get(n, "") for n in names]
        row += [", ".join(example.tags), example.note]
        if with_expect:
            expect = [x.model_dump(mode="json", exclude_defaults=True) for x in example.expect]
            row.append(json.dumps(expect, ensure_ascii=False) if expect else "")
        rows.append(row)
    return header, rows


def to_csv_text(examples: Sequence[Example]) -> str:
    """Examples as CSV text with formula-like cells neutralised."""
    header, rows = table_rows(examples)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(c) for c in header])
    writer.writerows([neutralise(c) for c in row] for row in rows)
    return out.getvalue()


def export_csv(examples: Sequence[Example], path: Path, *, bom: bool = True) -> None:
    """Write examples to `path` as CSV, atomically.

    :param bom: start with a UTF-8 byte-order mark so Excel reads the text as UTF-8
    """
    try:
        write_text_atomic(Path(path), ("\ufeff" if bom else "") + to_csv_text(examples))
    except OSError as exc:
        raise BadInput(
            f"cannot write the file ({exc.strerror})",
            source=str(path),
            hint="Choose a folder you can write to.",
        ) from exc
