"""A Jupyter kernel process and the client that talks to it, on ``jupyter_client`` alone.

:class:`Kernel` starts one kernel (sandboxed or not, see :mod:`~nncourse.autograde.sandbox`),
runs code in it and collects what it shows, the way a notebook front end does. It is the
executor of both ``nncourse grade`` and ``nncourse check``; it needs neither nbclient nor
nbformat, so the self-check starts in a fraction of the time they take to import.

The process is started before ``jupyter_client`` is imported: the kernel's own start-up (an
interpreter, IPython, ipykernel) overlaps with the grader's.
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nncourse.autograde import sandbox
from nncourse.autograde.kernel import launcher as kernel_launcher

INTERRUPT_GRACE_S = 10.0
"""Seconds a cell gets, after running past its time and being interrupted, to stop."""
POLL_S = 0.2
"""How often a wait for the kernel checks that its process is still alive, in seconds."""
IOPUB_WAIT_S = 0.2
"""Seconds to wait for a status message that shows the output channel is connected."""
IDLE_GRACE_S = 2.0
"""Seconds a cell's output may keep coming after the kernel replied that the cell ended."""
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
    """One kernel process, started in ``workdir`` (its sockets and connection file live there).

    Parameters
    ----------
    spec : SandboxSpec
        Where and how the kernel runs (sandbox, limits, environment).
    socket_dir : Path, optional
        Folder of the kernel's sockets and connection file; ``spec.workdir`` by default.
    """

    def __init__(self, spec: sandbox.SandboxSpec, socket_dir: Path | None = None) -> None:
        self.spec = spec
        folder = Path(socket_dir or spec.workdir)
        folder.mkdir(parents=True, exist_ok=True)
        self.connection_file = folder / "kernel.json"
        _write_connection_file(self.connection_file, folder / "kernel")
        self.process = subprocess.Popen(
            kernel_command(spec, self.connection_file), env=dict(spec.env),
            cwd=str(spec.cwd or spec.workdir), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        from jupyter_client.blocking.client import BlockingKernelClient

        self.client = BlockingKernelClient()
        self.client.load_connection_file(str(self.connection_file))
        self.client.start_channels()
        self.killed = self.closed = False

    def alive(self) -> bool:
        """Whether the kernel's process still runs."""
        return self.process.poll() is None

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
        while True:
            try:
                self.client.get_iopub_msg(timeout=0.01)
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
        """Kill the kernel's process group at once (the sandbox and all it started)."""
        self.killed = True
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def close(self) -> None:
        """Stop the kernel and the client's channels; remove nothing of the working folder."""
        if self.closed:
            return
        self.closed = True
        self.client.stop_channels()
        if self.alive():
            self.kill()
        self.process.wait()
