"""The Message Batches API of the fake server: create, retrieve, list, results, cancel, delete.

A batch's requests finish evenly spread over ``BatchSettings.processing_s`` so request counts
move while it runs; results (JSONL) exist once it has ended, as with the real API. Expiry and
cancellation end it early, leaving unfinished requests ``expired`` or ``canceled``. Each
request's answer is the same deterministic completion ``/v1/messages`` would give.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from workbench.testing.fake_config import HTTP_FAULTS, FaultSpec
from workbench.testing.fake_errors import ApiError, page_of, validate_messages_body
from workbench.testing.fake_scale_config import BatchSettings
from workbench.testing.fake_sse import message_json
from workbench.testing.fake_text import PromptCache, complete

PREFIX = "/v1/messages/batches"
_CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def rfc3339(epoch: float) -> str:
    """The API's timestamp form, e.g. ``2026-12-04T18:37:24.100435Z``."""
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(slots=True)
class FakeBatch:
    """One batch; its state is a function of the clock, advanced lazily on each look."""

    id: str
    requests: list[tuple[str, dict[str, Any]]]
    created: float
    settings: BatchSettings
    cancel_at: float | None = None
    results: list[dict[str, Any]] = field(default_factory=list)  # of finished requests

    @property
    def expires_at(self) -> float:
        return self.created + self.settings.expire_s

    def finish_time(self, index: int) -> float:
        """When request ``index`` (0-based) is processed if nothing stops the batch first."""
        return self.created + self.settings.processing_s * (index + 1) / len(self.requests)

    def ended_at(self) -> float:
        """When processing ends: all done, expired, or cancelled plus the canceling delay."""
        end = min(self.finish_time(len(self.requests) - 1), self.expires_at)
        if self.cancel_at is not None:
            end = min(end, self.cancel_at + self.settings.cancel_s)
        return end

    def stopped_at(self) -> float:
        """After this no further request is processed."""
        stop = self.expires_at
        if self.cancel_at is not None:
            stop = min(stop, self.cancel_at)
        return stop

    def done_by(self, now: float) -> int:
        """How many requests have been processed at ``now``."""
        limit = min(now, self.stopped_at())
        done = len(self.results)
        while done < len(self.requests) and self.finish_time(done) <= limit:
            done += 1
        return done

    def status(self, now: float) -> str:
        if now >= self.ended_at():
            return "ended"
        return "canceling" if self.cancel_at is not None else "in_progress"

    def unfinished_type(self) -> str:
        """What a request not processed before the end becomes."""
        cancelled_first = self.cancel_at is not None and self.cancel_at < self.expires_at
        return "canceled" if cancelled_first else "expired"


class BatchStore:
    """All batches of one fake server and the HTTP handling of their endpoints."""

    def __init__(
        self,
        new_id: Callable[[str], str],
        cache: PromptCache,
        rng: random.Random,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._new_id = new_id
        self._cache = cache
        self._rng = rng
        self._clock = clock
        self._batches: dict[str, FakeBatch] = {}

    def clear(self) -> None:
        self._batches.clear()

    # -- routes ---------------------------------------------------------------------------

    def route(
        self, method: str, path: str, query: Mapping[str, str], body: bytes, host: str,
        settings: BatchSettings,
    ) -> tuple[str, Any]:  # fmt: skip
        """Answer one batches request: ``("json", payload)`` or ``("jsonl", bytes)``."""
        rest = path.removeprefix(PREFIX).strip("/")
        parts = rest.split("/") if rest else []
        now = self._clock()
        if method == "POST" and not parts:
            return "json", self._api(self._create(body, settings, now), host, now)
        if method == "GET" and not parts:
            return "json", self._list(query, host, now)
        if not parts or len(parts) > 2:
            raise ApiError(404, "not_found_error", f"Not found: {method} {path}")
        batch = self._get(parts[0])
        action = parts[1] if len(parts) == 2 else None
        if method == "GET" and action is None:
            return "json", self._api(batch, host, now)
        if method == "POST" and action == "cancel":
            if batch.status(now) == "in_progress":
                batch.cancel_at = now
            return "json", self._api(batch, host, now)
        if method == "GET" and action == "results":
            return "jsonl", self._results(batch, now)
        if method == "DELETE" and action is None:
            if batch.status(now) != "ended":
                raise ApiError(400, "invalid_request_error", "a batch must end before deletion")
            del self._batches[batch.id]
            return "json", {"id": batch.id, "type": "message_batch_deleted"}
        raise ApiError(404, "not_found_error", f"Not found: {method} {path}")

    def _get(self, batch_id: str) -> FakeBatch:
        batch = self._batches.get(batch_id)
        if batch is None:
            raise ApiError(404, "not_found_error", f"message batch: {batch_id}")
        return batch

    def _create(self, raw: bytes, settings: BatchSettings, now: float) -> FakeBatch:
        if len(raw) > settings.max_bytes:
            raise ApiError(
                413,
                "request_too_large",
                f"a batch may be at most {settings.max_bytes} bytes; split it into several",
            )
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise ApiError(400, "invalid_request_error", "body: not valid JSON") from exc
        requests = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(requests, list) or not requests:
            raise ApiError(400, "invalid_request_error", "requests: at least one is required")
        if len(requests) > settings.max_requests:
            raise ApiError(
                400,
                "invalid_request_error",
                f"requests: a batch may hold at most {settings.max_requests} requests",
            )
        seen: set[str] = set()
        parsed: list[tuple[str, dict[str, Any]]] = []
        for i, item in enumerate(requests):
            custom_id = item.get("custom_id") if isinstance(item, dict) else None
            params = item.get("params") if isinstance(item, dict) else None
            if not isinstance(custom_id, str) or not _CUSTOM_ID.match(custom_id):
                raise ApiError(400, "invalid_request_error", f"requests.{i}.custom_id: invalid")
            if custom_id in seen:
                raise ApiError(
                    400, "invalid_request_error", f"requests.{i}.custom_id: duplicate {custom_id}"
                )
            if not isinstance(params, dict):
                raise ApiError(400, "invalid_request_error", f"requests.{i}.params: required")
            seen.add(custom_id)
            parsed.append((custom_id, params))
        batch = FakeBatch(self._new_id("msgbatch"), parsed, now, settings)
        self._batches[batch.id] = batch
        return batch

    def _list(self, query: Mapping[str, str], host: str, now: float) -> dict[str, Any]:
        batches = sorted(self._batches.values(), key=lambda b: (b.created, b.id), reverse=True)
        page, has_more = page_of(batches, [b.id for b in batches], query)
        return {
            "data": [self._api(b, host, now) for b in page],
            "has_more": has_more,
            "first_id": page[0].id if page else None,
            "last_id": page[-1].id if page else None,
        }

    # -- state ----------------------------------------------------------------------------

    def _advance(self, batch: FakeBatch, now: float) -> None:
        """Process every request due by ``now`` (answers are computed once, in order)."""
        for index in range(len(batch.results), batch.done_by(now)):
            batch.results.append(self._process(batch, index, batch.requests[index][1]))

    def _process(self, batch: FakeBatch, index: int, params: dict[str, Any]) -> dict[str, Any]:
        model = params.get("model")
        fault = self._pick_fault(batch.settings.faults, index + 1, model)
        if fault is not None:
            _, error_type, message = HTTP_FAULTS[fault.fault]
            return _errored(error_type, fault.message or message)
        try:
            for key in ("model", "max_tokens", "messages"):
                if key not in params:
                    raise ApiError(400, "invalid_request_error", f"{key}: Field required")
            validate_messages_body(params)
            if params.get("stream"):
                raise ApiError(400, "invalid_request_error", "stream: not allowed in a batch")
        except ApiError as exc:
            return _errored(exc.error_type, exc.message)
        completion, usage = complete(params), self._cache.account(params)
        answer = message_json(self._new_id("msg"), str(model), completion, usage)
        return {"type": "succeeded", "message": answer}

    def _pick_fault(
        self, faults: tuple[FaultSpec, ...], number: int, model: Any
    ) -> FaultSpec | None:
        for spec in faults:
            if spec.model is not None and spec.model != model:
                continue
            if spec.request_number is not None:
                if number in spec.request_number:
                    return spec
            elif spec.probability is None or self._rng.random() < spec.probability:
                return spec
        return None

    def _counts(self, batch: FakeBatch, now: float) -> dict[str, int]:
        self._advance(batch, now)
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        for result in batch.results:
            counts[result["type"]] += 1
        left = len(batch.requests) - len(batch.results)
        counts[batch.unfinished_type() if batch.status(now) == "ended" else "processing"] += left
        return counts

    def _api(self, batch: FakeBatch, host: str, now: float) -> dict[str, Any]:
        ended = batch.status(now) == "ended"
        return {
            "id": batch.id,
            "type": "message_batch",
            "processing_status": batch.status(now),
            "request_counts": self._counts(batch, now),
            "created_at": rfc3339(batch.created),
            "expires_at": rfc3339(batch.expires_at),
            "ended_at": rfc3339(batch.ended_at()) if ended else None,
            "cancel_initiated_at": rfc3339(batch.cancel_at) if batch.cancel_at else None,
            "archived_at": None,
            "results_url": f"http://{host}{PREFIX}/{batch.id}/results" if ended else None,
        }

    def _results(self, batch: FakeBatch, now: float) -> bytes:
        if batch.status(now) != "ended":
            raise ApiError(400, "invalid_request_error", "the batch is still processing")
        self._advance(batch, now)
        lines = []
        unfinished: dict[str, Any] = {"type": batch.unfinished_type()}
        for index, (custom_id, _) in enumerate(batch.requests):
            result = batch.results[index] if index < len(batch.results) else unfinished
            lines.append(json.dumps({"custom_id": custom_id, "result": result}))
        return ("\n".join(lines) + "\n").encode()


def _errored(error_type: str, message: str) -> dict[str, Any]:
    return {
        "type": "errored",
        "error": {"type": "error", "error": {"type": error_type, "message": message}},
    }
