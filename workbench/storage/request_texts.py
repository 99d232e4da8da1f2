"""Long texts of logged requests stored once (table ``request_texts``, migration m005).

A production log repeats the same system prompt (and few-shot prefix) in every call, and the
same model, parameters and cache settings. Before a call is stored, `RequestTexts.compact` swaps
each long ``system`` or message ``content`` string for ``{"$text": id}`` and everything but the
messages and variables for ``"$base": id``, rows holding each text once per project;
`expand_request` puts them back when a call is read, so every reader sees the request exactly
as it was logged.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlite_utils import Database

MIN_SHARED_LENGTH = 256  # shorter texts cost less inline than a reference and an index entry
_MARK = "$text"
_BASE = "$base"
_PER_CALL = ("messages", "vars")  # what differs from call to call; the rest is the base


class RequestTexts:
    """Swaps long request texts for references; one instance per write transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._ids: dict[str, int] = {}  # hash -> row id, so a repeated text costs one lookup

    def _id_of(self, text: str) -> int:
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        found = self._ids.get(digest)
        if found is not None:
            return found
        conn = self.db.conn
        row = conn.execute("SELECT id FROM request_texts WHERE hash = ?", [digest]).fetchone()
        if row is None:
            cursor = conn.execute(
                "INSERT INTO request_texts (hash, text) VALUES (?, ?)", [digest, text]
            )
            found = int(cursor.lastrowid or 0)
        else:
            found = int(row[0])
        self._ids[digest] = found
        return found

    def _shared(self, value: Any) -> Any:
        if isinstance(value, str) and len(value) >= MIN_SHARED_LENGTH:
            return {_MARK: self._id_of(value)}
        return value

    def compact(self, request: dict[str, Any]) -> dict[str, Any]:
        """A copy of `request` whose long texts and shared settings are references."""
        if _BASE in request or _holds_refs(request):
            return dict(request)  # holds our marks already (never a real request): kept as is
        out = dict(request)
        if "system" in out:
            out["system"] = self._shared(out["system"])
        messages = out.get("messages")
        if isinstance(messages, list):
            out["messages"] = [
                {**m, "content": self._shared(m["content"])}
                if isinstance(m, dict) and "content" in m
                else m
                for m in messages
            ]
        # Always a base, even an empty one: its mark is what tells a compacted request apart.
        base = {k: v for k, v in out.items() if k not in _PER_CALL}
        text = json.dumps(base, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return {_BASE: self._id_of(text), **{k: v for k, v in out.items() if k in _PER_CALL}}


def _holds_refs(request: dict[str, Any]) -> bool:
    values = [request.get("system")]
    messages = request.get("messages")
    if isinstance(messages, list):
        values += [m.get("content") for m in messages if isinstance(m, dict)]
    return any(_is_ref(v) for v in values)


def _texts(db: Database, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = db.conn.execute(
        "SELECT id, text FROM request_texts WHERE id IN (SELECT value FROM json_each(?))",
        [json.dumps(sorted(ids))],
    ).fetchall()
    return {int(i): str(t) for i, t in rows}


def _is_ref(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get(_MARK), int)


def expand_request(db: Database, request_json: str) -> Any:
    """The stored request with its shared parts put back (a plain `json.loads` otherwise)."""
    request = json.loads(request_json)
    if '"$base"' not in request_json or not isinstance(request, dict):
        return request
    base_id = request.get(_BASE)
    found = _texts(db, {base_id}).get(base_id) if isinstance(base_id, int) else None
    if found is None:
        return request  # not one we compacted
    rest = {k: v for k, v in request.items() if k != _BASE}
    request = {**json.loads(found), **rest}
    refs = [request.get("system")]
    messages = request.get("messages")
    if isinstance(messages, list):
        refs += [m.get("content") for m in messages if isinstance(m, dict)]
    texts = _texts(db, {int(r[_MARK]) for r in refs if r is not None and _is_ref(r)})
    if not texts:
        return request

    def back(value: Any) -> Any:
        return texts.get(value[_MARK], value) if _is_ref(value) else value

    if "system" in request:
        request["system"] = back(request["system"])
    if isinstance(messages, list):
        request["messages"] = [
            {**m, "content": back(m.get("content"))}
            if isinstance(m, dict) and "content" in m
            else m
            for m in messages
        ]
    return request
