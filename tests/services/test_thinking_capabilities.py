"""Which thinking settings each model is sent, from the capability table (resources/models.yaml)."""

from __future__ import annotations

from tests.core.test_blocks import rich
from workbench.services.model_list import ModelCatalog


def test_a_budget_goes_to_models_that_take_one_and_is_explained_elsewhere() -> None:
    catalog = ModelCatalog.default()
    content = rich(thinking={"type": "enabled", "budget_tokens": 2048}, effort="high")
    thinking, effort, reasons = catalog.accepted_thinking("claude-opus-4-6", content)
    assert thinking == {"type": "enabled", "budget_tokens": 2048} and effort == "high"
    assert reasons == []
    thinking, effort, reasons = catalog.accepted_thinking("claude-haiku-5-5", content)
    assert thinking is None and effort == "high"
    assert reasons == [
        "claude-haiku-5-5 does not accept enabled thinking (it takes adaptive); "
        "thinking will not be sent."
    ]


def test_adaptive_and_effort_are_refused_by_the_4_5_models() -> None:
    catalog = ModelCatalog.default()
    content = rich(thinking={"type": "adaptive"}, effort="low")
    thinking, effort, reasons = catalog.accepted_thinking("claude-haiku-4-5-20251001", content)
    assert thinking is None and effort is None and len(reasons) == 2
    assert "effort" in reasons[1]
    assert catalog.accepted_thinking("claude-sonnet-5-5", content)[:2] == (
        {"type": "adaptive"},
        "low",
    )


def test_unknown_models_are_sent_everything() -> None:
    content = rich(thinking={"type": "adaptive"})
    assert ModelCatalog.default().accepted_thinking("claude-new-9", content) == (
        {"type": "adaptive"},
        "medium",
        [],
    )
