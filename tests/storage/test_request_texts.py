"""Shared request texts: what is stored once comes back exactly as it was given."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.storage.project import Project
from workbench.storage.request_texts import MIN_SHARED_LENGTH, RequestTexts, expand_request

LONG = "You are helpful. " * 40

REQUESTS: list[dict[str, Any]] = [
    {"model": "m", "system": LONG, "messages": [{"role": "user", "content": "hi"}], "vars": {}},
    {"model": "m", "system": [{"type": "text", "text": LONG, "cache_control": {"type": "x"}}]},
    {"messages": [{"role": "user", "content": [{"type": "text", "text": LONG}]}, "odd"]},
    {"model": "m", "messages": [{"role": "assistant", "content": LONG}], "max_tokens": 5},
    {"system": {"$text": 1}, "note": "a request that looks like ours is kept as given"},
    {"messages": [{"role": "user", "content": {"$text": 1}}]},
    {},
]


@pytest.fixture
def project(tmp_path: Path) -> Any:
    with Project.create(tmp_path / "p.pwb", "p") as opened:
        yield opened


def _round_trip(project: Project, request: dict[str, Any]) -> Any:
    with project.db.atomic():
        compact = RequestTexts(project.db).compact(request)
    return expand_request(project.db, json.dumps(compact, sort_keys=True))


@pytest.mark.parametrize("request_", REQUESTS)
def test_requests_come_back_as_given(project: Project, request_: dict[str, Any]) -> None:
    assert _round_trip(project, request_) == request_


def test_a_raw_request_holding_a_mark_is_never_expanded(project: Project) -> None:
    _round_trip(project, REQUESTS[0])  # rows 1 and 2 now exist
    assert expand_request(project.db, json.dumps({"system": {"$text": 1}})) == {
        "system": {"$text": 1}
    }


def test_a_long_text_is_stored_once(project: Project) -> None:
    texts = RequestTexts(project.db)
    with project.db.atomic():
        first = texts.compact(REQUESTS[0])
        again = RequestTexts(project.db).compact({**REQUESTS[0], "vars": {"q": "other"}})
    assert first["$base"] == again["$base"]
    (count,) = project.db.execute("SELECT COUNT(*) FROM request_texts").fetchone()
    assert count == 2 and len(LONG) >= MIN_SHARED_LENGTH


_text = st.text(max_size=400) | st.just(LONG)
_message = st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant"]), "content": _text})


@settings(max_examples=60, deadline=None)
@given(
    request_=st.fixed_dictionaries(
        {"model": st.text(max_size=10), "messages": st.lists(_message, max_size=3)},
        optional={"system": _text, "vars": st.dictionaries(st.text(max_size=5), _text, max_size=2)},
    )
)
def test_any_plain_request_round_trips(tmp_path_factory: Any, request_: dict[str, Any]) -> None:
    path = tmp_path_factory.mktemp("rt") / "p.pwb"
    with Project.create(path, "p") as project:
        assert _round_trip(project, request_) == request_
