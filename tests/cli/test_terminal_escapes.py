"""Terminal output is text: control sequences in data are printed escaped by every command.

The project holds a model id, dataset text and an expectation carrying a window-title OSC
(ESC ] 0 ; … BEL), an OSC 8 hyperlink, a CSI colour, a one-byte C1 CSI and a right-to-left
override; logs import a model name with the same. No command's stdout or stderr may contain one
raw; each shows up as a visible escape.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from workbench.cli.formatting import safe, safe_json
from workbench.cli.main import main

TITLE = "\x1b]0;pwned\x07"
LINK = "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\"
HOSTILE = f"{TITLE}red \x1b[31mtext\x1b[0m {LINK} \x9b2J \u202eevil\u202c end"
RAW = ("\x1b", "\x07", "\x9b", "\u202e", "\u202c")
MODEL = "claude-haiku-5-5"

BUNDLE = {
    "workbench": 1,
    "name": "Hostile",
    "models": [{"id": "evil\x1b]0;model\x07-model", "display_name": HOSTILE, "tier": "haiku"}],
    "prompts": [
        {
            "name": "helper",
            "labels": {"production": 1},
            "versions": [
                {
                    "version": 1,
                    "messages": [{"role": "user", "content": "Q: {{question}}"}],
                    "params": {"model": MODEL, "max_tokens": 50},
                }
            ],
        }
    ],
    "datasets": [
        {
            "name": "hostile",
            "examples": [
                {
                    "vars": {"question": HOSTILE},
                    "expect": [{"type": "contains", "value": f"never {HOSTILE}"}],
                }
            ],
        }
    ],
}


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out + err


def _assert_clean(text: str, what: str) -> None:
    for char in RAW:
        assert char not in text, (what, repr(char), text)


@pytest.fixture
def project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    bundle = tmp_path / "hostile.yaml"
    bundle.write_text(yaml.safe_dump(BUNDLE, allow_unicode=True), encoding="utf-8")
    path = tmp_path / "hostile.pwb"
    code, out = _cli(["new", str(path), "--from", str(bundle)], capsys)
    assert code == 0, out
    return path


def test_the_escape_helper() -> None:
    assert safe("a\x1b[31mb") == "a\\x1b[31mb"
    assert safe("\u202eabc") == "\\u202eabc"
    assert safe("x\ny\tz") == "x\\ny\\tz"
    assert safe("x\ny", multiline=True) == "x\ny"
    assert safe("héllo — ok") == "héllo — ok"
    assert safe("\x9b\x7f") == "\\x9b\\x7f"
    dumped = json.dumps({"v": HOSTILE}, ensure_ascii=False)
    assert json.loads(safe_json(dumped)) == {"v": HOSTILE}
    _assert_clean(safe_json(dumped), "json")


def test_every_command_prints_data_escaped(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logs = tmp_path / "calls.jsonl"
    line = {
        "timestamp": "2026-05-04T09:12:44Z",
        "prompt": "helper",
        "version": 1,
        "model": f"imported{TITLE}\u202e",
        "vars": {"question": HOSTILE},
        "output": HOSTILE,
        "latency_ms": 12,
    }
    logs.write_text(json.dumps(line) + "\n" + "not json " + HOSTILE + "\n", encoding="utf-8")
    run = ["--dataset", "hostile", "--prompt", "helper@production", "--provider", "echo"]
    commands = [
        ["run", str(project), *run],
        ["run", str(project), *run, "--json"],
        ["eval", str(project), *run],
        ["eval", str(project), *run, "--json", "-"],
        ["logs", "import", str(project), str(logs)],
        ["info", str(project)],
        ["info", str(project), "--json"],
        ["report", str(project)],
        ["report", str(project), "--json"],
        ["models", str(project)],
        ["models", str(project), "--json"],
        ["check", str(project)],
        ["run", str(project), "--dataset", "hostile", "--prompt", f"no{TITLE}such"],
    ]
    seen = ""
    for args in commands:
        _, text = _cli(args, capsys)
        _assert_clean(text, args)
        seen += text
    # The data was printed, escaped, not dropped.
    assert "\\x1b]0;" in seen and "\\u202e" in seen
