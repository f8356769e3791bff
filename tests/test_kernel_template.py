"""Kernels forked from a template: fast, and as separate as kernels started on their own.

Two kernels forked from one template one after the other, both alive, must not see or
signal each other's processes, read each other's files, reach each other over sockets, or
keep any privilege; each has its limits and its own random numbers.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from nncourse.autograde import sandbox
from nncourse.autograde.execute import KernelKind, KernelSupply
from nncourse.autograde.kernels import (
    JOBS_PREFIX,
    CellOutputs,
    Kernel,
    KernelTemplate,
    TemplateClient,
    TemplateUnavailable,
    remove_stale_jobs,
)

pytestmark = pytest.mark.skipif(sandbox.bwrap_path() is None, reason="needs bubblewrap")


@pytest.fixture(scope="module")
def template() -> Iterator[KernelTemplate]:
    try:
        started = KernelTemplate(None)
    except TemplateUnavailable as error:
        pytest.skip(f"no kernel template here: {error}")
    yield started
    started.close()


def fork(template: TemplateClient, memory_mb: int = 2048) -> Kernel:
    kernel = Kernel(sandbox.grading_spec(template.new_workdir(), memory_mb, None),
                    template=template)
    kernel.wait_ready(60)
    return kernel


def run(kernel: Kernel, source: str) -> str:
    """What the cell printed; fails the test on an error."""
    outputs = CellOutputs(100_000)
    reply = kernel.run(textwrap.dedent(source), 30, outputs.add)
    assert reply["status"] == "ok", outputs.items
    return "".join(output.get("text", "") for output in outputs.items)


FIRST = """
    import json, os, socket, subprocess, sys
    open("/job/answer.txt", "w").write("secret")
    open("/tmp/scratch.txt", "w").write("secret")
    open("/dev/shm/shared.txt", "w").write("secret")
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind("\\0nncourse-test-channel")
    listener.listen(1)
    status = dict(line.split(":\\t", 1) for line in open("/proc/self/status").read().splitlines()
                  if ":\\t" in line)
    print(json.dumps({"pid": os.getpid(), "sleeper": sleeper.pid, "uid": os.getuid(),
                      "caps": status["CapEff"].strip(), "bounding": status["CapBnd"].strip(),
                      "no_new_privs": status["NoNewPrivs"].strip(),
                      "cwd": os.getcwd()}))
    """

SECOND = """
    import json, os, signal, socket
    found = {"job": sorted(os.listdir("/job")), "tmp": os.listdir("/tmp"),
             "shm": os.listdir("/dev/shm"),
             "pids": sorted(int(name) for name in os.listdir("/proc") if name.isdigit()),
             "other_folder": os.path.exists(OTHER), "template": os.path.exists(TEMPLATE)}
    try:
        os.kill(SLEEPER, signal.SIGKILL)
        found["signal"] = "sent"
    except ProcessLookupError:
        found["signal"] = "no such process"
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        client.connect("\\0nncourse-test-channel")
        found["socket"] = "connected"
    except OSError as error:
        found["socket"] = type(error).__name__
    print(json.dumps(found))
    """


def test_forked_kernels_cannot_see_or_signal_each_other(template: KernelTemplate) -> None:
    first, second = fork(template), fork(template)
    try:
        assert_separate(first, second)
    finally:
        first.close()
        second.close()


def test_workers_share_a_template_each_through_a_connection_of_its_own(
        template: KernelTemplate) -> None:
    """What ``nncourse grade`` does: one template per machine, one connection per worker."""
    clients = [TemplateClient(template.jobs) for _ in range(2)]
    with ThreadPoolExecutor(2) as pool:  # both ask at the same time
        first, second = pool.map(fork, clients)
    try:
        assert_separate(first, second)
        first.close()
        clients[0].close()  # one worker is done: the other goes on
        assert run(second, "print(6 * 7)") == "42\n"
        third = fork(clients[1])
        assert run(third, "print(6 * 7)") == "42\n"
        third.close()
    finally:
        first.close()
        second.close()
        for client in clients:
            client.close()


def test_no_template_to_share_where_none_listens(tmp_path: Path) -> None:
    with pytest.raises(TemplateUnavailable):
        TemplateClient(tmp_path)


def assert_separate(first: Kernel, second: Kernel) -> None:
    """Two live kernels forked from one template cannot see or reach each other."""
    facts = json.loads(run(first, FIRST))
    assert facts["pid"] == 2 and facts["uid"] == sandbox.NOBODY
    assert int(facts["caps"], 16) == 0 and int(facts["bounding"], 16) == 0
    assert facts["no_new_privs"] == "1" and facts["cwd"] == "/job"
    template_socket = first.spec.workdir.parent / TemplateClient.SOCKET
    assert template_socket.exists()  # seen from here, hidden from the kernels
    code = SECOND.replace("OTHER", repr(str(first.spec.workdir))).replace(
        "SLEEPER", str(facts["sleeper"])).replace("TEMPLATE", repr(str(template_socket)))
    seen = json.loads(run(second, code))
    assert "answer.txt" not in seen["job"] and seen["tmp"] == [] and seen["shm"] == []
    assert seen["pids"] == [1, 2] and not seen["other_folder"] and not seen["template"]
    assert seen["signal"] == "no such process"  # its own PID space: the number is free
    assert seen["socket"] in ("ConnectionRefusedError", "FileNotFoundError")
    assert first.alive()
    assert "sleeping" in run(first, f"""
        import os
        print("sleeping" if os.path.exists("/proc/{facts['sleeper']}") else "gone")
        """)


def test_a_killed_kernel_takes_what_it_started_and_spares_the_other(
        template: KernelTemplate) -> None:
    first, second = fork(template), fork(template)
    try:
        run(first, "import subprocess, sys\n"
                   "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])")
        first.kill()
        first.process.wait()
        assert not first.alive() and second.alive()
        assert run(second, "print(6 * 7)") == "42\n"
    finally:
        first.close()
        second.close()


def test_limits_and_random_numbers_are_each_kernels_own(template: KernelTemplate) -> None:
    first, second = fork(template, memory_mb=1024), fork(template, memory_mb=1024)
    try:
        assert "MemoryError" in run(first, """
            import numpy as np
            try:
                np.ones(2_000_000_000, dtype=np.uint8)
            except MemoryError:
                print("MemoryError")
            """)
        draw = "import numpy as np, random\nprint(np.random.rand(), random.random())"
        assert run(first, draw) != run(second, draw)
    finally:
        first.close()
        second.close()


def test_kernels_are_started_on_their_own_without_a_template(tmp_path: Path) -> None:
    supply = KernelSupply()
    try:
        kernel = supply.take(KernelKind(1024, None, template=False))
        kernel.wait_ready(60)
        assert kernel.view == kernel.spec.workdir and not supply.templates
        kernel.close()
        forked = supply.take(KernelKind(1024, None))
        forked.wait_ready(60)
        assert str(forked.view) == "/job"
        forked.close()
    finally:
        supply.close()


def test_a_template_imports_more_before_the_next_fork() -> None:
    """What ``nncourse grade`` does with the template it starts before reading the config."""
    try:
        template = KernelTemplate(None, wait=False)
    except TemplateUnavailable as error:
        pytest.skip(f"no kernel template here: {error}")
    try:
        client = TemplateClient(template.jobs)
        before = fork(client)
        template.preload_more(["colorsys"])
        after = fork(client)
        assert template.preload == ("colorsys",)
        loaded = "import sys\nprint('colorsys' in sys.modules)"
        assert (run(before, loaded), run(after, loaded)) == ("False\n", "True\n")
        before.close()
        after.close()
        client.close()
    finally:
        template.close()


def test_folders_left_by_killed_graders_are_removed(tmp_path: Path) -> None:
    ended = subprocess.Popen(["true"])
    ended.wait()
    stale = tmp_path / f"{JOBS_PREFIX}{ended.pid}-abc"
    (stale / "job-1").mkdir(parents=True)
    (stale / "job-1" / "answer.txt").write_text("a student's file")
    stale_log = tmp_path / f"{JOBS_PREFIX}{ended.pid}-abc.log"
    stale_log.write_text("log")
    live = tmp_path / f"{JOBS_PREFIX}{os.getpid()}-def"
    live.mkdir()
    unrelated = tmp_path / "nncourse-jobs-notapid"
    unrelated.mkdir()
    assert sorted(remove_stale_jobs(tmp_path)) == [stale, stale_log]
    assert not stale.exists() and not stale_log.exists()
    assert live.exists() and unrelated.exists()
