"""The model list and what each model accepts, as data (resources/models.yaml + GET /v1/models).

The runner asks `ModelCatalog.accepted_params` which sampling params to send; the UI asks
`rejection_reason` why a control is disabled. Ids the catalog does not know are sent every
param (the API will say if it objects) and `is_known` reports them, so the UI can warn.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from workbench.core.errors import BadInput
from workbench.core.models import Model, Params, PromptContent
from workbench.resources import resource_path

SAMPLING_PARAMS = ("temperature", "top_p", "top_k")
# In rejected_params: the model refuses temperature and top_p in the same request.
TEMPERATURE_WITH_TOP_P = "temperature+top_p"
# Thinking settings a model may refuse: a manual budget, adaptive thinking, an effort level.
THINKING_ENABLED, THINKING_ADAPTIVE, EFFORT = "thinking.enabled", "thinking.adaptive", "effort"
THINKING_PARAMS = (THINKING_ENABLED, THINKING_ADAPTIVE, EFFORT)
REJECTABLE = frozenset((*SAMPLING_PARAMS, TEMPERATURE_WITH_TOP_P, *THINKING_PARAMS))
TIERS = ("haiku", "sonnet", "opus", "fable")

_DATE_SUFFIX = re.compile(r"-\d{8}$")

T = TypeVar("T", bound=BaseModel)


def base_model_id(model_id: str) -> str:
    """The alias of a dated snapshot id (``claude-sonnet-4-5-20250929`` -> ``claude-sonnet-4-5``)."""
    return _DATE_SUFFIX.sub("", model_id.strip())


# --- loading YAML data files with line numbers in errors --------------------------------------


def _item_lines(text: str, key: str) -> list[tuple[int, dict[str, int]]]:
    """For each item of the top-level `key:` list: its line and the line of each of its fields."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if not isinstance(root, yaml.MappingNode):
        return []
    for key_node, value_node in root.value:
        if key_node.value == key and isinstance(value_node, yaml.SequenceNode):
            out = []
            for item in value_node.value:
                fields: dict[str, int] = {}
                if isinstance(item, yaml.MappingNode):
                    fields = {k.value: k.start_mark.line + 1 for k, _ in item.value}
                out.append((item.start_mark.line + 1, fields))
            return out
    return []


def load_yaml_records(path: Path, key: str, model: type[T]) -> list[T]:
    """Validate each item of the top-level `key:` list in a YAML file as `model`.

    Errors are `BadInput` naming the file, the line and the field (``prices[3].input``).
    """
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"cannot read the file ({exc.strerror}).", source=source) from exc
    try:
        data = yaml.safe_load(text)
        lines = _item_lines(text, key)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise BadInput(
            f"not valid YAML ({getattr(exc, 'problem', None) or exc}).",
            source=source,
            line=mark.line + 1 if mark is not None else None,
            hint="Fix the YAML syntax at that line.",
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        raise BadInput(
            f"expected a top-level '{key}:' list.",
            source=source,
            line=1,
            hint=f"Start the file with '{key}:' followed by one '- ' item per entry.",
        )
    records: list[T] = []
    for index, item in enumerate(data[key]):
        item_line, field_lines = lines[index] if index < len(lines) else (None, {})
        try:
            records.append(model.model_validate(item))
        except ValidationError as exc:
            error = exc.errors()[0]
            loc = [str(part) for part in error["loc"]]
            line = field_lines.get(loc[0], item_line) if loc else item_line
            field = ".".join([f"{key}[{index}]", *loc])
            if error["type"] == "extra_forbidden":
                message, hint = f"unknown field '{loc[-1]}'.", "Check its spelling, or remove it."
            else:
                message, hint = f"{error['msg']}.", "Fix that value."
            raise BadInput(message, source=source, line=line, field=field, hint=hint) from exc
    return records


# --- the model list ---------------------------------------------------------------------------


def load_models(path: Path) -> list[Model]:
    """Models from a models.yaml-style file, checked for unknown params and duplicate ids."""
    models = load_yaml_records(path, "models", Model)
    seen: set[str] = set()
    for index, model in enumerate(models):
        unknown = [p for p in model.rejected_params if p not in REJECTABLE]
        if unknown:
            raise BadInput(
                f"unknown sampling parameter '{unknown[0]}'.",
                source=str(path),
                field=f"models[{index}].rejected_params",
                hint=f"Use only: {', '.join(sorted(REJECTABLE))}.",
            )
        if model.id in seen:
            raise BadInput(
                f"model '{model.id}' is listed twice.",
                source=str(path),
                field=f"models[{index}].id",
                hint="Keep one entry per model id.",
            )
        seen.add(model.id)
    return models


@functools.cache
def _default_models() -> tuple[Model, ...]:
    return tuple(load_models(resource_path("models.yaml")))


def load_default_models() -> list[Model]:
    """The built-in model list (fresh copies, so callers may modify them)."""
    return [m.model_copy(deep=True) for m in _default_models()]


def _rejected_reason(model_id: str, param: str) -> str:
    return f"{model_id} does not accept {param}; it will not be sent."


def _pair_reason(model_id: str) -> str:
    return (
        f"{model_id} does not accept temperature and top_p together; "
        "top_p will not be sent while temperature is set."
    )


class ModelCatalog:
    """Models by id, with the sampling params each accepts.

    :param known_ids: ids whose capabilities come from curated data; default: all of `models`.
    """

    def __init__(self, models: Iterable[Model], *, known_ids: Iterable[str] | None = None) -> None:
        self._models: dict[str, Model] = {}
        self._by_base: dict[str, Model] = {}
        for model in models:
            self._models.setdefault(model.id, model)
            self._by_base.setdefault(base_model_id(model.id), model)
        self._known = set(self._models) if known_ids is None else set(known_ids)

    @classmethod
    def default(cls) -> ModelCatalog:
        """The built-in catalog from resources/models.yaml."""
        return cls(load_default_models())

    def get(self, model_id: str) -> Model | None:
        """The model for an id, an alias or a dated snapshot id; None if not listed."""
        found = self._models.get(model_id)
        if found is None:
            base = base_model_id(model_id)
            found = self._models.get(base) or self._by_base.get(base)
        return found

    def ids(self) -> list[str]:
        return list(self._models)

    def models(self) -> list[Model]:
        return list(self._models.values())

    def is_known(self, model_id: str) -> bool:
        """Whether the catalog has curated capability data for this model."""
        model = self.get(model_id)
        return model is not None and model.id in self._known

    def _rejected(self, model_id: str) -> list[str]:
        model = self.get(model_id)
        return list(model.rejected_params) if model is not None else []

    def accepted_params(self, model_id: str, params: Params) -> tuple[dict[str, Any], list[str]]:
        """The sampling params to send to `model_id`, and one sentence per param dropped."""
        wanted = params.sampling_params()
        rejected = self._rejected(model_id)
        send: dict[str, Any] = {}
        reasons: list[str] = []
        for name, value in wanted.items():
            if name in rejected:
                reasons.append(_rejected_reason(model_id, name))
            else:
                send[name] = value
        # temperature wins: it is the control users reach for; top_p is the rarer refinement.
        if TEMPERATURE_WITH_TOP_P in rejected and "temperature" in send and "top_p" in send:
            del send["top_p"]
            reasons.append(_pair_reason(model_id))
        return send, reasons

    def accepted_thinking(
        self, model_id: str, content: PromptContent
    ) -> tuple[dict[str, Any] | None, str | None, list[str]]:
        """The thinking config and effort to send to `model_id`, and one sentence per refusal."""
        rejected = self._rejected(model_id)
        reasons: list[str] = []
        thinking = content.thinking.to_api() if content.thinking is not None else None
        if thinking is not None and f"thinking.{thinking['type']}" in rejected:
            other = "adaptive" if thinking["type"] == "enabled" else "enabled with a budget"
            reasons.append(
                f"{model_id} does not accept {thinking['type']} thinking (it takes {other}); "
                "thinking will not be sent."
            )
            thinking = None
        effort = content.effort
        if effort is not None and EFFORT in rejected:
            reasons.append(_rejected_reason(model_id, "effort"))
            effort = None
        return thinking, effort, reasons

    def rejection_reason(
        self, model_id: str, param: str, params: Params | None = None
    ) -> str | None:
        """Why `param` will not be sent to `model_id` (None if it will be).

        Pass the other `params` to learn about pairs the model refuses together.
        """
        rejected = self._rejected(model_id)
        if param in rejected:
            return _rejected_reason(model_id, param)
        if (
            param == "top_p"
            and TEMPERATURE_WITH_TOP_P in rejected
            and params is not None
            and params.temperature is not None
        ):
            return _pair_reason(model_id)
        return None


# --- combining the Models API list with curated data -------------------------------------------


def _api_fields(entry: Model | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(entry, Model):
        return entry.model_dump()
    return {
        "id": entry.get("id"),
        "display_name": entry.get("display_name") or "",
        "max_input_tokens": entry.get("max_input_tokens"),
        # The Models API calls it max_tokens; accept our own name too.
        "max_output_tokens": entry.get("max_tokens", entry.get("max_output_tokens")),
    }


def _guess_tier(model_id: str) -> str:
    return next((tier for tier in TIERS if tier in model_id), "")


def merge(
    api_models: Iterable[Model | Mapping[str, Any]], defaults: Iterable[Model]
) -> ModelCatalog:
    """A catalog of the models the API lists, with capabilities from `defaults`.

    The API decides which models exist for this key (and their names and limits, where it
    gives them); `defaults` add the tier and rejected params. Models only in `defaults` are
    left out, since the API did not offer them. API models with no curated entry keep every
    param and are reported by `is_known` as unknown.
    """
    curated = ModelCatalog(defaults)
    merged: list[Model] = []
    known: list[str] = []
    seen: set[str] = set()
    for entry in api_models:
        fields = _api_fields(entry)
        model_id = str(fields.get("id") or "").strip()
        if not model_id or model_id in seen:
            continue
        seen.add(model_id)
        default = curated.get(model_id)
        model = Model(
            id=model_id,
            display_name=fields["display_name"] or (default.display_name if default else ""),
            tier=(default.tier if default else "") or fields.get("tier") or _guess_tier(model_id),
            max_input_tokens=fields["max_input_tokens"]
            or (default.max_input_tokens if default else None),
            max_output_tokens=fields["max_output_tokens"]
            or (default.max_output_tokens if default else None),
            rejected_params=list(
                default.rejected_params if default else fields.get("rejected_params") or []
            ),
        )
        merged.append(model)
        if default is not None:
            known.append(model_id)
    return ModelCatalog(merged, known_ids=known)
