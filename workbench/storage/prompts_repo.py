"""Prompts, their immutable numbered versions, and movable labels with an audit trail."""

from __future__ import annotations

import builtins
import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlite_utils import Database

from workbench.core.errors import BadInput, NotFound
from workbench.core.hashing import canonical_json
from workbench.core.models import (
    LATER_CONTENT_FIELDS,
    NAME_PATTERN,
    ProductionSettings,
    Prompt,
    PromptContent,
    PromptVersion,
)

if TYPE_CHECKING:
    from workbench.storage.project import Project

LATEST = "latest"
# Production settings live in `meta` under this prefix + the prompt name (no schema change).
PRODUCTION_META_PREFIX = "production:"


@dataclass(frozen=True)
class LabelEvent:
    """One move of a label; `version` is None when the label was removed."""

    label: str
    version: int | None
    at: dt.datetime


def parse_time(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def version_from_row(row: dict[str, Any]) -> PromptVersion:
    """Rebuild a `PromptVersion` from its ``prompt_versions`` row."""
    extras = row.get("extras_json")
    return PromptVersion(
        **(json.loads(extras) if extras else {}),
        version=row["version"],
        system=row["system"],
        messages=json.loads(row["messages_json"]),
        params=json.loads(row["params_json"]),
        note=row["note"],
        created_at=parse_time(row["created_at"]),
    )


def extras_json(content: PromptContent) -> str | None:
    """The fields stored in ``extras_json`` (tools, schemas, thinking...), None when all unset."""
    identity = content.identity()
    extras = {k: identity[k] for k in LATER_CONTENT_FIELDS if k in identity}
    # Key order kept as written (JSON Schemas read best that way); the hash is computed on
    # canonical JSON, so order never changes a version's identity.
    return json.dumps(extras, ensure_ascii=False, separators=(",", ":")) if extras else None


def _messages_json(content: PromptContent) -> str:
    messages = [m.model_dump(mode="json") for m in content.messages]
    if all(isinstance(m["content"], str) for m in messages):
        return canonical_json(messages)  # as every version before blocks was stored
    # Blocks hold tool inputs: keep their key order as written.
    return json.dumps(messages, ensure_ascii=False, separators=(",", ":"))


def check_name(name: str, kind: str) -> None:
    """Raise `BadInput` unless `name` is a valid prompt/dataset/label name."""
    if not isinstance(name, str) or not re.fullmatch(NAME_PATTERN, name):
        raise BadInput(
            f"'{name}' is not a valid {kind} name",
            field="name",
            hint="Use letters, digits, '_', '.' and '-', starting with a letter or digit.",
        )


def check_label_name(label: str) -> None:
    """Labels share the ref syntax with version numbers and 'latest', so those are reserved."""
    check_name(label, "label")
    if label == LATEST or label.isdigit():
        raise BadInput(
            f"'{label}' cannot be a label name: it would read as a version reference",
            field="label",
            hint="Choose a name such as 'production' or 'staging'.",
        )


class PromptsRepo:
    """Read and write prompts; every write is one transaction."""

    def __init__(self, project: Project) -> None:
        self._project = project

    @property
    def _db(self) -> Database:
        return self._project.db

    # -- reading ---------------------------------------------------------------------------

    def names(self) -> builtins.list[str]:
        return [r[0] for r in self._db.execute("SELECT name FROM prompts ORDER BY id")]

    def list(self) -> builtins.list[Prompt]:
        """Every prompt with its versions and labels, in creation order."""
        return self._load(None)

    def get(self, name: str) -> Prompt:
        return self._load(self.row_id(name))[0]

    def _load(self, prompt_id: int | None) -> builtins.list[Prompt]:
        one = prompt_id is not None
        params = [prompt_id] if one else []
        prompts = self._db.query(
            "SELECT * FROM prompts" + (" WHERE id = ?" if one else "") + " ORDER BY id", params
        )
        versions: dict[int, builtins.list[PromptVersion]] = {}
        for row in self._db.query(
            "SELECT * FROM prompt_versions"
            + (" WHERE prompt_id = ?" if one else "")
            + " ORDER BY prompt_id, version",
            params,
        ):
            versions.setdefault(row["prompt_id"], []).append(version_from_row(row))
        labels: dict[int, dict[str, int]] = {}
        for pid, label, number in self._db.execute(
            "SELECT l.prompt_id, l.name, v.version FROM labels l "
            "JOIN prompt_versions v ON v.id = l.version_id"
            + (" WHERE l.prompt_id = ?" if one else "")
            + " ORDER BY l.rowid",
            params,
        ):
            labels.setdefault(pid, {})[label] = number
        production = self._production_by_name()
        return [
            Prompt(
                name=p["name"],
                description=p["description"],
                versions=versions.get(p["id"], []),
                labels=labels.get(p["id"], {}),
                production=production.get(p["name"]),
            )
            for p in prompts
        ]

    # -- production settings (feature flag, kill switch, alerts) -------------------------------

    def _production_by_name(self) -> dict[str, ProductionSettings]:
        rows = self._db.execute(
            "SELECT key, value FROM meta WHERE key LIKE ?",
            [PRODUCTION_META_PREFIX + "%"],
        )
        out: dict[str, ProductionSettings] = {}
        for key, value in rows:
            name = key[len(PRODUCTION_META_PREFIX) :]
            out[name] = self._parse_production(name, json.loads(value))
        return out

    def _parse_production(self, name: str, raw: Any) -> ProductionSettings:
        try:
            return ProductionSettings.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise BadInput(
                f"the production settings of prompt '{name}' are invalid: {first['msg']}",
                source=str(self._project.path),
                field=f"{PRODUCTION_META_PREFIX}{name}" + (f".{where}" if where else ""),
                hint="Save them again from the export dialog.",
            ) from None

    def production_settings(self, name: str) -> ProductionSettings | None:
        """The stored production settings of prompt `name` (None: never saved, use defaults)."""
        self.row_id(name)  # NotFound naming the known prompts
        row = self._db.execute(
            "SELECT value FROM meta WHERE key = ?", [PRODUCTION_META_PREFIX + name]
        ).fetchone()
        return None if row is None else self._parse_production(name, json.loads(row[0]))

    def set_production_settings(self, name: str, settings: ProductionSettings) -> None:
        """Store the production settings of prompt `name`."""
        self._project.require_writable("change production settings")
        self.row_id(name)
        with self._db.atomic():
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [PRODUCTION_META_PREFIX + name, canonical_json(settings.model_dump(mode="json"))],
            )

    def row_id(self, name: str) -> int:
        """The database id of a prompt (raises `NotFound` naming the known prompts)."""
        row = self._db.execute("SELECT id FROM prompts WHERE name = ?", [name]).fetchone()
        if row is None:
            known = ", ".join(self.names()) or "none yet"
            raise NotFound(f"No prompt named '{name}'.", hint=f"Known prompts: {known}.")
        return int(row[0])

    def resolve(self, name: str, ref: str | int | None = None) -> PromptVersion:
        """The version `ref` names: a number, a label, "latest" or None (the latest)."""
        return version_from_row(self._resolve_row(name, ref))

    def version_row_id(self, name: str, version: int) -> int:
        """The database id of a version, for rows (calls, runs) that reference it."""
        return int(self._resolve_row(name, version)["id"])

    def _resolve_row(self, name: str, ref: str | int | None) -> dict[str, Any]:
        pid = self.row_id(name)
        if ref is None or ref == LATEST:
            rows = self._db.query(
                "SELECT * FROM prompt_versions WHERE prompt_id = ? ORDER BY version DESC LIMIT 1",
                [pid],
            )
            what = "no versions yet"
        elif (isinstance(ref, int) and not isinstance(ref, bool)) or str(ref).isdigit():
            rows = self._db.query(
                "SELECT * FROM prompt_versions WHERE prompt_id = ? AND version = ?", [pid, int(ref)]
            )
            what = f"no version {int(ref)}"
        else:
            rows = self._db.query(
                "SELECT v.* FROM labels l JOIN prompt_versions v ON v.id = l.version_id "
                "WHERE l.prompt_id = ? AND l.name = ?",
                [pid, str(ref)],
            )
            what = f"no label '{ref}'"
        for row in rows:
            return row
        prompt = self.get(name)
        numbers = ", ".join(str(v.version) for v in prompt.versions) or "none"
        labels = ", ".join(prompt.labels) or "none"
        raise NotFound(
            f"Prompt '{name}' has {what}.", hint=f"Its versions: {numbers}; its labels: {labels}."
        )

    def label_history(self, name: str, label: str | None = None) -> builtins.list[LabelEvent]:
        """Every move of the prompt's labels (or of one label), oldest first."""
        pid = self.row_id(name)
        sql = (
            "SELECT e.name, v.version, e.at FROM label_events e "
            "LEFT JOIN prompt_versions v ON v.id = e.version_id WHERE e.prompt_id = ?"
        )
        params: builtins.list[Any] = [pid]
        if label is not None:
            sql += " AND e.name = ?"
            params.append(label)
        rows = self._db.execute(sql + " ORDER BY e.id", params)
        return [LabelEvent(r[0], r[1], dt.datetime.fromisoformat(r[2])) for r in rows]

    # -- writing ---------------------------------------------------------------------------

    def create(self, name: str, description: str = "") -> Prompt:
        """Create an empty prompt (no versions yet)."""
        check_name(name, "prompt")
        self._project.require_writable("create a prompt")
        with self._db.atomic():
            if self._db.execute("SELECT 1 FROM prompts WHERE name = ?", [name]).fetchone():
                raise BadInput(f"A prompt named '{name}' already exists.", field="name")
            self._db.execute(
                "INSERT INTO prompts (name, description, created_at) VALUES (?, ?, ?)",
                [name, description, _now().isoformat()],
            )
        return Prompt(name=name, description=description)

    def set_description(self, name: str, description: str) -> None:
        self._project.require_writable("change a prompt")
        with self._db.atomic():
            pid = self.row_id(name)
            self._db.execute("UPDATE prompts SET description = ? WHERE id = ?", [description, pid])

    def rename(self, name: str, new_name: str) -> None:
        """Rename a prompt; versions and labels follow (they reference the prompt by id)."""
        check_name(new_name, "prompt")
        self._project.require_writable("rename a prompt")
        with self._db.atomic():
            pid = self.row_id(name)
            if self._db.execute("SELECT 1 FROM prompts WHERE name = ?", [new_name]).fetchone():
                raise BadInput(f"A prompt named '{new_name}' already exists.", field="name")
            self._db.execute("UPDATE prompts SET name = ? WHERE id = ?", [new_name, pid])
            # Production settings are keyed by name: they follow the prompt.
            self._db.execute(
                "UPDATE meta SET key = ? WHERE key = ?",
                [PRODUCTION_META_PREFIX + new_name, PRODUCTION_META_PREFIX + name],
            )

    def delete(self, name: str) -> None:
        """Delete a prompt that has no versions (versions are immutable, so they stay)."""
        self._project.require_writable("delete a prompt")
        with self._db.atomic():
            pid = self.row_id(name)
            if self._db.execute(
                "SELECT 1 FROM prompt_versions WHERE prompt_id = ?", [pid]
            ).fetchone():
                raise BadInput(
                    f"Prompt '{name}' has saved versions, which are kept for good.",
                    hint="Rename it instead.",
                )
            self._db.execute("DELETE FROM label_events WHERE prompt_id = ?", [pid])
            self._db.execute("DELETE FROM prompts WHERE id = ?", [pid])

    def save_version(
        self,
        name: str,
        content: PromptContent,
        *,
        note: str = "",
        created_at: dt.datetime | None = None,
    ) -> tuple[PromptVersion, bool]:
        """Save `content` as the next version; identical content returns the existing one.

        :returns: the version and whether it was created (False: same hash already stored)
        """
        self._project.require_writable("save a prompt version")
        digest = content.content_hash()
        with self._db.atomic():
            pid = self.row_id(name)
            for row in self._db.query(
                "SELECT * FROM prompt_versions WHERE prompt_id = ? AND hash = ?", [pid, digest]
            ):
                return version_from_row(row), False
            (latest,) = self._db.execute(
                "SELECT COALESCE(MAX(version), 0) FROM prompt_versions WHERE prompt_id = ?", [pid]
            ).fetchone()
            version = PromptVersion(
                **content.model_copy(deep=True).model_dump(),
                version=latest + 1,
                note=note,
                created_at=created_at or _now(),
            )
            self.insert_version(pid, version, digest)
        return version, True

    def insert_version(self, prompt_id: int, version: PromptVersion, digest: str) -> int:
        """Insert a version as given (number, note, time); for bundle import and `save_version`."""
        cursor = self._db.execute(
            "INSERT INTO prompt_versions (prompt_id, version, hash, system, messages_json, "
            "params_json, note, created_at, extras_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                prompt_id,
                version.version,
                digest,
                version.system,
                _messages_json(version),
                canonical_json(version.params.model_dump(mode="json")),
                version.note,
                None if version.created_at is None else version.created_at.isoformat(),
                extras_json(version),
            ],
        )
        return int(cursor.lastrowid or 0)

    def set_label(self, name: str, label: str, version: int) -> None:
        """Point `label` at `version` (moving it if it exists), recording the move."""
        check_label_name(label)
        self._project.require_writable("move a label")
        with self._db.atomic():
            pid = self.row_id(name)
            version_id = self.version_row_id(name, version)
            now = _now().isoformat()
            self._db.execute(
                "INSERT INTO labels (prompt_id, name, version_id, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (prompt_id, name) DO UPDATE SET "
                "version_id = excluded.version_id, updated_at = excluded.updated_at",
                [pid, label, version_id, now],
            )
            self._db.execute(
                "INSERT INTO label_events (prompt_id, name, version_id, at) VALUES (?, ?, ?, ?)",
                [pid, label, version_id, now],
            )

    def remove_label(self, name: str, label: str) -> None:
        """Remove a label from a prompt (the history keeps the removal)."""
        self._project.require_writable("remove a label")
        with self._db.atomic():
            pid = self.row_id(name)
            cursor = self._db.execute(
                "DELETE FROM labels WHERE prompt_id = ? AND name = ?", [pid, label]
            )
            if cursor.rowcount == 0:
                raise NotFound(f"Prompt '{name}' has no label '{label}'.")
            self._db.execute(
                "INSERT INTO label_events (prompt_id, name, version_id, at) VALUES (?, ?, NULL, ?)",
                [pid, label, _now().isoformat()],
            )
