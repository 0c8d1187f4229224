"""Real processes for tests that need them: the ``daybook`` CLI and a uvicorn server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
DAYBOOK = [sys.executable, "-m", "backend.cli"]


def env_for(database_url: str, **extra: str) -> dict[str, str]:
    env = {**os.environ, "DAYBOOK_DATABASE_URL": database_url, **extra}
    env.pop("DAYBOOK_REDIS_URL", None)
    return env


def production_env(**extra: str) -> dict[str, str]:
    """What a production server needs: DAYBOOK_ENV and a key for stored secrets (a fresh one)."""
    from cryptography.fernet import Fernet

    return {
        "DAYBOOK_ENV": "production",
        "DAYBOOK_SECRET_KEYS": Fernet.generate_key().decode(),
        **extra,
    }


def daybook(database_url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*DAYBOOK, *args],
        cwd=ROOT,
        env=env_for(database_url),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_server(
    database_url: str, *, workers: int = 1, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Start ``daybook serve`` on a free port; yield its base URL once /healthz answers."""
    port = free_port()
    # A file, not a pipe: a pipe nobody reads fills up and stalls the server.
    log = tempfile.NamedTemporaryFile(prefix="daybook-serve-", suffix=".log", delete=False)
    process = subprocess.Popen(
        [*DAYBOOK, "serve", "--port", str(port), "--workers", str(workers)],
        cwd=ROOT,
        env={**env_for(database_url), **(env or {})},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(
            process,
            lambda: httpx.get(f"{base}/healthz", timeout=1).status_code in (200, 503),
            Path(log.name),
            "server",
        )
        yield base
    finally:
        stop(process)
        log.close()
        Path(log.name).unlink(missing_ok=True)


def wait_until_up(
    process: subprocess.Popen, ready, log_path: Path, what: str, seconds: float = 30
) -> None:
    """Wait for a process this test run started to answer ``ready()``; its log if it died."""
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            raise RuntimeError(log_path.read_text())
        try:
            if ready():
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not start")
        time.sleep(0.1)  # waiting for a process to boot, not for domain time


def stop(process: subprocess.Popen) -> None:
    """End a process this test run started: politely, then for good."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
