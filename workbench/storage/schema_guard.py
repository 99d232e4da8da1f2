"""Is the file's schema the one our migrations build, and can planted SQL run? (DESIGN.md §10)

The expected schema is not a hand-kept list: it is read from a fresh in-memory database built by
the migrations themselves, at the file's own schema version. `audit_schema` compares the file's
``sqlite_master`` with it and names every missing or foreign table, column, index, trigger and
view. `guard_connection` makes every connection refuse to run SQL from a trigger or view we did
not create, even one planted while the project is open: SQLite asks the authorizer about every
statement a trigger adds when a statement is compiled, and recompiles after a schema change.
"""

from __future__ import annotations

import functools
import re
import sqlite3
from dataclasses import dataclass

from sqlite_utils import Database

from workbench.storage.migrations import MIGRATION_SET, migration_names, migrations

# The migrations library's own bookkeeping table: its columns belong to sqlite-utils' version.
_LIBRARY_TABLES = frozenset({"_sqlite_migrations"})
# What one of our triggers may do: they only read and RAISE (immutability, label checks).
_TRIGGER_ACTIONS = frozenset({sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION})


@dataclass(frozen=True)
class SchemaObject:
    """One row of ``sqlite_master``: a table, index, trigger or view."""

    type: str
    name: str
    table: str
    sql: str


def _normal(sql: str | None) -> str:
    return re.sub(r"\s+", " ", sql or "").strip()


def read_schema(conn: sqlite3.Connection) -> dict[str, SchemaObject]:
    """The file's own objects by name (SQLite's internal ``sqlite_*`` objects left out)."""
    rows = conn.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master "
        "WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
    ).fetchall()
    return {name: SchemaObject(kind, name, table, _normal(sql)) for kind, name, table, sql in rows}


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute("SELECT * FROM pragma_table_xinfo(?)", [table])]


@functools.lru_cache(maxsize=8)
def expected_schema(version: int) -> tuple[dict[str, SchemaObject], dict[str, list[str]]]:
    """Objects and table columns that the first `version` migrations create, built in memory."""
    conn = sqlite3.connect(":memory:")
    try:
        names = migration_names()
        stop = names[version] if version < len(names) else None
        migrations.apply(Database(conn), stop_before=stop)
        schema = read_schema(conn)
        columns = {o.name: _columns(conn, o.name) for o in schema.values() if o.type == "table"}
        return schema, columns
    finally:
        conn.close()


def our_trigger_names() -> frozenset[str]:
    """Names of every trigger this build's migrations create."""
    schema, _ = expected_schema(len(migration_names()))
    return frozenset(o.name for o in schema.values() if o.type == "trigger")


def audit_schema(conn: sqlite3.Connection, version: int) -> list[str]:
    """Every difference between the file's schema and the one `version` migrations build.

    Each entry names the object ("foreign trigger 'x' on calls", "missing table 'attempts'",
    "missing column calls.output"); empty when the schema is exactly ours. Read-only.
    """
    want, want_columns = expected_schema(version)
    have = read_schema(conn)
    problems: list[str] = []
    for name, obj in want.items():
        found = have.get(name)
        if obj.table in _LIBRARY_TABLES and name not in _LIBRARY_TABLES:
            continue  # the library's own indexes may differ between its versions
        if found is None or found.type != obj.type:
            problems.append(f"missing {obj.type} '{name}'")
        elif obj.table in _LIBRARY_TABLES:
            continue
        elif obj.type == "table":
            differences = _table_differences(name, want_columns[name], _columns(conn, name))
            if not differences and found.sql != obj.sql:
                differences.append(f"table '{name}' was redefined (its constraints differ)")
            problems += differences
        elif found.sql != obj.sql:
            problems.append(f"{obj.type} '{name}' on {obj.table} was replaced by a different one")
    for name, obj in have.items():
        if name in want and want[name].type == obj.type:
            continue
        if obj.type == "index" and obj.table in _LIBRARY_TABLES:
            continue
        on = f" on {obj.table}" if obj.type in ("trigger", "index") else ""
        problems.append(f"foreign {obj.type} '{name}'{on} (not created by Prompt Workbench)")
    return problems


def _table_differences(table: str, want: list[str], have: list[str]) -> list[str]:
    missing = [f"missing column {table}.{c}" for c in want if c not in have]
    extra = [
        f"foreign column {table}.{c} (not created by Prompt Workbench)"
        for c in have
        if c not in want
    ]
    return missing + extra


def applied_migrations(conn: sqlite3.Connection) -> list[str]:
    """Names recorded in ``_sqlite_migrations`` for our set, in order (empty if no table)."""
    try:
        rows = conn.execute(
            "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY rowid",
            [MIGRATION_SET],
        ).fetchall()
    except sqlite3.OperationalError:
        return []
    return [r[0] for r in rows]


def guard_connection(conn: sqlite3.Connection) -> sqlite3.Connection:
    """Make `conn` distrust the file's schema: no planted trigger or view can run through it.

    ``trusted_schema=OFF`` stops schema SQL calling unsafe functions or virtual tables; the
    authorizer refuses any statement from a trigger or view not ours, and lets ours only read
    (so a look-alike with one of our names cannot write either). A refused statement fails to
    compile with "not authorized", so a write through a tampered schema fails loudly.
    """
    conn.execute("PRAGMA trusted_schema = OFF")
    ours = our_trigger_names()

    def authorize(
        action: int, arg1: str | None, arg2: str | None, db: str | None, source: str | None
    ) -> int:
        if source is None:
            return sqlite3.SQLITE_OK
        if source in ours and action in _TRIGGER_ACTIONS:
            return sqlite3.SQLITE_OK
        return sqlite3.SQLITE_DENY

    conn.set_authorizer(authorize)
    return conn
