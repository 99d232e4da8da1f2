"""Log import size: how much a project grows when it imports a production call log.

Writes N call lines (default 100 000, about 47 MB) the way the exported loader writes them —
`RenderedPrompt.log_record` of the sample project's `support-answer` prompt (a 1.5 kB system
prompt) with varied questions, outputs, users, tokens and a few errors and thumbs — imports them
with `workbench.services.logs_import.import_logs` into a fresh copy of the sample project and
prints the log's size, how much the project grew, the ratio and the import time, measured in one
run. With ``--tables`` it also prints the bytes each table and index takes (SQLite's dbstat).

``--lean`` leaves out ``content_hash``, ``request_id`` and ``type`` (shorter lines, about 47 MB,
so the fixed cost of a stored call weighs more in the ratio).

Usage: ``python bench/log_import_size.py [--lines 100000] [--tables] [--lean]``
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "projects" / "quizcraft.yaml"
WORDS = [
    "install",
    "account",
    "password",
    "invoice",
    "refund",
    "export",
    "login",
    "update",
    "mac",
    "windows",
    "linux",
    "phone",
    "billing",
    "plan",
    "team",
    "invite",
    "delete",
    "backup",
    "sync",
    "offline",
    "error",
    "crash",
    "slow",
    "upload",
    "download",
]


def write_log(path: Path, lines: int, project_path: Path, *, lean: bool = False) -> None:
    """Write `lines` call lines (and a feedback line for every 50th call) to `path`."""
    from workbench.runtime import Registry, feedback_record
    from workbench.services.production_export import build_production_export
    from workbench.storage.project import Project

    with Project.open(project_path, read_only=True) as project:
        registry = Registry(build_production_export(project, skip_unlabelled=True))
    rng = random.Random(7)
    start = 1_795_000_000.0  # 2026-11-18
    with path.open("w", encoding="utf-8") as out:
        for i in range(lines):
            question = "How do I " + " ".join(rng.choices(WORDS, k=rng.randint(3, 12))) + "?"
            rendered = registry.render("support-answer", question=question)
            failed = rng.random() < 0.02
            output = "" if failed else " ".join(rng.choices(WORDS, k=rng.randint(2, 12)))
            call_id = str(uuid.UUID(int=rng.getrandbits(128)))
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(start + i * 6.0)) + "Z"
            record = rendered.log_record(
                output=output,
                latency_ms=round(rng.lognormvariate(7.0, 0.5), 1),
                input_tokens=None if failed else 380 + rng.randint(0, 40),
                output_tokens=None if failed else rng.randint(20, 200),
                user_id=f"u-{rng.randint(1, 5000)}",
                call_id=call_id,
                request_id=None if failed else f"req_{rng.getrandbits(64):016x}",
                error="RateLimitError" if failed else None,
                feedback=rng.choice(("up", "down")) if rng.random() < 0.05 else None,
                timestamp=stamp,
            )
            if lean:  # what a hand-written logger may leave out: about 470 bytes a line
                for key in ("content_hash", "request_id", "type"):
                    record.pop(key, None)
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            if i % 50 == 0:
                out.write(json.dumps(feedback_record(call_id, "down", timestamp=stamp)) + "\n")


def table_sizes(project_path: Path) -> list[tuple[str, int]]:
    """Bytes per table and index, largest first (empty when SQLite lacks dbstat)."""
    import sqlite3

    with sqlite3.connect(project_path) as conn:
        try:
            rows = conn.execute(
                "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"
            ).fetchall()
        except sqlite3.OperationalError:
            return []
    return [(str(name), int(size)) for name, size in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--tables", action="store_true", help="bytes per table and index")
    parser.add_argument("--lean", action="store_true", help="lines without content_hash etc.")
    args = parser.parse_args()

    from workbench.services.logs_import import import_logs
    from workbench.services.projects import create_project
    from workbench.storage.project import Project

    with tempfile.TemporaryDirectory() as tmp:
        project_path = Path(tmp) / "bench.pwb"
        create_project(project_path, bundle=SAMPLE)
        log = Path(tmp) / "calls.jsonl"
        write_log(log, args.lines, project_path, lean=args.lean)
        before = project_path.stat().st_size
        began = time.perf_counter()
        with Project.open(project_path) as project:
            report = import_logs(project, log)
        seconds = time.perf_counter() - began
        grown = project_path.stat().st_size - before
        log_size = log.stat().st_size
        print(f"log lines          {report.lines:>12,}  ({report.summary()})")
        print(f"log file           {log_size / 1e6:>12.1f} MB")
        print(f"project before     {before / 1e6:>12.1f} MB")
        print(f"project growth     {grown / 1e6:>12.1f} MB")
        print(f"growth / log file  {grown / log_size:>12.2f} x")
        print(f"import time        {seconds:>12.1f} s  ({report.lines / seconds:,.0f} lines/s)")
        if args.tables:
            for name, size in table_sizes(project_path):
                if size > 100_000:
                    print(f"  {name:<28} {size / 1e6:>8.1f} MB")


if __name__ == "__main__":
    main()
