"""Runs in a student's kernel: answers the grader's requests with plain data only.

The grader never runs a test in the student's process. It asks this server, over a Unix
socket in the kernel's working folder, to look names up in the notebook's namespace, to call
the student's functions and methods with arguments it sends as data, and to read
attributes; the answers go back through :mod:`nncourse.grading.wire`. Objects that are not
plain data (a student's class, an optimizer, a model) stay here and cross as handles.
Callables of the grader that the student's code must call (``f`` of
``numerical_gradient(f, x)``) arrive as handles too: calling one asks the grader.

Nothing here holds a test, an expected value or a reference implementation, so there is
nothing in this process to peek at. Everything here runs in the student's process and can be
changed by the student's code: the grader trusts none of it beyond "what came back is data".

The grader starts the server with :func:`listen` (as a silent execution before the first
cell) and, for each test cell, runs :func:`serve` (again silently) until it says ``end``.
"""

from __future__ import annotations

import _thread
import builtins
import contextlib
import copy
import functools
import inspect
import io
import socket
import sys
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from nncourse.grading import wire
from nncourse.grading.handwritten import assert_written_by_hand

MAX_OUTPUT_CHARS = 20_000
"""Characters of what one call prints that are sent back (as feedback, never for grading)."""


class _State:
    """The listening socket, the connection and the objects lent to the grader as handles."""

    def __init__(self, path: str) -> None:
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen(1)
        self.connection: socket.socket | None = None
        self.objects: dict[int, Any] = {}
        self.next_id = 1

    def ref(self, obj: Any) -> wire.Ref:
        handle = self.next_id
        self.next_id += 1
        self.objects[handle] = obj
        kind = "class" if isinstance(obj, type) else "function" if callable(obj) else "object"
        return wire.Ref(handle, kind, type(obj).__name__, str(getattr(obj, "__name__", "")))


_state: _State | None = None


def listen(path: str) -> None:
    """Open the server's socket at ``path`` (the grader connects to it)."""
    global _state
    _state = _State(path)


def _namespace() -> dict[str, Any]:
    shell = getattr(builtins, "get_ipython", lambda: None)()
    return shell.user_ns if shell is not None else sys.modules["__main__"].__dict__


def _send(message: dict, value: Any = None) -> None:
    tree, buffers = wire.encode(value, _state.ref)
    wire.write_frame(_state.connection, {**message, "value": tree}, buffers)


def _receive() -> tuple[dict, Any]:
    message, buffers = wire.read_frame(_state.connection)
    value = wire.decode(message.get("value"), buffers, _resolve)
    return message, value


def _resolve(ref: wire.Ref) -> Any:
    if ref.kind == "callback":
        return _callback(ref)
    return _state.objects[ref.id]


def _callback(ref: wire.Ref) -> Callable:
    """A function that asks the grader to run its callable ``ref`` on plain data."""
    def call_grader(*args: Any, **kwargs: Any) -> Any:
        _send({"op": "callback", "id": ref.id}, (args, kwargs))
        reply, value = _serve_until(("return", "raise"))
        if reply["op"] == "raise":
            raise _exception(reply.get("exc_type", "Exception"), reply.get("exc_msg", ""))
        return value

    call_grader.__name__ = call_grader.__qualname__ = ref.name or "grader_function"
    return call_grader


def _exception(name: str, message: str) -> BaseException:
    kind = getattr(builtins, name, None)
    if isinstance(kind, type) and issubclass(kind, Exception):
        return kind(message)
    return RuntimeError(f"{name}: {message}")


def _snapshot(value: Any) -> Any:
    """A copy of the containers and arrays in ``value``, to see later what a call changed."""
    if isinstance(value, list | dict | np.ndarray) or type(value).__name__ == "Tensor":
        try:
            return copy.deepcopy(value)
        except Exception:  # noqa: BLE001 (an argument that cannot be copied is not compared)
            return None
    return None


def _same(now: Any, before: Any) -> bool:
    if type(now) is not type(before):
        return False
    if isinstance(now, np.ndarray):
        return now.shape == before.shape and np.array_equal(now, before, equal_nan=True)
    if type(now).__name__ == "Tensor":
        return now.shape == before.shape and bool((now.detach() == before.detach()).all())
    if isinstance(now, list):
        return len(now) == len(before) and all(map(_same, now, before))
    if isinstance(now, dict):
        return now.keys() == before.keys() and all(_same(now[k], before[k]) for k in now)
    return now is before or now == before


@contextlib.contextmanager
def _captured_output(sink: io.StringIO):
    """Send what student code prints to ``sink`` (the grader shows it as feedback)."""
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = sink
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def _call(message: dict, value: Any) -> tuple[dict, Any]:
    """Call the target (or its method, or a driver on it) with the grader's arguments.

    Returns the result and every argument the call changed in place (the grader writes those
    back into its own copies), with what the call printed.
    """
    target = _state.objects[message["target"]]
    if message.get("driver"):
        from nncourse.grading.drivers import DRIVERS  # imports torch: only when asked

        target = functools.partial(DRIVERS[message["driver"]], target)
    elif message.get("method"):
        target = getattr(target, message["method"])
    args, kwargs = value
    before = [_snapshot(arg) for arg in args]
    before_kw = {key: _snapshot(arg) for key, arg in kwargs.items()}
    sink = io.StringIO()
    timer = threading.Timer(float(message.get("seconds", 60)), _thread.interrupt_main)
    timer.start()
    try:
        with _captured_output(sink):
            result = target(*args, **kwargs)
    finally:
        timer.cancel()
    changed = {str(i): arg for i, (arg, old) in enumerate(zip(args, before, strict=True))
               if old is not None and not _same(arg, old)}
    changed |= {key: arg for key, arg in kwargs.items()
                if before_kw[key] is not None and not _same(arg, before_kw[key])}
    return {"op": "result", "stdout": sink.getvalue()[:MAX_OUTPUT_CHARS]}, (result, changed)


def _lookup(names: list[str]) -> tuple[dict, Any]:
    namespace = _namespace()
    found = {name: namespace[name] for name in names
             if isinstance(name, str) and name in namespace}
    return {"op": "result"}, found


def _describe(message: dict) -> tuple[dict, Any]:
    """The parameters of a callable: ``[(name, kind, has_default), ...]``."""
    try:
        signature = inspect.signature(_state.objects[message["target"]])
    except (TypeError, ValueError):
        return {"op": "result"}, None
    return {"op": "result"}, [(p.name, int(p.kind), p.default is not p.empty)
                              for p in signature.parameters.values()]


def _handwritten(message: dict, value: Any) -> tuple[dict, Any]:
    forbidden, name = value
    try:
        assert_written_by_hand(_state.objects[message["target"]], tuple(forbidden), name=name,
                               namespace=_namespace())
    except AssertionError as error:
        return {"op": "result"}, str(error)
    return {"op": "result"}, None


def _dispatch(message: dict, value: Any) -> tuple[dict, Any]:
    op = message.get("op")
    if op == "call":
        return _call(message, value)
    if op == "lookup":
        return _lookup(value)
    if op == "getattr":
        return {"op": "result"}, getattr(_state.objects[message["target"]], message["name"])
    if op == "describe":
        return _describe(message)
    if op == "handwritten":
        return _handwritten(message, value)
    if op == "bind":  # a test rebinds a name of the notebook to one of the student's objects
        _namespace()[message["name"]] = value
        return {"op": "result"}, None
    if op == "unbind":  # a test deletes a name of the notebook
        _namespace().pop(message["name"], None)
        return {"op": "result"}, None
    raise ValueError(f"unknown request {op!r}")


def _serve_until(stop: tuple[str, ...]) -> tuple[dict, Any]:
    """Answer requests until a message whose op is in ``stop`` arrives; return it."""
    while True:
        message, value = _receive()
        if message.get("op") in stop:
            return message, value
        try:
            reply, result = _dispatch(message, value)
            _send(reply, result)
        except (Exception, KeyboardInterrupt, SystemExit) as error:  # noqa: BLE001
            name = "TimeoutError" if isinstance(error, KeyboardInterrupt) else type(error).__name__
            try:
                text = str(error)[:2000]
            except Exception:  # noqa: BLE001 (a student's exception whose str() fails)
                text = ""
            _send({"op": "error", "exc_type": name, "exc_msg": text})


def serve() -> None:
    """Answer the grader's requests for one test cell, until it says ``end``."""
    if _state.connection is None:
        _state.connection, _ = _state.listener.accept()
    _serve_until(("end",))
