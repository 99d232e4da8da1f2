"""Line numbers as people read them ("4–6, 9"), and what an import skips, line by line."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from workbench.core.models import Example
from workbench.services.dataset_formats import ParseResult


def line_ranges(lines: Iterable[int]) -> str:
    """ "4–6, 9, 12–13" for [4, 5, 6, 9, 12, 13] (sorted, duplicates dropped)."""
    ordered = sorted(set(lines))
    parts: list[str] = []
    start = prev = None
    for line in ordered:
        if start is None:
            start = prev = line
        elif prev is not None and line == prev + 1:
            prev = line
        else:
            parts.append(f"{start}" if start == prev else f"{start}–{prev}")
            start = prev = line
    if start is not None:
        parts.append(f"{start}" if start == prev else f"{start}–{prev}")
    return ", ".join(parts)


def skipped_groups(result: ParseResult) -> list[tuple[list[int], str]]:
    """Every skipped source line, grouped by reason: ([4, 5, 6], "why"), in line order.

    An error that stops the reader (a broken quote) skips every line after it too; those lines
    are counted, not just the one the error names.
    """
    groups: dict[str, list[int]] = {}
    for line, message in result.errors:
        last = result.error_spans.get(line, line)
        groups.setdefault(message, []).extend(range(line, last + 1))
    return sorted(((lines, why) for why, lines in groups.items()), key=lambda g: g[0][0])


def describe_skipped(result: ParseResult) -> list[str]:
    """ "lines 4–6: …" per reason (what the import preview lists)."""
    out = []
    for lines, why in skipped_groups(result):
        word = "line" if len(lines) == 1 else "lines"
        out.append(f"{word} {line_ranges(lines)}: {why}")
    return out


def skipped_line_count(result: ParseResult) -> int:
    """How many source lines the import leaves out."""
    return sum(len(lines) for lines, _ in skipped_groups(result))


def empty_value_warnings(
    examples: Sequence[Example], lines: Sequence[int], used: Iterable[str]
) -> list[str]:
    """One warning per variable the prompt uses that some examples leave empty (or lack)."""
    out = []
    for name in used:
        empty = [
            line
            for line, example in zip(lines, examples, strict=False)
            if not str(example.vars.get(name, "")).strip()
        ]
        if empty:
            word = "line" if len(empty) == 1 else "lines"
            out.append(
                f"{word} {line_ranges(empty)}: '{name}' is empty, but the prompt uses it "
                "(these rows import; a run would send an empty value)"
            )
    return out
