"""Bundle values at the edges: every bad one names its line and field, every good one exports.

Typed scalars are checked one by one (an empty `!!float`, a 5000-digit number, a date that does
not exist), values the model would silently coerce are refused (`version: true`), and a date that
has no UTC form (year 9999 at -14:00) is refused at import, since export writes UTC. A property
test over generated bundles with edge dates and numbers shows that whatever imports exports and
imports again to the same text.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from workbench.core.errors import BadInput
from workbench.formats import bundle_yaml as bundle_file
from workbench.formats.bundle_yaml import dump_bundle, loads_bundle

TEMPLATE = """\
workbench: 1
name: demo
settings:
  min_pass_rate: {rate}
prompts:
  - name: support
    versions:
      - version: {version}
        created_at: {created}
        messages:
          - role: user
            content: hi
        params:
          model: claude-haiku-5-5
          max_tokens: {tokens}
          temperature: {temperature}
"""
GOOD = {
    "rate": "0.8",
    "version": "1",
    "created": "2024-05-01T10:00:00Z",
    "tokens": "100",
    "temperature": "0.5",
}
LINES = {"rate": 4, "version": 8, "created": 9, "tokens": 15, "temperature": 16}
FIELDS = {
    "rate": "settings.min_pass_rate",
    "version": "prompts[0].versions[0].version",
    "created": "prompts[0].versions[0].created_at",
    "tokens": "prompts[0].versions[0].params.max_tokens",
    "temperature": "prompts[0].versions[0].params.temperature",
}


def _text(**values: str) -> str:
    return TEMPLATE.format(**{**GOOD, **values})


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("temperature", "!!float", "the value is empty"),
        ("temperature", "!!float ''", "the value is empty"),
        ("version", "!!int", "the value is empty"),
        ("tokens", "!!int ' '", "the value is empty"),
        ("version", "9" * 5000, "5000 digits"),
        ("tokens", "-" + "1" * 4500, "4500 digits"),
        ("version", "true", "YAML reads `true` as a boolean"),
        ("temperature", "no", "YAML reads `false` as a boolean"),
        ("rate", "yes", "YAML reads `true` as a boolean"),
        ("created", "9999-12-31T23:59:59-14:00", "out of range once converted to UTC"),
        ("created", "0001-01-01T00:00:00+14:00", "out of range once converted to UTC"),
        ("created", "'9999-12-31T23:00:00-05:00'", "out of range once converted to UTC"),
        ("created", "2024-13-45", "is not a date"),
        ("created", "2024-02-30T00:00:00Z", "is not a date"),
        ("created", "!!timestamp nope", "is not a date"),
        ("temperature", "!!float abc", "is not a number"),
    ],
)
@pytest.mark.parametrize("libyaml", [True, False], ids=["libyaml", "pure-python"])
def test_a_bad_value_names_its_line_and_field(
    key: str, value: str, words: str, libyaml: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not libyaml:
        monkeypatch.setattr(bundle_file, "_HAVE_LIBYAML", False)
    with pytest.raises(BadInput) as info:
        loads_bundle(_text(**{key: value}), source="b.yaml")
    error = info.value
    assert (error.line, error.field) == (LINES[key], FIELDS[key]), str(error)
    assert words in str(error)
    assert str(error).startswith(f"b.yaml:{LINES[key]} (field '{FIELDS[key]}')")
    assert "set_int_max_str_digits" not in str(error)


def test_the_edges_that_are_valid_export_and_import_again() -> None:
    for created in ("9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "9999-12-31T10:00:00+14:00"):
        text = dump_bundle(loads_bundle(_text(created=created)))
        assert dump_bundle(loads_bundle(text)) == text


def test_a_date_without_a_utc_form_still_dumps() -> None:
    # A bundle built in code (not loaded) may hold one: dumping keeps its offset, never crashes.
    bundle = loads_bundle(_text())
    version = bundle.prompts[0].versions[0]
    late = dt.datetime(9999, 12, 31, 23, 0, tzinfo=dt.timezone(-dt.timedelta(hours=5)))
    object.__setattr__(version, "created_at", late)
    assert "9999-12-31T23:00:00-05:00" in dump_bundle(bundle)


_OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: dt.timezone(dt.timedelta(minutes=minutes))
)
_DATES = st.one_of(
    st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59, 59)),
    st.sampled_from([dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 59, 999999)]),
)


def _date_text(value: dt.datetime, zone: dt.timezone | None, quoted: bool) -> str:
    text = value.replace(tzinfo=zone).isoformat()
    return f"'{text}'" if quoted else text


_NUMBER_TEXT = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(
        [
            "0",
            "1",
            "-1",
            "1_000",
            "0x10",
            "0o7",
            "+5",
            "1.0",
            "1e3",
            "-0.0",
            "5e-324",
            "1e308",
            ".inf",
            "-.inf",
            ".nan",
            "true",
            "false",
            "~",
            "''",
            "!!float",
            "!!int",
            "0.5",
            "1" * 4301,
            "1." + "0" * 500,
            "1000000",
            "1000001",
        ]
    ),  # fmt: skip
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


_FRACTION_TEXT = st.one_of(
    st.floats(min_value=0, max_value=1).map(repr),
    st.sampled_from(["0", "1", "0.0", "-0.0", "1e-300", "5e-324", "0.999999999999999999"]),
)


def _mostly(valid: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Valid three times in four, so many generated bundles get through to the export."""
    return st.one_of(valid, valid, valid, _NUMBER_TEXT)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    created=st.tuples(_DATES, st.one_of(st.none(), _OFFSETS), st.booleans()),
    version=_mostly(
        st.one_of(st.integers(1, 10**9).map(str), st.sampled_from(["0x10", "1_000", "+5"]))
    ),
    tokens=_mostly(st.integers(1, 1_000_000).map(str)),
    temperature=_mostly(_FRACTION_TEXT),
    rate=_mostly(_FRACTION_TEXT),
)
def test_whatever_imports_exports_and_imports_again(
    created: tuple[dt.datetime, dt.timezone | None, bool],
    version: str,
    tokens: str,
    temperature: str,
    rate: str,
) -> None:
    text = _text(
        created=_date_text(*created),
        version=version,
        tokens=tokens,
        temperature=temperature,
        rate=rate,
    )
    try:
        bundle = loads_bundle(text, source="b.yaml")
    except BadInput as exc:
        event("refused")
        # Refused: always with the line and the field of the bad value.
        assert exc.line is not None and exc.field is not None, str(exc)
        assert str(exc).startswith(f"b.yaml:{exc.line} (field '{exc.field}')"), str(exc)
        return
    event("exported")
    exported = dump_bundle(bundle)
    again = loads_bundle(exported, source="exported.yaml")
    assert dump_bundle(again) == exported


def test_a_fifo_named_as_the_bundle_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "b.yaml"
    os.mkfifo(fifo)
    result = subprocess.run(
        [sys.executable, "-m", "workbench", "info", str(fifo)],
        capture_output=True,
        text=True,
        timeout=60,  # opening a FIFO for reading blocks until a writer comes: that is the bug
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert result.returncode == 2, result.stderr
    assert "is not a regular file" in result.stderr
