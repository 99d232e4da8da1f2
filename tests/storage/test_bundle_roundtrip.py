"""Project ⇄ Bundle: import then export gives back the same bundle, and import is all-or-nothing."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.core.errors import BadInput
from workbench.core.models import (
    EXPECTATION_TYPES,
    Bundle,
    Dataset,
    Example,
    Expectation,
    Message,
    Model,
    Params,
    Prompt,
    PromptContent,
    PromptVersion,
    Settings,
)
from workbench.storage import Project
from workbench.storage.bundle import export_bundle, import_bundle

names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,8}", fullmatch=True)
label_names = names.filter(lambda n: n != "latest" and not n.isdigit())
var_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.\-]{0,6}", fullmatch=True)
texts = st.text(max_size=20)
unit = st.floats(min_value=0, max_value=1, allow_nan=False)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)
times = st.none() | st.datetimes(
    min_value=dt.datetime(1990, 1, 1),
    timezones=st.sampled_from([None, dt.UTC, dt.timezone(dt.timedelta(hours=-5, minutes=-30))]),
)

params = st.builds(
    Params,
    model=st.text(min_size=1, max_size=12),
    max_tokens=st.integers(1, 1_000_000),
    temperature=st.none() | unit,
    top_p=st.none() | unit,
    top_k=st.none() | st.integers(1, 500),
    stop_sequences=st.lists(texts, max_size=2),
    cache_system=st.booleans(),
)
messages = st.lists(
    st.builds(
        Message, role=st.sampled_from(["user", "assistant"]), content=texts, cache=st.booleans()
    ),
    min_size=1,
    max_size=3,
).map(lambda ms: [Message(role="user", content=ms[0].content), *ms[1:]])
contents = st.builds(PromptContent, system=texts, messages=messages, params=params)


@st.composite
def prompts(draw: Any, name: str) -> Prompt:
    bodies = draw(st.lists(contents, max_size=4, unique_by=lambda c: c.content_hash()))
    numbers = sorted(draw(st.sets(st.integers(1, 50), min_size=len(bodies), max_size=len(bodies))))
    versions = [
        PromptVersion(**body.model_dump(), version=n, note=draw(texts), created_at=draw(times))
        for body, n in zip(bodies, numbers, strict=True)
    ]
    labels = {}
    if numbers:
        labels = draw(st.dictionaries(label_names, st.sampled_from(numbers), max_size=3))
    return Prompt(name=name, description=draw(texts), versions=versions, labels=labels)


examples = st.builds(
    Example,
    vars=st.dictionaries(var_names, texts, max_size=3),
    tags=st.lists(texts, max_size=2),
    note=texts,
    expect=st.lists(
        st.builds(
            Expectation,
            type=st.sampled_from(EXPECTATION_TYPES),
            value=json_values,
            threshold=st.none() | st.floats(allow_nan=False, allow_infinity=False),
            weight=st.floats(0, 10),
        ),
        max_size=2,
    ),
)
models = st.builds(
    Model,
    id=st.text(min_size=1, max_size=10),
    display_name=texts,
    tier=texts,
    max_input_tokens=st.none() | st.integers(1, 10**6),
    max_output_tokens=st.none() | st.integers(1, 10**6),
    rejected_params=st.lists(st.sampled_from(["temperature", "top_p", "top_k"]), max_size=2),
)


@st.composite
def bundles(draw: Any) -> Bundle:
    prompt_names = draw(st.lists(names, max_size=3, unique=True))
    return Bundle(
        name=draw(st.text(min_size=1, max_size=12).filter(str.strip)),  # a blank name is refused
        description=draw(texts),
        settings=draw(
            st.builds(
                Settings,
                default_concurrency=st.integers(1, 256),
                base_url=st.none() | texts,
                min_pass_rate=unit,
                max_p95_latency_s=st.floats(0.001, 1000),
            )
        ),
        models=draw(st.lists(models, max_size=3, unique_by=lambda m: m.id)),
        prompts=[draw(prompts(n)) for n in prompt_names],
        datasets=draw(
            st.lists(
                st.builds(
                    Dataset, name=names, description=texts, examples=st.lists(examples, max_size=3)
                ),
                max_size=2,
                unique_by=lambda d: d.name,
            )
        ),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bundle=bundles())
def test_import_then_export_gives_back_the_same_bundle(bundle: Bundle) -> None:
    with tempfile.TemporaryDirectory() as folder:
        with Project.create(Path(folder) / "b.pwb", "Empty") as project:
            import_bundle(project, bundle)
        with Project.open(Path(folder) / "b.pwb", read_only=True) as reopened:
            assert export_bundle(reopened) == bundle


BODY = PromptContent(messages=[Message(role="user", content="Hi")], params=Params(model="m"))


def _bundle(versions: int = 1, labels: dict[str, int] | None = None) -> Bundle:
    """A small bundle; `versions` > 1 repeats the same content under new numbers."""
    prompt = Prompt(
        name="greet",
        versions=[PromptVersion(**BODY.model_dump(), version=n) for n in range(1, versions + 1)],
        labels=labels or {},
    )
    return Bundle(
        name="B",
        prompts=[prompt],
        datasets=[Dataset(name="smoke", examples=[Example(vars={"x": "1"})])],
    )


@pytest.mark.parametrize(
    ("bundle", "message"),
    [
        (_bundle(versions=2), "versions 1 and 2 have identical content"),
        (_bundle(labels={"latest": 1}), "read as a version reference"),
        (_bundle(labels={"7": 1}), "read as a version reference"),
    ],
    ids=["duplicate version content", "label 'latest'", "numeric label"],
)
def test_bundles_a_project_cannot_hold_are_refused_before_writing(
    tmp_path: Path, bundle: Bundle, message: str
) -> None:
    with Project.create(tmp_path / "p.pwb", "Keep") as project:
        with pytest.raises(BadInput, match=message) as raised:
            import_bundle(project, bundle)
        assert "prompts.greet" in str(raised.value)
        assert project.prompts.names() == [] and project.name == "Keep"


def test_name_clashes_are_refused(tmp_path: Path) -> None:
    with Project.create(tmp_path / "p.pwb", "Keep") as project:
        project.datasets.create("smoke")
        with pytest.raises(BadInput, match="already has dataset 'smoke'"):
            import_bundle(project, _bundle())
        assert project.prompts.names() == []


def test_a_failure_midway_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Project.create(tmp_path / "p.pwb", "Keep") as project:

        def boom(*args: Any, **kwargs: Any) -> list[int]:
            raise OSError("disk full")

        monkeypatch.setattr(project.datasets, "add_examples", boom)
        with pytest.raises(OSError):
            import_bundle(project, _bundle(labels={"production": 1}))
        assert project.prompts.names() == [] and project.name == "Keep"
        assert project.db.execute("SELECT COUNT(*) FROM label_events").fetchone()[0] == 0


def test_versions_keep_their_numbers_notes_and_times(tmp_path: Path) -> None:
    when = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    prompt = Prompt(
        name="greet",
        versions=[
            PromptVersion(**BODY.model_dump(), version=4, note="four", created_at=when),
            PromptVersion(
                **BODY.model_copy(update={"system": "x"}).model_dump(), version=9, note="nine"
            ),
        ],
        labels={"production": 4},
    )
    with Project.create(tmp_path / "p.pwb", "Keep") as project:
        import_bundle(project, Bundle(name="B", prompts=[prompt]))
        assert project.prompts.resolve("greet", "production").created_at == when
        assert project.prompts.save_version("greet", BODY) == (prompt.versions[0], False)
        assert (
            project.prompts.save_version("greet", BODY.model_copy(update={"system": "y"}))[
                0
            ].version
            == 10
        )


def test_production_settings_travel_with_the_bundle_and_follow_a_rename(tmp_path: Path) -> None:
    from workbench.core.models import FeatureFlag, ProductionSettings

    settings_ = ProductionSettings(
        feature_flag=FeatureFlag(staff_only=False, rollout_percent=7.5), kill_switch=True
    )
    source = Bundle.model_validate(
        {
            "name": "flags",
            "prompts": [
                {
                    "name": "answer",
                    "labels": {"production": 1},
                    "production": settings_.model_dump(),
                    "versions": [
                        {
                            "version": 1,
                            "messages": [{"role": "user", "content": "hi"}],
                            "params": {"model": "m"},
                        }
                    ],
                },
                {
                    "name": "plain",
                    "versions": [
                        {
                            "version": 1,
                            "messages": [{"role": "user", "content": "yo"}],
                            "params": {"model": "m"},
                        }
                    ],
                },
            ],
        }
    )
    with Project.create(tmp_path / "p.pwb", "flags") as project:
        import_bundle(project, source)
        assert project.prompts.production_settings("answer") == settings_
        assert project.prompts.production_settings("plain") is None
        assert export_bundle(project).prompts == source.prompts
        project.prompts.rename("answer", "reply")
        assert project.prompts.production_settings("reply") == settings_
        assert project.prompts.get("reply").production == settings_
