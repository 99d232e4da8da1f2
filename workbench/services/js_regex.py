"""JavaScript regular expressions, matched the way promptfoo's ``new RegExp(value).test(output)``
matches them, with a time limit.

A pattern is translated into the `regex` package's syntax (which, unlike `re`, can stop a match
after a timeout, so a catastrophic pattern such as ``(a+)+$`` ends as an error rather than a
hang) and compiled with ``ASCII``, because JavaScript without the ``u`` flag is ASCII-only for
``\\d``, ``\\w`` and ``\\b``. What the translation changes, outside character classes unless said:

* ``$`` is the end of the text only (Python's ``$`` also matches before a final newline);
* ``.`` matches anything but the four JavaScript line terminators (``\\n \\r \\u2028 \\u2029``);
* ``\\s`` / ``\\S`` are JavaScript's whitespace set (Unicode spaces and ``\\ufeff``), inside
  classes too;
* ``(?<name>`` named groups and ``\\k<name>`` back-references work as they are;
* ``[^]`` (any character) becomes ``[\\s\\S]``; ``\\/`` is a plain slash.
"""

from __future__ import annotations

from typing import Any

import regex

# ECMAScript WhiteSpace + LineTerminator: what `\s` and String.prototype.trim() mean.
JS_WHITESPACE = (
    "\t\n\x0b\x0c\r \xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_SPACE_CLASS = "".join(f"\\u{ord(c):04x}" for c in JS_WHITESPACE)
_DOT = "[^\\n\\r\\u2028\\u2029]"


class RegexTimeout(Exception):
    """A match ran past its time limit."""


def translate(pattern: str) -> str:
    """`pattern` (JavaScript syntax, no flags) in the `regex` package's syntax."""
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if nxt == "s":
                out.append(_SPACE_CLASS if in_class else f"[{_SPACE_CLASS}]")
            elif nxt == "S" and not in_class:
                out.append(f"[^{_SPACE_CLASS}]")
            elif nxt == "/":
                out.append("/")
            elif nxt == "k" and not in_class and (end := pattern.find(">", i)) > i + 2:
                out.append(f"(?P={pattern[i + 3 : end]})")  # \k<name>
                i = end + 1
                continue
            else:
                out.append(char + nxt)
            i += 2
            continue
        if in_class:
            if char == "]":
                in_class = False
            elif char == "[":
                out.append("\\[")  # a literal in JavaScript; a nested set in `regex` V1
                i += 1
                continue
            out.append(char)
        elif char == "[":
            if pattern.startswith("[^]", i):
                out.append("[\\s\\S]")
                i += 3
                continue
            if pattern.startswith("[]", i):
                out.append("(?!)")  # JavaScript's [] matches nothing (a literal "]" in Python)
                i += 2
                continue
            in_class = True
            out.append(char)
        elif char == "$":
            out.append("\\Z")
        elif char == ".":
            out.append(_DOT)
        else:
            out.append(char)
        i += 1
    return "".join(out)


def compile_js(pattern: str) -> Any:
    """The compiled translation of `pattern`; raises ``regex.error`` when it is invalid."""
    return regex.compile(translate(pattern), regex.ASCII | regex.V0)


def search(compiled: Any, text: str, timeout_s: float) -> Any:
    """``compiled.search(text)`` stopped after `timeout_s` seconds (`RegexTimeout`)."""
    try:
        return compiled.search(text, timeout=timeout_s)
    except TimeoutError:
        raise RegexTimeout(f"the match ran longer than {timeout_s:g} s") from None
