"""Tools, content blocks, structured output, thinking and prefill on prompt versions."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from workbench.core.blocks import schema_problem
from workbench.core.errors import BadInput
from workbench.core.models import Bundle, Message, Params, Prompt, PromptContent, PromptVersion
from workbench.formats.bundle_yaml import dump_bundle, load_bundle, loads_bundle

SAMPLE = Path(__file__).resolve().parents[2] / "projects" / "quizcraft.yaml"
# The hashes of the sample's versions as computed before tools and blocks existed: a version
# that uses none of them must keep its identity (existing projects store these as version ids).
SAMPLE_HASHES = {
    ("support-answer", 1): "0e6a8703aecb98be94ddfe4ea1e943ea403ea4bf333d0398634fa6fa62805e0b",
    ("support-answer", 2): "946299e1b9b9f058b1c7a45a1a545495765190b173f78257c44ff5e275ceeada",
    ("support-answer", 3): "4a5e7efdc55686ba06414f516c69ecef96b322a507ad0d8e24fa79345dd685ca",
    ("summarize", 1): "4f4b4e411a9264337b9597840fa2bc044649081906dea75bd287b90c8b39bc54",
    ("summarize", 2): "37aa9362dcfc5499465cbf1ed1ba1bb08411b6af9f904c3c8573212f58b56f74",
    ("summarize", 3): "d938d4bec4dc70ee566eb8b3c426892c7029aa49d42d50d1fe289b8439af3475",
}
ORDER_TOOL = {
    "name": "lookup_order",
    "description": "Look up an order of {{customer}}.",
    "input_schema": {
        "type": "object",
        "properties": {"order_id": {"type": "string"}},
        "required": ["order_id"],
    },
}


def rich(**extra: object) -> PromptContent:
    """A version using every new field."""
    fields: dict[str, object] = {
        "system": "Help {{customer}}.",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Where is my order? {{question}}"},
                    {"type": "image", "var": "receipt"},
                    {"type": "document", "var": "invoice", "title": "Invoice"},
                ],
            },
            {
                "role": "assistant",
                "content": [
                    {"type": "tool_use", "id": "tu_1", "name": "lookup_order", "input": {"a": 1}}
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "tu_1", "content": "{{status}}"}
                ],
            },
        ],
        "params": {"model": "claude-haiku-5-5", "max_tokens": 4000},
        "tools": [ORDER_TOOL],
        "tool_choice": {"type": "tool", "name": "lookup_order"},
        "output_schema": {"type": "object", "properties": {"answer": {"type": "string"}}},
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "effort": "medium",
        "prefill": "Dear {{customer}},",
    }
    fields.update(extra)
    return PromptContent.model_validate(fields)


def test_versions_without_the_new_fields_keep_their_hashes() -> None:
    bundle = load_bundle(SAMPLE)
    hashes = {
        (p.name, v.version): v.hash
        for p in bundle.prompts
        for v in p.versions
        if (p.name, v.version) in SAMPLE_HASHES
    }
    assert hashes == SAMPLE_HASHES


def test_every_new_field_is_part_of_the_hash() -> None:
    base = rich()
    variants = [
        rich(tools=[{**ORDER_TOOL, "description": "other"}]),
        rich(tool_choice={"type": "any"}),
        rich(output_schema={"type": "object"}),
        rich(thinking={"type": "enabled", "budget_tokens": 1024}),
        rich(effort="high"),
        rich(prefill="Hi"),
    ]
    hashes = {v.content_hash() for v in variants}
    assert base.content_hash() not in hashes and len(hashes) == len(variants)


def test_variables_come_from_blocks_tools_results_prefill_and_files() -> None:
    assert rich().variables() == ["customer", "question", "status", "receipt", "invoice"]
    assert rich().file_variables() == ["receipt", "invoice"]


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (
            {"tools": [{**ORDER_TOOL, "input_schema": {"type": "objekt"}}]},
            "invalid JSON Schema at 'type'",
        ),
        ({"output_schema": {"properties": {"a": {"minLength": -1}}}}, "properties/a/minLength"),
        ({"tool_choice": {"type": "tool", "name": "nope"}}, "tool 'nope', which is not defined"),
        ({"tool_choice": {"type": "tool"}}, "needs the name"),
        ({"tools": [], "tool_choice": {"type": "any"}}, "needs at least one tool"),
        ({"tools": [ORDER_TOOL, ORDER_TOOL]}, "duplicate tool name"),
        ({"thinking": {"type": "enabled"}}, "needs budget_tokens"),
        ({"thinking": {"type": "adaptive", "budget_tokens": 2000}}, "takes no budget_tokens"),
        ({"thinking": {"type": "enabled", "budget_tokens": 8000}}, "less than max_tokens"),
        ({"effort": "extreme"}, "effort"),
    ],
)
def test_bad_tools_schemas_and_thinking_are_refused_when_saved(
    change: dict[str, object], needle: str
) -> None:
    with pytest.raises(ValidationError) as info:
        rich(**change)
    assert needle in str(info.value)


def test_blocks_must_fit_their_role() -> None:
    with pytest.raises(ValidationError, match="tool_use blocks belong in assistant"):
        Message(role="user", content=[{"type": "tool_use", "id": "x", "name": "t"}])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="image blocks belong in user"):
        Message(role="assistant", content=[{"type": "image", "var": "x"}])  # type: ignore[list-item]


def test_schema_problem_names_the_path() -> None:
    assert schema_problem({"type": "object"}) is None
    assert schema_problem([1]) == "a JSON Schema must be a mapping (an object)"
    assert "at 'required'" in (schema_problem({"required": "a"}) or "")


def _bundle(content: PromptContent) -> Bundle:
    version = PromptVersion(**content.content_fields(), version=1)
    return Bundle(name="Demo", prompts=[Prompt(name="agent", versions=[version])])


def test_a_bundle_with_blocks_is_format_2_and_round_trips_byte_identical() -> None:
    bundle = _bundle(rich())
    text = dump_bundle(bundle)
    assert text.startswith("workbench: 2\n")
    loaded = loads_bundle(text)
    assert dump_bundle(loaded) == text
    assert loaded == bundle
    assert loaded.prompts[0].versions[0].hash == rich().content_hash()


def test_a_bundle_without_them_is_still_written_as_format_1() -> None:
    plain = PromptContent(
        messages=[Message(role="user", content="{{q}}")], params=Params(model="m")
    )
    assert dump_bundle(_bundle(plain)).startswith("workbench: 1\n")
    assert SAMPLE.read_text(encoding="utf-8").startswith("workbench: 2\n")  # it has tools


def test_format_1_refuses_what_needs_format_2() -> None:
    text = dump_bundle(_bundle(rich())).replace("workbench: 2", "workbench: 1", 1)
    with pytest.raises(BadInput, match="need `workbench: 2`"):
        loads_bundle(text)


def test_a_bad_block_names_its_line_and_field() -> None:
    text = dump_bundle(_bundle(rich())).replace("type: document", "type: documnt", 1)
    with pytest.raises(BadInput) as info:
        loads_bundle(text, source="b.yaml")
    assert info.value.field == "prompts[0].versions[0].messages[0].content[2]"
    assert "documnt" in str(info.value)
