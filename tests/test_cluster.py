"""``nncourse grade --scheduler`` on a real Dask cluster with a PostgreSQL gradebook (issue #13).

The test starts a ``dask scheduler`` and two ``dask worker`` processes on localhost and its
own PostgreSQL server, grades a class through them, kills one worker with SIGKILL while the
class is being graded, and expects the same ``grades.csv`` as a local ``--jobs 2`` run of
the same class, with every submission in the PostgreSQL gradebook.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import VENV_BIN, tool_env
from postgres_server import postgres_server, why_not_available
from small_classes import ASSIGNMENT, ch02_class

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(why_not_available() is not None,
                                 reason=why_not_available() or "")]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(*command: str, log: Path) -> subprocess.Popen:
    """A process in its own session (so that all it starts can be killed together)."""
    handle = log.open("w")
    return subprocess.Popen(command, env=tool_env(), stdout=handle, stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=30)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[str, list[subprocess.Popen]]]:
    """A scheduler address and its two worker processes (each with its nanny)."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = str(VENV_BIN / "dask")
    scheduler = start(dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                      "--no-dashboard", log=tmp_path / "scheduler.log")
    workers = [start(dask, "worker", address, "--nthreads", "1", "--nworkers", "1",
                     "--no-dashboard", log=tmp_path / f"worker{index}.log")
               for index in range(2)]
    try:
        yield address, workers
    finally:
        for process in [*workers, scheduler]:
            stop(process)


def test_a_cluster_with_a_dying_worker_grades_like_one_machine(
        tmp_path: Path, cluster: tuple[str, list[subprocess.Popen]]) -> None:
    from nbgrader.api import Gradebook

    address, workers = cluster
    on_cluster, local = tmp_path / "cluster", tmp_path / "local"
    students = ch02_class(on_cluster, wrong=4)
    shutil.copytree(on_cluster, local)
    records = on_cluster / "grades" / ASSIGNMENT / "records"
    with postgres_server("gradebook") as server:
        url = f"{server}/gradebook"
        run = subprocess.Popen(
            [str(VENV_BIN / "nncourse"), "grade", ASSIGNMENT, "--root", str(on_cluster),
             "--scheduler", address, "--db", url, "--quiet"], env=tool_env(),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 300
        while not list(records.glob("*.json")) and run.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        done_before_the_kill = len(list(records.glob("*.json")))
        stop(workers[0])  # mid-run: the other worker must take over its submission
        output, _ = run.communicate(timeout=600)
        assert run.returncode == 0, output[-5000:]
        assert 1 <= done_before_the_kill < len(students)
        assert len(list(records.glob("*.json"))) == len(students)
        with Gradebook(url) as gradebook:
            graded = {submission.student_id
                      for submission in gradebook.assignment_submissions(ASSIGNMENT)}
        assert graded == set(students)
    subprocess.run([str(VENV_BIN / "nncourse"), "grade", ASSIGNMENT, "--root", str(local),
                    "--jobs", "2", "--quiet"], env=tool_env(), check=True,
                   capture_output=True, timeout=600)
    csv_path = Path("grades") / ASSIGNMENT / "grades.csv"
    assert (on_cluster / csv_path).read_text() == (local / csv_path).read_text()
    for student in students:
        assert (on_cluster / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").is_file()
