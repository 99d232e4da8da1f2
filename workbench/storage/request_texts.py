"""Long texts of logged requests stored once (table ``request_texts``, migration m005).

A production log repeats the same system prompt (and few-shot prefix) in every call. Before a
call is stored, `RequestTexts.compact` swaps each long ``system`` or message ``content`` string
for ``{"$text": id}``, a row holding the text once per project; `expand_request` puts the texts
back when a call is read, so every reader sees the request exactly as it was logged.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlite_utils import Database

MIN_SHARED_LENGTH = 256  # shorter texts cost less inline than a reference and an index entry
_MARK = "$text"


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
        """A copy of `request` whose long system and message texts are references."""
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
        return out


def _is_ref(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get(_MARK), int)


def expand_request(db: Database, request_json: str) -> Any:
    """The stored request with its shared texts put back (a plain `json.loads` otherwise)."""
    request = json.loads(request_json)
    if f'"{_MARK}"' not in request_json or not isinstance(request, dict):
        return request
    refs = [request.get("system")]
    messages = request.get("messages")
    if isinstance(messages, list):
        refs += [m.get("content") for m in messages if isinstance(m, dict)]
    ids = sorted({int(r[_MARK]) for r in refs if r is not None and _is_ref(r)})
    if not ids:
        return request
    texts = dict(
        db.conn.execute(
            "SELECT id, text FROM request_texts WHERE id IN (SELECT value FROM json_each(?))",
            [json.dumps(ids)],
        ).fetchall()
    )

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
