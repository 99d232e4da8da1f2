"""Bundle text files: deterministic round trips, and errors that name file, line and field."""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.core.errors import BadInput
from workbench.core.models import (
    EXPECTATION_TYPES,
    NAME_PATTERN,
    Bundle,
    Dataset,
    Example,
    Expectation,
    Message,
    Model,
    Params,
    Prompt,
    PromptVersion,
    Settings,
)
from workbench.core.templates import NAME as VARIABLE_NAME
from workbench.formats import bundle_yaml as bundle_file
from workbench.formats.bundle_yaml import (
    bundle_json_schema_text,
    dump_bundle,
    load_bundle,
    loads_bundle,
    save_bundle,
)

ROOT = Path(__file__).resolve().parents[2]

# Strings YAML would retype, fold, strip or misread if the dumper were careless.
TRICKY = [
    "",
    " ",
    "yes",
    "No",
    "on",
    "null",
    "~",
    "1.0",
    "0x1F",
    "1e3",
    ".inf",
    "2024-01-01",
    "12:30",
    "<<",
    "- item",
    "key: value",
    "# not a comment",
    "&anchor",
    "*alias",
    "!tag",
    "'quoted'",
    "a, b",
    "[x]",
    "{y: 1}",
    "a #b",
    "?",
    "-",
    ":",
    '"double"',
    "{{question}}",
    "\\{{literal}}",
    " leading",
    "trailing ",
    "line one\nline two",
    "ends with newline\n",
    "two trailing\n\n",
    "\nleading newline",
    "  indented\nblock",
    "tab\there",
    "trailing space \nnext",
    "crlf\r\nline",
    "nel\x85line",
    "ls\u2028ps\u2029",
    "bom\ufeffinside",
    "nbsp\xa0",
    "null\x00byte",
    "日本語のテキスト",
    "emoji 🙂 and ünïcödé",
    "x" * 300,
    "word " * 100,
]

texts = st.one_of(st.sampled_from(TRICKY), st.text(max_size=40))
names = st.from_regex(NAME_PATTERN, fullmatch=True).filter(lambda s: len(s) < 40)
var_names = st.from_regex(f"^{VARIABLE_NAME}$", fullmatch=True).filter(lambda s: len(s) < 30)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
datetimes = st.datetimes(
    min_value=dt.datetime(1970, 1, 1),
    max_value=dt.datetime(2100, 1, 1),
    timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=-5, minutes=-30))]),
)


@st.composite
def prompts(draw: st.DrawFn, name: str) -> Prompt:
    numbers = draw(st.lists(st.integers(1, 10**6), min_size=0, max_size=3, unique=True))
    versions = [
        PromptVersion(
            version=number,
            note=draw(texts),
            created_at=draw(st.none() | datetimes),
            system=draw(texts),
            messages=[Message(role="user", content=draw(texts), cache=draw(st.booleans()))]
            + [
                Message(role=draw(st.sampled_from(["user", "assistant"])), content=draw(texts))
                for _ in range(draw(st.integers(0, 2)))
            ],
            params=Params(
                model=draw(texts.filter(bool)),
                max_tokens=draw(st.integers(1, 1_000_000)),
                temperature=draw(st.none() | st.floats(0, 1)),
                top_k=draw(st.none() | st.integers(1, 500)),
                stop_sequences=draw(st.lists(texts, max_size=2)),
            ),
        )
        for number in numbers
    ]
    labels = draw(st.dictionaries(texts, st.sampled_from(numbers), max_size=2)) if numbers else {}
    return Prompt(name=name, description=draw(texts), labels=labels, versions=versions)


@st.composite
def bundles(draw: st.DrawFn) -> Bundle:
    examples = st.builds(
        Example,
        vars=st.dictionaries(var_names, texts, max_size=3),
        tags=st.lists(texts, max_size=2),
        note=texts,
        expect=st.lists(
            st.builds(
                Expectation,
                type=st.sampled_from(EXPECTATION_TYPES),
                value=json_values,
                threshold=st.none() | st.floats(allow_nan=False),
                weight=st.floats(0, 10),
            ),
            max_size=2,
        ),
    )
    return Bundle(
        name=draw(texts.filter(bool)),
        description=draw(texts),
        settings=Settings(
            default_concurrency=draw(st.integers(1, 256)),
            base_url=draw(st.none() | texts),
            min_pass_rate=draw(st.floats(0, 1)),
        ),
        models=[
            Model(id=i, display_name=draw(texts), rejected_params=draw(st.lists(texts, max_size=2)))
            for i in draw(st.lists(texts.filter(bool), max_size=2, unique=True))
        ],
        prompts=[draw(prompts(n)) for n in draw(st.lists(names, max_size=2, unique=True))],
        datasets=[
            Dataset(name=n, description=draw(texts), examples=draw(st.lists(examples, max_size=3)))
            for n in draw(st.lists(names, max_size=2, unique=True))
        ],
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bundles())
def test_dump_load_dump_is_byte_identical_for_any_bundle(bundle: Bundle) -> None:
    text = dump_bundle(bundle)
    loaded = loads_bundle(text)
    assert dump_bundle(loaded) == text
    assert loaded == bundle


def test_tricky_strings_survive_a_round_trip() -> None:
    bundle = Bundle(
        name="tricky",
        datasets=[
            Dataset(name="d", examples=[Example(vars={f"v{i}": s}) for i, s in enumerate(TRICKY)])
        ],
    )
    loaded = loads_bundle(dump_bundle(bundle))
    assert [e.vars for e in loaded.datasets[0].examples] == [
        {f"v{i}": s} for i, s in enumerate(TRICKY)
    ]


def _sample() -> Bundle:
    version = PromptVersion(
        version=2,
        note="stricter",
        system="You are the assistant.\nAnswer from the docs.\n",
        messages=[Message(role="user", content="{{question}}")],
        params=Params(model="claude-haiku-5-5"),
    )
    return Bundle(
        name="Demo ✓",
        prompts=[Prompt(name="support", labels={"production": 2}, versions=[version])],
    )


def test_dump_is_short_readable_and_starts_with_the_format_version() -> None:
    text = dump_bundle(_sample())
    assert text.startswith("workbench: 1\nname: Demo ✓\n")
    assert "max_tokens" not in text and "cache" not in text  # defaults left out...
    assert "\nsettings:\n  default_concurrency: 8\n  min_pass_rate: 0.8\n" in text  # ...but these
    assert "system: |\n          You are the assistant.\n          Answer from the docs.\n" in text
    assert "      - version: 2\n        note: stricter\n        system:" in text
    assert "content: '{{question}}'" in text
    assert "&" not in text and "*" not in text


def test_shared_objects_are_written_out_not_aliased() -> None:
    shared = ["a", "b"]
    bundle = Bundle(
        name="x",
        datasets=[
            Dataset(
                name="d",
                examples=[
                    Example(expect=[Expectation(type="is-json", value=shared)]),
                    Example(expect=[Expectation(type="is-json", value=shared)]),
                ],
            )
        ],
    )
    text = dump_bundle(bundle)
    assert "&id" not in text and "*id" not in text
    assert loads_bundle(text) == bundle


def test_datetimes_are_written_as_utc_and_naive_ones_taken_as_utc() -> None:
    bundle = _sample()
    version = bundle.prompts[0].versions[0]
    version.created_at = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert "created_at: 2025-03-01T10:00:00Z" in dump_bundle(bundle)
    version.created_at = dt.datetime(2025, 3, 1, 12, 0, 0, 250)
    text = dump_bundle(bundle)
    assert "created_at: 2025-03-01T12:00:00.000250Z" in text
    loaded = loads_bundle(text).prompts[0].versions[0].created_at
    assert loaded == dt.datetime(2025, 3, 1, 12, 0, 0, 250, tzinfo=dt.UTC)


def test_save_bundle_writes_atomically_and_keeps_the_file_mode(tmp_path: Path) -> None:
    target = tmp_path / "b.yaml"
    target.write_text("old", encoding="utf-8")
    os.chmod(target, 0o640)
    save_bundle(_sample(), target)
    assert target.read_bytes() == dump_bundle(_sample()).encode("utf-8")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.yaml"]  # no temp file left
    assert load_bundle(target) == _sample()


def test_save_bundle_to_a_missing_folder_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="cannot write the bundle"):
        save_bundle(_sample(), tmp_path / "missing" / "b.yaml")


def test_schema_file_matches_the_models() -> None:
    committed = (ROOT / "docs" / "bundle.schema.json").read_text(encoding="utf-8")
    assert committed == bundle_json_schema_text(), (
        "docs/bundle.schema.json is stale: run python -m workbench.formats.bundle_yaml"
    )


# --- errors ----------------------------------------------------------------------------------

VERSION = """\
workbench: 1
name: demo
prompts:
  - name: support
    versions:
      - version: 1
        messages:
          - role: user
            content: hi
        params:
          model: claude-haiku-5-5
          {extra}
"""


def _error(text: str) -> BadInput:
    with pytest.raises(BadInput) as info:
        loads_bundle(text, source="b.yaml")
    return info.value


def test_unknown_field_names_line_field_and_suggests_the_right_name() -> None:
    error = _error(VERSION.format(extra="temprature: 0.5"))
    assert (error.source, error.line) == ("b.yaml", 12)
    assert error.field == "prompts[0].versions[0].params.temprature"
    first = str(error).splitlines()[0]
    assert first.startswith("b.yaml:12 (field 'prompts[0].versions[0].params.temprature')")
    assert "unknown field 'temprature'; did you mean 'temperature'?" in first


def test_several_problems_are_listed_one_a_line_up_to_three() -> None:
    text = VERSION.format(extra="top_k: 0").replace("role: user", "role: system")
    text = text.replace("content: hi", "content: 42").replace("name: demo", "name: demo\nx: 1")
    lines = str(_error(text)).splitlines()
    assert (
        lines[0]
        == "b.yaml:3 (field 'x'): unknown field 'x'; expected one of: "
        + ", ".join(Bundle.model_fields)
        + "."
    )
    assert "b.yaml:9 (field 'prompts[0].versions[0].messages[0].role'): input should be" in lines[1]
    assert "expected text, but YAML reads `42` as a number" in lines[2]
    assert lines[3].startswith("  ...and 1 more problem(s).")


def test_a_yes_where_text_is_expected_suggests_quotes() -> None:
    error = _error("workbench: 1\nname: yes\n")
    assert error.line == 2 and error.field == "name"
    assert "YAML reads `yes` as a boolean" in str(error) and 'Put it in quotes: "yes"' in str(error)


def test_missing_field_points_at_the_enclosing_entry() -> None:
    error = _error(VERSION.format(extra="").replace("model: claude-haiku-5-5", "max_tokens: 9"))
    assert error.line == 10 and error.field == "prompts[0].versions[0].params.model"
    assert "missing required field 'model'" in str(error)


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        ("workbench: 1\nname: a\nname: b\n", 3, "name", "duplicate key 'name' (first on line 2)"),
        ("workbench: 3\nname: a\n", 1, "workbench", "format version 3"),
        ("workbench: true\nname: a\n", 1, "workbench", "expected `workbench: 1`"),
        (
            "name: a\nprompts:\n  - name: p\n  - name: q\n  - name: p\n",
            5,
            "prompts[2].name",
            "duplicate prompt name(s): p",
        ),
        (
            "name: a\nprompts:\n  - name: p\n    labels:\n      production: 3\n",
            5,
            "prompts[0].labels.production",
            "label 'production' points at version 3",
        ),
        ("name: a\nprompts: [\n", 3, None, "invalid YAML"),
        ("name: a\n\tdescription: b\n", 2, None, "Indent with spaces, not tabs"),
        ("name: a\n---\nname: b\n", 2, None, "single document"),
        ("- a\n- b\n", 1, None, "the top level must be a mapping"),
        ("# only a comment\n", None, None, "the file is empty"),
        ("name: a\ndescription: \x07\n", 2, None, "U+0007"),
        ("name: !!python/object:os.system a\n", 1, None, "not allowed in bundles"),
        ("name: a\ndescription: &x [*x]\n", 2, None, "refers to itself"),
        # The same line whichever parser (and PyYAML version) finds the nesting too deep.
        ("name: a\ndescription: " + "[" * 5000 + "]" * 5000 + "\n", 2, None, "nested"),
    ],
)
@pytest.mark.parametrize("libyaml", [True, False], ids=["libyaml", "pure-python"])
def test_bad_bundles_name_the_line_and_field(
    text: str,
    line: int | None,
    field: str | None,
    words: str,
    libyaml: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not libyaml:
        monkeypatch.setattr(bundle_file, "_HAVE_LIBYAML", False)
    error = _error(text)
    assert (error.line, error.field) == (line, field)
    assert words in str(error)
    assert str(error).startswith("b.yaml")


def test_alias_bombs_are_rejected() -> None:
    lines = ["name: a", "x0: &a0 [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"]
    lines += [f"x{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)]
    assert "too many values" in str(_error("\n".join(lines)))


def test_files_that_are_too_big_missing_or_not_utf8(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(BadInput, match="file not found"):
        load_bundle(tmp_path / "nope.yaml")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"name: a\ndescription: caf\xe9\n")
    with pytest.raises(BadInput, match="not UTF-8") as info:
        load_bundle(latin)
    assert info.value.line == 2 and info.value.source == str(latin)
    monkeypatch.setattr(bundle_file, "MAX_BUNDLE_BYTES", 10)
    with pytest.raises(BadInput, match="larger than"):
        load_bundle(latin)


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes("\ufeffworkbench: 1\nname: café\n".encode())
    assert load_bundle(path).name == "café"


def test_the_example_in_the_docs_loads_and_is_in_canonical_form() -> None:
    doc = (ROOT / "docs" / "bundle-format.md").read_text(encoding="utf-8")
    example = doc.split("## A complete example\n\n```yaml\n", 1)[1].split("```", 1)[0]
    assert dump_bundle(loads_bundle(example)) == example


def test_every_expectation_type_is_documented() -> None:
    doc = (ROOT / "docs" / "bundle-format.md").read_text(encoding="utf-8")
    assert [t for t in EXPECTATION_TYPES if f"| `{t}` |" not in doc] == []
