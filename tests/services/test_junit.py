"""JUnit XML from an eval report: valid against Jenkins' junit-10.xsd (a copy in data/, from
github.com/jenkinsci/xunit-plugin src/main/resources/org/jenkinsci/plugins/xunit/types/model/
xsd/junit-10.xsd) and read back by junitparser, the structure CI systems read."""

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
    # junit-10.xsd allows no `skipped` on <testsuites>; the suites carry it.
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("5", "1", "0")
    assert root.get("skipped") is None
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
    (failure,) = failed.findall("failure")  # the passing icontains has none
    assert failure.get("type") == "regex"
    assert "expectation 2 (regex" in failure.get("message", "") and "does not match" in (
        failure.text or ""
    )
    out = failed.findtext("system-out") or ""
    assert "\x00" not in out and "\x1b" not in out and "🙂" in out and "\ufffd" in out
    assert haiku.findall("testcase")[2].find("skipped") is not None
    failed_call = sonnet.findall("testcase")[1]
    skipped = failed_call.find("skipped")
    assert skipped is not None and "rate_limit" in skipped.get("message", "")
    assert "rate_limit" in (failed_call.findtext("system-out") or "")
    assert failed_call.get("time") == "1.500"
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


XSD = Path(__file__).parent / "data" / "junit-10.xsd"


def _two_failures_report() -> EvalReport:
    regex_bad = ScoreRow(
        2, "regex", False, 0.0, "expectation 3 (regex '\\d+ days'): the output does not match"
    )
    report = _report()
    report.cases.append(
        _case(3, "haiku", [OK, BAD, regex_bad], latency_ms=2345.0, output="two failures")
    )
    report.cases.append(_case(4, "haiku", [], latency_ms=None, error="overloaded: try later"))
    return report


def test_junit_is_valid_against_jenkins_junit_10_xsd(tmp_path: Path) -> None:
    import xmlschema

    schema = xmlschema.XMLSchema(str(XSD))
    out = tmp_path / "junit.xml"
    write_junit(_two_failures_report(), out)
    schema.validate(str(out))  # raises with the offending path when invalid
    # The old form (a `skipped` count on <testsuites>) is what the schema rejects.
    bad = out.read_text(encoding="utf-8").replace("<testsuites ", '<testsuites skipped="1" ', 1)
    assert not schema.is_valid(bad)


def test_junitparser_reads_one_failure_per_expectation_real_times_and_skips(
    tmp_path: Path,
) -> None:
    from junitparser import Failure, JUnitXml, Skipped

    out = tmp_path / "junit.xml"
    write_junit(_two_failures_report(), out)
    suites = {suite.name: suite for suite in JUnitXml.fromfile(str(out))}
    haiku = suites["support-evals · support@v3 · haiku"]
    cases = {case.name: case for case in haiku}
    two = cases['#4 Question 3 <&> "quoted"']
    failures = [r for r in two.result if isinstance(r, Failure)]
    assert [f.type for f in failures] == ["regex", "regex"]
    assert failures[1].message == "expectation 3 (regex '\\d+ days'): the output does not match"
    assert "\\\\" not in failures[1].message  # one backslash, as the pattern is written
    assert two.time == 2.345
    no_expectations = cases['#3 Question 2 <&> "quoted"']
    assert isinstance(no_expectations.result[0], Skipped)
    failed_call = cases['#5 Question 4 <&> "quoted"']
    (skip,) = failed_call.result
    assert isinstance(skip, Skipped) and "overloaded" in (skip.message or "")
    assert haiku.skipped == 2 and haiku.failures == 2 and haiku.tests == 5
