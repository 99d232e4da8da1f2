"""The `python` expectation: the user's own check, run in a separate Python process.

The value is what promptfoo's ``python`` assertion takes: an expression over ``output`` and
``context`` (``"'refund' in output.lower()"``), several lines forming the body of a function of
those two (ending in ``return``), or ``file:function`` / ``file://path.py:function`` naming a
function in a file (relative paths from the project folder; function default ``get_assert``).
``context`` is ``{"vars": {...}, "prompt": ..., "model": ...}``.

The result means what it means to promptfoo: True/False (or "true"/"false"), a number (a score
that passes above 0, or at `threshold` when one is set), or a dict ``{"pass", "score",
"reason"}``. The process runs isolated (``python -I``) with a wall-clock limit; it is killed
when it runs over, which is an error verdict, as is an exception or an unusable result.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PYTHON_TIME_LIMIT_S = 10.0

_RUNNER = r"""
import importlib.util, json, sys
job = json.loads(sys.stdin.read())
if job["file"]:
    spec = importlib.util.spec_from_file_location("user_check", job["file"])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fn = getattr(module, job["function"])
else:
    namespace = {}
    exec(compile(job["code"], "<python expectation>", "exec"), namespace)
    fn = namespace["main"]
result = fn(job["output"], job["context"])
sys.stdout.write("\n@@result@@" + json.dumps(result, default=str))
"""


@dataclass(frozen=True)
class CodeCheck:
    """What to run: inline `code` defining ``main``, or `function` in `file`."""

    code: str = ""
    file: str = ""
    function: str = ""


def parse_value(value: str, base_dir: Path | None = None) -> CodeCheck:
    """The check a `python` expectation's value names (see the module doc)."""
    text = value.strip()
    spec = text[len("file://") :] if text.startswith("file://") else text
    head, sep, function = spec.rpartition(":")
    if "\n" not in text and sep and head.endswith(".py") and function.isidentifier():
        path = Path(head)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        return CodeCheck(file=str(path), function=function)
    if text.startswith("file://") and spec.endswith(".py"):
        path = Path(spec) if base_dir is None or Path(spec).is_absolute() else base_dir / spec
        return CodeCheck(file=str(path), function="get_assert")
    return CodeCheck(code=function_source(value))


def function_source(value: str) -> str:
    """``def main(output, context)`` around `value`, as promptfoo builds it."""
    value = value.rstrip()
    if "\n" not in value:
        return f"import json\n\ndef main(output, context):\n    return {value}\n"
    lines = value.split("\n")
    indent = next(
        (
            line[: len(line) - len(line.lstrip())]
            for line in lines
            if line.strip() and line[0] in " \t"
        ),
        "    ",
    )
    body = "\n".join(indent + line for line in lines)
    return f"import json\n\ndef main(output, context):\n{body}\n"


class CodeError(Exception):
    """The check could not give a verdict (timeout, exception, unusable result)."""


def run_check(
    check: CodeCheck, output: str, context: dict[str, Any], timeout_s: float = PYTHON_TIME_LIMIT_S
) -> Any:
    """The check's return value (JSON-decoded); `CodeError` when it fails or runs over."""
    job = json.dumps({**check.__dict__, "output": output, "context": context})
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-c", _RUNNER],
            input=job,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            encoding="utf-8",
        )
    except subprocess.TimeoutExpired:
        raise CodeError(
            f"the python check ran longer than {timeout_s:g} s and was stopped"
        ) from None
    marker = done.stdout.rfind("\n@@result@@")
    if done.returncode != 0 or marker < 0:
        last = (done.stderr.strip().splitlines() or ["it exited without a result"])[-1]
        raise CodeError(f"the python check failed: {last}")
    return json.loads(done.stdout[marker + len("\n@@result@@") :])


def verdict(result: Any, threshold: float | None) -> tuple[bool, float, str]:
    """(passed, score, reason) from a check's return value, as promptfoo reads it."""
    if isinstance(result, str) and result.lower() in ("true", "false"):
        result = result.lower() == "true"
    if isinstance(result, str) and result.startswith("{"):
        try:
            result = json.loads(result)
        except ValueError:
            raise CodeError(f"the python check returned invalid JSON: {result[:80]}") from None
    if isinstance(result, bool):
        return result, float(result), f"the python check returned {result}"
    if isinstance(result, dict):
        if "pass" not in result and "pass_" not in result:
            raise CodeError("the python check returned a dict without 'pass'")
        passed = bool(result.get("pass", result.get("pass_")))
        score = float(result.get("score", float(passed)))
        return passed, score, str(result.get("reason") or f"the python check returned {passed}")
    try:
        score = float(result)
    except (TypeError, ValueError):
        raise CodeError(
            f"the python check must return a bool, a number or a dict, not {str(result)[:80]!r}"
        ) from None
    passed = score > 0 if threshold is None else score >= threshold
    return passed, score, f"the python check scored {score:g}"
