"""`{{variable}}` templates, as in the Anthropic Console.

Rules (docs/bundle-format.md repeats them for users):

* A variable is ``{{name}}``; spaces inside the braces are allowed (``{{ name }}``). Names start with
  a letter or underscore and may contain letters, digits, ``_``, ``-`` and ``.``.
* Rendering is a single pass: a value that itself contains ``{{x}}`` is inserted literally and is
  never expanded, so example data cannot inject template syntax.
* ``\\{{`` writes a literal ``{{`` (the backslash is dropped). Any other ``{{`` that does not form a
  variable is left as written.
* Missing variables are an error naming every one of them; unused values are only a warning.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from workbench.core.errors import MissingVariables

NAME = r"[A-Za-z_][A-Za-z0-9_.\-]*"
# One alternation so escapes and variables are found in a single left-to-right scan.
_TOKEN = re.compile(r"\\\{\{|\{\{\s*(" + NAME + r")\s*\}\}")


def extract_variables(text: str) -> list[str]:
    """Variable names used in `text`, in order of first appearance, without duplicates."""
    seen: dict[str, None] = {}
    for match in _TOKEN.finditer(text):
        name = match.group(1)
        if name is not None:
            seen.setdefault(name, None)
    return list(seen)


def variables_of(texts: Iterable[str]) -> list[str]:
    """Variables used across several texts (system and message contents), first-seen order."""
    seen: dict[str, None] = {}
    for text in texts:
        for name in extract_variables(text):
            seen.setdefault(name, None)
    return list(seen)


def render(text: str, values: Mapping[str, object]) -> str:
    """Substitute variables in one pass; raise `MissingVariables` naming every absent one."""
    missing = [name for name in extract_variables(text) if name not in values]
    if missing:
        raise MissingVariables(missing)

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:  # the escape \{{
            return "{{"
        value = values[name]
        return value if isinstance(value, str) else str(value)

    return _TOKEN.sub(substitute, text)


@dataclass(frozen=True)
class TemplateCheck:
    """Outcome of checking templates against one set of values."""

    missing: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing


def check(texts: Iterable[str], values: Mapping[str, object]) -> TemplateCheck:
    """Which variables are missing from `values`, and which values no template uses."""
    used = variables_of(texts)
    missing = [name for name in used if name not in values]
    unused = [name for name in values if name not in used]
    return TemplateCheck(missing=missing, unused=unused)
