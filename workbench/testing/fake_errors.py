"""Request checks and error details of the fake Anthropic server.

Errors use the real API's shape and messages close to its wording, so client code under
test sees the same thing it would see in production.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeVar

from workbench.testing.fake_config import FaultSpec

T = TypeVar("T")

API_KEY_REQUIRED = "x-api-key header is required"
_BEARER = "bearer "


class ApiError(Exception):
    """An error answered in the real API's error shape."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error_type, self.message = status, error_type, message


def has_credentials(headers: Mapping[str, str]) -> bool:
    """Any non-empty ``x-api-key``, or a bearer token: anthropic 2.x sends the API key that way."""
    if headers.get("x-api-key"):
        return True
    authorization = headers.get("authorization", "")
    return authorization.lower().startswith(_BEARER) and bool(authorization[len(_BEARER) :].strip())


def parse_body(raw: bytes, required: tuple[str, ...]) -> dict[str, Any]:
    """Decode a JSON object body that has the ``required`` keys, else a 400 ApiError."""
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise ApiError(
            400, "invalid_request_error", f"Request body is not valid JSON: {exc}"
        ) from exc
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_request_error", "Request body must be a JSON object")
    for key in required:
        if key not in body:
            raise ApiError(400, "invalid_request_error", f"{key}: Field required")
    return body


def validate_messages_body(body: Mapping[str, Any]) -> None:
    """The minimal checks that make a malformed client call fail like the real API."""
    if not isinstance(body["model"], str) or not body["model"]:
        raise ApiError(400, "invalid_request_error", "model: Input should be a valid string")
    max_tokens = body["max_tokens"]
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise ApiError(
            400, "invalid_request_error", "max_tokens: Input should be a positive integer"
        )
    messages = body["messages"]
    if (
        not isinstance(messages, list)
        or not messages
        or not all(isinstance(m, dict) for m in messages)
    ):
        raise ApiError(400, "invalid_request_error", "messages: at least one message is required")
    for i, message in enumerate(messages):
        if message.get("role") not in ("user", "assistant"):
            raise ApiError(
                400, "invalid_request_error", f"messages.{i}.role: must be user or assistant"
            )
        if not isinstance(message.get("content"), str | list):
            raise ApiError(400, "invalid_request_error", f"messages.{i}.content: Field required")


def fault_headers(spec: FaultSpec) -> list[tuple[str, str]]:
    """retry-after (defaults to 1 s on 429), retry-after-ms and x-should-retry overrides."""
    headers: list[tuple[str, str]] = []
    retry_after = (
        spec.retry_after if spec.retry_after is not None else (1.0 if spec.fault == "429" else None)
    )
    if retry_after is not None:
        headers.append(("retry-after", _number(retry_after)))
    if spec.retry_after_ms is not None:
        headers.append(("retry-after-ms", _number(spec.retry_after_ms)))
    if spec.should_retry is not None:
        headers.append(("x-should-retry", "true" if spec.should_retry else "false"))
    return headers


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


def page_of(items: list[T], ids: list[str], query: Mapping[str, str]) -> tuple[list[T], bool]:
    """One page of a list endpoint (`after_id`, `before_id`, `limit` as the API takes them):
    the items and whether more follow."""
    if query.get("after_id") in ids:
        items = items[ids.index(query["after_id"]) + 1 :]
    elif query.get("before_id") in ids:
        items = items[: ids.index(query["before_id"])]
    try:
        limit = max(1, min(1000, int(query.get("limit", "20"))))
    except ValueError as exc:
        raise ApiError(400, "invalid_request_error", "limit: must be an integer") from exc
    return items[:limit], len(items) > limit
