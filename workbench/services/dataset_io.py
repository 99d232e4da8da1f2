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

import codecs
import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from workbench.core.errors import BadInput
from workbench.core.models import Example
from workbench.core.templates import NAME as VARIABLE_NAME
from workbench.storage.files import write_text_atomic

META_COLUMNS = ("tags", "note", "expect")
VARS_PREFIX = "vars."
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# One apostrophe too many before a formula-like start: what the exporter adds (and removes).
_NEUTRALISED = re.compile(r"^'+[=+\-@\t\r]")
_VARIABLE = re.compile(VARIABLE_NAME)
_STRUCTURED_KEYS = {"vars", "tags", "note", "expect"}

Source = str | bytes | Path


@dataclass
class ParseResult:
    """Examples that parsed cleanly and (line, message) for each line that did not."""

    examples: list[Example] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    """The 1-based source line where each example starts (parallel to `examples`)."""
    columns: list[str] = field(default_factory=list)
    """Variable names seen, in first-seen order (the editor's columns)."""
    encoding: str = "utf-8"

    @property
    def ok(self) -> bool:
        return not self.errors

    def describe_errors(self, limit: int = 5) -> str:
        """The first few errors as one sentence, e.g. for a status line."""
        shown = "; ".join(f"line {line}: {message}" for line, message in self.errors[:limit])
        more = len(self.errors) - limit
        return shown + (f"; and {more} more" if more > 0 else "")


# -- decoding ---------------------------------------------------------------------------------


def decode(data: bytes) -> tuple[str, str]:
    """Bytes of a text file -> (text, encoding): BOMs first, then UTF-8, then Windows-1252."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(encoding), encoding
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # Spreadsheets on Windows save "CSV" in the ANSI code page; latin-1 never fails as a last resort.
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _read(source: Source) -> tuple[str, str, str]:
    """(text, encoding, name for messages) from a path, raw bytes or the text itself."""
    if isinstance(source, Path):
        try:
            data = source.read_bytes()
        except OSError as exc:
            raise BadInput(f"cannot read the file ({exc.strerror})", source=str(source)) from exc
        text, encoding = decode(data)
        return text, encoding, str(source)
    if isinstance(source, bytes):
        text, encoding = decode(source)
        return text, encoding, "<data>"
    return source.removeprefix("\ufeff"), "utf-8", "<text>"


# -- cells ------------------------------------------------------------------------------------


def neutralise(cell: str) -> str:
    """Prefix an apostrophe to a cell a spreadsheet would treat as a formula."""
    if cell.startswith(_FORMULA_START) or _NEUTRALISED.match(cell):
        return "'" + cell
    return cell


def unneutralise(cell: str) -> str:
    """Undo `neutralise` (removes one apostrophe before a formula-like start)."""
    return cell[1:] if _NEUTRALISED.match(cell) else cell


def split_tags(text: str) -> list[str]:
    """``"a, b,,c"`` -> ``["a", "b", "c"]`` (order kept, duplicates dropped)."""
    return list(dict.fromkeys(t.strip() for t in text.split(",") if t.strip()))


def _check_variable(name: str) -> str | None:
    if _VARIABLE.fullmatch(name):
        return None
    return f"'{name}' is not a valid variable name (start with a letter or _, then letters, digits, _ . -)"


def _validation_message(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


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
            problem = _check_variable(name)
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
            (stop.line, f"cannot read this line as CSV ({stop.message}); later lines were not read")
        )
    result.columns = _seen_columns(result.examples)
    return result


def _looks_like_header(row: Sequence[str], columns: Sequence[str]) -> bool:
    """Every cell could name a column and at least one names a column we already have."""
    known = {c.lower() for c in columns} | set(META_COLUMNS)
    titles = [c.strip() for c in row if c.strip()]
    names = [t.lower().removeprefix(VARS_PREFIX) for t in titles]
    return (
        bool(titles)
        and all(
            n in META_COLUMNS or _check_variable(t) is None
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
        result.errors.append((line, _validation_message(exc)))
        return
    except ValueError as exc:
        result.errors.append((line, str(exc)))
        return
    result.examples.append(example)
    result.lines.append(line)


def _seen_columns(examples: Iterable[Example]) -> list[str]:
    seen: dict[str, None] = {}
    for example in examples:
        for name in example.vars:
            seen.setdefault(name, None)
    return list(seen)


def parse_csv(source: Source, *, delimiter: str | None = None) -> ParseResult:
    """Parse a CSV (or tab-separated) file with a header row.

    :param source: a `Path` to read, raw `bytes`, or the text itself as `str`
    :param delimiter: None picks tab when the header line has more tabs than commas
    """
    text, encoding, _ = _read(source)
    result = parse_table(text, delimiter=delimiter or _sniff_delimiter(text), header=True)
    result.encoding = encoding
    return result


def parse_pasted(text: str, columns: Sequence[str]) -> ParseResult:
    """Rows copied from a spreadsheet (tab-separated); the header row is optional.

    Without a header the cells fill `columns` left to right (variables, then tags and note).
    """
    return parse_table(text.removeprefix("\ufeff"), delimiter="\t", columns=columns, header=None)


# -- JSONL ------------------------------------------------------------------------------------


def _text_value(key: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    kind = "an object" if isinstance(value, dict) else "a list"
    raise ValueError(f"variable '{key}' must be text, a number or a boolean, not {kind}")


def _tags_value(value: Any) -> list[str]:
    if isinstance(value, str):
        return split_tags(value)
    if isinstance(value, list) and all(isinstance(t, str) for t in value):
        return list(dict.fromkeys(t.strip() for t in value if t.strip()))
    raise ValueError("'tags' must be a list of strings (or one comma-separated string)")


def _json_example(obj: dict[str, Any]) -> Example:
    structured = "vars" in obj
    if structured:
        unknown = sorted(set(obj) - _STRUCTURED_KEYS)
        if unknown:
            raise ValueError(
                f"unknown key(s) {', '.join(unknown)} next to 'vars' "
                "(allowed: vars, tags, note, expect)"
            )
        raw_vars = obj["vars"]
        if not isinstance(raw_vars, dict):
            raise ValueError("'vars' must be an object of variable names to values")
    else:
        raw_vars = {k: v for k, v in obj.items() if k not in ("tags", "note")}
    values: dict[str, str] = {}
    for key, value in raw_vars.items():
        problem = _check_variable(key)
        if problem:
            raise ValueError(problem)
        values[key] = _text_value(key, value)
    note = obj.get("note", "")
    if not isinstance(note, str):
        raise ValueError("'note' must be a string")
    expect = obj.get("expect", []) if structured else []
    if not isinstance(expect, list):
        raise ValueError("'expect' must be a list of expectations")
    return Example(vars=values, tags=_tags_value(obj.get("tags", [])), note=note, expect=expect)


def parse_jsonl(source: Source) -> ParseResult:
    """Parse JSON Lines: one example object per line; blank lines are skipped."""
    text, encoding, _ = _read(source)
    result = ParseResult(encoding=encoding)
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            result.errors.append((number, f"not valid JSON ({exc.msg} at column {exc.colno})"))
            continue
        if not isinstance(obj, dict):
            kind = type(obj).__name__.replace("dict", "object").replace("str", "string")
            result.errors.append((number, f"expected a JSON object, found a {kind}"))
            continue
        try:
            example = _json_example(obj)
        except ValidationError as exc:
            result.errors.append((number, _validation_message(exc)))
            continue
        except ValueError as exc:
            result.errors.append((number, str(exc)))
            continue
        result.examples.append(example)
        result.lines.append(number)
    result.columns = _seen_columns(result.examples)
    return result


def parse_file(path: Path) -> ParseResult:
    """Parse by extension: ``.jsonl``/``.ndjson``/``.json`` as JSON Lines, anything else as CSV."""
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        return parse_jsonl(path)
    return parse_csv(path, delimiter="\t" if path.suffix.lower() == ".tsv" else None)


# -- export -----------------------------------------------------------------------------------


def table_rows(examples: Sequence[Example]) -> tuple[list[str], list[list[str]]]:
    """Header and rows for writing examples as a table (cells not yet neutralised)."""
    names = _seen_columns(examples)
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
