"""The kill switch in seconds: a running, threaded server follows its export file on disk."""

from __future__ import annotations

import copy
import json
import logging
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from workbench.runtime import (
    CALL_LOGGER,
    KILL_ENV,
    LiveRegistry,
    Registry,
    RegistryError,
    killed_by_environment,
    log_call,
)
from workbench.runtime.registry import FORMAT

HASH = "ab" * 32
ENTRY: dict[str, Any] = {
    "version": 3,
    "version_id": f"support-answer@v3#{HASH[:12]}",
    "content_hash": HASH,
    "model": "claude-haiku-4-5",
    "params": {"max_tokens": 300},
    "system": "You answer.",
    "messages": [{"role": "user", "content": "Q: {{question}}"}],
    "feature_flag": {"enabled": True, "staff_only": False, "rollout_percent": 100},
    "kill_switch": False,
    "alerts": {},
}


def _export(kill: bool = False) -> dict[str, Any]:
    entry = copy.deepcopy(ENTRY)
    entry["kill_switch"] = kill
    return {"format": FORMAT, "format_version": 1, "prompts": {"support-answer": entry}}


def _write(path: Path, data: Any) -> None:
    # As a deploy does: a new file renamed over the old one.
    tmp = path.with_suffix(".tmp")
    tmp.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_file_is_looked_at_no_more_often_than_asked(tmp_path: Path) -> None:
    path = tmp_path / "prompts.json"
    _write(path, _export())
    clock = _Clock()
    live = LiveRegistry(path, check_every=5, clock=clock)
    assert live.is_enabled("support-answer", user_id=1)
    _write(path, _export(kill=True))
    clock.now += 4.9
    assert live.is_enabled("support-answer", user_id=1)  # not due yet: no stat, no read
    clock.now += 0.1
    assert not live.is_enabled("support-answer", user_id=1)
    assert live.kill_switch("support-answer")


def test_a_bad_new_file_keeps_the_last_good_one_and_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "prompts.json"
    _write(path, _export())
    clock = _Clock()
    live = LiveRegistry(path, check_every=1, clock=clock)
    broken = _export(kill=True)
    broken["prompts"]["support-answer"]["feature_flag"]["rollout_percent"] = 140
    _write(path, broken)
    clock.now += 1
    with caplog.at_level(logging.ERROR, logger="prompt_workbench.registry"):
        assert live.is_enabled("support-answer", user_id=1)  # still the last good file
        clock.now += 1
        live.is_enabled("support-answer", user_id=1)
    (record,) = caplog.records  # logged once, not at every check
    assert "prompts.support-answer.feature_flag.rollout_percent" in record.getMessage()
    assert str(path) in record.getMessage()
    _write(path, "{ not json")
    clock.now += 1
    assert live.is_enabled("support-answer", user_id=1)
    _write(path, _export(kill=True))
    clock.now += 1
    assert not live.is_enabled("support-answer", user_id=1)


def test_a_bad_file_at_start_up_is_one_error_naming_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "prompts.json"
    broken = _export()
    del broken["prompts"]["support-answer"]["kill_switch"]
    _write(path, broken)
    with pytest.raises(
        RegistryError, match=r"prompts\.json: 'prompts\.support-answer\.kill_switch'"
    ):
        LiveRegistry(path)


def test_the_environment_kills_one_prompt_or_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert KILL_ENV == "PROMPT_WORKBENCH_KILL"
    assert killed_by_environment("a", {KILL_ENV: "b, a"})
    assert killed_by_environment("a", {KILL_ENV: "*"})
    assert not killed_by_environment("a", {KILL_ENV: "ab,b"})
    assert not killed_by_environment("a", {})
    registry = Registry(_export())
    monkeypatch.setenv(KILL_ENV, "summarize,support-answer")
    assert not registry.is_enabled("support-answer", user_id=1, is_staff=True)
    monkeypatch.setenv(KILL_ENV, "summarize")
    assert registry.is_enabled("support-answer", user_id=1)
    monkeypatch.setenv(KILL_ENV, "*")
    assert not registry.is_enabled("support-answer", user_id=1)


def test_log_call_writes_the_documented_line_through_logging(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rendered = Registry(_export()).render("support-answer", question="Why?")
    with caplog.at_level(logging.INFO, logger=CALL_LOGGER):
        log_call(rendered.log_record(output="Because.", latency_ms=12.5, user_id=42))
    (record,) = caplog.records
    line = json.loads(record.getMessage())
    assert (line["user_id"], line["vars"], line["output"]) == (
        "42",
        {"question": "Why?"},
        "Because.",
    )


# --- a real threaded WSGI server -------------------------------------------------------------


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    path = tmp_path / "prompts.json"
    _write(path, _export())
    live = LiveRegistry(path, check_every=0.5)

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        user = environ.get("QUERY_STRING", "") or "anon"
        on = live.is_enabled("support-answer", user_id=user)
        start_response("200 OK" if on else "503 Service Unavailable", [])
        return [b"on" if on else b"off"]

    server = make_server("127.0.0.1", 0, app, server_class=_ThreadingServer, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield path, f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_a_kill_switch_flipped_on_disk_stops_a_running_server_within_n_seconds(
    served: tuple[Path, str],
) -> None:
    path, url = served
    statuses: list[tuple[float, int]] = []
    stop = threading.Event()

    def hammer(user: int) -> None:
        while not stop.is_set():
            statuses.append((time.monotonic(), _status(f"{url}?u{user}")))

    workers = [threading.Thread(target=hammer, args=(i,)) for i in range(6)]
    for worker in workers:
        worker.start()
    time.sleep(0.3)
    flipped = time.monotonic()
    _write(path, _export(kill=True))
    time.sleep(1.5)  # three times check_every
    stop.set()
    for worker in workers:
        worker.join()
    assert any(code == 200 for at, code in statuses if at < flipped)
    late = [code for at, code in statuses if at > flipped + 0.5 + 0.2]
    assert late and set(late) == {503}  # every thread sees the flip, no restart
    assert {code for _at, code in statuses} <= {200, 503}


def test_the_written_loader_has_the_same_live_registry(tmp_path: Path) -> None:
    from workbench.services.production_export import LOADER_FILENAME, loader_source

    (tmp_path / LOADER_FILENAME).write_text(loader_source(), encoding="utf-8")
    path = tmp_path / "prompts.json"
    _write(path, _export())
    script = (
        "import json, os, sys, time\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "from prompt_registry import LiveRegistry\n"
        "live = LiveRegistry(sys.argv[1], check_every=0)\n"
        "before = live.is_enabled('support-answer', user_id=1)\n"
        "data = json.load(open(sys.argv[1]))\n"
        "data['prompts']['support-answer']['kill_switch'] = True\n"
        "open(sys.argv[1] + '.tmp', 'w').write(json.dumps(data))\n"
        "os.replace(sys.argv[1] + '.tmp', sys.argv[1])\n"
        "print(json.dumps([before, live.is_enabled('support-answer', user_id=1)]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-S", "-I", "-c", script, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [True, False]
