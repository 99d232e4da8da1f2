"""JSON Schema of the production export (what docs/production.schema.json holds).

Regenerate the committed file with ``python -m workbench.services.production_schema``; a test
fails when the two differ. The rollout sections follow `core.models.ProductionSettings`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from workbench.runtime import FORMAT, FORMAT_VERSION

SCHEMA_PATH = Path("docs") / "production.schema.json"
_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
_VARIABLE = r"^[A-Za-z_][A-Za-z0-9_.\-]*$"


def _object(properties: dict[str, Any], *, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """A closed object whose properties are all required except `optional` ones."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [k for k in properties if k not in optional],
        "properties": properties,
    }


def _number(
    description: str, *, minimum: float = 0, maximum: float | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "number", "minimum": minimum, "description": description}
    if maximum is not None:
        out["maximum"] = maximum
    return out


def _prompt_schema() -> dict[str, Any]:
    unit = {"type": "number", "minimum": 0, "maximum": 1}
    params = _object(
        {
            "max_tokens": {"type": "integer", "minimum": 1},
            "temperature": unit,
            "top_p": unit,
            "top_k": {"type": "integer", "minimum": 1},
            "stop_sequences": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        },
        optional=("temperature", "top_p", "top_k", "stop_sequences"),
    )
    params["description"] = "Sent as is; sampling params the model refuses are already left out."
    text = {"type": "string"}
    block = {
        "oneOf": [
            _object({"type": {"const": "text"}, "text": text}),
            _object({"type": {"const": "image"}, "var": {"type": "string", "pattern": _VARIABLE}}),
            _object(
                {
                    "type": {"const": "document"},
                    "var": {"type": "string", "pattern": _VARIABLE},
                    "title": text,
                }
            ),
            _object(
                {
                    "type": {"const": "tool_use"},
                    "id": text,
                    "name": text,
                    "input": {"type": "object"},
                }
            ),
            _object(
                {
                    "type": {"const": "tool_result"},
                    "tool_use_id": text,
                    "content": text,
                    "is_error": {"type": "boolean"},
                }
            ),
        ]
    }
    message = _object(
        {
            "role": {"enum": ["user", "assistant"]},
            "content": {
                "oneOf": [text, {"type": "array", "minItems": 1, "items": block}],
                "description": "Text, or blocks; image/document blocks name the variable the "
                "application passes the file's bytes in.",
            },
        },
    )
    tool = _object(
        {
            "name": {"type": "string", "pattern": "^[a-zA-Z0-9_-]{1,128}$"},
            "description": text,
            "input_schema": {"type": "object", "description": "A JSON Schema."},
        }
    )
    flag = _object(
        {
            "enabled": {"type": "boolean", "description": "false: off for everyone."},
            "staff_only": {"type": "boolean", "description": "true: only staff get it."},
            "rollout_percent": _number("Share of signed-in users who get it.", maximum=100),
        }
    )
    alerts = _object(
        {
            "p95_latency_s": {"type": "number", "exclusiveMinimum": 0},
            "error_rate": _number("Share of calls that fail.", maximum=1),
            "cost_per_user_per_day_multiple": {
                "type": "number",
                "exclusiveMinimum": 0,
                "description": "Alert above this multiple of the baseline cost per user per day.",
            },
            "cost_baseline_usd": {
                "type": ["number", "null"],
                "exclusiveMinimum": 0,
                "description": "Baseline cost per user per day; null: the trailing 7-day median.",
            },
            "cost_per_user_per_day_usd": {
                "type": ["number", "null"],
                "minimum": 0,
                "description": "An absolute cap on spend per active user per day; null: none.",
            },
            "eval_pass_rate_drop": _number(
                "Weekly eval pass rate drop (0.1 = 10 points).", maximum=1
            ),
            "thumbs_down_rate": _number("Share of rated calls rated down.", maximum=1),
            "hallucination_rate": _number(
                "Share of reviewed production calls tagged hallucination.", maximum=1
            ),
        }
    )
    alerts["description"] = "Alert when a metric goes above its threshold."
    return _object(
        {
            "version": {"type": "integer", "minimum": 1},
            "version_id": {
                "type": "string",
                "pattern": r"^.+@v[0-9]+#[0-9a-f]{12}$",
                "description": "Log it with every call: <prompt>@v<version>#<hash prefix>.",
            },
            "content_hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "label": {"type": "string", "pattern": _NAME},
            "model": {"type": "string", "minLength": 1},
            "params": params,
            "cache": _object(
                {
                    "system": {"type": "boolean"},
                    "prefix_messages": {"type": "integer", "minimum": 0},
                }
            ),
            "system": {"type": "string"},
            "messages": {"type": "array", "minItems": 1, "items": message},
            "variables": {"type": "array", "items": {"type": "string", "pattern": _VARIABLE}},
            "tools": {"type": "array", "items": tool},
            "tool_choice": _object(
                {"type": {"enum": ["auto", "any", "tool", "none"]}, "name": text},
                optional=("name",),
            ),
            "output_schema": {
                "type": "object",
                "description": "Structured output: sent as output_config.format.",
            },
            "thinking": _object(
                {
                    "type": {"enum": ["enabled", "adaptive"]},
                    "budget_tokens": {"type": "integer", "minimum": 1024},
                },
                optional=("budget_tokens",),
            ),
            "effort": {"enum": ["low", "medium", "high", "xhigh", "max"]},
            "prefill": {"type": "string", "description": "Sent as a last assistant turn."},
            "feature_flag": flag,
            "kill_switch": {"type": "boolean", "description": "true: off for everyone, now."},
            "alerts": alerts,
        },
        optional=("tools", "tool_choice", "output_schema", "thinking", "effort", "prefill"),
    )


def production_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a production export."""
    schema = _object(
        {
            "format": {"const": FORMAT},
            "format_version": {"const": FORMAT_VERSION},
            "exported_at": {"type": "string", "format": "date-time"},
            "project": {"type": "string"},
            "workbench_version": {"type": "string"},
            "label": {"type": "string", "pattern": _NAME},
            "skipped": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Prompts left out because they lack the label.",
            },
            "prompts": {
                "type": "object",
                "minProperties": 1,
                "propertyNames": {"pattern": _NAME},
                "additionalProperties": {"$ref": "#/$defs/prompt"},
            },
        }
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Prompt Workbench production export",
        "description": "The prompt registry a production app loads; see docs/production.md.",
        **schema,
        "$defs": {"prompt": _prompt_schema()},
    }


def production_schema_text() -> str:
    """The schema as the text committed in docs/production.schema.json."""
    return json.dumps(production_schema(), indent=2, ensure_ascii=False) + "\n"


def write_production_schema(path: str | Path = SCHEMA_PATH) -> None:
    """Regenerate the committed schema file."""
    Path(path).write_text(production_schema_text(), encoding="utf-8", newline="\n")


if __name__ == "__main__":
    write_production_schema(sys.argv[1] if len(sys.argv) > 1 else SCHEMA_PATH)
