"""CSV / JSONL / pasted-text import and CSV export of dataset examples."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.core.errors import BadInput
from workbench.core.models import Example, Expectation
from workbench.services.dataset_io import (
    decode,
    export_csv,
    neutralise,
    parse_csv,
    parse_file,
    parse_jsonl,
    parse_pasted,
    to_csv_text,
    unneutralise,
)


def test_csv_with_header_gives_variables_tags_and_note() -> None:
    text = 'topic,level,tags,note\nphotosynthesis,easy,"biology, smoke",first\nrivers,hard,,\n'
    result = parse_csv(text)
    assert result.ok
    assert result.columns == ["topic", "level"]
    assert result.examples[0] == Example(
        vars={"topic": "photosynthesis", "level": "easy"}, tags=["biology", "smoke"], note="first"
    )
    assert result.examples[1].tags == []
    assert result.lines == [2, 3]


def test_csv_quoted_multiline_cells_keep_their_newlines_and_start_lines() -> None:
    text = 'question\n"line one\nline two"\nnext\n'
    result = parse_csv(text)
    assert [e.vars["question"] for e in result.examples] == ["line one\nline two", "next"]
    assert result.lines == [2, 4]


def test_csv_row_with_too_many_cells_is_an_error_naming_its_line() -> None:
    result = parse_csv("a,b\n1,2\n1,2,3\n4,5\n")
    assert [e.vars for e in result.examples] == [{"a": "1", "b": "2"}, {"a": "4", "b": "5"}]
    assert result.errors == [(3, "3 cells, but there are only 2 columns")]


def test_csv_bad_header_name_and_duplicate_column_are_reported_on_line_1() -> None:
    result = parse_csv("ok,9bad,ok\nx,y,z\n")
    messages = [m for line, m in result.errors if line == 1]
    assert any("'9bad' is not a valid variable name" in m for m in messages)
    assert any("appears twice" in m for m in messages)


def test_csv_value_under_a_nameless_column_is_an_error() -> None:
    result = parse_csv("a,,b\n1,,2\n1,oops,2\n")
    assert len(result.examples) == 1
    assert result.errors[0][0] == 3 and "no name in the header" in result.errors[0][1]


def test_csv_broken_quoting_stops_with_the_line_number() -> None:
    result = parse_csv('a\n1\n"unterminated\n')
    assert [e.vars["a"] for e in result.examples] == ["1"]
    assert result.errors and result.errors[0][0] == 3


def test_csv_expect_column_is_json() -> None:
    result = parse_csv('q,expect\nhi,"[{""type"": ""contains"", ""value"": ""hello""}]"\n')
    assert result.examples[0].expect == [Expectation(type="contains", value="hello")]
    bad = parse_csv("q,expect\nhi,[nope\n")
    assert bad.errors[0][0] == 2 and "not valid JSON" in bad.errors[0][1]


def test_vars_prefix_allows_a_variable_named_like_a_special_column() -> None:
    result = parse_csv("vars.note,note\nvariable,annotation\n")
    assert result.examples[0].vars == {"note": "variable"}
    assert result.examples[0].note == "annotation"


def test_tab_separated_header_is_detected() -> None:
    result = parse_csv("a\tb\n1\t2\n")
    assert result.examples[0].vars == {"a": "1", "b": "2"}


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("utf-8-sig", b""), ("utf-16", b""), ("cp1252", b""), ("utf-8", b"")],
)
def test_file_encodings_and_boms_are_handled(tmp_path: Path, encoding: str, prefix: bytes) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(prefix + "name,city\nJosé,Zürich\n".encode(encoding))
    result = parse_csv(path)
    assert result.ok, result.errors
    assert result.columns == ["name", "city"]  # no BOM glued to the first column name
    assert result.examples[0].vars == {"name": "José", "city": "Zürich"}


def test_decode_reports_the_encoding() -> None:
    assert decode("é".encode("cp1252")) == ("é", "cp1252")
    assert decode(b"\xef\xbb\xbfx") == ("x", "utf-8-sig")


def test_unreadable_file_is_bad_input_naming_it(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="missing.csv"):
        parse_csv(tmp_path / "missing.csv")


def test_jsonl_structured_and_flat_lines() -> None:
    text = "\n".join(
        [
            json.dumps({"vars": {"topic": "tides"}, "tags": ["smoke"], "note": "n"}),
            "",
            json.dumps({"topic": "volcanoes", "count": 3, "flag": True, "none": None}),
            json.dumps({"topic": "x", "tags": "a, b"}),
        ]
    )
    result = parse_jsonl(text)
    assert result.ok, result.errors
    assert result.examples[0] == Example(vars={"topic": "tides"}, tags=["smoke"], note="n")
    assert result.examples[1].vars == {
        "topic": "volcanoes",
        "count": "3",
        "flag": "true",
        "none": "",
    }
    assert result.examples[2].tags == ["a", "b"]
    assert result.lines == [1, 3, 4]


def test_jsonl_errors_name_the_line_and_the_problem() -> None:
    lines = [
        '{"topic": "fine"}',
        '{"topic": "broken",',
        "[1, 2]",
        '{"topic": {"nested": 1}}',
        '{"bad name": "x"}',
        '{"vars": {"a": "b"}, "extra": 1}',
        '{"vars": "nope"}',
        '{"a": "b", "tags": [1]}',
        '{"vars": {"a": "b"}, "expect": [{"type": "no-such-type"}]}',
    ]
    result = parse_jsonl("\n".join(lines))
    assert len(result.examples) == 1
    by_line = dict(result.errors)
    assert "not valid JSON" in by_line[2]
    assert "expected a JSON object, found a list" in by_line[3]
    assert "must be text, a number or a boolean, not an object" in by_line[4]
    assert "'bad name' is not a valid variable name" in by_line[5]
    assert "unknown key(s) extra" in by_line[6]
    assert "'vars' must be an object" in by_line[7]
    assert "'tags' must be a list of strings" in by_line[8]
    assert by_line[9].startswith("expect.0.type")


def test_parse_file_picks_the_format_by_extension(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"x": "1"}\n', encoding="utf-8")
    (tmp_path / "b.tsv").write_text("x\n1\n", encoding="utf-8")
    assert parse_file(tmp_path / "a.jsonl").examples[0].vars == {"x": "1"}
    assert parse_file(tmp_path / "b.tsv").examples[0].vars == {"x": "1"}


def test_pasted_rows_without_header_fill_the_columns_in_order() -> None:
    result = parse_pasted("tides\teasy\tsmoke\n\nrivers\thard\t\n", ["topic", "level", "tags"])
    assert [e.vars for e in result.examples] == [
        {"topic": "tides", "level": "easy"},
        {"topic": "rivers", "level": "hard"},
    ]
    assert result.examples[0].tags == ["smoke"]


def test_pasted_rows_with_a_header_use_it() -> None:
    result = parse_pasted("level\ttopic\nhard\trivers\n", ["topic", "level"])
    assert result.examples[0].vars == {"level": "hard", "topic": "rivers"}


def test_pasted_row_wider_than_the_table_is_an_error() -> None:
    result = parse_pasted("a\tb\tc\n", ["topic"])
    assert result.errors == [(1, "3 cells, but there are only 1 columns")]


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "'=x", "''+y"])
def test_formula_like_cells_are_neutralised_and_restored(cell: str) -> None:
    safe = neutralise(cell)
    assert safe.startswith("'")
    assert unneutralise(safe) == cell


@pytest.mark.parametrize("cell", ["plain", "", "'quoted", "a=b", "1-2"])
def test_ordinary_cells_are_left_alone(cell: str) -> None:
    assert neutralise(cell) == cell
    assert unneutralise(cell) == cell


def test_export_neutralises_cells_and_writes_a_bom(tmp_path: Path) -> None:
    examples = [
        Example(vars={"formula": '=HYPERLINK("http://x")', "ok": "fine"}, tags=["a", "b"]),
        Example(vars={"formula": "@cmd"}, note="-note"),
    ]
    path = tmp_path / "out.csv"
    export_csv(examples, path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["formula", "ok", "tags", "note"]
    assert rows[1] == ['\'=HYPERLINK("http://x")', "fine", "a, b", ""]
    assert rows[2] == ["'@cmd", "", "", "'-note"]
    assert not list(tmp_path.glob(".*.tmp"))  # the atomic write left no temp file


def test_export_then_import_round_trips(tmp_path: Path) -> None:
    examples = [
        Example(
            vars={"q": "=1+1", "note": "a variable named note", "multi": 'l1\nl2, "q"'},
            tags=["x"],
            note="+n",
            expect=[Expectation(type="icontains", value="two")],
        ),
        Example(vars={"q": "'=literal"}),
    ]
    path = tmp_path / "rt.csv"
    export_csv(examples, path)
    back = parse_csv(path)
    assert back.ok, back.errors
    assert back.examples[0] == examples[0]
    assert back.examples[1].vars == {"q": "'=literal", "note": "", "multi": ""}


def test_export_to_a_missing_folder_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="cannot write"):
        export_csv([Example(vars={"a": "b"})], tmp_path / "nope" / "x.csv")


_names = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True).filter(
    lambda n: n not in ("tags", "note", "expect")
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.dictionaries(_names, st.text(max_size=30), min_size=1, max_size=3),
        min_size=1,
        max_size=5,
    )
)
def test_any_values_survive_a_csv_round_trip(rows: list[dict[str, str]]) -> None:
    examples = [Example(vars=row) for row in rows]
    back = parse_csv(to_csv_text(examples))
    # Rows whose cells are all blank are skipped on import, like blank lines.
    expected = [e for e in examples if any(v.strip() for v in e.vars.values())]
    assert back.ok, back.errors
    names = list(dict.fromkeys(n for e in examples for n in e.vars))
    assert [{n: e.vars.get(n, "") for n in names} for e in expected] == [
        {n: e.vars.get(n, "") for n in names} for e in back.examples
    ]
