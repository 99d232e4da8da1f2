"""JUnit XML from an eval report: valid XML with the structure CI systems read."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from workbench.core.errors import BadInput
from workbench.services.evals import CaseResult, EvalReport
from workbench.services.junit import junit_xml, write_junit, xml_safe
from workbench.storage.labels_repo import ScoreRow


def _case(position: int, model: str, results: list[ScoreRow], **kw: object) -> CaseResult:
    base: dict[str, object] = dict(
        call_id=position + 1,
        example_id=position + 1,
        position=position,
        repeat=0,
        vars={"question": f'Question {position} <&> "quoted"'},
        prompt="support",
        version=3,
        model=model,
        output="plain answer",
        error=None,
        latency_ms=1500.0,
        cost_usd=0.001,
        results=results,
    )
    base.update(kw)
    return CaseResult(**base)  # type: ignore[arg-type]


OK = ScoreRow(
    0, "icontains", True, 1.0, "expectation 1 (icontains 'venv'): the output contains 'venv'"
)
BAD = ScoreRow(
    1, "regex", False, 0.0, "expectation 2 (regex '\\d+'): the output does not match '\\d+'"
)


def _report() -> EvalReport:
    return EvalReport(
        run_id=7,
        dataset="support-evals",
        cases=[
            _case(0, "haiku", [OK]),
            _case(1, "haiku", [OK, BAD], output="bad \x00 bytes \x1b[31m and \ud800 and 🙂"),
            _case(2, "haiku", [], output=""),
            _case(0, "sonnet", [OK]),
            _case(1, "sonnet", [BAD], error="rate_limit: too many requests", output=""),
        ],
    )


def test_junit_is_valid_xml_with_suites_per_version_and_model() -> None:
    text = junit_xml(_report())
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == (
        "5",
        "1",
        "1",
        "1",
    )
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [
        "support-evals · support@v3 · haiku",
        "support-evals · support@v3 · sonnet",
    ]
    for suite in suites:
        cases = suite.findall("testcase")
        assert suite.get("tests") == str(len(cases))
        assert list(suite)[0].tag == "properties"  # before the testcases, as readers expect
        for case in cases:
            assert case.get("name") and case.get("classname") and case.get("time")
    haiku = suites[0]
    assert (
        haiku.get("failures") == "1"
        and haiku.get("skipped") == "1"
        and haiku.get("time") == "4.500"
    )
    props = {p.get("name"): p.get("value") for p in haiku.iter("property")}
    assert props["pass_rate"] == "50.0%" and props["run_id"] == "7"


def test_failures_say_which_expectation_failed_and_why() -> None:
    root = ET.fromstring(junit_xml(_report()))
    haiku, sonnet = root.findall("testsuite")
    failed = haiku.findall("testcase")[1]
    assert failed.get("name") == '#2 Question 1 <&> "quoted"'
    (failure,) = failed.findall("failure")
    assert failure.get("type") == "regex"
    assert "expectation 2 (regex" in failure.get("message", "") and "does not match" in (
        failure.text or ""
    )
    out = failed.findtext("system-out") or ""
    assert "\x00" not in out and "\x1b" not in out and "🙂" in out and "\ufffd" in out
    assert haiku.findall("testcase")[2].find("skipped") is not None
    error = sonnet.findall("testcase")[1].find("error")
    assert error is not None and "rate_limit" in error.get("message", "")
    assert haiku.findall("testcase")[0].find("failure") is None


def test_xml_safe_replaces_forbidden_characters_and_cuts() -> None:
    assert xml_safe("a\x00b\x0bc\td\n") == "a\ufffdb\ufffdc\td\n"
    assert xml_safe("x" * 10, limit=5) == "xxxx…"


def test_write_junit_writes_a_file_or_says_why_not(tmp_path: Path) -> None:
    out = tmp_path / "junit.xml"
    write_junit(_report(), out)
    assert ET.parse(out).getroot().tag == "testsuites"
    with pytest.raises(BadInput, match="JUnit"):
        write_junit(_report(), tmp_path / "missing-dir" / "junit.xml")
