"""Start the dashboard: ``python -m frontend.launch [--port 3000] [--host 127.0.0.1]``.

Stdlib only, so the API's environment (``make run``, the browser tests, a
future ``daybook dashboard``) can start it: the dashboard runs from its own
virtual environment (``.venv-dashboard``; Reflex needs redis>=6 where the API
pins redis<6) with Bun from npm first on PATH, because Reflex's own Node path
wants a newer Node than this machine has. Production mode, frontend and
backend on one port.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD_VENV = Path(os.environ.get("DAYBOOK_DASHBOARD_VENV", ROOT / ".venv-dashboard"))
BUN_BIN = ROOT / ".tools" / "bun" / "node_modules" / ".bin"
DEFAULT_API_URL = "http://127.0.0.1:8080"


def reflex_executable() -> Path:
    return DASHBOARD_VENV / "bin" / "reflex"


def environment(api_url: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{BUN_BIN}{os.pathsep}{DASHBOARD_VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["REFLEX_USE_SYSTEM_BUN"] = "1"
    env["REFLEX_TELEMETRY_ENABLED"] = "false"
    env["DAYBOOK_API_URL"] = api_url or env.get("DAYBOOK_API_URL") or DEFAULT_API_URL
    env.pop("VIRTUAL_ENV", None)
    return env


def command(port: int, host: str = "127.0.0.1") -> list[str]:
    return [
        str(reflex_executable()),
        "run",
        "--env",
        "prod",
        "--single-port",
        "--frontend-port",
        str(port),
        "--backend-port",
        str(port),
        "--backend-host",
        host,
    ]


def missing() -> list[str]:
    """What ``make install`` has not put in place yet, in words."""
    problems = []
    if not reflex_executable().exists():
        problems.append(f"Reflex is not installed in {DASHBOARD_VENV} (run `make install`)")
    if not (BUN_BIN / "bun").exists():
        problems.append(f"Bun is not installed in {BUN_BIN.parent.parent} (run `make install`)")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the Daybook dashboard (production build).")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--api-url", default=None, help="default: $DAYBOOK_API_URL or :8080")
    args = parser.parse_args()
    problems = missing()
    if problems:
        sys.exit("cannot start the dashboard: " + "; ".join(problems))
    os.chdir(ROOT)  # Reflex reads rxconfig.py and writes .web/ in the project root
    argv = command(args.port, args.host)
    os.execve(argv[0], argv, environment(args.api_url))


if __name__ == "__main__":
    main()
