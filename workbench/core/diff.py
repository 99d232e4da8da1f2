"""Word-level diff of two texts, for comparing prompt versions and run outputs side by side.

Texts are split into words, runs of whitespace and runs of punctuation, so a changed word is
shown as one change and joining the pieces gives back each text exactly.
"""

from __future__ import annotations

import difflib
import re
from typing import Literal

DiffOp = Literal["equal", "delete", "insert"]

# Words, whitespace and punctuation as separate tokens: "Hello, world" -> Hello , ␠ world.
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]+")


def tokenize(text: str) -> list[str]:
    """Split `text` into word, whitespace and punctuation tokens (``"".join`` gives it back)."""
    return _TOKEN.findall(text)


def word_diff(a: str, b: str) -> list[tuple[DiffOp, str]]:
    """The edits turning `a` into `b` as ``(op, text)`` pieces, adjacent equal ops merged.

    Joining the "equal" and "delete" pieces gives `a`; joining "equal" and "insert" gives `b`.
    A replaced stretch comes out as its "delete" piece followed by its "insert" piece.
    """
    left, right = tokenize(a), tokenize(b)
    # autojunk would treat frequent tokens (spaces, "the") as junk and give ragged diffs.
    matcher = difflib.SequenceMatcher(None, left, right, autojunk=False)
    out: list[tuple[DiffOp, str]] = []

    def emit(op: DiffOp, tokens: list[str]) -> None:
        if not tokens:
            return
        text = "".join(tokens)
        if out and out[-1][0] == op:
            out[-1] = (op, out[-1][1] + text)
        else:
            out.append((op, text))

    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            emit("equal", left[i1:i2])
        else:  # "replace" is a delete then an insert; "delete"/"insert" have one empty side
            emit("delete", left[i1:i2])
            emit("insert", right[j1:j2])
    return out


def side_text(ops: list[tuple[DiffOp, str]], side: Literal["a", "b"]) -> str:
    """Rebuild one side of a diff: "a" keeps deletions, "b" keeps insertions."""
    dropped: DiffOp = "insert" if side == "a" else "delete"
    return "".join(text for op, text in ops if op != dropped)


def changed(ops: list[tuple[DiffOp, str]]) -> bool:
    """Whether the diff has any deletion or insertion."""
    return any(op != "equal" for op, _ in ops)
