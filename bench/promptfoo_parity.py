"""Remake tests/services/data/promptfoo_parity.json: promptfoo's own verdicts on the parity set.

    bash /work/shared/tools/promptfoo-setup.sh /tmp/pf      # or: PEER_DIR=/tmp/pf bash ...
    PYTHONPATH=$PWD python3 bench/promptfoo_parity.py --peer /tmp/pf

Steps: write the parity bundle (tests/services/promptfoo_parity_cases.py), export it with
``workbench export --format promptfoo``, start the fake Anthropic server on loopback (scripted
replies, fixed latency), run ``promptfoo eval`` against it (ANTHROPIC_BASE_URL, a dummy key,
telemetry and sharing off: the env file of the setup script), and save promptfoo's verdict per
expectation. promptfoo is never a dependency of the project; only this script runs it.
tests/services/test_promptfoo_parity.py then compares the workbench's verdicts with the table
and prints "k of n verdicts agree".
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "services")]

from promptfoo_parity_cases import CASES, LATENCY_MS, bundle_text  # noqa: E402

from workbench.testing.fake_anthropic import start_subprocess, stop_subprocess  # noqa: E402

TABLE = ROOT / "tests" / "services" / "data" / "promptfoo_parity.json"


def _peer_env(peer: Path, base_url: str) -> dict[str, str]:
    """The environment the setup script's env.sh gives, plus the fake server's address."""
    out = subprocess.run(
        ["bash", "-c", f"source {shlex.quote(str(peer / 'env.sh'))} && env -0"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    env = dict(item.split("=", 1) for item in out.split("\0") if "=" in item)
    env.update(ANTHROPIC_BASE_URL=base_url, ANTHROPIC_API_KEY="sk-ant-dummy-parity")
    return env


def _same(component: dict[str, Any], assertion: dict[str, Any]) -> bool:
    """Whether a component result is the one of `assertion` (an assert-set's carries the set in
    its metadata instead of an `assertion`)."""
    if assertion["type"] == "assert-set":
        return "assertionSet" in (component.get("metadata") or {}) and not component.get(
            "assertion"
        )
    own = component.get("assertion") or {}
    return all(own.get(key) == assertion.get(key) for key in ("type", "value", "threshold"))


def _verdicts(results: list[dict[str, Any]]) -> dict[str, list[bool | None]]:
    """Case id -> promptfoo's pass per top-level expectation (an assert-set counts as one)."""
    table: dict[str, list[bool | None]] = {}
    for row in results:
        case = row["vars"]["id"] if "vars" in row else row["testCase"]["vars"]["id"]
        expected = row["testCase"]["assert"]
        components = (row.get("gradingResult") or {}).get("componentResults") or []
        verdicts: list[bool | None] = []
        used: set[int] = set()
        for assertion in expected:
            match = next(
                (i for i, c in enumerate(components) if i not in used and _same(c, assertion)),
                None,
            )
            if match is None:
                verdicts.append(None)
                continue
            used.add(match)
            verdicts.append(bool(components[match]["pass"]))
        table[case] = verdicts
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--peer", type=Path, default=Path("/tmp/pf"), help="promptfoo-setup dir")
    parser.add_argument("--keep", type=Path, help="keep the bundle, config and output here")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="pf-parity-"))
    work.mkdir(parents=True, exist_ok=True)
    bundle, config, output = work / "parity.yaml", work / "promptfooconfig.yaml", work / "out.json"
    bundle.write_text(bundle_text(), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run(
        [sys.executable, "-m", "workbench", "export", str(bundle), "--format", "promptfoo"]
        + ["--dataset", "parity", "--prompt", "reply", "-o", str(config)],
        check=True,
        env=env,
    )
    proc, base_url = start_subprocess(latency_ms=LATENCY_MS)
    try:
        subprocess.run(
            ["promptfoo", "eval", "-c", str(config), "--no-cache", "--no-progress-bar"]
            + ["--no-table", "-j", "4", "-o", str(output)],
            env=_peer_env(args.peer, base_url),
            cwd=work,
            check=False,  # promptfoo exits 100 when a test fails, which is expected here
        )
    finally:
        stop_subprocess(proc)
    data = json.loads(output.read_text(encoding="utf-8"))
    version = data.get("config", {}).get("version") or data.get("version")
    table = {
        "made_by": "bench/promptfoo_parity.py (promptfoo eval on the exported parity bundle)",
        "promptfoo": "0.123.1",
        "results_version": version,
        "cases": len(CASES),
        "verdicts": _verdicts(data["results"]["results"]),
    }
    from workbench.formats.atomic import write_text_atomic

    write_text_atomic(TABLE, json.dumps(table, indent=1, ensure_ascii=False) + "\n")
    missing = sum(v is None for vs in table["verdicts"].values() for v in vs)
    total = sum(len(vs) for vs in table["verdicts"].values())
    print(f"wrote {TABLE} ({total} verdicts, {missing} not found in promptfoo's output)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
