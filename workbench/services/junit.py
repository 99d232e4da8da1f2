"""An eval report as JUnit XML, the format CI systems (GitHub, GitLab, Jenkins) render.

One ``<testsuite>`` per (prompt version, model) and one ``<testcase>`` per case in it. Each
failing expectation is its own ``<failure>`` whose ``type`` is the expectation's type and whose
message names it and says why; a case without expectations, one whose call failed (the error in
the message and in ``<system-out>``) and one ``--replay`` could not answer are ``<skipped>``.
``time`` is the call's latency, left out when it is not known. The file is valid against the
Jenkins ``junit-10.xsd`` (so ``<testsuites>`` carries no ``skipped`` count, which that schema
does not allow; each ``<testsuite>`` does). Text that XML 1.0 cannot hold (control characters,
lone surrogates) is replaced, so the file always parses.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from workbench.core.errors import BadInput
from workbench.formats.atomic import write_text_atomic
from workbench.services.evals import CaseResult, EvalReport

# Characters XML 1.0 forbids even as character references.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
MESSAGE_CHARS = 1000
OUTPUT_CHARS = 4000


def xml_safe(text: str, limit: int | None = None) -> str:
    """`text` with characters XML cannot hold replaced by U+FFFD, optionally cut to `limit`."""
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return _NOT_XML.sub("\ufffd", text)


def _seconds(ms: float | None) -> str:
    return f"{(ms or 0.0) / 1000:.3f}"


def skip_reason(case: CaseResult) -> str | None:
    """Why the case is reported as skipped, or None when it was scored."""
    if case.error is not None:
        return f"the call failed: {case.error}"
    if case.skipped:
        return case.skip_reason or "the example has no expectations"
    return None


def _testcase(suite: ET.Element, case: CaseResult, classname: str) -> str:
    """Add one testcase; returns its outcome: passed, failure or skipped."""
    element = ET.SubElement(
        suite, "testcase", name=xml_safe(case.name), classname=xml_safe(classname)
    )
    if case.latency_ms is not None:
        element.set("time", _seconds(case.latency_ms))
    why = skip_reason(case)
    if why is not None:
        skipped = ET.SubElement(element, "skipped", message=xml_safe(why, MESSAGE_CHARS))
        skipped.set("type", "call-error" if case.error is not None else "not-scored")
        skipped.text = xml_safe(why)
        outcome = "skipped"
    elif not case.passed:
        for failed in case.failures:
            failure = ET.SubElement(
                element, "failure", message=xml_safe(failed.reason, MESSAGE_CHARS)
            )
            failure.set("type", failed.type)
            failure.text = xml_safe(failed.reason)
        outcome = "failure"
    else:
        outcome = "passed"
    shown = case.output if case.error is None else f"{case.error}\n{case.output}".strip()
    if shown:
        ET.SubElement(element, "system-out").text = xml_safe(shown, OUTPUT_CHARS)
    return outcome


def junit_xml(report: EvalReport, *, name: str = "workbench eval") -> str:
    """The report as a JUnit XML document (UTF-8 text with an XML declaration)."""
    stamp = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    root = ET.Element("testsuites", name=xml_safe(f"{name}: {report.dataset}"))
    totals = {"tests": 0, "failures": 0, "errors": 0, "time": 0.0}
    for group in report.groups:
        label = f"{group.prompt}@v{group.version} · {group.model}"
        suite = ET.SubElement(root, "testsuite", name=xml_safe(f"{report.dataset} · {label}"))
        classname = f"{report.dataset}.{group.prompt}@v{group.version}.{group.model}"
        # JUnit readers expect <properties> before the testcases.
        properties = ET.SubElement(suite, "properties")
        counts = {"failure": 0, "skipped": 0}
        seconds = 0.0
        cases = [
            c
            for c in report.cases
            if (c.prompt, c.version, c.model) == (group.prompt, group.version, group.model)
        ]
        for case in cases:
            outcome = _testcase(suite, case, classname)
            counts[outcome] = counts.get(outcome, 0) + 1
            seconds += (case.latency_ms or 0.0) / 1000
        rate = "n/a" if group.pass_rate is None else f"{group.pass_rate:.1%}"
        low, high = group.interval
        for key, value in (
            ("run_id", str(report.run_id)),
            ("pass_rate", rate),
            ("ci95", f"{low:.3f}-{high:.3f}"),
        ):
            ET.SubElement(properties, "property", name=key, value=value)
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(counts["failure"]))
        suite.set("errors", "0")
        suite.set("skipped", str(counts["skipped"]))
        suite.set("time", f"{seconds:.3f}")
        suite.set("timestamp", stamp)
        totals["tests"] += len(cases)
        totals["failures"] += counts["failure"]
        totals["time"] += seconds
    for key in ("tests", "failures", "errors"):
        root.set(key, str(int(totals[key])))
    root.set("time", f"{totals['time']:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(report: EvalReport, path: Path, *, name: str = "workbench eval") -> None:
    """Write `junit_xml(report)` to `path` atomically."""
    try:
        write_text_atomic(Path(path), junit_xml(report, name=name))
    except OSError as exc:
        raise BadInput(
            f"cannot write the JUnit file ({exc.strerror or exc})",
            source=str(path),
            hint="Check that the folder exists and is writable.",
        ) from None
