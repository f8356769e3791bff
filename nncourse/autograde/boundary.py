"""The grader's side of the trust boundary: proxies for what lives in the student's kernel.

A test cell runs in the grader's process. A name it uses that the grader's namespace lacks
(the student's ``softmax``, ``Momentum``) is looked up in the kernel through
:class:`KernelLink` and becomes a proxy: calling a :class:`RemoteFunction` sends the
arguments as plain data (:mod:`nncourse.grading.wire`), runs the student's function in the
kernel, and decodes the result here, building only built-in types, numpy arrays and torch
tensors. Arguments the student's code changed in place come back and are written into the
grader's objects. The grader's callables passed as arguments become callbacks.

What is not data stays in the kernel as a :class:`RemoteObject`: its methods and attributes
are remote too, but it refuses to act as a value (``float()``, ``np.asarray``, ``==``,
``bool``, iteration), so no hook of the student's can run while a check decides.
"""

from __future__ import annotations

import builtins
import inspect
import socket
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from nncourse.autograde.kernels import KernelGone
from nncourse.grading import wire

SAFE_EXCEPTIONS = frozenset({
    "ArithmeticError", "AssertionError", "AttributeError", "FloatingPointError", "IndexError",
    "LookupError", "MemoryError", "NameError", "NotImplementedError",
    "OverflowError", "RecursionError", "RuntimeError", "StopIteration", "TimeoutError",
    "TypeError", "UnboundLocalError", "ValueError", "ZeroDivisionError"})
"""Exceptions of the student's code that are raised here as the same built-in class."""
GRACE_S = 10.0
"""Seconds past a call's deadline the grader waits for the kernel's own interruption."""


class StudentCodeError(Exception):
    """An exception of the student's code whose class is not a safe built-in one."""


def _exception(name: str, message: str) -> BaseException:
    if name in SAFE_EXCEPTIONS:
        return getattr(builtins, name)(message)
    error = StudentCodeError(message)
    error.remote_name = name
    return error


class KernelLink:
    """One connection to the server in a student's kernel (:mod:`...kernel.server`).

    Parameters
    ----------
    path : str
        The server's Unix socket.
    seconds : float
        Time a single call may take; the kernel interrupts it, the grader gives up
        :data:`GRACE_S` later.
    """

    def __init__(self, path: str, seconds: float) -> None:
        self.path = path
        self.seconds = seconds
        self.socket: socket.socket | None = None
        self.callbacks: dict[int, Callable] = {}
        self.next_callback = 1
        self.output: list[str] = []
        """What the student's code printed during the current cell's calls."""

    def connect(self, wait: float = 10.0) -> None:
        """Connect to the kernel's server (it accepts when the cell's ``serve()`` runs)."""
        deadline = time.monotonic() + wait
        while True:
            try:
                self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.socket.connect(self.path)
                return
            except OSError as error:
                if time.monotonic() > deadline:
                    raise KernelGone("the student's kernel did not open the grading "
                                     "channel") from error
                time.sleep(0.05)

    def close(self) -> None:
        if self.socket is not None:
            self.socket.close()
            self.socket = None

    def end_cell(self) -> None:
        """Let the kernel's ``serve()`` return: the test cell is over.

        The grader's callables lent to the kernel during the cell stop working: a student's
        code that kept one cannot call it in a later test.
        """
        self.callbacks.clear()
        self._send({"op": "end"})

    # -- requests ---------------------------------------------------------------------------

    def request(self, message: dict, value: Any = None) -> Any:
        """Send a request and wait for its answer, running callbacks the kernel asks for."""
        self._send(message, value)
        deadline = time.monotonic() + self.seconds + GRACE_S
        while True:
            reply, result = self._receive(deadline)
            op = reply.get("op")
            if op == "result":
                stdout = reply.get("stdout")
                if isinstance(stdout, str) and stdout:
                    self.output.append(stdout)
                return result
            if op == "error":
                raise _exception(str(reply.get("exc_type")), str(reply.get("exc_msg", "")))
            if op == "callback":
                self._run_callback(reply, result)
                deadline = time.monotonic() + self.seconds + GRACE_S
                continue
            raise KernelGone(f"the kernel answered with {op!r}")

    def _run_callback(self, message: dict, value: Any) -> None:
        function = self.callbacks.get(message.get("id"))
        if function is None:
            self._send({"op": "raise", "exc_type": "RuntimeError",
                        "exc_msg": "this function was lent by an earlier test: it can no "
                                   "longer be called"})
            return
        try:
            args, kwargs = value
            result = function(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 (reported to the kernel as its error)
            self._send({"op": "raise", "exc_type": type(error).__name__, "exc_msg": str(error)})
            return
        self._send({"op": "return"}, result)

    def _send(self, message: dict, value: Any = None) -> None:
        tree, buffers = wire.encode(value, self._as_ref)
        try:
            wire.write_frame(self.socket, {**message, "value": tree}, buffers)
        except OSError as error:
            raise KernelGone(f"the student's kernel is gone ({error})") from error

    def _receive(self, deadline: float) -> tuple[dict, Any]:
        self.socket.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            message, buffers = wire.read_frame(self.socket)
        except TimeoutError as error:
            raise KernelGone(f"the code under test ran longer than {self.seconds:g} s and "
                             "did not stop", timed_out=True) from error
        except (OSError, EOFError) as error:
            raise KernelGone("the student's kernel stopped") from error
        return message, wire.decode(message.get("value"), buffers, self._proxy)

    def _as_ref(self, obj: Any) -> wire.Ref:
        if isinstance(obj, RemoteObject):
            return obj._ref
        if callable(obj):
            handle = self.next_callback
            self.next_callback += 1
            self.callbacks[handle] = obj
            return wire.Ref(handle, "callback", type(obj).__name__,
                            str(getattr(obj, "__name__", "")))
        raise wire.WireError(f"a {type(obj).__name__} cannot be sent to the student's kernel")

    def _proxy(self, ref: wire.Ref) -> Any:
        if ref.kind == "class":
            return RemoteClass(self, ref)
        if ref.kind == "function":
            return RemoteFunction(self, ref)
        return RemoteObject(self, ref)

    # -- what the proxies ask ---------------------------------------------------------------

    def lookup(self, names: list[str]) -> dict[str, Any]:
        """The values (data or proxies) of ``names`` that the notebook's namespace has."""
        found = self.request({"op": "lookup"}, sorted(names))
        return found if isinstance(found, dict) else {}

    def rebind(self, name: str, value: Any) -> None:
        """Bind ``name`` in the notebook to ``value`` if it is the student's own object.

        Nothing of the grader's is ever bound there: no data (an expected value assigned to
        a name the student also uses) and no function (a reference imported under a name
        the student also uses would become callable by the code under test).
        """
        if isinstance(value, RemoteObject):
            self.request({"op": "bind", "name": name}, value)

    def unbind(self, name: str) -> None:
        """Delete ``name`` from the notebook's namespace."""
        self.request({"op": "unbind", "name": name})

    def call(self, ref: wire.Ref, args: tuple, kwargs: dict, method: str = "",
             driver: str = "") -> Any:
        """Call the kernel's object ``ref`` (or its ``method``, or the ``driver`` on it)."""
        result, changed = self.request(
            {"op": "call", "target": ref.id, "method": method, "driver": driver,
             "seconds": self.seconds}, (tuple(args), dict(kwargs)))
        for key, new in changed.items():
            old = args[int(key)] if key.isdigit() and int(key) < len(args) else kwargs.get(key)
            write_back(old, new)
        return result


def write_back(old: Any, new: Any) -> None:
    """Make the grader's argument ``old`` look like the kernel's changed copy ``new``."""
    if isinstance(old, list) and isinstance(new, list):
        if len(old) == len(new):
            for index, (item, new_item) in enumerate(zip(old, new, strict=True)):
                if not _write_in_place(item, new_item):
                    old[index] = new_item
        else:
            old[:] = new
    elif isinstance(old, dict) and isinstance(new, dict):
        for key in [key for key in old if key not in new]:
            del old[key]
        for key, new_item in new.items():
            if key not in old or not _write_in_place(old[key], new_item):
                old[key] = new_item
    else:
        _write_in_place(old, new)


def _write_in_place(old: Any, new: Any) -> bool:
    if isinstance(old, np.ndarray) and isinstance(new, np.ndarray) and old.shape == new.shape:
        old[...] = new
        return True
    if type(old).__name__ == "Tensor" and type(new).__name__ == "Tensor" \
            and old.shape == new.shape:
        import torch

        with torch.no_grad():
            old.copy_(new)
        return True
    if isinstance(old, list | dict) and type(old) is type(new):
        write_back(old, new)
        return True
    return False


def _refuse(self: RemoteObject, *args: Any, **kwargs: Any) -> Any:
    raise TypeError(f"{self!r} is not a value: return a number, a numpy array, or a "
                    "tuple/list/dict of them")


class RemoteObject:
    """Something that lives in the student's kernel; its attributes and methods are remote."""

    def __init__(self, link: KernelLink, ref: wire.Ref) -> None:
        object.__setattr__(self, "_link", link)
        object.__setattr__(self, "_ref", ref)

    def __repr__(self) -> str:
        return f"a `{self._ref.type_name}` object"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._link.request({"op": "getattr", "target": self._ref.id, "name": name})

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._link.call(self._ref, args, kwargs)

    def __len__(self) -> int:
        value = self._link.call(self._ref, (), {}, method="__len__")
        if type(value) is not int:
            raise TypeError(f"len() of {self!r} is not an integer")
        return value

    def __getitem__(self, key: Any) -> Any:
        return self._link.call(self._ref, (key,), {}, method="__getitem__")

    def run_driver(self, driver: str, args: tuple) -> Any:
        """Run :data:`nncourse.grading.drivers.DRIVERS` ``[driver]`` on this, in the kernel."""
        return self._link.call(self._ref, args, {}, driver=driver)

    __array__ = __float__ = __int__ = __index__ = __complex__ = __iter__ = _refuse
    __bool__ = __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _refuse
    __hash__ = object.__hash__


class RemoteFunction(RemoteObject):
    """A function of the student's notebook: calls run in the kernel, on data."""

    def __init__(self, link: KernelLink, ref: wire.Ref) -> None:
        super().__init__(link, ref)
        object.__setattr__(self, "__name__", ref.name or ref.type_name)
        object.__setattr__(self, "__qualname__", ref.name or ref.type_name)

    def __repr__(self) -> str:
        return f"the student's {self.__name__}"

    @property
    def __signature__(self) -> inspect.Signature | None:
        """The student's parameter names (defaults are not fetched), for messages."""
        described = self._link.request({"op": "describe", "target": self._ref.id})
        if not isinstance(described, list):
            return None
        try:
            return inspect.Signature([
                inspect.Parameter(name, inspect._ParameterKind(kind),
                                  default=None if has_default else inspect.Parameter.empty)
                for name, kind, has_default in described])
        except (TypeError, ValueError):
            return None

    def assert_written_by_hand(self, forbidden: tuple[str, ...], name: str) -> None:
        """The written-by-hand check, run on the student's own objects in the kernel."""
        problem = self._link.request({"op": "handwritten", "target": self._ref.id},
                                     (list(forbidden), name))
        if problem is not None:
            raise AssertionError(str(problem))


class RemoteClass(RemoteFunction):
    """A class of the student's notebook: calling it makes an instance in the kernel."""
