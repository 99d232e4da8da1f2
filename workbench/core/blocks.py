"""Content blocks, tools, structured output and thinking: what a modern prompt version holds.

Pure data, like core.models. A message's content is either a string (the form every project
made before these existed) or a list of the blocks below; the Messages API takes both. Image
and document blocks name a *dataset variable* whose value is a file path relative to the
project or bundle; the file itself is stored content-addressed in the project (storage.files).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from workbench.core.templates import NAME as VARIABLE_NAME

TOOL_NAME_PATTERN = r"^[a-zA-Z0-9_-]{1,128}$"
EFFORT_LEVELS = ("low", "medium", "high", "xhigh", "max")
MIN_THINKING_BUDGET = 1024
IMAGE_MEDIA_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
DOCUMENT_MEDIA_TYPES = {".pdf": "application/pdf"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def schema_problem(schema: Any) -> str | None:
    """Why `schema` is not a valid JSON Schema (draft 2020-12), with its path; None if valid."""
    if not isinstance(schema, dict):
        return "a JSON Schema must be a mapping (an object)"
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path)
        return f"invalid JSON Schema at '{where or '(root)'}': {exc.message}"
    return None


def _valid_schema(schema: dict[str, Any]) -> dict[str, Any]:
    problem = schema_problem(schema)
    if problem:
        raise ValueError(problem)
    return schema


class TextBlock(_Strict):
    """Text; ``{{variables}}`` render in it."""

    type: Literal["text"]
    text: str


class ImageBlock(_Strict):
    """An image taken from the file a dataset variable names (png, jpeg, gif, webp)."""

    type: Literal["image"]
    var: str = Field(pattern=f"^{VARIABLE_NAME}$", description="The variable holding the path.")


class DocumentBlock(_Strict):
    """A PDF taken from the file a dataset variable names."""

    type: Literal["document"]
    var: str = Field(pattern=f"^{VARIABLE_NAME}$", description="The variable holding the path.")
    title: str = ""


class ToolUseBlock(_Strict):
    """A tool call the assistant made, written into a multi-turn fixture."""

    type: Literal["tool_use"]
    id: str = Field(min_length=1)
    name: str = Field(pattern=TOOL_NAME_PATTERN)
    input: dict[str, Any] = Field(default_factory=dict)


class ToolResultBlock(_Strict):
    """The result of a tool call, sent back in a user turn; ``{{variables}}`` render in it."""

    type: Literal["tool_result"]
    tool_use_id: str = Field(min_length=1)
    content: str = ""
    is_error: bool = False


Block = Annotated[
    TextBlock | ImageBlock | DocumentBlock | ToolUseBlock | ToolResultBlock,
    Field(discriminator="type"),
]
FILE_BLOCK_TYPES = ("image", "document")


class Tool(_Strict):
    """A tool the model may call; `input_schema` must be a valid JSON Schema."""

    name: str = Field(pattern=TOOL_NAME_PATTERN)
    description: str = ""
    input_schema: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})

    @field_validator("input_schema")
    @classmethod
    def _schema(cls, schema: dict[str, Any]) -> dict[str, Any]:
        return _valid_schema(schema)


class ToolChoice(_Strict):
    """How the model uses the tools: ``auto``, ``any``, ``none`` or ``tool`` (with `name`)."""

    type: Literal["auto", "any", "tool", "none"]
    name: str | None = None

    @model_validator(mode="after")
    def _name_with_tool(self) -> ToolChoice:
        if self.type == "tool" and not self.name:
            raise ValueError("tool_choice 'tool' needs the name of the tool to call")
        if self.type != "tool" and self.name is not None:
            raise ValueError(f"tool_choice '{self.type}' takes no name")
        return self

    def to_api(self) -> dict[str, Any]:
        return {"type": self.type, **({"name": self.name} if self.name else {})}


class Thinking(_Strict):
    """Extended thinking: ``enabled`` with a token budget, or ``adaptive`` (the model decides)."""

    type: Literal["enabled", "adaptive"]
    budget_tokens: int | None = Field(default=None, ge=MIN_THINKING_BUDGET)

    @model_validator(mode="after")
    def _budget_with_enabled(self) -> Thinking:
        if self.type == "enabled" and self.budget_tokens is None:
            raise ValueError(
                f"thinking 'enabled' needs budget_tokens (at least {MIN_THINKING_BUDGET})"
            )
        if self.type == "adaptive" and self.budget_tokens is not None:
            raise ValueError("adaptive thinking takes no budget_tokens; use effort instead")
        return self

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        if self.budget_tokens is not None:
            out["budget_tokens"] = self.budget_tokens
        return out


def output_schema_of(schema: dict[str, Any] | None) -> dict[str, Any] | None:
    """Validate a structured-output schema (None passes)."""
    return None if schema is None else _valid_schema(schema)


def block_texts(content: str | list[Any]) -> list[str]:
    """The template texts of a message content: the string, or its text/tool_result blocks."""
    if isinstance(content, str):
        return [content]
    out: list[str] = []
    for block in content:
        if isinstance(block, TextBlock):
            out.append(block.text)
        elif isinstance(block, ToolResultBlock):
            out.append(block.content)
    return out


def file_variables(content: str | list[Any]) -> list[str]:
    """Variables that name image or document files in a message content."""
    if isinstance(content, str):
        return []
    return [b.var for b in content if isinstance(b, ImageBlock | DocumentBlock)]


def media_type_for(path: str, kind: str) -> str | None:
    """The media type of a file for an image or document block, from its extension."""
    suffix = "." + path.rsplit(".", 1)[-1].lower() if "." in path else ""
    table = IMAGE_MEDIA_TYPES if kind == "image" else DOCUMENT_MEDIA_TYPES
    return table.get(suffix)
