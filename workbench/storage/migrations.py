"""Numbered schema migrations for the project file, applied on open.

Rules: a shipped migration is never edited (a fix is a new migration); each one runs in one
transaction together with its ``_sqlite_migrations`` record and the new ``PRAGMA user_version``,
so ``user_version`` always equals the number of migrations applied.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils
from sqlite_utils import Database

MIGRATION_SET = "workbench"
migrations = sqlite_utils.Migrations(MIGRATION_SET)
_names: list[str] = []


def migration(fn: Callable[[Database], None]) -> Callable[[Database], None]:
    """Register `fn` as the next migration; it also sets ``user_version`` to its number."""
    number = len(_names) + 1

    def apply(db: Database) -> None:
        fn(db)
        # PRAGMA user_version is transactional, so it commits or rolls back with the migration.
        db.execute(f"PRAGMA user_version = {number}")

    apply.__name__ = fn.__name__
    migrations(name=fn.__name__)(apply)
    _names.append(fn.__name__)
    return fn


def schema_version() -> int:
    """The schema version this build writes: the number of known migrations."""
    return len(_names)


def migration_names() -> list[str]:
    """Names of the known migrations in order (``m001_initial`` …)."""
    return list(_names)


def apply_migrations(db: Database) -> None:
    """Apply every pending migration, each in its own transaction."""
    migrations.apply(db)


def _run(db: Database, statements: list[str]) -> None:
    # Not executescript(): Python's sqlite3 commits before a script, which would break atomicity.
    for statement in statements:
        db.execute(statement)


def _immutable(table: str, what: str) -> list[str]:
    message = f"{what} are immutable"
    return [
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END",
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END",
    ]


_SAME_PROMPT = (
    "BEGIN SELECT RAISE(ABORT, 'a label must point at a version of the same prompt') "
    "WHERE (SELECT prompt_id FROM prompt_versions WHERE id = NEW.version_id) "
    "IS NOT NEW.prompt_id; END"
)


@migration
def m001_initial(db: Database) -> None:
    """Meta, prompts with immutable versions and labels, datasets, models and prices."""
    _run(
        db,
        [
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            """CREATE TABLE prompts (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                description TEXT NOT NULL DEFAULT '',
                created_at TEXT NOT NULL)""",
            """CREATE TABLE prompt_versions (
                id INTEGER PRIMARY KEY,
                prompt_id INTEGER NOT NULL REFERENCES prompts(id),
                version INTEGER NOT NULL CHECK (version >= 1),
                hash TEXT NOT NULL,
                system TEXT NOT NULL,
                messages_json TEXT NOT NULL,
                params_json TEXT NOT NULL,
                note TEXT NOT NULL DEFAULT '',
                created_at TEXT,
                UNIQUE (prompt_id, version),
                UNIQUE (prompt_id, hash))""",
            *_immutable("prompt_versions", "prompt versions"),
            """CREATE TABLE labels (
                prompt_id INTEGER NOT NULL REFERENCES prompts(id),
                name TEXT NOT NULL,
                version_id INTEGER NOT NULL REFERENCES prompt_versions(id),
                updated_at TEXT NOT NULL,
                PRIMARY KEY (prompt_id, name))""",
            "CREATE INDEX labels_version ON labels (version_id)",
            f"CREATE TRIGGER labels_same_prompt_insert BEFORE INSERT ON labels {_SAME_PROMPT}",
            f"CREATE TRIGGER labels_same_prompt_update BEFORE UPDATE ON labels {_SAME_PROMPT}",
            # version_id NULL records the removal of a label.
            """CREATE TABLE label_events (
                id INTEGER PRIMARY KEY,
                prompt_id INTEGER NOT NULL REFERENCES prompts(id),
                name TEXT NOT NULL,
                version_id INTEGER REFERENCES prompt_versions(id),
                at TEXT NOT NULL)""",
            "CREATE INDEX label_events_prompt ON label_events (prompt_id, name)",
            "CREATE INDEX label_events_version ON label_events (version_id)",
            """CREATE TABLE datasets (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                description TEXT NOT NULL DEFAULT '',
                created_at TEXT NOT NULL)""",
            """CREATE TABLE examples (
                id INTEGER PRIMARY KEY,
                dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
                position INTEGER NOT NULL,
                vars_json TEXT NOT NULL,
                tags_json TEXT NOT NULL,
                note TEXT NOT NULL DEFAULT '',
                expect_json TEXT NOT NULL,
                provenance_json TEXT,
                created_at TEXT NOT NULL)""",
            "CREATE INDEX examples_dataset ON examples (dataset_id, position)",
            """CREATE TABLE models (
                id TEXT PRIMARY KEY,
                display_name TEXT NOT NULL DEFAULT '',
                tier TEXT NOT NULL DEFAULT '',
                max_input_tokens INTEGER,
                max_output_tokens INTEGER,
                rejected_params_json TEXT NOT NULL DEFAULT '[]',
                source TEXT NOT NULL CHECK (source IN ('api', 'default', 'bundle')),
                updated_at TEXT NOT NULL)""",
            """CREATE TABLE prices (
                id INTEGER PRIMARY KEY,
                model TEXT NOT NULL,
                effective_from TEXT NOT NULL,
                input REAL NOT NULL,
                output REAL NOT NULL,
                cache_write_5m REAL NOT NULL,
                cache_write_1h REAL NOT NULL,
                cache_read REAL NOT NULL,
                batch_discount REAL NOT NULL,
                long_context_threshold INTEGER,
                long_context_input REAL,
                long_context_output REAL,
                source TEXT NOT NULL DEFAULT '',
                hash TEXT NOT NULL UNIQUE)""",
            "CREATE INDEX prices_model ON prices (model, effective_from)",
            *_immutable("prices", "price rows"),
        ],
    )


_RUN_TABLES = [
    """CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL DEFAULT 'run' CHECK (kind IN ('run', 'eval', 'import')),
        status TEXT NOT NULL
            CHECK (status IN ('running', 'done', 'cancelled', 'interrupted', 'failed')),
        status_reason TEXT,
        provider TEXT NOT NULL,
        synthetic INTEGER NOT NULL DEFAULT 0,
        plan_json TEXT NOT NULL,
        totals_json TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        finished_at TEXT)""",
    """CREATE TABLE cells (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        version_id INTEGER NOT NULL REFERENCES prompt_versions(id),
        example_id INTEGER REFERENCES examples(id) ON DELETE SET NULL,
        example_vars_json TEXT NOT NULL,
        model TEXT NOT NULL,
        repeat INTEGER NOT NULL DEFAULT 0,
        position INTEGER NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'done', 'error', 'cancelled')),
        call_id INTEGER REFERENCES calls(id))""",
    "CREATE INDEX cells_run ON cells (run_id, status)",
    """CREATE TABLE calls (
        id INTEGER PRIMARY KEY,
        run_id INTEGER REFERENCES runs(id),
        cell_id INTEGER REFERENCES cells(id),
        version_id INTEGER REFERENCES prompt_versions(id),
        source TEXT NOT NULL DEFAULT 'run' CHECK (source IN ('run', 'import', 'judge')),
        model TEXT NOT NULL,
        request_json TEXT NOT NULL,
        request_hash TEXT NOT NULL,
        output TEXT NOT NULL DEFAULT '',
        stop_reason TEXT,
        input_tokens INTEGER,
        output_tokens INTEGER,
        cache_creation_tokens INTEGER,
        cache_read_tokens INTEGER,
        cost_usd REAL,
        latency_ms REAL,
        ttft_ms REAL,
        total_ms REAL,
        error_type TEXT,
        error_message TEXT,
        partial_text TEXT,
        request_id TEXT,
        cached_from INTEGER REFERENCES calls(id),
        synthetic INTEGER NOT NULL DEFAULT 0,
        started_at REAL NOT NULL,
        finished_at REAL NOT NULL,
        prompt_name TEXT,
        prompt_version INTEGER,
        user_id TEXT,
        feedback INTEGER)""",
    "CREATE INDEX calls_run ON calls (run_id)",
    "CREATE INDEX calls_cell ON calls (cell_id)",
    "CREATE INDEX calls_version_model ON calls (version_id, model)",
    "CREATE INDEX calls_finished ON calls (finished_at)",
    "CREATE INDEX calls_cache ON calls (request_hash) WHERE error_type IS NULL",
    "CREATE TRIGGER calls_no_update BEFORE UPDATE ON calls "
    "BEGIN SELECT RAISE(ABORT, 'logged calls are immutable'); END",
    """CREATE TABLE attempts (
        id INTEGER PRIMARY KEY,
        call_id INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
        number INTEGER NOT NULL,
        request_id TEXT,
        status INTEGER,
        error_type TEXT,
        error_message TEXT,
        started_at REAL NOT NULL,
        duration_ms REAL NOT NULL,
        retry_after_s REAL,
        backoff_s REAL)""",
    "CREATE INDEX attempts_call ON attempts (call_id)",
]


@migration
def m002_runs(db: Database) -> None:
    """Runs, their cells, every logged call and each call's attempts (calls are immutable)."""
    _run(db, _RUN_TABLES)


_LABEL_TABLES = [
    # A user-defined list, so the grid's tag picker offers the same words every time.
    """CREATE TABLE failure_tags (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        description TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL)""",
    # One row per labelled call; calls themselves are immutable, so labels live beside them.
    """CREATE TABLE call_labels (
        call_id INTEGER PRIMARY KEY REFERENCES calls(id),
        verdict TEXT CHECK (verdict IN ('pass', 'fail')),
        rating INTEGER CHECK (rating BETWEEN 1 AND 5),
        note TEXT NOT NULL DEFAULT '',
        updated_at TEXT NOT NULL)""",
    """CREATE TABLE call_label_tags (
        call_id INTEGER NOT NULL REFERENCES call_labels(call_id) ON DELETE CASCADE,
        tag_id INTEGER NOT NULL REFERENCES failure_tags(id) ON DELETE CASCADE,
        PRIMARY KEY (call_id, tag_id))""",
    "CREATE INDEX call_label_tags_tag ON call_label_tags (tag_id)",
    # The latest scoring of each call against its example's expectations (re-scoring replaces).
    """CREATE TABLE scores (
        id INTEGER PRIMARY KEY,
        call_id INTEGER NOT NULL REFERENCES calls(id),
        example_id INTEGER REFERENCES examples(id) ON DELETE SET NULL,
        expectation_index INTEGER NOT NULL,
        type TEXT NOT NULL,
        weight REAL NOT NULL DEFAULT 1.0,
        passed INTEGER NOT NULL CHECK (passed IN (0, 1)),
        score REAL,
        reason TEXT NOT NULL DEFAULT '',
        scored_at TEXT NOT NULL,
        UNIQUE (call_id, expectation_index))""",
    "CREATE INDEX scores_example ON scores (example_id)",
    # LLM-judge verdicts, keyed by everything that decides them, so re-scoring never pays twice.
    """CREATE TABLE judge_results (
        id INTEGER PRIMARY KEY,
        key_hash TEXT NOT NULL,
        call_id INTEGER REFERENCES calls(id),
        judge_call_id INTEGER REFERENCES calls(id),
        judge_version_id INTEGER REFERENCES prompt_versions(id),
        judge_model TEXT NOT NULL,
        rubric TEXT NOT NULL,
        score INTEGER CHECK (score BETWEEN 1 AND 5),
        reason TEXT NOT NULL DEFAULT '',
        error TEXT,
        created_at TEXT NOT NULL)""",
    "CREATE INDEX judge_results_key ON judge_results (key_hash)",
    "CREATE INDEX judge_results_call ON judge_results (call_id)",
]


@migration
def m003_labels_and_scores(db: Database) -> None:
    """Human labels on calls (verdict, rating, note, failure tags), scores and judge verdicts."""
    _run(db, _LABEL_TABLES)


_FEEDBACK_TABLES = [
    # The caller's own id of an imported call (the `call_id` of a log line): a re-import skips
    # ids seen before, and a feedback line that arrives later finds its call through it.
    """CREATE TABLE call_external_ids (
        call_id INTEGER PRIMARY KEY REFERENCES calls(id),
        external_id TEXT NOT NULL UNIQUE)""",
    # Thumbs up (1) / down (-1) that arrived after the call was stored (calls are immutable);
    # the latest row wins over calls.feedback. UNIQUE makes re-importing a feedback line a no-op.
    """CREATE TABLE call_feedback (
        id INTEGER PRIMARY KEY,
        call_id INTEGER NOT NULL REFERENCES calls(id),
        feedback INTEGER NOT NULL CHECK (feedback IN (-1, 1)),
        at REAL,
        run_id INTEGER REFERENCES runs(id),
        UNIQUE (call_id, at, feedback))""",
    "CREATE INDEX call_feedback_call ON call_feedback (call_id, id)",
]


@migration
def m004_call_feedback(db: Database) -> None:
    """External ids of imported calls and feedback that arrives after a call was logged."""
    _run(db, _FEEDBACK_TABLES)


_REQUEST_TEXT_TABLES = [
    # Long texts of logged requests (a system prompt, a few-shot prefix), stored once: a call's
    # request_json holds {"$text": id} in their place. 100 000 imported calls of one prompt
    # otherwise store its system prompt 100 000 times (storage.request_texts reads them back).
    """CREATE TABLE request_texts (
        id INTEGER PRIMARY KEY,
        hash TEXT NOT NULL UNIQUE,
        text TEXT NOT NULL)""",
    *_immutable("request_texts", "request texts"),
    # Imported calls never answer from the cache (find_cached reads source 'run' only), so the
    # cache index need not hold them: it was a tenth of an imported call's size.
    "DROP INDEX calls_cache",
    "CREATE INDEX calls_cache ON calls (request_hash) WHERE error_type IS NULL AND source = 'run'",
]


@migration
def m005_request_texts(db: Database) -> None:
    """Long request texts stored once, and a cache index without imported calls."""
    _run(db, _REQUEST_TEXT_TABLES)


_BATCH_TABLES = [
    # One row per Message Batch, written the moment the API has given it an id, so closing the
    # app or the terminal never loses a batch (and its half-price answers).
    """CREATE TABLE message_batches (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        batch_id TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL DEFAULT 'in_progress'
            CHECK (status IN ('in_progress', 'canceling', 'ended', 'collected')),
        requests INTEGER NOT NULL,
        counts_json TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        expires_at TEXT,
        ended_at TEXT,
        collected_at TEXT,
        checked_at TEXT)""",
    "CREATE INDEX message_batches_run ON message_batches (run_id, status)",
    # Which cell each request of a batch answers; call_id is set when its result is written,
    # in the same transaction, so collecting twice never stores an answer twice.
    """CREATE TABLE batch_cells (
        batch_row INTEGER NOT NULL REFERENCES message_batches(id),
        cell_id INTEGER NOT NULL REFERENCES cells(id),
        custom_id TEXT NOT NULL,
        request_hash TEXT NOT NULL,
        call_id INTEGER REFERENCES calls(id),
        PRIMARY KEY (batch_row, custom_id))""",
    "CREATE INDEX batch_cells_cell ON batch_cells (cell_id)",
]


@migration
def m006_message_batches(db: Database) -> None:
    """Message Batches of a run and the cells each of their requests answers."""
    _run(db, _BATCH_TABLES)


_BLOCK_TABLES = [
    # What a version holds besides system/messages/params (tools, tool_choice, output schema,
    # thinking, effort, prefill), as canonical JSON; NULL for versions that hold none of it.
    "ALTER TABLE prompt_versions ADD COLUMN extras_json TEXT",
    # Image and PDF files that examples name, stored once by content hash so the project file
    # stays self-contained; file_paths maps the path an example names to its content.
    """CREATE TABLE files (
        hash TEXT PRIMARY KEY,
        media_type TEXT NOT NULL,
        size INTEGER NOT NULL,
        data BLOB NOT NULL)""",
    *_immutable("files", "stored files"),
    """CREATE TABLE file_paths (
        path TEXT PRIMARY KEY,
        hash TEXT NOT NULL REFERENCES files(hash),
        added_at TEXT NOT NULL)""",
    # What a call returned besides its text: tool calls with their arguments, the thinking
    # text and thinking tokens (canonical JSON). Only calls that had any get a row.
    """CREATE TABLE call_details (
        call_id INTEGER PRIMARY KEY REFERENCES calls(id),
        details_json TEXT NOT NULL)""",
    *_immutable("call_details", "call details"),
]


@migration
def m007_prompt_blocks(db: Database) -> None:
    """Tools, schemas and thinking on versions; files stored by hash; calls' tool calls."""
    _run(db, _BLOCK_TABLES)


_DRAFT_CALL_TABLES = [
    # Calls made from the prompt editor's Try panel on an unsaved draft: logged in `calls` like
    # any other (run_id and version_id NULL), and tied here to the draft's content hash, so a
    # draft's answers are found again and never read as a saved version's.
    """CREATE TABLE draft_calls (
        call_id INTEGER PRIMARY KEY REFERENCES calls(id),
        prompt_name TEXT,
        draft_hash TEXT NOT NULL,
        created_at TEXT NOT NULL)""",
    "CREATE INDEX draft_calls_hash ON draft_calls (draft_hash)",
    *_immutable("draft_calls", "draft calls"),
]


@migration
def m008_draft_calls(db: Database) -> None:
    """Calls of the Try panel, tied to the unsaved draft's content hash."""
    _run(db, _DRAFT_CALL_TABLES)
