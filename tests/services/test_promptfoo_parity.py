"""Same verdict as promptfoo: the parity eval set scored by the workbench equals promptfoo's table.

How the table was made: `bench/promptfoo_parity.py` wrote the bundle of
tests/services/promptfoo_parity_cases.py, exported it with ``workbench export --format
promptfoo``, ran real promptfoo 0.123.1 (Node 22, /work/shared/tools/promptfoo-setup.sh) with
``promptfoo eval --no-cache`` against the fake Anthropic server on loopback (scripted replies,
so both tools score the same text), and saved promptfoo's pass/fail per expectation in
tests/services/data/promptfoo_parity.json. To remake it after changing the cases:

    bash /work/shared/tools/promptfoo-setup.sh /tmp/pf   # once; PEER_DIR=/tmp/pf
    PYTHONPATH=$PWD python3 bench/promptfoo_parity.py --peer /tmp/pf

promptfoo is not a dependency: this test only reads the checked-in table.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from promptfoo_parity_cases import CASES, LATENCY_MS, bundle_text

from workbench.core.models import EXPECTATION_TYPES, TOOL_EXPECTATION_TYPES
from workbench.inference import make_provider
from workbench.services.evals import EvalReport, run_eval
from workbench.services.projects import open_project
from workbench.testing.fake_anthropic import FakeAnthropicServer

TABLE = Path(__file__).parent / "data" / "promptfoo_parity.json"


def _workbench_verdicts(tmp_path: Path) -> dict[str, list[bool]]:
    bundle = tmp_path / "parity.yaml"
    bundle.write_text(bundle_text(), encoding="utf-8")
    with FakeAnthropicServer(latency_ms=LATENCY_MS) as server, open_project(bundle) as project:
        provider = make_provider("anthropic", api_key="sk-ant-test", base_url=server.base_url)

        async def go() -> EvalReport:
            try:
                return await run_eval(
                    project, dataset="parity", prompts=["reply"], provider=provider
                )
            finally:
                await provider.aclose()

        report = asyncio.run(go())
    assert not [c.error for c in report.cases if c.error]
    return {c.vars["id"]: [r.passed for r in c.results] for c in report.cases}


def test_every_promptfoo_named_type_is_in_the_parity_set() -> None:
    used = {e["type"] for _, _, expectations in CASES for e in expectations}
    # llm-rubric's verdict is the judge model's, so it is not a rule both tools can share; the
    # tool and output-schema types read the call's tool calls, which these text cases lack
    # (tests/services/test_tool_scorers.py covers them).
    left = set(EXPECTATION_TYPES) - used - set(TOOL_EXPECTATION_TYPES)
    assert left <= {"llm-rubric", "not-llm-rubric"}, left


def test_verdicts_equal_promptfoo_s(tmp_path: Path) -> None:
    table = json.loads(TABLE.read_text(encoding="utf-8"))
    assert table["promptfoo"] == "0.123.1" and table["cases"] == len(CASES)
    ours = _workbench_verdicts(tmp_path)
    differ = []
    total = 0
    for name, output, expectations in CASES:
        theirs = table["verdicts"][name]
        assert len(theirs) == len(expectations) == len(ours[name]), name
        for expectation, mine, pf in zip(expectations, ours[name], theirs, strict=True):
            total += 1
            if mine != pf:
                differ.append(f"{name} {output!r} {expectation}: workbench {mine}, promptfoo {pf}")
    agree = total - len(differ)
    print(f"promptfoo parity: {agree} of {total} verdicts agree")
    assert not differ, f"{agree} of {total} agree; differ:\n" + "\n".join(differ)
