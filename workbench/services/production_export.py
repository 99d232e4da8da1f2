"""The production export: the prompt registry a web app loads (DESIGN.md §7).

Per prompt: the version a label points at, rendered-ready content, model and parameters, the
version id to log with every call, and the rollout controls stored in the project (feature flag,
kill switch, alert thresholds). Output is deterministic — sorted keys, no volatile field but
``exported_at`` — so a registry kept in git diffs cleanly. `workbench.runtime` loads it.
"""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

from workbench import __version__
from workbench.core.errors import BadInput
from workbench.core.models import (
    ProductionSettings,
    Prompt,
    PromptVersion,
)
from workbench.formats.atomic import write_text_atomic
from workbench.runtime import FORMAT, FORMAT_VERSION
from workbench.services.judge import JUDGE_PROMPT
from workbench.services.model_list import ModelCatalog
from workbench.services.project_models import model_catalog
from workbench.storage.project import Project
from workbench.storage.prompts_repo import check_label_name

DEFAULT_LABEL = "production"
LOADER_FILENAME = "prompt_registry.py"
Format = Literal["json", "yaml"]
_SUFFIXES: dict[str, Format] = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}
_ODD_BREAKS = frozenset("\r\x85\u2028\u2029")  # a YAML block literal cannot keep these as written


# --- rollout settings stored per prompt ------------------------------------------------------


def get_production_settings(project: Project, name: str) -> ProductionSettings:
    """The stored settings of prompt `name`, or the defaults when none were saved."""
    return project.prompts.production_settings(name) or ProductionSettings()


def set_production_settings(project: Project, name: str, settings: ProductionSettings) -> None:
    """Store the settings of prompt `name` in the project."""
    project.prompts.set_production_settings(name, settings)


# --- building the export ---------------------------------------------------------------------


def version_id(name: str, version: int, digest: str) -> str:
    """Human-friendly, unique id logged with every call: ``support-answer@v3#1a2b3c4d5e6f``."""
    return f"{name}@v{version}#{digest[:12]}"


def _iso_utc(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _prompt_entry(
    prompt: Prompt,
    version: PromptVersion,
    label: str,
    settings: ProductionSettings,
    catalog: ModelCatalog,
) -> dict[str, Any]:
    params = version.params
    # Send what the workbench sends: sampling params the model refuses are dropped here too.
    sampling, _dropped = catalog.accepted_params(params.model, params)
    exported_params: dict[str, Any] = {"max_tokens": params.max_tokens, **sampling}
    if params.stop_sequences:
        exported_params["stop_sequences"] = list(params.stop_sequences)
    digest = version.hash
    return {
        "version": version.version,
        "version_id": version_id(prompt.name, version.version, digest),
        "content_hash": digest,
        "label": label,
        "model": params.model,
        "params": exported_params,
        "cache": {
            "system": params.cache_system,
            "prefix_messages": max(
                (i + 1 for i, m in enumerate(version.messages) if m.cache), default=0
            ),
        },
        "system": version.system,
        "messages": [
            {"role": m.role, "content": m.model_dump(mode="json")["content"]}
            for m in version.messages
        ],
        "variables": version.variables(),
        **_extras(version, catalog),
        **settings.model_dump(mode="json"),
    }


def _extras(version: PromptVersion, catalog: ModelCatalog) -> dict[str, Any]:
    """Tools, tool_choice, output schema, thinking, effort and prefill, where the version has
    them; thinking and effort as the workbench sends them to the version's model."""
    out: dict[str, Any] = {}
    if version.tools:
        out["tools"] = [t.model_dump(mode="json") for t in version.tools]
    if version.tool_choice is not None:
        out["tool_choice"] = version.tool_choice.to_api()
    if version.output_schema is not None:
        out["output_schema"] = version.output_schema
    thinking, effort, _dropped = catalog.accepted_thinking(version.params.model, version)
    if thinking is not None:
        out["thinking"] = thinking
    if effort is not None:
        out["effort"] = effort
    if version.prefill:
        out["prefill"] = version.prefill
    return out


def build_production_export(
    project: Project,
    *,
    label: str = DEFAULT_LABEL,
    skip_unlabelled: bool = False,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The export as a dict (see docs/production.md and docs/production.schema.json).

    :raises BadInput: a prompt lacks `label` (unless `skip_unlabelled`), or nothing is left
    """
    check_label_name(label)
    catalog = model_catalog(project)
    prompts: dict[str, Any] = {}
    unlabelled: list[str] = []
    for prompt in project.prompts.list():
        number = prompt.labels.get(label)
        if number is None:
            # The LLM judge is the workbench's own prompt: shipped only if the user labelled it.
            if prompt.name != JUDGE_PROMPT:
                unlabelled.append(prompt.name)
            continue
        version = next(v for v in prompt.versions if v.version == number)
        settings = get_production_settings(project, prompt.name)
        prompts[prompt.name] = _prompt_entry(prompt, version, label, settings, catalog)
    if unlabelled and not skip_unlabelled:
        names = ", ".join(f"'{n}'" for n in unlabelled)
        raise BadInput(
            f"prompt {names} has no '{label}' label, so there is no version to export",
            source=str(project.path),
            hint=f"Point '{label}' at a version, or pass --skip-unlabelled to leave it out.",
        )
    if not prompts:
        raise BadInput(
            f"no prompt has a '{label}' label, so there is nothing to export",
            source=str(project.path),
            hint=f"Point '{label}' at a version of a prompt, or choose another with --label.",
        )
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "exported_at": _iso_utc(now or dt.datetime.now(dt.UTC)),
        "project": project.name,
        "workbench_version": __version__,
        "label": label,
        "skipped": sorted(unlabelled),
        "prompts": dict(sorted(prompts.items())),
    }


# --- writing ---------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Block style, no anchors, multi-line text as `|` literals: readable, stable diffs."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = None
    if "\n" in text:
        style = '"' if _ODD_BREAKS.intersection(text) else "|"
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_str)


def dumps_production(data: dict[str, Any], fmt: Format) -> str:
    """The export as JSON or YAML text with sorted keys, ending in a newline."""
    if fmt == "json":
        return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=True,
        allow_unicode=True,
        default_flow_style=False,
        width=1 << 30,
        indent=2,
    )


def format_for(output: Path, fmt: str | None = None) -> Format:
    """The format asked for, or the one the file suffix implies (.json, .yaml, .yml)."""
    if fmt is not None:
        if fmt not in ("json", "yaml"):
            raise BadInput(f"unknown format '{fmt}'", field="format", hint="Use json or yaml.")
        return "json" if fmt == "json" else "yaml"
    found = _SUFFIXES.get(Path(output).suffix.lower())
    if found is None:
        raise BadInput(
            "cannot tell the format from the file name",
            source=str(output),
            hint="Name it .json, .yaml or .yml.",
        )
    return found


def loader_source() -> str:
    """The standalone loader (``prompt_registry.py``): the runtime module, verbatim."""
    text = resources.files("workbench.runtime").joinpath("registry.py").read_text("utf-8")
    header = (
        f"# {LOADER_FILENAME}: written by Prompt Workbench {__version__} "
        "(workbench export --with-loader).\n"
        "# Standard library only; keep it beside the exported prompts file.\n"
    )
    return header + text


def _write(path: Path, text: str) -> None:
    try:
        write_text_atomic(path, text)
    except OSError as exc:
        raise BadInput(
            f"cannot write the file: {exc.strerror or exc}",
            source=str(path),
            hint="Check that the folder exists and is writable.",
        ) from None


def export_production(
    project: Project,
    output: Path,
    *,
    label: str = DEFAULT_LABEL,
    skip_unlabelled: bool = False,
    fmt: str | None = None,
    write_loader: bool = False,
) -> dict[str, Any]:
    """Write the production export to `output` atomically and return what was written.

    :param fmt: "json" or "yaml"; None picks by the suffix of `output`
    :param write_loader: also write ``prompt_registry.py`` (the stdlib loader) beside `output`
    """
    output = Path(output)
    chosen = format_for(output, fmt)
    data = build_production_export(project, label=label, skip_unlabelled=skip_unlabelled)
    _write(output, dumps_production(data, chosen))
    if write_loader:
        _write(output.parent / LOADER_FILENAME, loader_source())
    return data
