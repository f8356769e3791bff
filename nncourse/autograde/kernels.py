"""A Jupyter kernel process and the client that talks to it, on ``jupyter_client`` alone.

:class:`Kernel` starts one kernel (sandboxed or not, see :mod:`~nncourse.autograde.sandbox`),
runs code in it and collects what it shows, the way a notebook front end does. It is the
executor of both ``nncourse grade`` and ``nncourse check``; it needs neither nbclient nor
nbformat, so the self-check starts in a fraction of the time they take to import.

The process is started before ``jupyter_client`` is imported: the kernel's own start-up (an
interpreter, IPython, ipykernel) overlaps with the grader's.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import queue
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from nncourse.autograde import sandbox
from nncourse.autograde.kernel import launcher as kernel_launcher
from nncourse.autograde.kernel import zygote

INTERRUPT_GRACE_S = 10.0
"""Seconds a cell gets, after running past its time and being interrupted, to stop."""
POLL_S = 0.2
"""How often a wait for the kernel checks that its process is still alive, in seconds."""
IOPUB_WAIT_S = 0.2
"""Seconds to wait for a status message that shows the output channel is connected."""
IDLE_GRACE_S = 2.0
"""Seconds a cell's output may keep coming after the kernel replied that the cell ended."""
BASE_PRELOAD = ("numpy", "ipykernel.kernelapp", "ipykernel.ipkernel", "IPython",
                "nncourse.grading", "nncourse.autograde.kernel.server")
"""What a kernel template imports before forking: what every grading kernel loads."""
PRELOADABLE = frozenset({"numpy", "torch"})
"""Modules a template may also import when an assignment's given cells do: slow to import,
and they start no thread and keep no per-user state (cache or configuration folders)."""
OUTPUT_TYPES = frozenset({"stream", "display_data", "execute_result", "error", "clear_output",
                          "update_display_data"})


class KernelGone(RuntimeError):
    """The kernel stopped answering (it died, or ran past its deadline and ignored it).

    Parameters
    ----------
    message : str
        What happened.
    timed_out : bool, default False
        True when the kernel was alive but did not answer in time.
    """

    def __init__(self, message: str, *, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


def kernel_command(spec: sandbox.SandboxSpec, connection_file: Path) -> list[str]:
    """The command line of a kernel with the limits of ``spec``, sandboxed when it says so.

    The launcher is given by file, not ``-m``: importing the ``nncourse.autograde`` package
    in the kernel would cost time for nothing.
    """
    command = [sys.executable, kernel_launcher.__file__, "--memory", str(spec.memory_mb),
               "-f", str(connection_file), "--HistoryManager.hist_file=:memory:"]
    return sandbox.wrap(command, spec)


def _write_connection_file(path: Path, socket_prefix: Path) -> None:
    """A connection file for Unix-socket (``ipc``) channels named ``socket_prefix-N``."""
    ports = dict(zip(("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port"),
                     range(1, 6), strict=True))
    info = {**ports, "transport": "ipc", "ip": str(socket_prefix), "key": secrets.token_hex(32),
            "signature_scheme": "hmac-sha256", "kernel_name": ""}
    path.write_text(json.dumps(info), encoding="utf-8")
    path.chmod(0o600)


class CellOutputs:
    """The outputs of one cell, built from the kernel's messages as a front end would.

    Consecutive stream text of the same name is joined; ``clear_output`` is honoured
    (``wait=True`` clears at the next output); at most ``max_chars`` characters are kept,
    text past them is cut off with a note, and a larger rich output is dropped. An error is
    always kept: it decides the score.

    Parameters
    ----------
    max_chars : int
        Characters of output kept for the cell.
    """

    def __init__(self, max_chars: int) -> None:
        self.items: list[dict] = []
        self.max_chars = max_chars
        self.used = 0
        self.clear_pending = False
        self.displays: dict[str, list[dict]] = {}

    def add(self, kind: str, content: dict) -> None:
        """Take one iopub message's content (``kind`` is its ``msg_type``)."""
        if kind == "clear_output":
            if content.get("wait"):
                self.clear_pending = True
            else:
                self._clear()
            return
        if kind == "update_display_data":
            for output in self.displays.get(content.get("transient", {}).get("display_id"), []):
                output.update(data=content.get("data", {}), metadata=content.get("metadata", {}))
            return
        if self.clear_pending:
            self._clear()
        output = self._output(kind, content)
        if output is not None:
            self.items.append(output)

    def _clear(self) -> None:
        self.items, self.used, self.clear_pending = [], 0, False

    def _output(self, kind: str, content: dict) -> dict | None:
        if kind == "error":
            return {"output_type": "error", "ename": content.get("ename", "Error"),
                    "evalue": content.get("evalue", ""),
                    "traceback": list(content.get("traceback", []))}
        size = len(content.get("text", "")) if kind == "stream" else len(json.dumps(content))
        if self.used + size > self.max_chars:
            if kind != "stream" or self.used >= self.max_chars:
                return None
            content = {**content, "text": content["text"][: self.max_chars - self.used]
                       + "\n... output truncated: the grader keeps "
                       f"{self.max_chars} characters per cell ...\n"}
            size = self.max_chars - self.used
        self.used += size
        if kind == "stream":
            last = self.items[-1] if self.items else None
            if last and last["output_type"] == "stream" and last["name"] == content["name"]:
                last["text"] += content["text"]
                return None
            return {"output_type": "stream", "name": content["name"], "text": content["text"]}
        output = {"output_type": kind, "data": content.get("data", {}),
                  "metadata": content.get("metadata", {})}
        if kind == "execute_result":
            output["execution_count"] = content.get("execution_count")
        display_id = content.get("transient", {}).get("display_id")
        if display_id:
            self.displays.setdefault(display_id, []).append(output)
        return output


class Kernel:
    """One kernel process; its sockets and connection file live in ``spec.workdir``.

    Parameters
    ----------
    spec : SandboxSpec
        Where and how the kernel runs (sandbox, limits, environment).
    template : TemplateClient, optional
        Fork the kernel from this template (a :class:`KernelTemplate`, or a connection to
        another process's; ``spec.workdir`` one of its job folders) instead of starting a
        process.
    """

    def __init__(self, spec: sandbox.SandboxSpec, template: TemplateClient | None = None
                 ) -> None:
        self.spec = spec
        folder = Path(spec.workdir)
        folder.mkdir(parents=True, exist_ok=True)
        self.connection_file = folder / "kernel.json"
        # The kernel's own path of ``folder``: a forked kernel sees it at zygote.WORKDIR.
        self.view = Path(zygote.WORKDIR) if template is not None else folder
        _write_connection_file(self.connection_file, self.view / "kernel")
        self.process = (template.fork(spec, self.connection_file) if template is not None
                        else _LaunchedProcess(spec, self.connection_file))
        self.folder = folder
        self.closed = False
        self._client: Any = None

    @property
    def client(self) -> Any:
        """The ``BlockingKernelClient`` of this kernel, connected on first use.

        Not before: the kernel process starts first and boots while the caller does other
        work (reading the notebook), and a kernel closed unused never opens a channel.
        """
        if self._client is None:
            from jupyter_client.blocking.client import BlockingKernelClient

            client = BlockingKernelClient()
            client.load_connection_file(str(self.connection_file))
            client.ip = str(self.folder / "kernel")  # the same sockets, by this side's path
            client.start_channels()
            self._client = client
        return self._client

    def seen_by_kernel(self, path: Path) -> str:
        """``path`` (in the kernel's folder) as the kernel names it."""
        return str(self.view / Path(path).relative_to(self.folder))

    def alive(self) -> bool:
        """Whether the kernel's process still runs."""
        return self.process.alive()

    def wait_ready(self, timeout: float) -> dict[str, Any]:
        """Wait until the kernel answers; return its ``kernel_info`` (``language_info``...).

        Raises
        ------
        KernelGone
            When it died or did not answer within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg_id = self.client.kernel_info()
            try:
                reply = self.reply(msg_id, min(1.0, deadline - time.monotonic()))
            except KernelGone as error:
                if not self.alive() or not error.timed_out:
                    raise
                continue
            if self._iopub_connected():
                return reply["content"]
        raise KernelGone(f"the kernel did not start within {timeout:g} s", timed_out=True)

    def _iopub_connected(self) -> bool:
        """Whether the output channel receives (the kernel's status messages came through).

        A subscriber connects after the kernel's socket is up and misses what was sent
        before: a cell run before it connects would never see its end. Drains the channel.
        """
        try:
            self.client.get_iopub_msg(timeout=IOPUB_WAIT_S)
        except queue.Empty:
            return False
        while True:  # what else has arrived (later messages of kernel_info are ignored)
            try:
                self.client.get_iopub_msg(timeout=0)
            except queue.Empty:
                return True

    def reply(self, msg_id: str, timeout: float) -> dict[str, Any]:
        """The shell channel's reply to request ``msg_id``.

        Raises
        ------
        KernelGone
            When the process died, or (``timed_out``) no reply came within ``timeout`` s.
        """
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise KernelGone(f"the kernel did not answer within {timeout:g} s",
                                 timed_out=True)
            try:
                message = self.client.get_shell_msg(timeout=min(POLL_S, remaining))
            except queue.Empty:
                if not self.alive():
                    raise KernelGone("the kernel stopped") from None
                continue
            if message["parent_header"].get("msg_id") == msg_id:
                return message

    def run(self, source: str, timeout: float, on_output: Callable[[str, dict], None]
            ) -> dict[str, Any]:
        """Run ``source`` as a cell; pass each output message to ``on_output(kind, content)``.

        A cell that runs longer than ``timeout`` seconds is interrupted and gets
        :data:`INTERRUPT_GRACE_S` more to stop.

        Returns
        -------
        dict
            The content of the kernel's ``execute_reply`` (``status``, ``execution_count``),
            with ``timed_out`` set when the cell was interrupted for running too long.

        Raises
        ------
        KernelGone
            When the kernel died, or ignored the interruption.
        """
        msg_id = self.client.execute(source, store_history=True, allow_stdin=False,
                                     stop_on_error=False)
        deadline, timed_out = time.monotonic() + timeout, False
        reply, replied_at = None, 0.0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if timed_out:
                    raise KernelGone(f"the cell ran longer than {timeout:g} s and did not stop "
                                     "when interrupted", timed_out=True)
                self.interrupt()
                deadline, timed_out = time.monotonic() + INTERRUPT_GRACE_S, True
                continue
            try:
                message = self.client.get_iopub_msg(timeout=min(POLL_S, remaining))
            except queue.Empty:
                if not self.alive():
                    raise KernelGone("the kernel stopped") from None
                if reply is None:
                    reply, replied_at = self._waiting_reply(msg_id), time.monotonic()
                elif time.monotonic() - replied_at > IDLE_GRACE_S:
                    break  # it replied, but the end of its output never came through
                continue
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = message["msg_type"], message["content"]
            if kind == "status" and content.get("execution_state") == "idle":
                break
            if kind in OUTPUT_TYPES:
                on_output(kind, content)
        if reply is None:
            reply = self.reply(msg_id, max(1.0, deadline - time.monotonic()))
        return {**reply["content"], "timed_out": timed_out}

    def _waiting_reply(self, msg_id: str) -> dict[str, Any] | None:
        """The reply to ``msg_id`` if it has arrived (others are dropped), without waiting."""
        while True:
            try:
                message = self.client.get_shell_msg(timeout=0)
            except queue.Empty:
                return None
            if message["parent_header"].get("msg_id") == msg_id:
                return message

    def evaluate(self, expression: str, timeout: float) -> dict[str, Any]:
        """The kernel's answer for one user expression, outside of any cell's run."""
        msg_id = self.client.execute("", silent=True, store_history=False,
                                     user_expressions={"value": expression})
        content = self.reply(msg_id, timeout)["content"]
        return content.get("user_expressions", {}).get("value", {})

    def interrupt(self) -> None:
        """Ask the kernel to interrupt what it runs (it signals itself, sandboxed or not)."""
        self.client.control_channel.send(self.client.session.msg("interrupt_request", {}))

    def kill(self) -> None:
        """Kill the kernel at once, with everything it started."""
        self.process.kill()

    def close(self, wait: bool = True) -> None:
        """Stop the kernel and the client's channels; remove nothing of the working folder.

        With ``wait``, return once the kernel's process has ended (a killed kernel takes
        milliseconds to release its memory); again with ``wait`` after closing without.
        """
        if not self.closed:
            self.closed = True
            if self._client is not None:
                self._client.stop_channels()
            if self.alive():
                self.kill()
        if wait:
            self.process.wait()


class _LaunchedProcess:
    """A kernel started as a new process (sandboxed by bubblewrap when the spec says so)."""

    def __init__(self, spec: sandbox.SandboxSpec, connection_file: Path) -> None:
        self.popen = subprocess.Popen(
            kernel_command(spec, connection_file), env=dict(spec.env),
            cwd=str(spec.cwd or spec.workdir), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """Kill the process group (the sandbox and all it started)."""
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def wait(self) -> None:
        self.popen.wait()


class _ForkedProcess:
    """A kernel forked by a kernel template; alive while it holds its folder's lock."""

    def __init__(self, template: TemplateClient, pid: int, workdir: Path) -> None:
        self.template, self.pid = template, pid
        self.alive_file = workdir / zygote.ALIVE_FILE

    def alive(self) -> bool:
        try:
            handle = os.open(self.alive_file, os.O_RDONLY)
        except FileNotFoundError:
            return False  # the template locks it before it answers: the folder is gone
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(handle)
        return False

    def kill(self) -> None:
        self.template.kill(self.pid)

    def wait(self, timeout: float = 10.0) -> None:
        """Until the kernel has ended (a killed one takes a millisecond or two) or ``timeout``."""
        deadline, pause = time.monotonic() + timeout, 0.0005
        while self.alive() and time.monotonic() < deadline:
            time.sleep(pause)
            pause = min(2 * pause, 0.02)


JOBS_PREFIX = "nncourse-jobs-"
"""Start of a template's folder of jobs in the temporary folder, then its starter's PID."""


def remove_stale_jobs(folder: Path | None = None) -> list[Path]:
    """Remove the folders of jobs (and logs) that templates of killed graders left behind.

    A grader that is killed cannot remove its template's folder, where its kernels' working
    folders are (students' files among them). Removed: those whose starter (the PID in the
    name) no longer runs.

    Parameters
    ----------
    folder : Path, optional
        Where to look; the temporary folder by default.

    Returns
    -------
    list of Path
        What was removed.
    """
    removed = []
    for path in Path(folder or tempfile.gettempdir()).glob(f"{JOBS_PREFIX}*"):
        starter = path.name.removeprefix(JOBS_PREFIX).split("-", 1)[0].removesuffix(".log")
        if not starter.isdigit() or _runs(int(starter)):
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def _runs(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's
    return True


class TemplateUnavailable(RuntimeError):
    """Kernels cannot be forked from a template here (no bubblewrap, no nested namespaces)."""


class TemplateClient:
    """A connection to a kernel template another process started (see :class:`KernelTemplate`).

    The grading workers of one machine share the template ``nncourse grade`` starts: each
    forks its kernels through a connection of its own. Closing the connection leaves the
    template and its kernels to their starter.

    Parameters
    ----------
    jobs : Path
        The template's folder of jobs (:attr:`KernelTemplate.jobs`).

    Raises
    ------
    TemplateUnavailable
        When no template listens there.
    """

    SOCKET = "template.sock"
    """The template's listening socket, in its folder of jobs."""

    def __init__(self, jobs: Path) -> None:
        self.jobs = Path(jobs)
        self.lock = threading.Lock()
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            connection.connect(str(self.jobs / self.SOCKET))
        except OSError as error:
            connection.close()
            raise TemplateUnavailable(f"no kernel template at {self.jobs}: {error}") from error
        self.requests = connection.makefile("w", encoding="utf-8")
        self.answers = connection.makefile("r", encoding="utf-8")
        self.streams: tuple[Any, ...] = (self.requests, self.answers, connection)

    def _answer(self) -> dict[str, Any]:
        line = self.answers.readline()
        if not line:
            raise TemplateUnavailable("the kernel template stopped")
        return json.loads(line)

    def _send(self, request: dict[str, Any]) -> None:
        self.requests.write(json.dumps(request) + "\n")
        self.requests.flush()

    def new_workdir(self) -> Path:
        """A new, empty working folder for one kernel, in the template's folder of jobs."""
        return Path(tempfile.mkdtemp(prefix="job-", dir=self.jobs))

    def fork(self, spec: sandbox.SandboxSpec, connection_file: Path) -> _ForkedProcess:
        """Fork a kernel with the limits and environment of ``spec``, in ``spec.workdir``."""
        env = sandbox.kernel_environment(Path(zygote.WORKDIR), spec.env.get("NNCOURSE_DATA"))
        request = {"op": "start", "workdir": str(spec.workdir), "memory_mb": spec.memory_mb,
                   "connection_file": f"{zygote.WORKDIR}/{connection_file.name}", "env": env}
        with self.lock:
            try:
                self._send(request)
                answer = self._answer()
            except (OSError, ValueError) as error:
                raise TemplateUnavailable(f"the kernel template failed: {error}") from error
        if "pid" not in answer:
            raise TemplateUnavailable(answer.get("error", "the kernel template failed"))
        return _ForkedProcess(self, int(answer["pid"]), Path(spec.workdir))

    def kill(self, pid: int) -> None:
        """Kill one forked kernel and everything it started."""
        with self.lock, contextlib.suppress(OSError, ValueError):
            self._send({"op": "kill", "pid": pid})

    def close(self) -> None:
        """Close this process's connection (the template goes on)."""
        for stream in self.streams:
            with contextlib.suppress(OSError, ValueError):
                stream.close()


class KernelTemplate(TemplateClient):
    """A kernel template (:mod:`~nncourse.autograde.kernel.zygote`) in its own sandbox.

    Kernels forked from it start in a few milliseconds instead of a third of a second of
    CPU, each in namespaces of its own (see the zygote's module text for what they share:
    the libraries imported before the fork, nothing else). Its starter talks to it through
    its standard streams; other processes connect to its socket (:class:`TemplateClient`).

    Parameters
    ----------
    data_dir : str or None
        The data sets' folder, readable by the kernels.
    preload : sequence of str
        Modules to import before forking, beyond what every kernel loads.
    wait : bool, default True
        Wait until it has imported them (and say now if it cannot fork kernels); without,
        the first request waits, and other processes can connect at once.

    Raises
    ------
    TemplateUnavailable
        Without bubblewrap, or where forked kernels cannot enter their own namespaces.
    """

    def __init__(self, data_dir: str | None, preload: Sequence[str] = (), *,
                 wait: bool = True) -> None:
        # Not TemplateClient.__init__: the starter talks through the standard streams.
        if sandbox.bwrap_path() is None:
            raise TemplateUnavailable("bubblewrap is not installed")
        remove_stale_jobs()
        self.jobs = Path(tempfile.mkdtemp(prefix=f"{JOBS_PREFIX}{os.getpid()}-"))
        self.log = self.jobs.with_suffix(".log")
        self.lock = threading.Lock()
        self.data_dir, self.preload = data_dir, tuple(preload)
        spec = sandbox.grading_spec(self.jobs, 0, data_dir)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
            listener.bind(str(self.jobs / self.SOCKET))
            listener.listen(64)
            command = [sys.executable, zygote.__file__, "--listen", str(listener.fileno()),
                       *BASE_PRELOAD, *preload]
            with self.log.open("w") as log:
                self.popen = subprocess.Popen(
                    sandbox.wrap(command, spec, template=True), env=dict(spec.env),
                    cwd=str(self.jobs), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    stderr=log, start_new_session=True, text=True,
                    pass_fds=(listener.fileno(),))
        self.requests, self.answers = self.popen.stdin, self.popen.stdout
        self.streams = (self.requests, self.answers)
        self.waited = False
        if wait:
            self.wait_ready()

    def wait_ready(self) -> None:
        """Until the template has imported its modules.

        Raises
        ------
        TemplateUnavailable
            When it cannot fork kernels here (it has then ended).
        """
        if self.waited:
            return
        self.waited = True
        answer = self._answer()
        if not answer.get("ready"):
            self.close()
            raise TemplateUnavailable(answer.get("why", "the kernel template did not start"))

    def fork(self, spec: sandbox.SandboxSpec, connection_file: Path) -> _ForkedProcess:
        self.wait_ready()
        return super().fork(spec, connection_file)

    def preload_more(self, modules: Sequence[str]) -> None:
        """Have the template import ``modules`` too, before any fork asked for after this."""
        if modules:
            with self.lock, contextlib.suppress(OSError, ValueError):
                self._send({"op": "import", "modules": list(modules)})
            self.preload += tuple(modules)

    def close(self) -> None:
        """Stop the template (its kernels die with it) and remove its folder."""
        super().close()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait()
        shutil.rmtree(self.jobs, ignore_errors=True)
        self.log.unlink(missing_ok=True)
