"""`workbench eval --replay`: answer each call from a recording of earlier calls, never the API.

A pull request from a fork has no API key, yet most of its cells are often unchanged: the same
prompt text, variables, model and parameters as a call the project already made. The
`ReplayProvider` answers exactly those (the request's hash equals a recorded successful call's,
the same key as the response cache) with the recorded output, stop reason, usage and latency, so
they are scored for real (cost from the recorded tokens); every other request fails at once with
`REPLAY_MISS`, which scoring reports as a skipped case rather than a failure. No network, no key.

The recording is a project file (``.pwb``) holding the calls: the project itself, or the one the
last keyed run wrote (docs/ci.md shows how CI keeps it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from workbench.core.errors import BadInput
from workbench.core.hashing import content_hash
from workbench.core.models import Model
from workbench.core.records import CellWithCall, StoredCall
from workbench.inference.base import CallRequest, CallResult, OnBackoff, OnText, Usage
from workbench.services.rendering import request_identity
from workbench.storage.runs_repo import RunsRepo

REPLAY_MISS = "the request changed since the recording, so replay has no answer for it"
REPLAY_SKIP_REASON = "not replayed: " + REPLAY_MISS + " (run it with an API key)"


class ReplayProvider:
    """A provider that answers from recorded calls only (see the module doc).

    :param recording: the calls repository of the recording project
    """

    name = "replay"
    synthetic = False

    def __init__(self, recording: RunsRepo) -> None:
        self._recording = recording
        self.answered = 0
        self.missed = 0

    async def call(
        self,
        request: CallRequest,
        on_text: OnText | None = None,
        on_backoff: OnBackoff | None = None,
    ) -> CallResult:
        """The recorded answer to `request`, or a failed result saying it changed."""
        recorded = self._recording.find_cached(content_hash(request_identity(request)), False)
        if recorded is None:
            self.missed += 1
            return CallResult(error_type="invalid_request", error_message=REPLAY_MISS)
        self.answered += 1
        if on_text is not None and recorded["output"]:
            on_text(recorded["output"])
        return CallResult(
            text=recorded["output"] or "",
            stop_reason=recorded["stop_reason"],
            usage=Usage(
                input_tokens=recorded["input_tokens"] or 0,
                output_tokens=recorded["output_tokens"] or 0,
                cache_creation_input_tokens=recorded["cache_creation_tokens"] or 0,
                cache_read_input_tokens=recorded["cache_read_tokens"] or 0,
            ),
            ttft_ms=recorded["ttft_ms"],
            latency_ms=recorded["latency_ms"],
            total_ms=recorded["latency_ms"] or 0.0,
            request_id=recorded["request_id"],
            model=request.model,
        )

    async def count_tokens(self, request: CallRequest) -> int | None:
        return None

    async def list_models(self) -> list[Model]:
        return []

    async def aclose(self) -> None:
        return None


def is_replay_miss(row: CellWithCall | StoredCall) -> bool:
    """Whether a stored call is a replay that had no recorded answer."""
    return row.error_message == REPLAY_MISS


@contextlib.contextmanager
def open_recording(path: Path) -> Iterator[RunsRepo]:
    """The calls of the recording project at `path`, opened read-only."""
    from workbench.storage.project import Project

    path = Path(path)
    if path.suffix != ".pwb" or not path.is_file():
        raise BadInput(
            f"the recording must be an existing project file (.pwb), not {path}",
            field="--recording",
            hint="Pass the project file the last keyed eval run wrote (see docs/ci.md).",
        )
    with Project.open(path, read_only=True) as project:
        yield project.runs
