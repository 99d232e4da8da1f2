"""Just enough HTTP/1.1 for the fake Anthropic server, on stdlib asyncio streams.

Supports keep-alive, Content-Length and chunked request bodies, fixed-length responses and
chunked (streamed) responses. No per-request threads or parser objects: the server must
carry hundreds of concurrent connections on a small machine.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

# Above the Message Batches API's 256 MB, so the batch endpoint can answer an oversized batch
# with the real API's 413 itself.
MAX_BODY_BYTES = 320 * 1024 * 1024
LAST_CHUNK = b"0\r\n\r\n"
Headers = Iterable[tuple[str, str]]


class HttpError(Exception):
    """A request we cannot parse; answered with ``status`` and the connection is closed."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(slots=True)
class Request:
    """One parsed request. Header names are lower-cased."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    keep_alive: bool


async def read_request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> Request | None:
    """Read the next request on a connection; ``None`` when the client closed it cleanly."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    except asyncio.LimitOverrunError as exc:
        raise HttpError(431, "request head too large") from exc
    method, target, version, headers = _parse_head(head.decode("latin-1").lstrip("\r\n"))
    if headers.get("expect", "").lower() == "100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    body = await _read_body(reader, headers)
    path, _, query = target.partition("?")
    return Request(
        method, path, dict(parse_qsl(query)), headers, body, _keep_alive(version, headers)
    )


def _parse_head(head: str) -> tuple[str, str, str, dict[str, str]]:
    lines = head.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise HttpError(400, "malformed request line")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise HttpError(400, "malformed header line")
        headers[name.strip().lower()] = value.strip()
    return parts[0], parts[1], parts[2], headers


def _keep_alive(version: str, headers: dict[str, str]) -> bool:
    connection = headers.get("connection", "").lower()
    if version == "HTTP/1.0":
        return connection == "keep-alive"
    return connection != "close"


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return await _read_chunked(reader)
    try:
        length = int(headers.get("content-length", "0"))
    except ValueError as exc:
        raise HttpError(400, "invalid content-length") from exc
    if length < 0 or length > MAX_BODY_BYTES:
        raise HttpError(413, "request body too large")
    return await reader.readexactly(length) if length else b""


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        size_line = await reader.readuntil(b"\r\n")
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError as exc:
            raise HttpError(400, "invalid chunk size") from exc
        if size == 0:
            # Skip optional trailer headers up to the blank line.
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass
            return b"".join(parts)
        total += size
        if total > MAX_BODY_BYTES:
            raise HttpError(413, "request body too large")
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)  # the CRLF after each chunk


def _reason(status: int) -> str:
    if status == 529:  # Anthropic-specific, unknown to http.HTTPStatus
        return "Overloaded"
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def response_head(status: int, headers: Headers, *, keep_alive: bool) -> bytes:
    """Status line and headers (without framing headers other than those given)."""
    lines = [f"HTTP/1.1 {status} {_reason(status)}"]
    lines.extend(f"{name}: {value}" for name, value in headers)
    lines.append("connection: keep-alive" if keep_alive else "connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def full_response(status: int, headers: Headers, body: bytes, *, keep_alive: bool) -> bytes:
    """A complete fixed-length response, ready for one ``write``."""
    head = response_head(
        status, [*headers, ("content-length", str(len(body)))], keep_alive=keep_alive
    )
    return head + body


def json_response(status: int, payload: Any, headers: Headers = (), *, keep_alive: bool) -> bytes:
    """A complete JSON response."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    return full_response(
        status, [("content-type", "application/json"), *headers], body, keep_alive=keep_alive
    )


def chunk(data: bytes) -> bytes:
    """Frame ``data`` as one HTTP chunk of a ``transfer-encoding: chunked`` body."""
    return b"%x\r\n%s\r\n" % (len(data), data)
