"""The model list as data: which sampling params each model gets, and merging the API's list."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.core.errors import BadInput
from workbench.core.models import Model, Params
from workbench.services.model_list import (
    ModelCatalog,
    base_model_id,
    load_default_models,
    load_models,
    merge,
)

CURRENT = ("claude-haiku-5-5", "claude-sonnet-5-5", "claude-opus-5-5", "claude-fable-5-1")


@pytest.fixture(scope="module")
def catalog() -> ModelCatalog:
    return ModelCatalog.default()


def params(**kwargs: object) -> Params:
    return Params(model="x", **kwargs)  # type: ignore[arg-type]


# --- the shipped list ---------------------------------------------------------------------------


def test_the_default_list_has_the_current_models_with_their_tiers(catalog: ModelCatalog) -> None:
    for model_id in CURRENT:
        model = catalog.get(model_id)
        assert model is not None and model.tier in model_id and model.display_name
        assert model.max_input_tokens and model.max_output_tokens


def test_the_default_list_keeps_older_callable_models(catalog: ModelCatalog) -> None:
    assert {"claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-6"} <= set(catalog.ids())


def test_every_default_model_is_known(catalog: ModelCatalog) -> None:
    assert all(catalog.is_known(model_id) for model_id in catalog.ids())


def test_default_models_are_fresh_copies() -> None:
    load_default_models()[0].display_name = "changed"
    assert load_default_models()[0].display_name != "changed"


def test_dated_snapshot_ids_resolve_to_their_alias(catalog: ModelCatalog) -> None:
    model = catalog.get("claude-sonnet-4-5-20250929")
    assert model is not None and model.id == "claude-sonnet-4-5"
    assert base_model_id("claude-haiku-4-5-20251001") == "claude-haiku-4-5"
    assert base_model_id("claude-opus-5-5") == "claude-opus-5-5"


# --- accepted params ----------------------------------------------------------------------------


def test_newest_models_get_no_sampling_params_and_say_why(catalog: ModelCatalog) -> None:
    send, reasons = catalog.accepted_params(
        "claude-opus-5-5", params(temperature=0.2, top_p=0.9, top_k=40)
    )
    assert send == {}
    assert reasons == [
        "claude-opus-5-5 does not accept temperature; it will not be sent.",
        "claude-opus-5-5 does not accept top_p; it will not be sent.",
        "claude-opus-5-5 does not accept top_k; it will not be sent.",
    ]


def test_unset_params_are_neither_sent_nor_explained(catalog: ModelCatalog) -> None:
    assert catalog.accepted_params("claude-haiku-5-5", params()) == ({}, [])


def test_older_models_get_every_param_they_accept(catalog: ModelCatalog) -> None:
    send, reasons = catalog.accepted_params("claude-opus-4-6", params(temperature=0.2, top_k=40))
    assert send == {"temperature": 0.2, "top_k": 40} and reasons == []


def test_temperature_wins_where_a_model_refuses_it_with_top_p(catalog: ModelCatalog) -> None:
    send, reasons = catalog.accepted_params("claude-sonnet-4-5", params(temperature=0.2, top_p=0.9))
    assert send == {"temperature": 0.2}
    assert reasons == [
        "claude-sonnet-4-5 does not accept temperature and top_p together; "
        "top_p will not be sent while temperature is set."
    ]


def test_top_p_alone_is_sent_where_only_the_pair_is_refused(catalog: ModelCatalog) -> None:
    assert catalog.accepted_params("claude-haiku-4-5", params(top_p=0.9)) == ({"top_p": 0.9}, [])


def test_unknown_models_get_every_param_and_are_flagged(catalog: ModelCatalog) -> None:
    send, reasons = catalog.accepted_params(
        "claude-next-9", params(temperature=0.2, top_p=0.9, top_k=5)
    )
    assert send == {"temperature": 0.2, "top_p": 0.9, "top_k": 5} and reasons == []
    assert not catalog.is_known("claude-next-9")
    assert catalog.get("claude-next-9") is None


# --- rejection reasons for the UI -----------------------------------------------------------------


def test_rejection_reason_explains_a_disabled_control(catalog: ModelCatalog) -> None:
    assert catalog.rejection_reason("claude-sonnet-5-5", "temperature") == (
        "claude-sonnet-5-5 does not accept temperature; it will not be sent."
    )
    assert catalog.rejection_reason("claude-sonnet-4-6", "temperature") is None
    assert catalog.rejection_reason("claude-next-9", "temperature") is None


def test_rejection_reason_for_a_pair_needs_the_other_params(catalog: ModelCatalog) -> None:
    assert catalog.rejection_reason("claude-sonnet-4-5", "top_p") is None
    assert catalog.rejection_reason("claude-sonnet-4-5", "top_p", params(top_p=0.9)) is None
    reason = catalog.rejection_reason("claude-sonnet-4-5", "top_p", params(temperature=0.5))
    assert reason is not None and "together" in reason


# --- merging GET /v1/models with the curated list ----------------------------------------------------

API_LIST = [
    {
        "type": "model",
        "id": "claude-sonnet-4-5-20250929",
        "display_name": "Claude Sonnet 4.5",
        "created_at": "2025-09-29T00:00:00Z",
        "max_input_tokens": 200_000,
        "max_tokens": 64_000,
    },
    {"type": "model", "id": "claude-opus-5-5", "display_name": ""},
    {
        "type": "model",
        "id": "claude-opus-9",
        "display_name": "Claude Opus 9",
        "max_tokens": 256_000,
    },
    {"type": "model", "id": "claude-opus-5-5", "display_name": "duplicate"},
]


@pytest.fixture
def merged() -> ModelCatalog:
    return merge(API_LIST, load_default_models())


def test_merge_lists_what_the_api_offers_in_its_order(merged: ModelCatalog) -> None:
    assert merged.ids() == ["claude-sonnet-4-5-20250929", "claude-opus-5-5", "claude-opus-9"]


def test_merge_adds_capabilities_to_api_models(merged: ModelCatalog) -> None:
    sonnet = merged.get("claude-sonnet-4-5-20250929")
    assert sonnet is not None
    assert sonnet.tier == "sonnet"
    assert sonnet.rejected_params == ["temperature+top_p", "thinking.adaptive", "effort"]
    assert sonnet.max_output_tokens == 64_000 and merged.is_known(sonnet.id)


def test_merge_fills_what_the_api_left_out_from_the_defaults(merged: ModelCatalog) -> None:
    opus = merged.get("claude-opus-5-5")
    assert opus is not None
    assert opus.display_name == "Claude Opus 5.5" and opus.max_input_tokens == 1_000_000
    assert merged.rejection_reason("claude-opus-5-5", "temperature") is not None


def test_merge_keeps_new_models_with_every_param_and_flags_them(merged: ModelCatalog) -> None:
    new = merged.get("claude-opus-9")
    assert new is not None
    assert new.tier == "opus" and new.rejected_params == [] and new.max_output_tokens == 256_000
    assert not merged.is_known("claude-opus-9")
    send, _ = merged.accepted_params("claude-opus-9", params(temperature=0.3))
    assert send == {"temperature": 0.3}


def test_merge_accepts_model_objects_and_resolves_aliases_both_ways() -> None:
    catalog = merge([Model(id="claude-haiku-4-5-20251001")], load_default_models())
    model = catalog.get("claude-haiku-4-5")  # the alias finds the API's snapshot id
    assert model is not None and model.id == "claude-haiku-4-5-20251001"
    assert model.display_name == "Claude Haiku 4.5" and catalog.is_known("claude-haiku-4-5")


# --- model files ---------------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "models.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_unknown_rejected_param_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "models:\n  - id: m\n    rejected_params: [temprature]\n")
    with pytest.raises(BadInput, match="temprature") as info:
        load_models(path)
    assert info.value.field == "models[0].rejected_params"


def test_a_duplicate_model_id_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="twice"):
        load_models(write(tmp_path, "models:\n  - id: m\n  - id: m\n"))


def test_a_wrongly_typed_limit_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "models:\n  - id: m\n    max_input_tokens: lots\n")
    with pytest.raises(BadInput) as info:
        load_models(path)
    assert info.value.line == 3 and info.value.field == "models[0].max_input_tokens"
