"""Domain types shared by every layer. Pure data: no I/O, no Qt, no SQL.

`extra="forbid"` everywhere so a typo in a bundle (``temprature:``) is an error naming the field
rather than a silently ignored key.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from workbench.core.blocks import (
    EFFORT_LEVELS,
    Block,
    Thinking,
    Tool,
    ToolChoice,
    ToolResultBlock,
    ToolUseBlock,
    block_texts,
    file_variables,
    output_schema_of,
)
from workbench.core.hashing import content_hash
from workbench.core.templates import NAME as VARIABLE_NAME
from workbench.core.templates import variables_of

BUNDLE_FORMAT_VERSION = 2
# Bundles that use nothing newer than version 1 (no tools, blocks, schemas or thinking) are
# still written as version 1, so a project kept in git only changes where it did.
BUNDLE_FORMAT_VERSIONS = (1, 2)
Effort = Literal["low", "medium", "high", "xhigh", "max"]
assert get_args(Effort) == EFFORT_LEVELS

# Expectation types. Each one that carries a promptfoo name gives promptfoo 0.123's verdict on the
# same output; min-length, max-length and is-valid-json-schema are the workbench's own names
# (exported as equivalent promptfoo assertions). Every type but assert-set has a `not-` form
# that inverts the verdict (an error, such as a timeout, fails either way).
ExpectationType = Literal[
    "equals",
    "not-equals",
    "contains",
    "not-contains",
    "icontains",
    "not-icontains",
    "contains-any",
    "not-contains-any",
    "contains-all",
    "not-contains-all",
    "icontains-any",
    "not-icontains-any",
    "icontains-all",
    "not-icontains-all",
    "starts-with",
    "not-starts-with",
    "regex",
    "not-regex",
    "is-json",
    "not-is-json",
    "contains-json",
    "not-contains-json",
    "is-valid-json-schema",
    "not-is-valid-json-schema",
    "min-length",
    "not-min-length",
    "max-length",
    "not-max-length",
    "levenshtein",
    "not-levenshtein",
    "word-count",
    "not-word-count",
    "is-refusal",
    "not-is-refusal",
    "finish-reason",
    "not-finish-reason",
    "python",
    "not-python",
    "cost",
    "not-cost",
    "latency",
    "not-latency",
    "llm-rubric",
    "not-llm-rubric",
    "assert-set",
    # On tool calls and structured output (services/tool_scorers.py; docs/eval-formats.md).
    "tool-called",
    "not-tool-called",
    "tool-args-contain",
    "tool-args-equal",
    "is-valid-tools-call",
    "tool-call-f1",
    "is-valid-output-schema",
]
TOOL_EXPECTATION_TYPES = (
    "tool-called",
    "not-tool-called",
    "tool-args-contain",
    "tool-args-equal",
    "is-valid-tools-call",
    "tool-call-f1",
    "is-valid-output-schema",
)
EXPECTATION_TYPES: tuple[str, ...] = get_args(ExpectationType)

DEFAULT_MAX_TOKENS = 1024
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


MessageContent = Annotated[
    Annotated[str, Tag("text")] | Annotated[list[Block], Tag("blocks")],
    Discriminator(lambda value: "blocks" if isinstance(value, list) else "text"),
]


class Message(Strict):
    """One turn of a prompt template; content may hold ``{{variables}}``."""

    role: Literal["user", "assistant"]
    content: MessageContent = Field(
        description="Text, or a list of blocks (text, image, document, tool_use, tool_result)."
    )
    cache: bool = Field(
        default=False,
        description="Mark the prompt prefix up to and including this message for prompt caching.",
    )

    @model_validator(mode="after")
    def _blocks_fit_role(self) -> Message:
        if isinstance(self.content, list):
            if not self.content:
                raise ValueError("a message needs at least one block")
            for block in self.content:
                if self.role == "user" and isinstance(block, ToolUseBlock):
                    raise ValueError("tool_use blocks belong in assistant messages")
                if self.role == "assistant" and block.type in ("image", "document"):
                    raise ValueError(f"{block.type} blocks belong in user messages")
                if self.role == "assistant" and isinstance(block, ToolResultBlock):
                    raise ValueError("tool_result blocks belong in user messages")
        return self

    def texts(self) -> list[str]:
        """The template texts of this message (its string, or its text and tool_result blocks)."""
        return block_texts(self.content)


class Params(Strict):
    """Model parameters stored with a version. Only non-None sampling params are sent."""

    model: str = Field(min_length=1)
    max_tokens: int = Field(default=DEFAULT_MAX_TOKENS, ge=1, le=1_000_000)
    temperature: float | None = Field(default=None, ge=0.0, le=1.0)
    top_p: float | None = Field(default=None, ge=0.0, le=1.0)
    top_k: int | None = Field(default=None, ge=1)
    stop_sequences: list[str] = Field(default_factory=list)
    cache_system: bool = Field(
        default=False, description="Put cache_control on the system prompt (prompt caching)."
    )

    def sampling_params(self) -> dict[str, Any]:
        """temperature/top_p/top_k that were set, for sending (capabilities may drop some)."""
        out: dict[str, Any] = {}
        for key in ("temperature", "top_p", "top_k"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


# Fields added after the first release: left out of the identity while at their defaults, so
# every version saved before they existed keeps its hash (and its id in existing projects).
LATER_CONTENT_FIELDS: dict[str, Any] = {
    "tools": [],
    "tool_choice": None,
    "output_schema": None,
    "thinking": None,
    "effort": None,
    "prefill": "",
}


class PromptContent(Strict):
    """The part of a version that defines its identity (hashed); the note is not part of it."""

    system: str = ""
    messages: list[Message] = Field(min_length=1)
    params: Params
    tools: list[Tool] = Field(default_factory=list, description="Tools the model may call.")
    tool_choice: ToolChoice | None = Field(
        default=None, description="auto, any, none, or one named tool (None: the API default)."
    )
    output_schema: dict[str, Any] | None = Field(
        default=None,
        description="Structured output: the JSON Schema the answer must follow.",
    )
    thinking: Thinking | None = Field(default=None, description="Extended thinking settings.")
    effort: Effort | None = Field(default=None, description="output_config.effort, if set.")
    prefill: str = Field(
        default="", description="Start of the assistant's answer (sent as a last assistant turn)."
    )

    @field_validator("messages")
    @classmethod
    def _first_is_user(cls, messages: list[Message]) -> list[Message]:
        if messages and messages[0].role != "user":
            raise ValueError("the first message must have role 'user'")
        return messages

    @field_validator("output_schema")
    @classmethod
    def _output_schema(cls, schema: dict[str, Any] | None) -> dict[str, Any] | None:
        return output_schema_of(schema)

    @model_validator(mode="after")
    def _tools_consistent(self) -> PromptContent:
        names = [t.name for t in self.tools]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate tool name(s): {', '.join(dupes)}")
        choice = self.tool_choice
        if choice is not None and choice.type == "tool" and choice.name not in names:
            raise ValueError(f"tool_choice names tool '{choice.name}', which is not defined")
        if choice is not None and choice.type in ("any", "tool") and not self.tools:
            raise ValueError(f"tool_choice '{choice.type}' needs at least one tool")
        thinking = self.thinking
        if thinking and thinking.budget_tokens and thinking.budget_tokens >= self.params.max_tokens:
            raise ValueError(
                f"thinking budget_tokens ({thinking.budget_tokens}) must be less than "
                f"max_tokens ({self.params.max_tokens})"
            )
        return self

    def identity(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", exclude_defaults=False)
        for name, default in LATER_CONTENT_FIELDS.items():
            if data.get(name) == default:
                del data[name]
        return data

    def content_hash(self) -> str:
        return content_hash(self.identity())

    def uses_later_fields(self) -> bool:
        """Whether this content needs bundle format 2 (anything version 1 could not hold)."""
        return bool(set(self.identity()) & set(LATER_CONTENT_FIELDS)) or any(
            isinstance(m.content, list) for m in self.messages
        )

    def variables(self) -> list[str]:
        names = variables_of(self.texts())
        return names + [v for v in self.file_variables() if v not in names]

    def texts(self) -> list[str]:
        """Every template text: system, message texts, tool descriptions, the prefill."""
        texts = [self.system]
        for message in self.messages:
            texts.extend(message.texts())
        texts.extend(t.description for t in self.tools)
        if self.prefill:
            texts.append(self.prefill)
        return texts

    def file_variables(self) -> list[str]:
        """Variables that name image/document files, first-seen order."""
        seen: dict[str, None] = {}
        for message in self.messages:
            for name in file_variables(message.content):
                seen.setdefault(name, None)
        return list(seen)

    def content_fields(self) -> dict[str, Any]:
        """The content fields as constructor arguments (shared, not copied)."""
        return {name: getattr(self, name) for name in PromptContent.model_fields}


class PromptVersion(PromptContent):
    """An immutable, numbered version of a prompt."""

    version: int = Field(ge=1)
    note: str = ""
    created_at: dt.datetime | None = None

    def content(self) -> PromptContent:
        return PromptContent(**self.content_fields())

    @property
    def hash(self) -> str:
        return self.content().content_hash()


class Label(Strict):
    """A movable pointer from a name (``production``, ``staging``) to a version number."""

    name: str = Field(pattern=NAME_PATTERN)
    version: int = Field(ge=1)


class FeatureFlag(Strict):
    """Who gets the feature. The default follows the seed: off for everyone except staff."""

    enabled: bool = True
    """False turns the feature off for everyone, staff included."""
    staff_only: bool = True
    """Only staff get it, whatever `rollout_percent` says."""
    rollout_percent: float = Field(default=0.0, ge=0, le=100)
    """Share of signed-in users (stable per user id) who get it once `staff_only` is off."""


class AlertThresholds(Strict):
    """When monitoring should page someone: the seed's alert table, its values as defaults.

    A project keeps the values it saved; a field it never saved takes the default below.
    """

    p95_latency_s: float = Field(default=10.0, gt=0)
    error_rate: float = Field(default=0.02, ge=0, le=1)
    cost_per_user_per_day_multiple: float = Field(default=2.0, gt=0)
    """Alert when a day's cost per active user exceeds this multiple of the baseline."""
    cost_baseline_usd: float | None = Field(default=None, gt=0)
    """The baseline cost per user per day; None takes the trailing 7-day median."""
    cost_per_user_per_day_usd: float | None = Field(default=None, ge=0)
    """An absolute cap on cost per user per day as well (None: none; older projects saved one)."""
    eval_pass_rate_drop: float = Field(default=0.10, ge=0, le=1)
    """Alert when the weekly eval pass rate falls this much (0.10 = 10 points) below the last."""
    thumbs_down_rate: float = Field(default=0.20, ge=0, le=1)
    hallucination_rate: float = Field(default=0.05, ge=0, le=1)
    """Share of reviewed production calls tagged ``hallucination``."""


class ProductionSettings(Strict):
    """Per-prompt production controls: feature flag, kill switch, alert thresholds."""

    feature_flag: FeatureFlag = Field(default_factory=FeatureFlag)
    kill_switch: bool = False
    """True disables the feature for everyone at once, whatever the flag says."""
    alerts: AlertThresholds = Field(default_factory=AlertThresholds)


class Prompt(Strict):
    name: str = Field(pattern=NAME_PATTERN)
    description: str = ""
    labels: dict[str, int] = Field(default_factory=dict)
    production: ProductionSettings | None = Field(
        default=None, description="Rollout settings for the production export (None = defaults)."
    )
    versions: list[PromptVersion] = Field(default_factory=list)

    @model_validator(mode="after")
    def _versions_consistent(self) -> Prompt:
        numbers = [v.version for v in self.versions]
        if len(set(numbers)) != len(numbers):
            raise ValueError("version numbers must be unique within a prompt")
        for label, number in self.labels.items():
            if number not in numbers:
                raise ValueError(
                    f"label '{label}' points at version {number}, which does not exist"
                )
        return self

    def latest(self) -> PromptVersion | None:
        return max(self.versions, key=lambda v: v.version) if self.versions else None


# Types promptfoo has that the workbench cannot run, with what to use instead.
UNSUPPORTED_EXPECTATIONS = {
    "javascript": "javascript expectations need Node.js, which Prompt Workbench does not run; "
    "write the check as a `python` expectation (an expression over `output` and `context`)",
}


class Expectation(Strict):
    """What a good output satisfies; `type` uses promptfoo's assertion names (see
    docs/eval-formats.md). An `assert-set` holds its own expectations in `assert`."""

    model_config = ConfigDict(
        extra="forbid", frozen=False, populate_by_name=True, serialize_by_alias=True
    )

    type: ExpectationType
    value: Any = None
    threshold: float | None = None
    weight: float = Field(default=1.0, ge=0.0)
    assert_: list[Expectation] | None = Field(default=None, alias="assert")

    @field_validator("type", mode="before")
    @classmethod
    def _supported(cls, value: Any) -> Any:
        kind = str(value)
        base = kind[4:] if kind.startswith("not-") else kind
        if base in UNSUPPORTED_EXPECTATIONS:
            raise ValueError(f"'{kind}' is not supported: {UNSUPPORTED_EXPECTATIONS[base]}")
        return value

    @model_validator(mode="after")
    def _set_members(self) -> Expectation:
        # An assert-set without members is reported when its scorer is built (before any call).
        if self.type != "assert-set" and self.assert_ is not None:
            raise ValueError(f"`assert:` belongs to assert-set, not to {self.type}")
        return self


class Example(Strict):
    """One row of a dataset: variable values plus tags, a note and expectations."""

    vars: dict[str, str] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    note: str = ""
    expect: list[Expectation] = Field(default_factory=list)

    @field_validator("vars", mode="before")
    @classmethod
    def _stringify(cls, value: Any) -> Any:
        # YAML turns `count: 3` into an int; templates only ever see text.
        if isinstance(value, dict):
            return {
                str(k): ("" if v is None else v if isinstance(v, str) else str(v))
                for k, v in value.items()
            }
        return value

    @field_validator("vars")
    @classmethod
    def _names(cls, value: dict[str, str]) -> dict[str, str]:
        import re

        for key in value:
            if not re.fullmatch(VARIABLE_NAME, key):
                raise ValueError(f"'{key}' is not a valid variable name (letters, digits, _ . -)")
        return value


class Dataset(Strict):
    name: str = Field(pattern=NAME_PATTERN)
    description: str = ""
    examples: list[Example] = Field(default_factory=list)


class Model(Strict):
    """A callable model and its limits; ids are data, never code."""

    id: str = Field(min_length=1)
    display_name: str = ""
    tier: str = ""
    max_input_tokens: int | None = None
    max_output_tokens: int | None = None
    rejected_params: list[str] = Field(
        default_factory=list,
        description="Sampling params this model refuses (not sent; the UI says why).",
    )


class PriceRow(Strict):
    """USD per million tokens for one model from a date on."""

    model: str = Field(min_length=1)
    effective_from: dt.date
    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_write_5m: float = Field(ge=0)
    cache_write_1h: float = Field(ge=0)
    cache_read: float = Field(ge=0)
    batch_discount: float = Field(default=0.5, ge=0, le=1)
    long_context_threshold: int | None = Field(
        default=None, description="Above this many input tokens every token uses the long rates."
    )
    long_context_input: float | None = None
    long_context_output: float | None = None
    source: str = ""


class Settings(Strict):
    """Project settings kept in bundles (never secrets)."""

    default_concurrency: int = Field(default=8, ge=1, le=256)
    base_url: str | None = None
    min_pass_rate: float = Field(default=0.8, ge=0, le=1)
    max_p95_latency_s: float = Field(default=10.0, gt=0)


class Bundle(Strict):
    """The git-friendly text form of a project (``*.yaml``)."""

    workbench: Literal[1, 2] = Field(
        default=1,
        description="Bundle format version: 2 when tools, blocks, schemas or thinking are used.",
    )
    name: str = Field(min_length=1)
    description: str = ""
    settings: Settings = Field(default_factory=Settings)
    models: list[Model] = Field(default_factory=list)
    prompts: list[Prompt] = Field(default_factory=list)
    datasets: list[Dataset] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> Bundle:
        needed = 2 if self.needs_format_2() else 1
        if "workbench" in self.model_fields_set and self.workbench < needed:
            raise ValueError(
                "tools, content blocks, output schemas, thinking, effort and prefill need "
                "`workbench: 2`"
            )
        # The lowest version that holds the content: what `dump_bundle` writes, so a bundle
        # equals itself after a round trip.
        object.__setattr__(self, "workbench", needed)
        for kind, names in (
            ("prompt", [p.name for p in self.prompts]),
            ("dataset", [d.name for d in self.datasets]),
            ("model", [m.id for m in self.models]),
        ):
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"duplicate {kind} name(s): {', '.join(dupes)}")
        return self

    def needs_format_2(self) -> bool:
        """Whether any version uses what bundle format 1 cannot hold."""
        return any(v.uses_later_fields() for p in self.prompts for v in p.versions)
