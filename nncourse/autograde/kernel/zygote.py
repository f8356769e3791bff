"""A kernel template: loaded once, forked into a fresh sandbox for every submission.

Starting a kernel costs an interpreter, IPython, ipykernel and numpy: about a third of a
second of CPU per submission, more with PyTorch. ``nncourse grade`` starts this program
once per machine (a worker that grades on its own, once per worker), inside the same
bubblewrap sandbox its kernels get (the course invisible, no network, uid ``nobody``, no
capabilities); it imports those modules, then waits for requests on its standard input,
one JSON object per line:

``{"op": "start", "workdir": ..., "connection_file": ..., "memory_mb": ..., "env": {...}}``
    fork a kernel for one submission; answers ``{"pid": PID}`` or ``{"error": ...}``;
``{"op": "kill", "pid": PID}``
    kill that kernel and everything it started; no answer.
``{"op": "import", "modules": [...]}``
    import more modules before the next fork (a module that fails is left out); no answer.

With ``--listen FD`` (a listening Unix socket its starter bound), it answers the same
requests on every connection to that socket as well: the grading workers of one machine
share one template, each through a connection of its own.

Each forked kernel enters namespaces of its own before any student code runs: a user
namespace (uid ``nobody`` again, every capability dropped once it is set up, no new
privileges), a PID namespace (it is process 1 and sees only what it starts; everything in
it dies with it), a network namespace (no network, not even the abstract sockets of another
kernel), IPC and UTS namespaces, and a mount namespace in which ``/tmp`` and ``/dev/shm``
are new and empty, ``/proc`` shows its own processes only, its own working folder is at
``/job`` and the folder of all jobs is covered. Then the memory, file-size and
core-dump limits apply, the environment is replaced by the job's, and ipykernel runs.
Two kernels forked from one template share only what was imported before the fork (the
same libraries every kernel loads, never anything of a student's), and can neither see
nor signal each other, nor each other's files.

While a kernel lives, it holds a lock on ``<workdir>/.alive``: the grader, which cannot see
into the template's process tree, takes the lock to learn that the kernel has ended.

This module runs next to student code (it is in the sandbox's view of the package): it
holds nothing of the grader's.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import importlib
import json
import os
import random
import selectors
import signal
import socket
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nncourse.autograde.kernel.launcher import apply_limits, run_kernel

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 8, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 24, 38
CAP_LAST_CAP = 63
WORKDIR = "/job"
"""Where a forked kernel sees its working folder (the template's sandbox has it empty)."""
ALIVE_FILE = ".alive"
"""The file in a kernel's working folder that it holds locked while it lives."""
MAX_FILE_MB = 64

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


def _mount(source: str | None, target: str, kind: str | None, flags: int,
           data: str | None = None) -> None:
    encode = (lambda text: text.encode() if text is not None else None)  # noqa: E731
    _check(_libc.mount(encode(source), encode(target), encode(kind), flags, encode(data)),
           f"mount {target}")


def _prctl(option: int, value: int) -> None:
    _check(_libc.prctl(option, value, 0, 0, 0), f"prctl {option}")


def _drop_capabilities() -> None:
    """No capabilities left, none to regain (bounding set emptied, no new privileges)."""
    for capability in range(CAP_LAST_CAP + 1):
        _libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0)  # EINVAL past the kernel's last
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable: all zero (x2 words)
    _check(_libc.capset(header, data), "capset")
    _prctl(PR_SET_NO_NEW_PRIVS, 1)


def _enter_namespaces(workdir: Path) -> None:
    """Become nobody in new namespaces, with a private /tmp and ``workdir`` at :data:`WORKDIR`.

    ``workdir`` (in the folder of all jobs) is bound to :data:`WORKDIR`; the folder of all
    jobs is then covered by an empty file system, and /tmp and /dev/shm are new and empty.
    """
    uid, gid = os.getuid(), os.getgid()
    _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET
                         | CLONE_NEWIPC | CLONE_NEWUTS), "unshare")
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
    Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount(str(workdir), WORKDIR, None, MS_BIND | MS_REC)
    _mount("tmpfs", str(workdir.parent), "tmpfs", MS_NOSUID | MS_NODEV, "mode=755")
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")
    if Path("/dev/shm").is_dir():
        _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")


def _become_kernel(request: dict, alive: int) -> None:
    """In the forked child: sandbox this process, then run the kernel (never returns).

    Three processes: this one stays in the template's PID namespace and waits; its child is
    process 1 of the new namespace (an init that only waits, as bubblewrap's); the kernel
    is process 2, so that, as anywhere else, it can be killed from inside (process 1
    ignores the signals its own namespace sends it). When the kernel ends, so do the other
    two, and everything the kernel started. ``alive`` is the descriptor of the locked
    :data:`ALIVE_FILE`, open in all three to the end.
    """
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    _enter_namespaces(Path(request["workdir"]))
    if os.fork():
        _wait_for(-1)
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    null = os.open(os.devnull, os.O_RDWR)
    for stream in range(3):
        os.dup2(null, stream)
    os.closerange(3, alive)
    os.closerange(alive + 1, 1 << 16)
    kernel = os.fork()
    _drop_capabilities()
    if kernel:
        _wait_for(kernel)
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    os.setsid()
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(WORKDIR)
    _reseed()
    apply_limits(int(request["memory_mb"]), MAX_FILE_MB)
    run_kernel(["-f", request["connection_file"], "--HistoryManager.hist_file=:memory:"])
    os._exit(0)


def _wait_for(child: int) -> None:
    """Reap children until ``child`` ends (-1: the first), then exit as it did."""
    while True:
        pid, status = os.waitpid(-1, 0)
        if child in (-1, pid):
            os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


def _reseed() -> None:
    """Random generators seeded before the fork would repeat in every kernel: seed anew."""
    random.seed()
    if "numpy.random" in sys.modules:
        sys.modules["numpy.random"].seed()
    if "torch" in sys.modules:
        sys.modules["torch"].seed()


def _start(request: dict) -> dict:
    if len(os.listdir("/proc/self/task")) != 1:
        return {"error": "the template runs threads (a preloaded module started them): "
                         "it cannot fork"}
    alive = os.open(Path(request["workdir"], ALIVE_FILE), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(alive, fcntl.LOCK_EX)  # held from before the answer to the kernel's end
    pid = os.fork()
    if pid == 0:
        try:
            _become_kernel(request, alive)
        except BaseException:  # noqa: BLE001 (the child must never return here)
            traceback.print_exc()  # to the template's log
            sys.stderr.flush()
        os._exit(70)
    os.close(alive)  # the lock stays with the child's copy
    return {"pid": pid}


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _can_sandbox() -> str:
    """Empty when a forked child can enter its namespaces here, else why not."""
    pid = os.fork()
    if pid == 0:
        try:
            _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET
                                 | CLONE_NEWIPC | CLONE_NEWUTS), "unshare")
            _mount(None, "/", None, MS_REC | MS_PRIVATE)
            _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV)
        except OSError:
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    return "" if os.waitstatus_to_exitcode(status) == 0 else "namespaces cannot be nested here"


def _serve_request(line: bytes, answer: Callable[[dict], None]) -> None:
    request = json.loads(line)
    _reap()
    if request["op"] == "start":
        answer(_start(request))
    elif request["op"] == "kill":
        try:
            os.kill(int(request["pid"]), signal.SIGKILL)
        except ProcessLookupError:
            pass
    elif request["op"] == "import":
        _preload(request["modules"])


def _preload(modules: list[str]) -> list[str]:
    """Import ``modules``; return why each that failed did (a kernel imports it again)."""
    failed = []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as error:  # noqa: BLE001 (a kernel imports it again, and says why)
            failed.append(f"{name}: {error!r}")
    return failed


class _Lines:
    """Requests arriving on one descriptor, one JSON object per line, and where answers go."""

    def __init__(self, fd: int, answer: Callable[[dict], None]) -> None:
        self.fd, self.answer, self.pending = fd, answer, b""

    def read(self) -> bool:
        """Handle the whole lines that arrived; False once the other end has closed."""
        try:
            data = os.read(self.fd, 1 << 16)
        except OSError:
            data = b""
        self.pending += data
        *lines, self.pending = self.pending.split(b"\n")
        for line in lines:
            if line.strip():
                self._handle(line)
        return bool(data)

    def _handle(self, line: bytes) -> None:
        try:
            _serve_request(line, self.answer)
        except (OSError, ValueError, KeyError, TypeError):
            traceback.print_exc()  # to the template's log; a bad request is not answered


def _answer_to(stream: Any) -> Callable[[dict], None]:
    def answer(message: dict) -> None:
        stream.write(json.dumps(message) + "\n")
        stream.flush()
    return answer


def _answer_on(connection: socket.socket) -> Callable[[dict], None]:
    def answer(message: dict) -> None:
        with contextlib.suppress(OSError):  # a worker that went away
            connection.sendall((json.dumps(message) + "\n").encode())
    return answer


def serve(preload: list[str], listener: socket.socket | None = None) -> None:
    """Import ``preload``, answer ``ready``, then serve requests until standard input ends.

    Requests come from standard input (answered on standard output) and from each
    connection to ``listener`` (answered on that connection), one at a time, those of
    standard input first when several wait.
    """
    unsupported = _can_sandbox()
    if unsupported:
        print(json.dumps({"ready": False, "why": unsupported}), flush=True)
        return
    failed = _preload(preload)
    print(json.dumps({"ready": True, "not_preloaded": failed}), flush=True)
    waiting = selectors.DefaultSelector()  # no thread: the template must stay forkable
    waiting.register(sys.stdin.fileno(), selectors.EVENT_READ,
                     _Lines(sys.stdin.fileno(), _answer_to(sys.stdout)))
    if listener is not None:
        waiting.register(listener, selectors.EVENT_READ, None)
    while True:  # the starter's requests first: what it asked before any worker came
        starter_first = sorted(waiting.select(),
                               key=lambda event: event[0].fd != sys.stdin.fileno())
        for key, _ in starter_first:
            if key.data is None:  # a new connection
                connection, _ = listener.accept()
                waiting.register(connection, selectors.EVENT_READ,
                                 _Lines(connection.fileno(), _answer_on(connection)))
            elif not key.data.read():
                if key.fd == sys.stdin.fileno():
                    return  # its starter is gone
                waiting.unregister(key.fileobj)
                key.fileobj.close()


if __name__ == "__main__":
    here = str(Path(__file__).resolve().parent)
    if sys.path and sys.path[0] == here:
        del sys.path[0]
    sys.modules["debugpy"] = None  # as the launcher: kernels without the debugger
    arguments = sys.argv[1:]
    shared = None
    if arguments[:1] == ["--listen"]:
        shared = socket.socket(fileno=int(arguments[1]))
        arguments = arguments[2:]
    serve(arguments, shared)
