"""Synthetic (offline) calls cost $0 and `report` / `info` count them apart from real spend."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.cli.main import main
from workbench.testing.fake_anthropic import FakeAnthropicServer

SAMPLE = Path(__file__).resolve().parents[2] / "projects" / "quizcraft.yaml"
RUN = ["--prompt", "support-answer@2", "--dataset", "support-questions", "--json"]


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


def test_report_and_info_show_real_spend_apart_from_synthetic_calls(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(tmp_path / "q.pwb")
    assert _cli(["new", path, "--from", str(SAMPLE)], capsys)[0] == 0
    code, out, err = _cli(["run", path, *RUN, "--provider", "echo"], capsys)
    assert code == 0, err
    assert json.loads(out)["totals"]["spend_usd"] == 0
    with FakeAnthropicServer() as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-FAKE")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
        code, out, err = _cli(["run", path, *RUN, "--no-cache"], capsys)
        assert code == 0, err
    real = json.loads(out)["totals"]["spend_usd"]
    assert real > 0

    code, out, _ = _cli(["report", path, "--json"], capsys)
    spend = json.loads(out)["spend"]
    assert spend == {
        "real_usd": pytest.approx(real),
        "real_calls": 20,
        "unpriced_calls": 0,
        "synthetic_calls": 20,
    }
    code, out, _ = _cli(["info", path], capsys)
    assert code == 0
    assert "on 20 real call(s); 20 synthetic call(s) (offline, $0) apart" in out
    code, out, _ = _cli(["report", path], capsys)
    assert f"Spend: ${real:.4f} on 20 real call(s)" in out


def test_a_run_of_a_model_without_a_price_never_shows_zero_spend(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(tmp_path / "q.pwb")
    assert _cli(["new", path, "--from", str(SAMPLE)], capsys)[0] == 0
    args = ["run", path, "--prompt", "support-answer@2", "--dataset", "support-questions"]
    with FakeAnthropicServer() as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-FAKE")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
        code, _, err = _cli([*args, "--models", "my-own-model", "--dry-run"], capsys)
        assert code == 0 and "unknown" in err  # the preflight's cost columns
        code, _, err = _cli([*args, "--models", "my-own-model", "--budget", "100"], capsys)
        assert code == 2 and "no price for my-own-model" in err
        assert server.stats()["messages_requests"] == 0
        code, out, err = _cli([*args, "--models", "my-own-model"], capsys)
    assert code == 0, err
    assert "spend $0.0000 + 20 call(s) of unknown cost" in out
    code, out, _ = _cli(["report", path], capsys)
    assert "Spend: unknown on 20 real call(s) (20 without a price)" in out


def test_entering_a_price_lets_a_budget_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(tmp_path / "q.pwb")
    assert _cli(["new", path, "--from", str(SAMPLE)], capsys)[0] == 0
    code, _, err = _cli(["price", path, "my-own-model", "--input", "nan", "--output", "1"], capsys)
    assert code == 2 and "--input" in err
    code, _, err = _cli(["price", path, "my-own-model", "--input", "2", "--output", "10"], capsys)
    assert code == 0 and "my-own-model: $2 input, $10 output" in err
    args = ["run", path, "--prompt", "support-answer@2", "--dataset", "support-questions"]
    with FakeAnthropicServer() as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-FAKE")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
        code, out, err = _cli(
            [*args, "--models", "my-own-model", "--budget", "5", "--json"], capsys
        )
    assert code == 0, err
    totals = json.loads(out)["totals"]
    assert totals["spend_usd"] > 0 and totals["unpriced_calls"] == 0
    # The other models kept their default prices.
    code, out, _ = _cli(["models", path, "--json"], capsys)
    haiku = next(m for m in json.loads(out) if m["id"] == "claude-haiku-5-5")
    assert haiku["input_usd_per_mtok"] is not None
