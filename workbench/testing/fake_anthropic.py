"""A fake Anthropic API on loopback for tests and benchmarks (real HTTP/1.1, SSE, faults).

Three ways to run it:

* in process: ``with FakeAnthropicServer(latency_ms=50) as server: ... server.base_url``
  (its own asyncio loop on a background thread);
* in a subprocess, so it does not share the GIL with the client being measured:
  ``proc, base_url = start_subprocess(latency_ms=50)``, driven via ``RemoteControl``;
* from a shell: ``python -m workbench.testing.fake_anthropic --port 0 --latency-ms 50``.

Options (constructor keywords, ``--config`` JSON, ``POST /config`` body): ``latency_ms``,
``ttft_ms``, ``token_interval_ms``, ``model_latency`` ({model: {ttft_ms, token_interval_ms}}),
``faults`` (list of fault specs, see ``FaultSpec``), ``seed``, ``models``, ``strict_models``,
``max_hang_s``, ``track_body_hashes``, ``batches`` (Message Batches: processing time, expiry,
per-request faults and the per-batch limits, see ``BatchSettings``) and ``rate_limits``
({model or "*": {requests, input_tokens, output_tokens, window_s}}, see ``RateLimit``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from workbench.testing.fake_app import FakeAnthropicApp
from workbench.testing.fake_config import FakeConfig, FaultSpec

__all__ = [
    "FakeAnthropicServer",
    "FaultSpec",
    "RemoteControl",
    "main",
    "start_subprocess",
    "stop_subprocess",
]

_T = TypeVar("_T")
_LISTENING = re.compile(r"listening on (http://\S+)")


async def start_app_server(app: FakeAnthropicApp, host: str, port: int) -> asyncio.Server:
    """Listen for ``app`` on ``host:port`` (0 picks a free port)."""
    # A deep backlog so a burst of hundreds of simultaneous connects is not refused.
    return await asyncio.start_server(app.handle_connection, host, port, backlog=2048)


class FakeAnthropicServer:
    """The fake API on a background thread with its own event loop.

    Thread-safe: every method hops onto the server's loop, where all state lives.
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, **options: Any) -> None:
        self._app = FakeAnthropicApp(FakeConfig().with_options(options))
        self._host, self._port = host, port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None

    @property
    def base_url(self) -> str:
        """E.g. ``http://127.0.0.1:54321`` (valid once started)."""
        return f"http://{self._host}:{self._port}"

    @property
    def port(self) -> int:
        """The bound port (the real one once started, even if 0 was asked for)."""
        return self._port

    def start(self) -> FakeAnthropicServer:
        """Start serving; returns once the port is bound."""
        self._thread = threading.Thread(target=self._run, name="fake-anthropic", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._startup_error is not None:
            raise RuntimeError("fake Anthropic server failed to start") from self._startup_error
        return self

    def stop(self) -> None:
        """Drop all connections, stop the loop and join the thread. Idempotent."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or not thread.is_alive():
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)

    def __enter__(self) -> FakeAnthropicServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stats(self) -> dict[str, Any]:
        """Counters, as served by ``GET /stats``."""
        return self._call(lambda: self._app.stats.to_json())

    def reset_stats(self) -> None:
        """Zero counters and request numbering, reseed the fault RNG, forget cached prefixes."""
        self._call(self._app.reset)

    def configure(self, **options: Any) -> None:
        """Change options while running (same names as the constructor)."""
        self._call(lambda: self._app.configure(options))

    def script(self, *faults: Mapping[str, Any] | FaultSpec) -> None:
        """Replace the scripted faults, e.g. ``script({"request_number": 3, "fault": "429"})``."""
        self.configure(faults=list(faults))

    def config(self) -> dict[str, Any]:
        """The current configuration as JSON-like data."""
        return self._call(lambda: self._app.config.to_dict())

    def _call(self, fn: Callable[[], _T]) -> _T:
        if self._loop is None:
            raise RuntimeError("server not started")

        async def on_loop() -> _T:
            return fn()

        return asyncio.run_coroutine_threadsafe(on_loop(), self._loop).result(timeout=10)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            server = loop.run_until_complete(start_app_server(self._app, self._host, self._port))
            self._port = server.sockets[0].getsockname()[1]
        except BaseException as exc:  # reported to start() in the caller's thread
            self._startup_error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            server.close()
            loop.run_until_complete(self._app.close())
            loop.run_until_complete(server.wait_closed())
            loop.close()


# -- subprocess mode -----------------------------------------------------------------------


def start_subprocess(
    latency_ms: float = 0.0, extra_args: Sequence[str] = (), *, timeout_s: float = 20.0
) -> tuple[subprocess.Popen[str], str]:
    """Run the server in a child process; returns it and its base URL once it listens."""
    cmd = [sys.executable, "-m", "workbench.testing.fake_anthropic", "--port", "0"]
    cmd += ["--latency-ms", str(latency_ms), *extra_args]
    env = dict(os.environ)
    # Make the package importable even when it is not installed (e.g. a plain checkout).
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
    line = _first_line(proc, timeout_s)
    match = _LISTENING.search(line)
    if match is None:
        stop_subprocess(proc)
        raise RuntimeError(f"fake Anthropic server did not start (first line: {line!r})")
    return proc, match.group(1)


def _first_line(proc: subprocess.Popen[str], timeout_s: float) -> str:
    # A reader thread, because pipes cannot be polled with a timeout portably (Windows).
    lines: list[str] = []
    stdout = proc.stdout
    assert stdout is not None  # start_subprocess always pipes stdout
    reader = threading.Thread(target=lambda: lines.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout_s)
    return lines[0] if lines else ""


def stop_subprocess(proc: subprocess.Popen[str], timeout_s: float = 5.0) -> None:
    """Terminate a server started by ``start_subprocess`` (kill if it lingers)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout_s)
    if proc.stdout is not None:
        proc.stdout.close()


class RemoteControl:
    """The control API of a server in another process: same methods as the in-process one."""

    def __init__(self, base_url: str, timeout_s: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout_s = timeout_s

    def stats(self) -> dict[str, Any]:
        """Counters from ``GET /stats``."""
        return self._request("GET", "/stats")

    def reset_stats(self) -> None:
        """``POST /reset``: zero counters and request numbering, reseed, forget the cache."""
        self._request("POST", "/reset", {})

    def configure(self, **options: Any) -> None:
        """``POST /config``; raises ValueError with the server's message on bad options."""
        self._request("POST", "/config", options)

    def script(self, *faults: Mapping[str, Any] | FaultSpec) -> None:
        """Replace the scripted faults."""
        self.configure(
            faults=[f.to_dict() if isinstance(f, FaultSpec) else dict(f) for f in faults]
        )

    def config(self) -> dict[str, Any]:
        """The current configuration from ``GET /config``."""
        return self._request("GET", "/config")

    def _request(self, method: str, path: str, payload: Any = None) -> dict[str, Any]:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("content-type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s) as response:
                result: dict[str, Any] = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise ValueError(exc.read().decode(errors="replace")) from exc
        return result


# -- command line --------------------------------------------------------------------------


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m workbench.testing.fake_anthropic", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--latency-ms", type=float, help="time per call (TTFT; no per-token delay)")
    parser.add_argument("--ttft-ms", type=float)
    parser.add_argument("--token-interval-ms", type=float)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--max-hang-s", type=float)
    parser.add_argument("--strict-models", action="store_true", help="404 for unlisted models")
    parser.add_argument("--no-body-hashes", action="store_true", help="do not count request bodies")
    parser.add_argument(
        "--fault", action="append", default=[], help="a fault spec as JSON (repeatable)"
    )
    parser.add_argument("--config", help="options as JSON, or @path to a JSON file")
    return parser.parse_args(argv)


def _options_from_args(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if args.config:
        text = Path(args.config[1:]).read_text() if args.config.startswith("@") else args.config
        options.update(json.loads(text))
    flags = {
        "latency_ms": args.latency_ms,
        "ttft_ms": args.ttft_ms,
        "token_interval_ms": args.token_interval_ms,
        "seed": args.seed,
        "max_hang_s": args.max_hang_s,
        "strict_models": args.strict_models or None,
        "track_body_hashes": False if args.no_body_hashes else None,
    }
    options.update({k: v for k, v in flags.items() if v is not None})
    if args.fault:
        options["faults"] = [*options.get("faults", []), *(json.loads(f) for f in args.fault)]
    return options


async def _serve_until_signalled(app: FakeAnthropicApp, host: str, port: int) -> None:
    # Handlers first: a parent may send SIGTERM the moment it reads the "listening" line.
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, AttributeError):  # Windows has no handlers
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    server = await start_app_server(app, host, port)
    bound = server.sockets[0].getsockname()[1]
    print(f"listening on http://{host}:{bound}", flush=True)
    try:
        await stop.wait()
    finally:
        server.close()
        await app.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; serves until SIGTERM/SIGINT."""
    args = _parse_args(argv)
    app = FakeAnthropicApp(FakeConfig().with_options(_options_from_args(args)))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_until_signalled(app, args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
