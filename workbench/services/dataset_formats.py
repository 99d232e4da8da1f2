"""Shared pieces of dataset import and export: the parse result, decoding of text files,
spreadsheet-safe cells (formula neutralising), tags and variable-name checks."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from workbench.core.errors import BadInput
from workbench.core.models import Example
from workbench.core.templates import NAME as VARIABLE_NAME

META_COLUMNS = ("tags", "note", "expect")
VARS_PREFIX = "vars."
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# One apostrophe too many before a formula-like start: what the exporter adds (and removes).
_NEUTRALISED = re.compile(r"^'+[=+\-@\t\r]")
_VARIABLE = re.compile(VARIABLE_NAME)

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
    error_spans: dict[int, int] = field(default_factory=dict)
    """For an error that skipped more than its own line: its first line -> its last line."""

    @property
    def ok(self) -> bool:
        return not self.errors

    def describe_errors(self, limit: int = 5) -> str:
        """The first few errors as one sentence, e.g. for a status line."""
        shown = "; ".join(f"line {line}: {message}" for line, message in self.errors[:limit])
        more = len(self.errors) - limit
        return shown + (f"; and {more} more" if more > 0 else "")


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


def read_source(source: Source) -> tuple[str, str, str]:
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


def check_variable(name: str) -> str | None:
    if _VARIABLE.fullmatch(name):
        return None
    return f"'{name}' is not a valid variable name (start with a letter or _, then letters, digits, _ . -)"


def validation_message(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def seen_columns(examples: Iterable[Example]) -> list[str]:
    seen: dict[str, None] = {}
    for example in examples:
        for name in example.vars:
            seen.setdefault(name, None)
    return list(seen)
