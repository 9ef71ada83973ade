"""A throw-away PostgreSQL server for tests: `initdb` in a temporary folder, `pg_ctl start` on 127.0.0.1 and a
free port, stopped and removed afterwards. `initdb` refuses to run as root, so under root (as in CI) both run
as the `postgres` user through `runuser`. Skips where PostgreSQL is not installed, unless
`V2M_REQUIRE_POSTGRES=1` (set by `.ci/run`), where that fails instead: CI must run these tests, not skip them."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

SEARCH = ["/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/local/bin", "/usr/bin"]


def _missing(why: str) -> None:
    if os.environ.get("V2M_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL test required here (V2M_REQUIRE_POSTGRES=1) but {why}")
    pytest.skip(why)


def _tool(name: str) -> str | None:
    return shutil.which(name) or next((f"{d}/{name}" for d in SEARCH if Path(f"{d}/{name}").is_file()), None)


def _free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Yield the SQLAlchemy URL of a fresh server's `postgres` database."""
    initdb, pg_ctl = _tool("initdb"), _tool("pg_ctl")
    if initdb is None or pg_ctl is None:
        _missing("PostgreSQL's initdb/pg_ctl are not installed")
    as_user: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="v2m-pg-"))
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            _missing("running as root and there is no postgres user to run initdb as")
        os.chown(folder, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", _free_port()

    def run(*command: str) -> None:
        subprocess.run([*as_user, *command], check=True, capture_output=True, timeout=120)

    try:
        run(initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
        run(pg_ctl, "-D", str(data), "-l", str(folder / "server.log"), "-w", "-t", "60",
            "-o", f"-p {port} -h 127.0.0.1 -k {folder} -F", "start")
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True,
                           timeout=60)
        shutil.rmtree(folder, ignore_errors=True)
