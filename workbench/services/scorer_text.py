"""Text rules the scorers share, written to give JavaScript's answers (promptfoo runs on Node):
``String(value)``, ``toLowerCase``, ``length`` in UTF-16 units, ``trim().split(/\\s+/)``, strict
deep equality, and the edit distance over UTF-16 units."""

from __future__ import annotations

import re
import time
from typing import Any

from workbench.services.js_regex import JS_WHITESPACE

_JS_SPACES = re.compile("[" + re.escape(JS_WHITESPACE) + "]+")
_DEADLINE_EVERY = 64  # rows of the edit-distance table between clock checks


def js_string(value: Any) -> str:
    """``String(value)`` for YAML scalars: ``true``, ``42`` (not ``42.0``), text as it is."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value)


def js_lower(text: str) -> str:
    """``text.toLowerCase()``: Unicode lower-casing, no case folding (ß stays ß)."""
    return text.lower()


def utf16_len(text: str) -> int:
    """JavaScript's ``text.length``: characters outside the BMP count twice."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def js_trim(text: str) -> str:
    return text.strip(JS_WHITESPACE)


def js_word_count(text: str) -> int:
    """``text.trim().split(/\\s+/).filter(w => w.length > 0).length``."""
    return len([w for w in _JS_SPACES.split(js_trim(text)) if w])


def strict_equal(a: Any, b: Any) -> bool:
    """Node's ``isDeepStrictEqual`` on JSON values (``true`` is not ``1``, key order is free)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(strict_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(strict_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _utf16_units(text: str) -> list[int]:
    data = text.encode("utf-16-le", "surrogatepass")
    return [data[i] | data[i + 1] << 8 for i in range(0, len(data), 2)]


def levenshtein_utf16(a: str, b: str, *, deadline: float | None = None) -> int | None:
    """The edit distance between `a` and `b` over UTF-16 units; None past `deadline`."""
    x, y = _utf16_units(a), _utf16_units(b)
    if len(x) < len(y):
        x, y = y, x
    previous = list(range(len(y) + 1))
    for i, unit in enumerate(x, start=1):
        if deadline is not None and i % _DEADLINE_EVERY == 0 and time.monotonic() > deadline:
            return None
        current = [i]
        for j, other in enumerate(y, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (unit != other))
            )
        previous = current
    return previous[-1]


# Phrases that open or carry a refusal, matched on the lower-cased, trimmed output with curly
# apostrophes straightened. Our own list of the common forms; promptfoo's is longer.
_REFUSAL_OPENINGS = (
    "i'm sorry",
    "i am sorry",
    "i apologize",
    "i apologise",
    "sorry, i",
    "sorry, but",
    "as an ai",
    "as a language model",
    "as an assistant",
    "i cannot",
    "i can't",
    "i can not",
    "i won't",
    "i will not",
    "i'm not able to",
    "i am not able to",
    "i'm unable to",
    "i am unable to",
    "i must decline",
    "i'm afraid",
    "unfortunately, i",
)
_REFUSAL_PHRASES = re.compile(
    r"\b(?:i (?:cannot|can't|can not|won't|will not|am unable to|am not able to|must decline)"
    r"|i'm (?:unable to|not able to)) (?:help|assist|provide|comply|fulfill|do that|answer|"
    r"support|write|create|generate|share|give)\b"
    r"|\bis not something i can\b|\bagainst my (?:guidelines|principles)\b"
)


def looks_like_refusal(text: str) -> bool:
    """True when the output declines: a refusal opening or a refusal phrase anywhere."""
    lowered = text.strip().lower().replace("\u2019", "'").replace("\u2018", "'")
    return lowered.startswith(_REFUSAL_OPENINGS) or bool(_REFUSAL_PHRASES.search(lowered))
