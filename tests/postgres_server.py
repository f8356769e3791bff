"""A real, throw-away PostgreSQL server for the tests (Debian's ``postgresql`` package).

The server refuses to run as root, so it runs as the ``postgres`` user, from a folder made
for it, on a free local port, with trust authentication on 127.0.0.1 only. ``make test``
installs the package when it is missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def server_bin() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding a server, if any."""
    folders = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                     key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0)
    folders = [folder for folder in folders if (folder / "postgres").is_file()]
    return folders[-1] if folders else None


def why_not_available() -> str | None:
    """Why no server can be started here (None when one can)."""
    if server_bin() is None:
        return "PostgreSQL's server is not installed (apt install postgresql; make test does)"
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        return "starting PostgreSQL as its own user needs root and runuser"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_postgres(*command: str) -> None:
    subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True,
                   capture_output=True, text=True, timeout=120)


@contextmanager
def postgres_server(*databases: str) -> Iterator[str]:
    """Start a server with ``databases`` created; yield its URL without a database name.

    Yields
    ------
    str
        ``postgresql://postgres@127.0.0.1:PORT``: append ``/NAME``.
    """
    binaries = server_bin()
    folder = Path(tempfile.mkdtemp(prefix="nncourse-postgres-"))
    shutil.chown(folder, "postgres", "postgres")
    data, port = folder / "data", _free_port()
    _as_postgres(str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres")
    _as_postgres(str(binaries / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w",
                 "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1", "start")
    try:
        for name in databases:
            _as_postgres(str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(port), name)
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(["runuser", "-u", "postgres", "--", str(binaries / "pg_ctl"), "-D",
                        str(data), "-m", "immediate", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)
