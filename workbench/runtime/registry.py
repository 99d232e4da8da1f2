"""Prompt registry: load a Prompt Workbench production export and render its prompts.

Standard library only (Python 3.9+): a production app copies this one file beside its
``prompts.json`` (``workbench export PROJECT --format production -o prompts.json --with-loader``
writes it as ``prompt_registry.py``) and needs nothing else from the workbench::

    from prompt_registry import LiveRegistry, log_call

    registry = LiveRegistry("prompts.json")  # re-reads the file when it changes (kill switch)
    if registry.is_enabled("support-answer", user_id=user.id, is_staff=user.is_staff):
        rendered = registry.render("support-answer", question=text)
        response = client.messages.create(**rendered.to_anthropic_kwargs())
        log_call(rendered.log_record(output=..., latency_ms=..., user_id=user.id))

The environment variable ``PROMPT_WORKBENCH_KILL`` turns prompts off without touching the file:
a comma-separated list of prompt names (``support-answer,summarize``) or ``*`` for all of them.

Template rules, identical to the workbench's own rendering:

* ``{{name}}`` or ``{{ name }}`` is a variable; names start with a letter or ``_`` and may hold
  letters, digits, ``_``, ``-`` and ``.``.
* One pass: a value containing ``{{x}}`` is inserted as written, never expanded.
* ``\\{{`` writes a literal ``{{``; any other ``{{`` that is not a variable stays as written.
* A missing variable raises `MissingVariables` naming every missing one; extra values are ignored.

Prompts with tools, structured output, thinking or a prefill render to the matching keyword
arguments. A variable behind an image or document block takes the file's bytes from the
application (``render("agent", question=q, receipt=png_bytes)``; bytes of PNG, JPEG, GIF, WebP
and PDF files are recognised, anything else is passed as ``(media_type, bytes)``).
"""

from __future__ import annotations

import base64
import copy
import datetime
import hashlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

FORMAT = "prompt-workbench/production"
FORMAT_VERSION = 1
ROLLOUT_BUCKETS = 10_000  # rollout_percent has a resolution of 0.01 %
FEEDBACK_VALUES = ("up", "down")
KILL_ENV = "PROMPT_WORKBENCH_KILL"  # "name,other" or "*": off for everyone, whatever the file says
CALL_LOGGER = "prompt_workbench.calls"  # log_call writes the log lines to this logger
DEFAULT_CHECK_EVERY_S = 5.0
_log = logging.getLogger("prompt_workbench.registry")

NAME = r"[A-Za-z_][A-Za-z0-9_.\-]*"
# One alternation so escapes and variables are found in a single left-to-right scan.
_TOKEN = re.compile(r"\\\{\{|\{\{\s*(" + NAME + r")\s*\}\}")
_EPHEMERAL = {"type": "ephemeral"}
_SAMPLING = ("temperature", "top_p", "top_k")
_BLOCK_FIELDS = {  # the text fields each block type needs
    "text": ("text",),
    "image": ("var",),
    "document": ("var",),
    "tool_use": ("id", "name"),
    "tool_result": ("tool_use_id",),
}
_FILE_BLOCKS = ("image", "document")
# The first bytes of each file type a block may carry, to name its media type.
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
)


class RegistryError(Exception):
    """The registry file, or a call on it, is wrong; the message says what to fix."""


class MissingVariables(RegistryError):
    """Variables the prompt uses but the caller did not pass; `missing` lists them all."""

    def __init__(self, prompt: str, missing: list[str]) -> None:
        self.prompt = prompt
        self.missing = missing
        super().__init__(
            f"prompt '{prompt}': missing template variable(s): {', '.join(missing)}; "
            "pass them to render()."
        )


# --- templates -------------------------------------------------------------------------------


def extract_variables(text: str) -> list[str]:
    """Variable names used in `text`, in order of first appearance, without duplicates."""
    seen: dict[str, None] = {}
    for match in _TOKEN.finditer(text):
        if match.group(1) is not None:
            seen.setdefault(match.group(1), None)
    return list(seen)


def render_template(text: str, values: Mapping[str, object]) -> str:
    """Substitute variables in one pass (the caller has checked that none is missing)."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:  # the escape \{{
            return "{{"
        value = values[name]
        return value if isinstance(value, str) else str(value)

    return _TOKEN.sub(substitute, text)


def rollout_bucket(prompt: str, user_id: object) -> int:
    """The user's stable bucket in 0..9999 for `prompt`; enabled when below rollout_percent*100."""
    digest = hashlib.sha256(f"{prompt}:{user_id}".encode()).hexdigest()
    return int(digest[:8], 16) % ROLLOUT_BUCKETS


def killed_by_environment(name: str, environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``PROMPT_WORKBENCH_KILL`` (names, comma-separated, or ``*``) turns `name` off."""
    value = (os.environ if environ is None else environ).get(KILL_ENV, "")
    names = {part.strip() for part in value.split(",")}
    return "*" in names or name in names


def log_call(record: Mapping[str, Any], logger: logging.Logger | None = None) -> None:
    """Log one call or feedback line through `logging` (logger ``prompt_workbench.calls``).

    The message is exactly the JSONL line ``workbench logs import`` reads, so give the handler
    that writes it the format ``%(message)s``; your LOGGING config decides where it goes.
    """
    (logger or logging.getLogger(CALL_LOGGER)).info(
        "%s", json.dumps(dict(record), ensure_ascii=False, default=str)
    )


def _now_iso() -> str:
    # timezone.utc rather than datetime.UTC: this file also runs on Python 3.9 and 3.10.
    now = datetime.datetime.now(datetime.timezone.utc)  # noqa: UP017
    return now.isoformat().replace("+00:00", "Z")


# --- rendered prompts and log lines ----------------------------------------------------------


@dataclass(frozen=True)
class RenderedPrompt:
    """One prompt rendered for one call; log `version_id` with the call."""

    prompt: str
    version: int
    version_id: str
    content_hash: str
    model: str
    params: dict[str, Any]
    system: str
    messages: list[dict[str, Any]]
    cache_system: bool = False
    cache_prefix_messages: int = 0
    variables: dict[str, str] = field(default_factory=dict)
    tools: list[dict[str, Any]] = field(default_factory=list)
    tool_choice: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None
    thinking: dict[str, Any] | None = None
    effort: str | None = None
    prefill: str = ""

    def to_anthropic_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``client.messages.create`` / ``.stream`` (anthropic SDK 2.x)."""
        messages: list[dict[str, Any]] = [dict(m) for m in self.messages]
        cut = min(self.cache_prefix_messages, len(messages))
        if cut > 0:
            # One breakpoint at the end of the prefix caches everything before it too.
            last = messages[cut - 1]
            content = last["content"]
            if isinstance(content, str):
                blocks = [{"type": "text", "text": content, "cache_control": dict(_EPHEMERAL)}]
            else:
                blocks = [*content[:-1], {**content[-1], "cache_control": dict(_EPHEMERAL)}]
            messages[cut - 1] = {"role": last["role"], "content": blocks}
        if self.prefill:
            # The answer continues the prefill; add it in front of the text you show or log.
            messages.append({"role": "assistant", "content": self.prefill})
        kwargs: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.params["max_tokens"],
            "messages": messages,
        }
        if self.system:
            kwargs["system"] = (
                [{"type": "text", "text": self.system, "cache_control": dict(_EPHEMERAL)}]
                if self.cache_system
                else self.system
            )
        if self.params.get("stop_sequences"):
            kwargs["stop_sequences"] = list(self.params["stop_sequences"])
        if self.tools:
            kwargs["tools"] = copy.deepcopy(self.tools)
        if self.tool_choice:
            kwargs["tool_choice"] = dict(self.tool_choice)
        if self.thinking:
            kwargs["thinking"] = dict(self.thinking)
        output_config: dict[str, Any] = {}
        if self.output_schema is not None:
            output_config["format"] = {
                "type": "json_schema",
                "schema": copy.deepcopy(self.output_schema),
            }
        if self.effort:
            output_config["effort"] = self.effort
        if output_config:
            kwargs["output_config"] = output_config
        sampling = {k: self.params[k] for k in _SAMPLING if self.params.get(k) is not None}
        if sampling:
            # anthropic 2.x no longer takes temperature/top_p/top_k as keywords; the API does.
            kwargs["extra_body"] = sampling
        return kwargs

    def log_record(
        self,
        *,
        output: str,
        latency_ms: float,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        cache_creation_input_tokens: int | None = None,
        cache_read_input_tokens: int | None = None,
        user_id: object = None,
        feedback: str | None = None,
        call_id: str | None = None,
        request_id: str | None = None,
        error: str | None = None,
        timestamp: str | None = None,
        log_vars: bool = True,
    ) -> dict[str, Any]:
        """One JSONL line for ``workbench logs import`` (docs/production.md defines the fields).

        :param log_vars: log the input variables (default); False logs the rendered system and
            messages instead, e.g. when the variables hold data you may not keep
        """
        if feedback is not None and feedback not in FEEDBACK_VALUES:
            raise RegistryError(f"feedback must be 'up', 'down' or None, not {feedback!r}.")
        record: dict[str, Any] = {
            "type": "call",
            "timestamp": timestamp or _now_iso(),
            "prompt": self.prompt,
            "version": self.version,
            "version_id": self.version_id,
            "content_hash": self.content_hash,
            "model": self.model,
        }
        if log_vars:
            record["vars"] = dict(self.variables)
        else:
            record["system"] = self.system
            record["messages"] = [dict(m) for m in self.messages]
        record["output"] = output
        record["latency_ms"] = latency_ms
        optional = {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cache_creation_input_tokens": cache_creation_input_tokens,
            "cache_read_input_tokens": cache_read_input_tokens,
            # Any scalar id (Django's integer user.id) is logged as a string.
            "user_id": None if user_id is None else str(user_id),
            "feedback": feedback,
            "call_id": call_id,
            "request_id": request_id,
            "error": error,
        }
        record.update({k: v for k, v in optional.items() if v is not None})
        return record


def feedback_record(call_id: str, feedback: str, *, timestamp: str | None = None) -> dict[str, Any]:
    """A JSONL line adding thumbs up/down to an earlier call line with the same `call_id`."""
    if feedback not in FEEDBACK_VALUES:
        raise RegistryError(f"feedback must be 'up' or 'down', not {feedback!r}.")
    return {
        "type": "feedback",
        "timestamp": timestamp or _now_iso(),
        "call_id": call_id,
        "feedback": feedback,
    }


# --- validation of a loaded file -------------------------------------------------------------


def _fail(source: str, where: str, expected: str) -> NoReturn:
    raise RegistryError(
        f"{source}: '{where}' must be {expected}; re-export it with `workbench export`."
    )


def _check(ok: bool, source: str, where: str, expected: str) -> None:
    if not ok:
        _fail(source, where, expected)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _validate_prompt(name: str, entry: object, source: str) -> None:
    at = f"prompts.{name}"
    if not isinstance(entry, dict):
        _fail(source, at, "an object")
    for key, kind, expected in (
        ("version", int, "an integer"),
        ("version_id", str, "a string"),
        ("content_hash", str, "a string"),
        ("model", str, "a string"),
        ("system", str, "a string"),
        ("kill_switch", bool, "true or false"),
        ("params", dict, "an object"),
        ("messages", list, "a list"),
        ("feature_flag", dict, "an object"),
        ("alerts", dict, "an object"),
    ):
        _check(isinstance(entry.get(key), kind), source, f"{at}.{key}", expected)
    max_tokens = entry["params"].get("max_tokens")
    _check(_is_number(max_tokens), source, f"{at}.params.max_tokens", "an integer")
    _check(bool(entry["messages"]), source, f"{at}.messages", "a non-empty list")
    for i, message in enumerate(entry["messages"]):
        ok = (
            isinstance(message, dict)
            and message.get("role") in ("user", "assistant")
            and isinstance(message.get("content"), (str, list))
        )
        _check(ok, source, f"{at}.messages[{i}]", "{role: user|assistant, content: text}")
        if isinstance(message["content"], list):
            _validate_blocks(message["content"], source, f"{at}.messages[{i}].content")
    _validate_extras(entry, source, at)
    flag = entry["feature_flag"]
    for key in ("enabled", "staff_only"):
        _check(isinstance(flag.get(key), bool), source, f"{at}.feature_flag.{key}", "true/false")
    pct = flag.get("rollout_percent")
    ok = _is_number(pct) and 0 <= pct <= 100
    _check(ok, source, f"{at}.feature_flag.rollout_percent", "a number from 0 to 100")


def _validate_blocks(blocks: list[Any], source: str, at: str) -> None:
    _check(bool(blocks), source, at, "text or a non-empty list of blocks")
    for j, block in enumerate(blocks):
        kind = block.get("type") if isinstance(block, dict) else None
        needs = _BLOCK_FIELDS.get(kind) if isinstance(kind, str) else None
        _check(needs is not None, source, f"{at}[{j}].type", ", ".join(_BLOCK_FIELDS))
        for key in needs or ():
            _check(isinstance(block.get(key), str), source, f"{at}[{j}].{key}", "a string")


def _validate_extras(entry: dict[str, Any], source: str, at: str) -> None:
    """Tools, tool_choice, output schema, thinking, effort and prefill, each optional."""
    for key, kind, expected in (
        ("tools", list, "a list"),
        ("tool_choice", dict, "an object"),
        ("output_schema", dict, "an object"),
        ("thinking", dict, "an object"),
        ("effort", str, "a string"),
        ("prefill", str, "a string"),
    ):
        if key in entry:
            _check(isinstance(entry[key], kind), source, f"{at}.{key}", expected)
    for i, tool in enumerate(entry.get("tools") or []):
        ok = isinstance(tool, dict) and isinstance(tool.get("name"), str)
        ok = ok and isinstance(tool.get("input_schema"), dict)
        _check(ok, source, f"{at}.tools[{i}]", "{name, description, input_schema}")


def _validate(data: object, source: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        _fail(source, "(top level)", "an object")
    if data.get("format") != FORMAT:
        raise RegistryError(
            f"{source} is not a Prompt Workbench production export (format is "
            f"{data.get('format')!r}, expected {FORMAT!r}); export it with "
            "`workbench export PROJECT --format production`."
        )
    version = data.get("format_version")
    if not isinstance(version, int) or version < 1:
        _fail(source, "format_version", "a positive integer")
    if version > FORMAT_VERSION:
        raise RegistryError(
            f"{source} has format_version {version}, newer than this loader knows "
            f"({FORMAT_VERSION}); re-export with --with-loader to get the matching loader."
        )
    _check(isinstance(data.get("prompts"), dict), source, "prompts", "an object")
    for name, entry in data["prompts"].items():
        _validate_prompt(name, entry, source)
    return data


# --- the registry ----------------------------------------------------------------------------


class Registry:
    """The prompts of one production export; immutable, so safe to share between threads.

    To pick up a new export, load a new `Registry` and swap the reference.
    """

    def __init__(self, data: Mapping[str, Any], *, source: str = "<registry>") -> None:
        self.source = source
        # A private deep copy: callers mutating their dict cannot change what we render.
        plain = dict(data) if isinstance(data, Mapping) else data
        self._data = _validate(copy.deepcopy(plain), source)
        self._prompts: dict[str, dict[str, Any]] = self._data["prompts"]
        self._variables = {name: _variables_of(entry) for name, entry in self._prompts.items()}
        self._files = {name: set(_file_variables_of(e)) for name, e in self._prompts.items()}

    @classmethod
    def load(cls, path: str | Path, *, loader: Callable[[str], Any] | None = None) -> Registry:
        """Read an export file. JSON by default; for YAML pass ``loader=yaml.safe_load``."""
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise RegistryError(
                f"{source}: cannot read the file ({exc.strerror or exc})."
            ) from None
        if loader is None and Path(path).suffix.lower() in (".yaml", ".yml"):
            raise RegistryError(
                f"{source} is YAML: pass loader=yaml.safe_load (PyYAML), or export JSON."
            )
        try:
            data = (loader or json.loads)(text)
        except json.JSONDecodeError as exc:
            raise RegistryError(f"{source}:{exc.lineno}: not valid JSON ({exc.msg}).") from None
        return cls(data, source=source)

    # -- metadata ------------------------------------------------------------------------------

    @property
    def project(self) -> str:
        return str(self._data.get("project", ""))

    @property
    def label(self) -> str:
        return str(self._data.get("label", ""))

    @property
    def exported_at(self) -> str:
        return str(self._data.get("exported_at", ""))

    def names(self) -> list[str]:
        """The prompt names in the export, sorted."""
        return sorted(self._prompts)

    def __contains__(self, name: object) -> bool:
        return name in self._prompts

    def __len__(self) -> int:
        return len(self._prompts)

    def _entry(self, name: str) -> dict[str, Any]:
        entry = self._prompts.get(name)
        if entry is None:
            known = ", ".join(self.names()) or "none"
            raise RegistryError(f"{self.source} has no prompt '{name}' (it has: {known}).")
        return entry

    def prompt(self, name: str) -> dict[str, Any]:
        """A copy of the exported entry for `name`."""
        return copy.deepcopy(self._entry(name))

    def version_id(self, name: str) -> str:
        """The id to log with every call, e.g. ``support-answer@v3#1a2b3c4d5e6f``."""
        return str(self._entry(name)["version_id"])

    def content_hash(self, name: str) -> str:
        return str(self._entry(name)["content_hash"])

    def variables(self, name: str) -> list[str]:
        """The variables `render` needs for `name`, in order of first use."""
        self._entry(name)
        return list(self._variables[name])

    def alerts(self, name: str) -> dict[str, Any]:
        """Alert thresholds: p95_latency_s, error_rate, cost_per_user_per_day_usd, ..."""
        return dict(self._entry(name)["alerts"])

    def feature_flag(self, name: str) -> dict[str, Any]:
        return dict(self._entry(name)["feature_flag"])

    def kill_switch(self, name: str) -> bool:
        return bool(self._entry(name)["kill_switch"])

    # -- decisions -----------------------------------------------------------------------------

    def is_enabled(self, name: str, user_id: object = None, is_staff: bool = False) -> bool:
        """Whether to serve the feature behind `name` to this user.

        Kill switch on (in the file, or ``PROMPT_WORKBENCH_KILL`` names it), or flag disabled: no
        one. Staff: yes. Staff-only: no one else. Otherwise users whose stable bucket falls
        under rollout_percent; anonymous users only at 100 %.
        """
        entry = self._entry(name)
        flag = entry["feature_flag"]
        if entry["kill_switch"] or not flag["enabled"] or killed_by_environment(name):
            return False
        if is_staff:
            return True
        if flag["staff_only"]:
            return False
        percent = flag["rollout_percent"]
        if user_id is None:
            return bool(percent >= 100)
        return bool(rollout_bucket(name, user_id) < percent * (ROLLOUT_BUCKETS / 100))

    def render(
        self, name: str, values: Mapping[str, object] | None = None, /, **variables: object
    ) -> RenderedPrompt:
        """Render `name` with variables (a mapping, keywords, or both; keywords win).

        :raises MissingVariables: naming every variable the prompt uses but was not given
        """
        entry = self._entry(name)
        merged: dict[str, object] = {**(values or {}), **variables}
        missing = [v for v in self._variables[name] if v not in merged]
        if missing:
            raise MissingVariables(name, missing)
        cache = entry.get("cache") or {}
        files = self._files[name]
        return RenderedPrompt(
            prompt=name,
            version=entry["version"],
            version_id=entry["version_id"],
            content_hash=entry["content_hash"],
            model=entry["model"],
            params=copy.deepcopy(entry["params"]),
            system=render_template(entry["system"], merged),
            messages=[
                {"role": m["role"], "content": _render_content(m["content"], merged, name)}
                for m in entry["messages"]
            ],
            cache_system=bool(cache.get("system", False)),
            cache_prefix_messages=int(cache.get("prefix_messages", 0)),
            variables={
                # A file is logged by its SHA-256, never its bytes.
                k: _file_digest(v, name, k) if k in files else v if isinstance(v, str) else str(v)
                for k, v in merged.items()
                if k in self._variables[name]
            },
            tools=[
                {**t, "description": render_template(t.get("description", ""), merged)}
                for t in copy.deepcopy(entry.get("tools") or [])
            ],
            tool_choice=copy.deepcopy(entry.get("tool_choice")),
            output_schema=copy.deepcopy(entry.get("output_schema")),
            thinking=copy.deepcopy(entry.get("thinking")),
            effort=entry.get("effort"),
            prefill=render_template(entry.get("prefill", ""), merged),
        )


def _texts_of(entry: Mapping[str, Any]) -> list[str]:
    """Every template text of a prompt: system, message texts, tool descriptions, prefill."""
    texts = [entry["system"]]
    for message in entry["messages"]:
        content = message["content"]
        if isinstance(content, str):
            texts.append(content)
            continue
        for block in content:
            if block["type"] == "text":
                texts.append(block["text"])
            elif block["type"] == "tool_result":
                texts.append(block.get("content", ""))
    texts.extend(t.get("description", "") for t in entry.get("tools") or [])
    if entry.get("prefill"):
        texts.append(entry["prefill"])
    return texts


def _file_variables_of(entry: Mapping[str, Any]) -> list[str]:
    """Variables whose values are the bytes of an image or a PDF."""
    seen: dict[str, None] = {}
    for message in entry["messages"]:
        if isinstance(message["content"], list):
            for block in message["content"]:
                if block["type"] in _FILE_BLOCKS:
                    seen.setdefault(block["var"], None)
    return list(seen)


def _variables_of(entry: Mapping[str, Any]) -> list[str]:
    seen: dict[str, None] = {}
    for text in _texts_of(entry):
        for name in extract_variables(text):
            seen.setdefault(name, None)
    for name in _file_variables_of(entry):
        seen.setdefault(name, None)
    return list(seen)


def _file_bytes(value: object, prompt: str, var: str) -> tuple[str, bytes]:
    """(media type, bytes) from what the application passed for a file variable.

    Bytes alone are enough for PNG, JPEG, GIF, WebP and PDF (the type is read from the first
    bytes); anything else comes as ``(media_type, bytes)``.
    """
    media_type: object = None
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        media_type = next((kind for magic, kind in _MAGIC if data.startswith(magic)), None)
        if media_type is None and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            media_type = "image/webp"
    elif isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], (bytes, bytearray)):
        media_type, data = value[0], bytes(value[1])
    else:
        raise RegistryError(
            f"prompt '{prompt}': '{var}' is an image or document; pass its bytes, or "
            "(media_type, bytes)."
        )
    if not isinstance(media_type, str):
        raise RegistryError(
            f"prompt '{prompt}': cannot tell the file type of '{var}' from its bytes; "
            "pass (media_type, bytes)."
        )
    return media_type, data


def _file_digest(value: object, prompt: str, var: str) -> str:
    return "sha256:" + hashlib.sha256(_file_bytes(value, prompt, var)[1]).hexdigest()


def _render_content(content: Any, values: Mapping[str, object], prompt: str) -> Any:
    """A message's content rendered: text, or blocks with files inlined as base64."""
    if isinstance(content, str):
        return render_template(content, values)
    out: list[dict[str, Any]] = []
    for block in content:
        kind = block["type"]
        if kind == "text":
            out.append({"type": "text", "text": render_template(block["text"], values)})
        elif kind == "tool_result":
            result: dict[str, Any] = {
                "type": "tool_result",
                "tool_use_id": block["tool_use_id"],
                "content": render_template(block.get("content", ""), values),
            }
            if block.get("is_error"):
                result["is_error"] = True
            out.append(result)
        elif kind == "tool_use":
            out.append(
                {
                    "type": "tool_use",
                    "id": block["id"],
                    "name": block["name"],
                    "input": copy.deepcopy(block.get("input") or {}),
                }
            )
        else:
            media_type, data = _file_bytes(values[block["var"]], prompt, block["var"])
            source = {
                "type": "base64",
                "media_type": media_type,
                "data": base64.b64encode(data).decode("ascii"),
            }
            rendered: dict[str, Any] = {"type": kind, "source": source}
            if kind == "document" and block.get("title"):
                rendered["title"] = render_template(block["title"], values)
            out.append(rendered)
    return out


# --- a registry that follows its file --------------------------------------------------------


class LiveRegistry:
    """A `Registry` that re-reads its export file when it changes, so a kill switch set on disk
    takes effect within `check_every` seconds in a running server, without a restart.

    The file's modification time and size are looked at most once every `check_every` seconds,
    by whichever thread asks first; the others keep answering from the loaded registry. A new
    file that does not load is logged (logger ``prompt_workbench.registry``, once per version
    of the file) and the last good one stays in force. The first load raises `RegistryError`,
    so a bad export stops the app at start-up with a message naming the file and the field.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        check_every: float = DEFAULT_CHECK_EVERY_S,
        loader: Callable[[str], Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not check_every >= 0:
            raise RegistryError(f"check_every must be 0 seconds or more, not {check_every!r}.")
        self.path = Path(path)
        self.check_every = float(check_every)
        self._loader = loader
        self._clock = clock
        self._lock = threading.Lock()
        self._signature = self._stat()
        self._registry = Registry.load(self.path, loader=loader)
        self._rejected: tuple[int, int] | None = None
        self._checked_at = clock()

    def _stat(self) -> tuple[int, int] | None:
        try:
            info = os.stat(self.path)
        except OSError:
            return None
        return info.st_mtime_ns, info.st_size

    @property
    def registry(self) -> Registry:
        """The registry in force, re-read first when the file changed and a check is due."""
        if self._clock() - self._checked_at >= self.check_every and self._lock.acquire(False):
            try:
                self._checked_at = self._clock()
                self._refresh()
            finally:
                self._lock.release()
        return self._registry

    def reload(self) -> bool:
        """Look at the file now; True when a new version was loaded."""
        with self._lock:
            self._checked_at = self._clock()
            return self._refresh()

    def _refresh(self) -> bool:
        signature = self._stat()
        if signature is None or signature in (self._signature, self._rejected):
            return False  # unchanged, already refused, or gone for a moment mid-deploy
        try:
            fresh = Registry.load(self.path, loader=self._loader)
        except RegistryError as exc:
            self._rejected = signature
            _log.error("%s; still serving the version loaded before.", exc)
            return False
        self._registry, self._signature, self._rejected = fresh, signature, None
        _log.info("%s: reloaded (exported at %s).", self.path, fresh.exported_at or "?")
        return True

    # The `Registry` API, answered by the registry in force.
    @property
    def source(self) -> str:
        return self.registry.source

    @property
    def project(self) -> str:
        return self.registry.project

    @property
    def label(self) -> str:
        return self.registry.label

    @property
    def exported_at(self) -> str:
        return self.registry.exported_at

    def names(self) -> list[str]:
        return self.registry.names()

    def __contains__(self, name: object) -> bool:
        return name in self.registry

    def __len__(self) -> int:
        return len(self.registry)

    def prompt(self, name: str) -> dict[str, Any]:
        return self.registry.prompt(name)

    def version_id(self, name: str) -> str:
        return self.registry.version_id(name)

    def content_hash(self, name: str) -> str:
        return self.registry.content_hash(name)

    def variables(self, name: str) -> list[str]:
        return self.registry.variables(name)

    def alerts(self, name: str) -> dict[str, Any]:
        return self.registry.alerts(name)

    def feature_flag(self, name: str) -> dict[str, Any]:
        return self.registry.feature_flag(name)

    def kill_switch(self, name: str) -> bool:
        return self.registry.kill_switch(name)

    def is_enabled(self, name: str, user_id: object = None, is_staff: bool = False) -> bool:
        return self.registry.is_enabled(name, user_id=user_id, is_staff=is_staff)

    def render(
        self, name: str, values: Mapping[str, object] | None = None, /, **variables: object
    ) -> RenderedPrompt:
        return self.registry.render(name, values, **variables)
