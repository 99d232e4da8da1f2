"""The QuizCraft sample project (projects/quizcraft.yaml): loads, is complete, and round-trips."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.core.models import Bundle, Dataset, Prompt
from workbench.core.templates import check
from workbench.formats.bundle_yaml import dump_bundle, load_bundle, loads_bundle

SAMPLE = Path(__file__).resolve().parents[2] / "projects" / "quizcraft.yaml"
MODELS = {"claude-haiku-5-5", "claude-sonnet-5-5", "claude-opus-5-5"}
# Which datasets each prompt is meant to run on.
PAIRS = [
    ("support-answer", "support-questions"),
    ("support-answer", "support-evals"),
    ("summarize", "summaries"),
]


@pytest.fixture(scope="module")
def sample() -> Bundle:
    return load_bundle(SAMPLE)


def _prompt(bundle: Bundle, name: str) -> Prompt:
    return next(p for p in bundle.prompts if p.name == name)


def _dataset(bundle: Bundle, name: str) -> Dataset:
    return next(d for d in bundle.datasets if d.name == name)


def test_sample_has_its_settings_and_the_three_model_tiers(sample: Bundle) -> None:
    assert sample.name == "QuizCraft"
    assert (sample.settings.default_concurrency, sample.settings.min_pass_rate) == (8, 0.8)
    assert {m.id for m in sample.models} == MODELS
    for prompt in sample.prompts:
        for version in prompt.versions:
            assert version.params.model == "claude-haiku-5-5"


def test_support_answer_has_bare_strict_and_concise_versions(sample: Bundle) -> None:
    prompt = _prompt(sample, "support-answer")
    assert prompt.labels == {"production": 2, "staging": 3}
    v1, v2, v3 = sorted(prompt.versions, key=lambda v: v.version)
    assert v1.system == "You are the support assistant for QuizCraft, a quiz app."
    assert [(m.role, m.content) for m in v1.messages] == [("user", "{{question}}")]
    for version in (v2, v3):
        assert version.system.startswith(v1.system)
        for needle in ("python -m venv .venv", "pip install quizcraft", "30 days", "not sure"):
            assert needle in version.system
        assert [m.content for m in version.messages] == ["{{question}}"]
    assert "at most 3 sentences" in v3.system and "3 sentences" not in v2.system


def test_summarize_versions_and_label(sample: Bundle) -> None:
    prompt = _prompt(sample, "summarize")
    assert prompt.labels == {"production": 3}
    assert [v.messages[0].content for v in sorted(prompt.versions, key=lambda v: v.version)] == [
        "Summarize this:\n\n{{text}}",
        "Provide a 2-sentence summary:\n\n{{text}}",
        "Provide a concise 2-sentence summary preserving key facts:\n\n{{text}}",
    ]


def test_support_questions_include_the_hard_cases(sample: Bundle) -> None:
    examples = _dataset(sample, "support-questions").examples
    questions = [e.vars["question"] for e in examples]
    assert len(examples) == 20 and all(e.tags for e in examples)
    assert "?" in questions
    assert any("ich" in q.split() for q in questions)  # German
    assert any(any("\u3040" <= c <= "\u30ff" for c in q) for q in questions)  # Japanese
    assert any("Ignore previous instructions" in q for q in questions)
    assert any("@example.com" in q and "555-" in q for q in questions)
    assert max(len(q) for q in questions) >= 2000
    tags = {t for e in examples for t in e.tags}
    assert {"install", "refund", "account", "quiz-creation", "billing"} <= tags


def test_support_evals_carry_keyword_expectations(sample: Bundle) -> None:
    cases = _dataset(sample, "support-evals").examples
    assert len(cases) >= 8 and all(c.expect for c in cases)
    expected = {(e.type, str(e.value)) for c in cases for e in c.expect}
    assert ("icontains", "venv") in expected
    assert ("icontains", "30 days") in expected
    assert ("not-icontains", "You are the support assistant") in expected


def test_summaries_have_length_or_keyword_expectations(sample: Bundle) -> None:
    cases = _dataset(sample, "summaries").examples
    assert len(cases) >= 5
    assert all({e.type for e in c.expect} & {"max-length", "icontains"} for c in cases)


@pytest.mark.parametrize(("prompt_name", "dataset_name"), PAIRS)
def test_every_version_renders_with_every_example(
    sample: Bundle, prompt_name: str, dataset_name: str
) -> None:
    for version in _prompt(sample, prompt_name).versions:
        for index, example in enumerate(_dataset(sample, dataset_name).examples):
            result = check(version.texts(), example.vars)
            assert result.ok and not result.unused, (version.version, index, result)


def test_sample_file_is_in_canonical_form_and_round_trips(sample: Bundle) -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    dumped = dump_bundle(sample)
    assert dump_bundle(loads_bundle(dumped)) == dumped
    # Exporting a project made from the sample gives back the same file (no noise in git).
    assert dumped == text
