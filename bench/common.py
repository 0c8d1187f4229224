"""What every benchmark shares: a fresh PostgreSQL database, a real ``daybook serve``,
CPU time read from /proc, a GraphQL client for setup, and a small HTTP/1.1 load client.

Server CPU is the sum of utime + stime (``/proc/<pid>/stat``, clock ticks) over
uvicorn's master process and every process below it (its workers), read before
and after the measured window; PostgreSQL's CPU the same way over the backends
``pg_stat_activity`` lists for the benchmark's database. Nothing here asserts.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
DAYBOOK = str(BIN / "daybook")
PG_ADMIN_URL = os.environ.get("DAYBOOK_BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/test")
CLOCK_TICK_US = 1_000_000 / os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


# ---------------------------------------------------------------- /proc


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (state is [0], ppid [1])."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw.rsplit(")", 1)[1].split()


def cpu_ticks(pid: int) -> int:
    """utime + stime of one process in clock ticks; 0 once it is gone."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0
    return int(fields[11]) + int(fields[12])  # stat fields 14 and 15


def rss_kib(pid: int) -> int:
    fields = _stat_fields(pid)
    return int(fields[21]) * PAGE_KIB if fields else 0  # stat field 24, in pages


def descendants(root: int) -> list[int]:
    """``root`` and every live process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields:
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


class CpuMeter:
    """CPU time of a set of processes over a window: ``start()``, then ``stop()`` -> µs."""

    def __init__(self, pids_now) -> None:
        self._pids_now = pids_now  # () -> the processes to count, listed afresh each time
        self._before: dict[int, int] = {}

    def _read(self) -> dict[int, int]:
        return {pid: cpu_ticks(pid) for pid in self._pids_now()}

    def start(self) -> None:
        self._before = self._read()

    def stop(self) -> float:
        """µs spent since ``start`` (a process that appeared in between counts from 0)."""
        after = self._read()
        ticks = sum(after[pid] - self._before.get(pid, 0) for pid in after)
        return ticks * CLOCK_TICK_US


# ---------------------------------------------------------------- PostgreSQL


@asynccontextmanager
async def fresh_database(prefix: str = "daybook_bench") -> AsyncIterator[str]:
    """Create an empty database on the shared server, yield its URL, drop it at the end."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/").split("?")[0]


class PostgresCpu:
    """CPU of the PostgreSQL client backends serving one database (same machine, /proc).

    ``start()``, any number of ``sample()`` calls while short-lived backends (pgbench)
    are connected, then ``stop()`` -> µs. A backend that appears after ``start``
    counts from zero; one that ends counts up to its last sample.
    """

    def __init__(self, url: str) -> None:
        self.name = database_name(url)
        self._conn: asyncpg.Connection | None = None
        self._before: dict[int, int] = {}
        self._last: dict[int, int] = {}

    async def _read(self) -> dict[int, int]:
        if self._conn is None:
            self._conn = await asyncpg.connect(PG_ADMIN_URL)  # on `test`: not one of ours
        rows = await self._conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1"
            " AND backend_type = 'client backend'",
            self.name,
        )
        return {row["pid"]: cpu_ticks(row["pid"]) for row in rows}

    async def start(self) -> None:
        self._before = await self._read()
        self._last = dict(self._before)

    async def sample(self) -> None:
        for pid, ticks in (await self._read()).items():
            if ticks:
                self._last[pid] = ticks

    async def stop(self) -> float | None:
        """µs spent since ``start``; None when /proc shows none of the backends."""
        await self.sample()
        if not any(self._last.values()):
            return None
        ticks = sum(last - self._before.get(pid, 0) for pid, last in self._last.items())
        return ticks * CLOCK_TICK_US

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None


def daybook(database_url: str, *args: str, env: dict[str, str] | None = None) -> str:
    """Run the ``daybook`` CLI of this checkout; its stdout, or an error with its output."""
    done = subprocess.run(
        [DAYBOOK, *args],
        cwd=ROOT,
        env={**server_env(database_url), **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"daybook {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def migrate_and_admin_key(database_url: str) -> str:
    """``daybook migrate`` then ``daybook create-admin-key``; returns the key."""
    daybook(database_url, "migrate")
    return daybook(database_url, "create-admin-key").strip().splitlines()[-1]


# ---------------------------------------------------------------- the server


PASSED_THROUGH = ("DAYBOOK_GC_TUNING",)


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    # The caller's DAYBOOK_* settings do not leak into the server, except the
    # ones a bench is run to compare (DAYBOOK_GC_TUNING=0 turns the GC tuning off).
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("DAYBOOK_") or k in PASSED_THROUGH
    }
    # No periodic jobs inside the measured windows: they are not per-request work.
    env.update(DAYBOOK_DATABASE_URL=database_url, DAYBOOK_JOBS_INTERVAL="0", **extra)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    base: str
    process: subprocess.Popen
    workers: int
    log: Path

    @property
    def port(self) -> int:
        return int(self.base.rsplit(":", 1)[1])

    def pids(self) -> list[int]:
        return descendants(self.process.pid)

    def cpu(self) -> CpuMeter:
        return CpuMeter(self.pids)

    def rss_kib(self) -> int:
        return sum(rss_kib(pid) for pid in self.pids())


@contextmanager
def running_server(
    database_url: str, *, workers: int = 1, env: dict[str, str] | None = None
) -> Iterator[Server]:
    """``daybook serve --port P --workers N`` as a real subprocess, until /healthz answers
    on every worker; terminated (and its workers with it) at the end."""
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="daybook-bench-serve-", suffix=".log")[1])
    with log.open("wb") as out:
        process = subprocess.Popen(
            [DAYBOOK, "serve", "--port", str(port), "--workers", str(workers)],
            cwd=ROOT,
            env={**server_env(database_url), **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", process, workers, log)
    try:
        deadline = time.monotonic() + 60
        while not _healthy(port) or (workers > 1 and len(server.pids()) <= workers):
            if process.poll() is not None:
                raise RuntimeError("daybook serve exited:\n" + log.read_text())
            if time.monotonic() > deadline:
                raise TimeoutError("daybook serve did not start:\n" + log.read_text())
            time.sleep(0.2)  # a process booting, not domain time
        time.sleep(0.5 if workers == 1 else 2.0)  # let every worker finish its start-up
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            for pid in server.pids():
                try:
                    os.kill(pid, 9)
                except OSError:
                    pass
            process.wait()
        log.unlink(missing_ok=True)


def _healthy(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            return sock.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


# ---------------------------------------------------------------- HTTP client


class HttpConnection:
    """One keep-alive HTTP/1.1 connection: cheap enough to load a server from Python."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Length: {len(body)}\r\n"
        for name, value in (headers or {}).items():
            head += f"{name}: {value}\r\n"
        self.writer.write(head.encode() + b"\r\n" + body)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length, chunked = 0, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
        if not chunked:
            return status, await self.reader.readexactly(length)
        parts = []
        while size := int((await self.reader.readline()).split(b";")[0], 16):
            parts.append(await self.reader.readexactly(size))
            await self.reader.readline()
        await self.reader.readline()
        return status, b"".join(parts)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class GraphQL:
    """Setup calls through the real API (not timed): ``await gql(query, variables, key)``."""

    def __init__(self, base: str, connections: int = 8) -> None:
        url = urlsplit(base)
        self._idle = [HttpConnection(url.hostname, url.port) for _ in range(connections)]
        self._free = asyncio.Semaphore(connections)

    async def __call__(self, query: str, variables: dict | None = None, key: str = "") -> dict:
        async with self._free:
            conn = self._idle.pop()
            try:
                status, raw = await conn.request(
                    "POST",
                    "/graphql",
                    json.dumps({"query": query, "variables": variables or {}}).encode(),
                    {"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
                )
            finally:
                self._idle.append(conn)
        answer = json.loads(raw)
        if status != 200 or answer.get("errors"):
            raise RuntimeError(f"GraphQL {status}: {answer}")
        data = answer["data"]
        for payload in data.values():
            if isinstance(payload, dict) and payload.get("userErrors"):
                raise RuntimeError(f"userErrors: {payload['userErrors']}")
        return data

    async def many(self, calls: Iterable[tuple[str, dict, str]]) -> list[dict]:
        return await asyncio.gather(*(self(q, v, k) for q, v, k in calls))

    async def close(self) -> None:
        for conn in self._idle:
            await conn.close()


# ---------------------------------------------------------------- wrk


@dataclass
class WrkResult:
    rate: float
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    bad: int  # 2xx answers whose body did not look right (userErrors, errors)
    socket_errors: str = ""
    raw: str = field(default="", repr=False)


WRK_SCRIPT = """
-- Bodies are Lua long strings: JSON escapes inside them reach the server untouched.
local bodies = {%(bodies)s}
local sent = 0
bad = 0
request = function()
  sent = sent + 1
  return wrk.format("POST", "/graphql", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer %(key)s",
  }, bodies[(sent %% #bodies) + 1])
end
response = function(status, headers, body)
  if status == 200 and (body:find('"errors"', 1, true) or %(bad_check)s) then
    bad = bad + 1
  end
end
local threads = {}
setup = function(thread) table.insert(threads, thread) end
done = function(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("bad") end
  io.write(string.format("BAD %%d\\n", total))
end
"""


def write_wrk_script(path: Path, bodies: Iterable[str], key: str, expect: str | None) -> Path:
    """A wrk script POSTing ``bodies`` in turn to /graphql; an answer lacking ``expect``
    (or carrying GraphQL ``errors``) is counted as bad."""
    bad_check = f"not body:find({json.dumps(expect)}, 1, true)" if expect else "false"
    path.write_text(
        WRK_SCRIPT
        % {
            "bodies": ", ".join(f"[[{body}]]" for body in bodies),
            "key": key,
            "bad_check": bad_check,
        }
    )
    return path


def run_wrk(base: str, script: Path, connections: int, seconds: float) -> WrkResult:
    """wrk (C, one thread: the cheapest load on a 2-core box) for ``seconds``."""
    output = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            "-s",
            str(script),
            base,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures: dict[str, float] = {}
    requests, took, socket_errors = 0, float(seconds), ""
    for row in output.splitlines():
        parts = row.split()
        if row.startswith("Requests/sec:"):
            figures["rate"] = float(parts[1])
        elif parts[:1] in (["50%"], ["99%"]):
            figures[parts[0]] = _milliseconds(parts[1])
        elif "Non-2xx" in row:
            figures["non2xx"] = float(parts[-1])
        elif row.startswith("BAD "):
            figures["bad"] = float(parts[1])
        elif "requests in" in row:
            requests = int(parts[0])
            took = _milliseconds(parts[3].rstrip(",")) / 1000
        elif "Socket errors" in row:
            socket_errors = row.strip()
    return WrkResult(
        rate=figures.get("rate", 0.0),
        requests=requests,
        seconds=took,
        p50_ms=figures.get("50%", float("nan")),
        p99_ms=figures.get("99%", float("nan")),
        non_2xx=int(figures.get("non2xx", 0)),
        bad=int(figures.get("bad", 0)),
        socket_errors=socket_errors,
        raw=output,
    )


def _milliseconds(text: str) -> float:
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("m", 60_000.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    return float(text)


# ---------------------------------------------------------------- figures


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


def target(text: str) -> str:
    return f"   [target {text}]"


# ---------------------------------------------------------------- round trips


class CountingProxy:
    """bench/pgproxy.py in its own process; ``url`` reaches PostgreSQL through it."""

    def __init__(self, database_url: str) -> None:
        parts = urlsplit(database_url)
        self.process = subprocess.Popen(
            [
                str(BIN / "python"),
                str(ROOT / "bench" / "pgproxy.py"),
                "--upstream",
                parts.netloc.rsplit("@", 1)[-1],
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        ready = self.process.stdout.readline().split()
        if ready[:1] != ["READY"]:
            raise RuntimeError("the counting proxy did not start")
        self.port = int(ready[1])
        user = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
        self.url = parts._replace(netloc=f"{user}127.0.0.1:{self.port}").geturl()

    def counts(self) -> dict[str, int]:
        self.process.stdin.write("count\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def round_trips(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Messages sent between two ``counts()``: S + Q are the round trips."""
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in set(before) | set(after)}
    delta["round_trips"] = delta.get("S", 0) + delta.get("Q", 0)
    return delta
