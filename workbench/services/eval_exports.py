"""Eval sets out of the workbench: JSONL, a promptfoo config, and labelled calls as CSV.

* JSONL: one case per line, ``{"vars": {...}, "tags": [...], "note": "...", "expect": [...]}`` —
  the dataset importer's own structured form, so the file imports back unchanged.
* ``promptfooconfig.yaml``: prompts as chat JSON, ``anthropic:messages:<model>`` providers, and
  one test per case with its vars and asserts, for ``promptfoo eval``.
* Labelled calls: CSV with spreadsheet formulas neutralised (`dataset_io.neutralise`).

docs/eval-formats.md describes each format for users.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import yaml

from workbench.core.errors import BadInput
from workbench.core.models import Expectation, PromptVersion
from workbench.formats.atomic import write_text_atomic
from workbench.services import scorer_code
from workbench.services.dataset_io import neutralise
from workbench.services.judge import DEFAULT_JUDGE_MODEL, JUDGE_PROMPT
from workbench.services.planner import resolve_versions
from workbench.services.project_models import model_catalog
from workbench.services.scorers import base_type, rubric_expectations
from workbench.storage.project import Project

LABEL_COLUMNS = (
    "call_id",
    "run_id",
    "prompt",
    "version",
    "model",
    "example_id",
    "vars",
    "output",
    "error",
    "verdict",
    "rating",
    "tags",
    "note",
    "labelled_at",
    "latency_ms",
    "cost_usd",
)


def _write(path: Path, text: str) -> None:
    try:
        write_text_atomic(Path(path), text)
    except OSError as exc:
        raise BadInput(
            f"cannot write the file ({exc.strerror or exc})",
            source=str(path),
            hint="Check that the folder exists and is writable.",
        ) from None


# -- JSONL ------------------------------------------------------------------------------------


def jsonl_text(project: Project, dataset: str) -> str:
    """The dataset's examples as JSON Lines, one case per line."""
    lines = []
    for example in project.datasets.get(dataset).examples:
        case = {
            "vars": example.vars,
            "tags": example.tags,
            "note": example.note,
            "expect": [e.model_dump(mode="json", exclude_defaults=True) for e in example.expect],
        }
        lines.append(json.dumps(case, ensure_ascii=False, sort_keys=False))
    return "".join(line + "\n" for line in lines)


def export_jsonl(project: Project, dataset: str, output: Path) -> int:
    """Write the dataset to `output` as JSONL; returns the number of cases."""
    text = jsonl_text(project, dataset)
    _write(output, text)
    return text.count("\n")


# -- promptfoo --------------------------------------------------------------------------------


# Tool and output-schema expectations without a promptfoo assertion (tool-call-f1 has one).
WORKBENCH_ONLY_TYPES = frozenset(
    ("tool-called", "not-tool-called", "tool-args-contain", "tool-args-equal")
    + ("is-valid-tools-call", "is-valid-output-schema")
)
_TEMPLATE_MARKS = ("{{", "{%", "{#")


def escape_template(text: str) -> str:
    """`text` as a literal for promptfoo, which renders assertion values with Nunjucks (so
    ``{{x}}`` would become empty) and reads a value starting ``file://`` as a file."""
    if any(mark in text for mark in _TEMPLATE_MARKS) or text.startswith("file://"):
        return (
            "{% raw %}"
            + text.replace("{% endraw %}", "{% endraw %}{{ '{% endraw %}' }}{% raw %}")
            + "{% endraw %}"
        )
    return text


def _literal(value: Any) -> Any:
    # promptfoo renders a string value and the strings of a list value; objects are left as is.
    if isinstance(value, str):
        return escape_template(value)
    if isinstance(value, list):
        return [escape_template(v) if isinstance(v, str) else v for v in value]
    return value


def _python_value(value: str) -> str:
    check = scorer_code.parse_value(value)
    if check.file:
        return f"file://{check.file}:{check.function}"
    return escape_template(value)


def promptfoo_assert(expectation: Expectation) -> dict[str, Any]:
    """One expectation as the promptfoo assertion that gives the same verdict (the same name
    where promptfoo has the type; the workbench's own types as their equivalents)."""
    kind, value, threshold = expectation.type, expectation.value, expectation.threshold
    negated = kind.startswith("not-")
    base = base_type(kind)
    prefix = "not-" if negated else ""
    out: dict[str, Any]
    if base == "is-valid-json-schema":
        out = {"type": f"{prefix}is-json", "value": value}
    elif base in ("min-length", "max-length"):
        # JavaScript's length counts UTF-16 units, as the workbench's length does.
        op = ">=" if base == "min-length" else "<="
        test = f"output.length {op} {int(value if value is not None else threshold or 0)}"
        out = {"type": "javascript", "value": f"!({test})" if negated else test}
    elif base in ("cost", "latency"):
        out = {"type": kind, "threshold": threshold if threshold is not None else value}
    elif base == "llm-rubric":
        out = {"type": kind, "value": _literal(value)}
        # Our judge scores 1–5 (pass at 4); promptfoo's grader scores 0–1.
        out["threshold"] = round(((threshold if threshold is not None else 4.0) - 1) / 4, 4)
    elif base == "python":
        out = {"type": kind, "value": _python_value(str(value))}
        if threshold is not None:
            out["threshold"] = threshold
    elif base == "assert-set":
        out = {"type": kind, "assert": [promptfoo_assert(e) for e in expectation.assert_ or []]}
        if threshold is not None:
            out["threshold"] = threshold
    else:
        out = {"type": kind}
        if value is not None:
            out["value"] = _literal(value)
        if threshold is not None:
            out["threshold"] = threshold
    if expectation.weight != 1.0:
        out["weight"] = expectation.weight
    return out


def _chat_json(version: PromptVersion) -> str:
    messages: list[dict[str, Any]] = (
        [{"role": "system", "content": version.system}] if version.system else []
    )
    messages += [
        {"role": m.role, "content": m.model_dump(mode="json")["content"]} for m in version.messages
    ]
    return json.dumps(messages, ensure_ascii=False, indent=2)


def _provider(project: Project, model: str, version: PromptVersion) -> dict[str, Any]:
    sampling, _ = model_catalog(project).accepted_params(model, version.params)
    config: dict[str, Any] = {"max_tokens": version.params.max_tokens, **sampling}
    if version.params.stop_sequences:
        config["stop_sequences"] = list(version.params.stop_sequences)
    # promptfoo's Anthropic provider passes these through to the Messages API.
    if version.tools:
        config["tools"] = [t.model_dump(mode="json") for t in version.tools]
    if version.tool_choice is not None:
        config["tool_choice"] = version.tool_choice.to_api()
    if version.thinking is not None:
        config["thinking"] = version.thinking.to_api()
    return {"id": f"anthropic:messages:{model}", "label": model, "config": config}


def _judge_model(project: Project) -> str:
    if JUDGE_PROMPT not in project.prompts.names():
        return DEFAULT_JUDGE_MODEL
    prompt = project.prompts.get(JUDGE_PROMPT)
    ref = "production" if "production" in prompt.labels else None
    return project.prompts.resolve(JUDGE_PROMPT, ref).params.model


def promptfoo_config(
    project: Project, dataset: str, prompts: list[str], models: list[str] | None = None
) -> dict[str, Any]:
    """A promptfoo config for `dataset` × prompt versions × models (default: each version's)."""
    if not prompts:
        raise BadInput("a promptfoo export needs at least one prompt", field="--prompt")
    refs = resolve_versions(project, prompts)
    chosen = models or list(dict.fromkeys(r.version.params.model for r in refs))
    examples = project.datasets.get(dataset).examples
    tests = []
    for row, example in enumerate(examples, start=1):
        first = next(iter(example.vars.values()), "")
        test: dict[str, Any] = {
            "description": f"#{row} {' '.join(first.split())[:80]}".rstrip(),
            "vars": dict(example.vars),
        }
        # Tool expectations promptfoo has no assertion for travel as metadata, so the config
        # stays valid for promptfoo and nothing written in the workbench is lost.
        portable = [e for e in example.expect if e.type not in WORKBENCH_ONLY_TYPES]
        kept = [e for e in example.expect if e.type in WORKBENCH_ONLY_TYPES]
        if portable:
            test["assert"] = [promptfoo_assert(e) for e in portable]
        metadata: dict[str, Any] = {}
        if example.tags:
            metadata["tags"] = list(example.tags)
        if kept:
            metadata["workbench_expectations"] = [promptfoo_assert(e) for e in kept]
        if metadata:
            test["metadata"] = metadata
        tests.append(test)
    config: dict[str, Any] = {
        "description": f"{project.name}: {dataset} (exported by Prompt Workbench)",
        "prompts": [{"label": r.label, "raw": _chat_json(r.version)} for r in refs],
        # Provider settings come from the first version; promptfoo sets them per provider.
        "providers": [_provider(project, m, refs[0].version) for m in chosen],
        "tests": tests,
    }
    if any(rubric_expectations(ex.expect) for ex in examples):
        grader = f"anthropic:messages:{_judge_model(project)}"
        config["defaultTest"] = {"options": {"provider": grader}}
    return config


class _Dumper(yaml.SafeDumper):
    """Multi-line text (the chat JSON of prompts) as readable ``|`` blocks."""


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    # The emitter falls back to a quoted style by itself when a block cannot hold the text.
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_str)


def promptfoo_yaml(config: dict[str, Any]) -> str:
    header = (
        "# promptfooconfig.yaml written by Prompt Workbench; run it with `promptfoo eval`.\n"
        "# Needs ANTHROPIC_API_KEY in the environment.\n"
    )
    body = yaml.dump(
        config,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    return header + body


def export_promptfoo(
    project: Project,
    dataset: str,
    prompts: list[str],
    output: Path,
    models: list[str] | None = None,
) -> dict[str, Any]:
    """Write a promptfoo config to `output`; returns it as data."""
    config = promptfoo_config(project, dataset, prompts, models)
    _write(output, promptfoo_yaml(config))
    return config


# -- labelled calls -----------------------------------------------------------------------------


def labels_csv_text(
    project: Project, *, run_id: int | None = None, prompt: str | None = None
) -> tuple[str, int]:
    """Labelled calls as CSV text (formula-like cells neutralised) and the number of rows."""
    rows = project.labels.labelled_calls(run_id=run_id, prompt=prompt)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(LABEL_COLUMNS)
    for row in rows:
        values = {
            **dataclasses.asdict(row),
            "vars": json.dumps(row.vars, ensure_ascii=False),
            "error": row.error_type or "",
            "tags": ", ".join(row.tags),
            "labelled_at": row.updated_at,
        }
        writer.writerow(
            [neutralise("" if values[c] is None else str(values[c])) for c in LABEL_COLUMNS]
        )
    return out.getvalue(), len(rows)


def export_labels_csv(
    project: Project, output: Path, *, run_id: int | None = None, prompt: str | None = None
) -> int:
    """Write labelled calls to `output` as CSV (UTF-8 with BOM for Excel); returns the row count."""
    text, count = labels_csv_text(project, run_id=run_id, prompt=prompt)
    _write(output, "\ufeff" + text)
    return count
