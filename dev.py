#!/usr/bin/env python3
"""Pressroom's bootstrap: needs nothing but Python 3.11+.

    python3 dev.py serve   set up, migrate the embedded SQLite database, serve on :8000
    python3 dev.py test    set up, then lint, type-check and run the whole test suite
    python3 dev.py setup   only set up (.venv from uv.lock)

Setting up installs a pinned uv into .tools/ and syncs .venv exactly to uv.lock.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
TOOLS = ROOT / ".tools"
VENV = ROOT / ".venv"
UV_VERSION = "0.13.8"
BIN = "Scripts" if os.name == "nt" else "bin"


def run(*command: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(part) for part in command), flush=True)
    result = subprocess.run([str(part) for part in command], cwd=ROOT, env=env, check=False)
    if result.returncode != 0:
        sys.exit(result.returncode)


def uv() -> Path:
    executable = TOOLS / BIN / "uv"
    if not executable.exists() or _uv_version(executable) != UV_VERSION:
        venv.EnvBuilder(with_pip=True, clear=True).create(TOOLS)
        run(TOOLS / BIN / "python", "-m", "pip", "install", "--quiet", f"uv=={UV_VERSION}")
    return executable


def _uv_version(executable: Path) -> str:
    output = subprocess.run(
        [str(executable), "--version"], capture_output=True, text=True, check=False
    ).stdout
    parts = output.split()
    return parts[1] if len(parts) > 1 else ""


def setup() -> None:
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(VENV)}
    run(uv(), "sync", "--frozen", "--python", sys.executable, env=env)


def tool(name: str) -> Path:
    return VENV / BIN / name


def serve(args: list[str]) -> None:
    setup()
    run(tool("pressroom"), "migrate")
    host = _option(args, "--host") or os.environ.get("PRESSROOM_SERVER__HOST", "127.0.0.1")
    port = _option(args, "--port") or os.environ.get("PRESSROOM_SERVER__PORT", "8000")
    print(f"Pressroom: http://{host}:{port}/api  docs: http://{host}:{port}/docs", flush=True)
    os.execv(tool("pressroom"), [str(tool("pressroom")), "serve", *args])


def _option(args: list[str], name: str) -> str | None:
    for index, arg in enumerate(args):
        if arg == name and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(f"{name}="):
            return arg.split("=", 1)[1]
    return None


def test(args: list[str]) -> None:
    setup()
    run(tool("ruff"), "check", ".")
    run(tool("ruff"), "format", "--check", ".")
    run(tool("mypy"))
    run(tool("lint-imports"))
    run(tool("pytest"), "--cov", "--cov-report=term", *args)


COMMANDS = {"serve": serve, "test": test, "setup": lambda _args: setup()}


def main() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 (this script must explain itself on old Pythons)
        sys.exit(f"Pressroom needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
