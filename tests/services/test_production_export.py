"""Production export: format, schema, determinism, labels, settings and the standalone loader."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from workbench.core.errors import BadInput, NotFound
from workbench.core.models import AlertThresholds, Bundle, FeatureFlag, ProductionSettings
from workbench.formats.bundle_yaml import load_bundle
from workbench.inference.anthropic_wire import build_params
from workbench.runtime import Registry
from workbench.services.file_source import project_file_source
from workbench.services.production_export import (
    LOADER_FILENAME,
    build_production_export,
    export_production,
    get_production_settings,
    loader_source,
    set_production_settings,
)
from workbench.services.production_schema import SCHEMA_PATH, production_schema_text
from workbench.services.project_models import model_catalog
from workbench.services.rendering import render_request
from workbench.storage.bundle import import_bundle
from workbench.storage.project import Project

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "projects" / "quizcraft.yaml"
SCHEMA = json.loads((ROOT / SCHEMA_PATH).read_text(encoding="utf-8"))

BUNDLE = {
    "name": "demo",
    "prompts": [
        {
            "name": "support-answer",
            "labels": {"production": 2, "staging": 3},
            "versions": [
                {
                    "version": 1,
                    "system": "You answer for {{company}}.",
                    "messages": [{"role": "user", "content": "Q: {{question}}"}],
                    "params": {"model": "claude-haiku-4-5", "temperature": 0.2},
                },
                {
                    "version": 2,
                    "system": "You answer for {{ company }}.\nBe brief.",
                    "messages": [
                        {
                            "role": "user",
                            "content": "Q: {{question}} \\{{not a var}}",
                            "cache": True,
                        },
                        {"role": "assistant", "content": "Answer:"},
                    ],
                    "params": {
                        "model": "claude-haiku-4-5",
                        "temperature": 0.3,
                        "top_p": 0.9,
                        "stop_sequences": ["END"],
                        "cache_system": True,
                    },
                },
                {
                    "version": 3,
                    "system": "",
                    "messages": [{"role": "user", "content": "{{question}} — ünïcode ✓"}],
                    "params": {"model": "claude-sonnet-4-5", "max_tokens": 64, "top_k": 5},
                },
            ],
        },
        {
            "name": "summarise",
            "labels": {"production": 1},
            "versions": [
                {
                    "version": 1,
                    "messages": [{"role": "user", "content": "Summarise:\n{{text}}"}],
                    "params": {"model": "claude-opus-4-5"},
                }
            ],
        },
        {"name": "draft-idea", "versions": []},
    ],
    "datasets": [
        {
            "name": "questions",
            "examples": [
                {"vars": {"company": "ACME", "question": "Where is {{company}}?"}},
                {"vars": {"company": "Ünï", "question": "multi\nline", "extra": "unused"}},
                {"vars": {"text": "a long text"}},
            ],
        }
    ],
}


def _make_project(path: Path, bundle: Bundle) -> Project:
    project = Project.create(path, bundle.name)
    import_bundle(project, bundle)
    return project


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    with _make_project(tmp_path / "demo.pwb", Bundle.model_validate(BUNDLE)) as opened:
        yield opened


def _export(project: Project, **kwargs: Any) -> dict[str, Any]:
    return build_production_export(project, skip_unlabelled=True, **kwargs)


# --- format and schema -----------------------------------------------------------------------


def test_committed_schema_equals_the_generated_one() -> None:
    committed = (ROOT / SCHEMA_PATH).read_text(encoding="utf-8")
    assert committed == production_schema_text(), (
        "Regenerate it: python -m workbench.services.production_schema"
    )


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".yml"])
def test_exports_validate_against_the_schema(project: Project, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"prompts{suffix}"
    returned = export_production(project, out, skip_unlabelled=True)
    text = out.read_text(encoding="utf-8")
    data = json.loads(text) if suffix == ".json" else yaml.safe_load(text)
    jsonschema.validate(data, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert data == returned


def test_export_holds_the_labelled_version_and_its_settings(project: Project) -> None:
    data = _export(project)
    assert data["format"] == "prompt-workbench/production" and data["format_version"] == 1
    assert data["project"] == "demo" and data["label"] == "production"
    assert data["skipped"] == ["draft-idea"]
    assert list(data["prompts"]) == ["summarise", "support-answer"]
    entry = data["prompts"]["support-answer"]
    version = project.prompts.resolve("support-answer", "production")
    assert entry["version"] == 2
    assert entry["content_hash"] == version.hash
    assert entry["version_id"] == f"support-answer@v2#{version.hash[:12]}"
    assert entry["model"] == "claude-haiku-4-5"
    # haiku 4.5 refuses temperature with top_p: the export sends what the workbench sends.
    assert entry["params"] == {"max_tokens": 1024, "temperature": 0.3, "stop_sequences": ["END"]}
    assert entry["cache"] == {"system": True, "prefix_messages": 1}
    assert entry["variables"] == ["company", "question"]
    assert entry["feature_flag"] == {"enabled": True, "staff_only": True, "rollout_percent": 0}
    assert entry["kill_switch"] is False
    assert entry["alerts"] == {  # the seed's alert table
        "p95_latency_s": 10.0,
        "error_rate": 0.02,
        "cost_per_user_per_day_multiple": 2.0,
        "cost_baseline_usd": None,
        "cost_per_user_per_day_usd": None,
        "eval_pass_rate_drop": 0.10,
        "thumbs_down_rate": 0.20,
        "hallucination_rate": 0.05,
    }


def test_two_exports_differ_only_in_the_export_time(project: Project, tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    export_production(project, first, skip_unlabelled=True)
    export_production(project, second, skip_unlabelled=True)
    a, b = (json.loads(p.read_text(encoding="utf-8")) for p in (first, second))
    a.pop("exported_at")
    b.pop("exported_at")
    assert a == b
    lines = [p.read_text(encoding="utf-8").splitlines() for p in (first, second)]
    differing = [x for x, y in zip(*lines, strict=True) if x != y]
    assert all('"exported_at"' in line for line in differing)


def test_output_is_sorted_and_atomic(project: Project, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "prompts.json"
    out.write_text("old", encoding="utf-8")
    export_production(project, out, skip_unlabelled=True)
    text = out.read_text(encoding="utf-8")
    assert text.endswith("}\n")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert [p.name for p in out.parent.iterdir()] == [out.name]  # no temp file left behind


def test_format_is_chosen_by_suffix_or_explicitly(project: Project, tmp_path: Path) -> None:
    with pytest.raises(BadInput, match=r"prompts\.txt.*\.json, \.yaml or \.yml"):
        export_production(project, tmp_path / "prompts.txt", skip_unlabelled=True)
    export_production(project, tmp_path / "prompts.txt", skip_unlabelled=True, fmt="yaml")
    assert yaml.safe_load((tmp_path / "prompts.txt").read_text(encoding="utf-8"))["prompts"]
    with pytest.raises(BadInput, match="unknown format 'xml'"):
        export_production(project, tmp_path / "p.json", fmt="xml")


def test_unwritable_target_is_a_clear_error(project: Project, tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="cannot write the file"):
        export_production(project, tmp_path / "missing" / "p.json", skip_unlabelled=True)


# --- labels ----------------------------------------------------------------------------------


def test_a_prompt_without_the_label_is_an_error_naming_it(project: Project, tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="'draft-idea' has no 'production' label") as err:
        export_production(project, tmp_path / "p.json")
    assert "--skip-unlabelled" in err.value.user_message
    assert not (tmp_path / "p.json").exists()


def test_another_label_exports_the_versions_it_points_at(project: Project) -> None:
    data = _export(project, label="staging")
    assert data["label"] == "staging"
    assert list(data["prompts"]) == ["support-answer"]
    assert data["prompts"]["support-answer"]["version"] == 3
    assert data["prompts"]["support-answer"]["label"] == "staging"
    assert data["skipped"] == ["draft-idea", "summarise"]


def test_a_label_nobody_has_leaves_nothing_to_export(project: Project) -> None:
    with pytest.raises(BadInput, match="no prompt has a 'canary' label"):
        _export(project, label="canary")
    with pytest.raises(BadInput, match="cannot be a label name"):
        _export(project, label="3")


def test_rollback_by_moving_the_label(project: Project) -> None:
    project.prompts.set_label("support-answer", "production", 1)
    entry = _export(project)["prompts"]["support-answer"]
    assert entry["version"] == 1
    assert entry["version_id"].startswith("support-answer@v1#")


# --- production settings ---------------------------------------------------------------------


def test_settings_default_to_staff_only_and_round_trip(project: Project) -> None:
    assert get_production_settings(project, "summarise") == ProductionSettings()
    chosen = ProductionSettings(
        feature_flag=FeatureFlag(enabled=True, staff_only=False, rollout_percent=7.5),
        kill_switch=True,
        alerts=AlertThresholds(p95_latency_s=4, cost_per_user_per_day_usd=0.25),
    )
    set_production_settings(project, "summarise", chosen)
    assert get_production_settings(project, "summarise") == chosen
    entry = _export(project)["prompts"]["summarise"]
    assert entry["feature_flag"]["rollout_percent"] == 7.5
    assert entry["kill_switch"] is True
    assert entry["alerts"]["p95_latency_s"] == 4
    assert project.catalog.get_meta("production:summarise")["kill_switch"] is True


def test_settings_of_unknown_prompts_and_bad_stored_values(project: Project) -> None:
    with pytest.raises(NotFound):
        get_production_settings(project, "nope")
    with pytest.raises(NotFound):
        set_production_settings(project, "nope", ProductionSettings())
    project.catalog.set_meta("production:summarise", {"feature_flag": {"rollout_percent": 140}})
    with pytest.raises(BadInput, match="production:summarise.feature_flag.rollout_percent"):
        get_production_settings(project, "summarise")


def test_read_only_projects_export(project: Project, tmp_path: Path) -> None:
    path = project.path
    project.close()
    with Project.open(path, read_only=True) as read_only:
        data = export_production(read_only, tmp_path / "p.json", skip_unlabelled=True)
    assert data["prompts"]


# --- export -> load -> render ----------------------------------------------------------------


def _assert_runtime_renders_like_the_workbench(project: Project, tmp_path: Path) -> int:
    """Every version x every example whose variables fit: the same request both ways.

    Each version must fit at least one example, so no version goes untested.
    """
    catalog = model_catalog(project)
    datasets = project.datasets.list()
    compared = 0
    prompts = project.prompts.list()
    uncovered = {(p.name, v.version) for p in prompts for v in p.versions}
    for prompt in prompts:
        for version in prompt.versions:
            project.prompts.set_label(prompt.name, "verify", version.version)
            out = tmp_path / "verify.json"
            export_production(project, out, label="verify", skip_unlabelled=True)
            registry = Registry.load(out)
            for example in (e for d in datasets for e in d.examples):
                if not set(version.variables()) <= set(example.vars):
                    continue
                params = version.params
                accepted = catalog.accepted_params(params.model, params)
                thinking = catalog.accepted_thinking(params.model, version)
                files = project_file_source(project)
                expected = render_request(
                    version.content(),
                    example.vars,
                    accepted=accepted,
                    thinking=thinking,
                    files=files,
                )
                values: dict[str, object] = dict(example.vars)
                for name in version.file_variables():  # the application passes the bytes
                    values[name] = files(example.vars[name])[1]  # type: ignore[index]
                rendered = registry.render(prompt.name, values)
                assert rendered.system == expected.request.system
                assert rendered.messages == expected.request.messages
                wire = build_params(expected.request)
                wire.pop("timeout")
                assert rendered.to_anthropic_kwargs() == wire
                assert rendered.content_hash == version.hash
                compared += 1
                uncovered.discard((prompt.name, version.version))
    assert not uncovered, f"no example fits these versions: {sorted(uncovered)}"
    return compared


def test_runtime_renders_every_version_like_the_workbench(project: Project, tmp_path: Path) -> None:
    assert _assert_runtime_renders_like_the_workbench(project, tmp_path) >= 6


def test_runtime_renders_the_sample_project_like_the_workbench(tmp_path: Path) -> None:
    bundle = load_bundle(SAMPLE)
    with _make_project(tmp_path / "sample.pwb", bundle) as sample:
        data = export_production(sample, tmp_path / "sample.json")
        jsonschema.validate(data, SCHEMA, format_checker=jsonschema.FormatChecker())
        assert _assert_runtime_renders_like_the_workbench(sample, tmp_path) > 0


# --- the standalone loader -------------------------------------------------------------------


def test_loader_file_is_the_runtime_module(project: Project, tmp_path: Path) -> None:
    export_production(project, tmp_path / "p.json", skip_unlabelled=True, write_loader=True)
    written = (tmp_path / LOADER_FILENAME).read_text(encoding="utf-8")
    assert written == loader_source()
    source = (ROOT / "workbench" / "runtime" / "registry.py").read_text(encoding="utf-8")
    assert written.endswith(source)


def test_standalone_loader_runs_with_only_the_standard_library(
    project: Project, tmp_path: Path
) -> None:
    set_production_settings(
        project,
        "support-answer",
        ProductionSettings(feature_flag=FeatureFlag(staff_only=False, rollout_percent=10)),
    )
    data = export_production(
        project, tmp_path / "prompts.json", skip_unlabelled=True, write_loader=True
    )
    script = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "from prompt_registry import Registry\n"
        "r = Registry.load(sys.argv[1])\n"
        "x = r.render('support-answer', company='ACME', question='Why?')\n"
        "on = sum(r.is_enabled('support-answer', user_id=i) for i in range(10000))\n"
        "third = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('workbench', 'yaml', 'pydantic', 'anthropic'))\n"
        "print(json.dumps({'kwargs': x.to_anthropic_kwargs(), 'id': x.version_id, 'on': on,\n"
        "                  'third': third, 'site': 'site' in sys.modules}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-I", "-c", script, str(tmp_path / "prompts.json")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["third"] == [] and out["site"] is False
    assert out["id"] == data["prompts"]["support-answer"]["version_id"]
    assert out["kwargs"]["system"][0]["text"] == "You answer for ACME.\nBe brief."
    assert out["kwargs"]["messages"][0]["content"][0]["text"] == "Q: Why? {{not a var}}"
    assert 800 <= out["on"] <= 1200


def test_saved_alert_values_survive_the_new_defaults(project: Project) -> None:
    # What a project saved before the seed's table became the defaults: five fields only.
    old = {"p95_latency_s": 8.0, "error_rate": 0.03, "cost_per_user_per_day_usd": 1.0}
    old |= {"eval_pass_rate_drop": 0.05, "thumbs_down_rate": 0.1}
    project.catalog.set_meta("production:summarise", {"alerts": old})
    alerts = get_production_settings(project, "summarise").alerts
    assert alerts.model_dump() == {
        **old,  # kept as saved
        "cost_per_user_per_day_multiple": 2.0,  # never saved: the new defaults
        "cost_baseline_usd": None,
        "hallucination_rate": 0.05,
    }
    fresh = AlertThresholds()
    assert (fresh.eval_pass_rate_drop, fresh.thumbs_down_rate, fresh.hallucination_rate) == (
        0.10,
        0.20,
        0.05,
    )


def test_cli_export_is_readable_by_others_under_umask_022(tmp_path: Path) -> None:
    out = tmp_path / "deploy" / "prompts.json"
    out.parent.mkdir()
    command = [sys.executable, "-m", "workbench", "export", str(SAMPLE), "--format", "production"]
    command += ["-o", str(out), "--with-loader"]
    done = subprocess.run(
        ["sh", "-c", 'umask 022 && exec "$@"', "sh", *command],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert out.stat().st_mode & 0o777 == 0o644
    assert (out.parent / "prompt_registry.py").stat().st_mode & 0o777 == 0o644
