"""Refuse answers that call the reference implementation instead of computing the result.

The check reads the bytecode of the student's function: every global name it loads (with
the attribute chain after it, like ``np.linalg.norm``), every ``import`` inside it, its
default arguments and closure variables. Helpers the student wrote in the same notebook
(functions, lambdas, classes, ``functools.partial``) are followed recursively, so hiding the
call one level down does not help. Code from other libraries is only named, not entered.
"""

from __future__ import annotations

import builtins
import dis
import functools
import inspect
import sys
import types
from collections.abc import Callable, Iterator
from typing import Any

FORBIDDEN_BY_DEFAULT = ("nncourse", "torch")
"""Modules an exercise answer may not use: the course's reference code and PyTorch."""

ALWAYS_FORBIDDEN = ("builtins.__import__", "builtins.eval", "builtins.exec", "builtins.compile",
                    "builtins.globals", "builtins.vars", "builtins.locals", "builtins.getattr",
                    "builtins.setattr", "builtins.delattr", "builtins.__builtins__",
                    "importlib", "sys.modules", "inspect", "gc", "ctypes", "linecache")
"""Ways to reach code by a name in a string (or to look around the caller), which the check
cannot follow: any of them counts as a possible call of forbidden code."""
_INDIRECT_NAMES = frozenset({"__builtins__", "__dict__", "__globals__", "__getattribute__",
                             "__subclasses__", "__class__", "__base__", "__bases__", "__mro__"})
"""Names in a chain (``x.__dict__[...]``, ``__builtins__``) that reach objects by strings."""

_ATTRIBUTE_OPS = {"LOAD_ATTR", "LOAD_METHOD"}
_GLOBAL_OPS = {"LOAD_GLOBAL", "LOAD_NAME"}
_MISSING = object()
_MAX_FOLLOWED = 1000
"""Items of a container (a dict of functions, say) that the check looks into."""


def origin(obj: Any) -> str:
    """The dotted name of the module an object comes from.

    Parameters
    ----------
    obj : object
        A module, function, class, builtin or instance.

    Returns
    -------
    str
        ``"numpy"`` for ``np.exp``, ``"torch"`` for ``torch.softmax``, the class's module for
        an instance.

    Examples
    --------
    >>> import numpy as np
    >>> origin(np.linalg), origin(np.exp), origin(np.zeros(2))
    ('numpy.linalg', 'numpy', 'numpy')
    """
    if inspect.ismodule(obj):
        return obj.__name__
    module = getattr(obj, "__module__", None)
    if isinstance(module, str):
        return module
    owner = getattr(obj, "__self__", None) or getattr(obj, "__objclass__", None)
    if owner is not None and owner is not obj:
        return origin(owner)
    return type(obj).__module__


def _full_name(obj: Any) -> str:
    qualname = getattr(obj, "__qualname__", None)
    module = origin(obj)
    return f"{module}.{qualname}" if isinstance(qualname, str) and qualname else module


def _is_forbidden(obj: Any, forbidden: tuple[str, ...]) -> str | None:
    """The entry of ``forbidden`` that ``obj`` falls under, if any."""
    names = {origin(obj), _full_name(obj)} | ({"sys.modules"} if obj is sys.modules else set())
    for name in names:
        for entry in forbidden:
            if name == entry or name.startswith(entry + "."):
                return entry
    return None


def _loaded_names(code: types.CodeType) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(opname, dotted chain) for each global/closure load and import in ``code`` and below."""
    chain: list[str] = []
    kind = ""
    for instruction in dis.get_instructions(code):
        if chain and instruction.opname in _ATTRIBUTE_OPS:
            chain.append(instruction.argval)
            continue
        if chain:
            yield kind, tuple(chain)
            chain = []
        if instruction.opname in _GLOBAL_OPS or instruction.opname == "LOAD_DEREF":
            kind, chain = instruction.opname, [instruction.argval]
        elif instruction.opname == "IMPORT_NAME":
            yield "IMPORT_NAME", (instruction.argval,)
    if chain:
        yield kind, tuple(chain)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield from _loaded_names(constant)


def _resolve(chain: tuple[str, ...], namespace: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """Each prefix of ``a.b.c`` with the object it names, as long as it resolves."""
    obj = namespace.get(chain[0], getattr(builtins, chain[0], _MISSING))
    for depth in range(len(chain)):
        if obj is _MISSING:
            return
        yield ".".join(chain[: depth + 1]), obj
        if depth + 1 < len(chain):
            obj = getattr(obj, chain[depth + 1], _MISSING)


def _cell_value(cell: types.CellType) -> Any:
    try:
        return cell.cell_contents
    except ValueError:  # a closure variable not assigned (yet)
        return _MISSING


class _Indirect:
    """A name chain that reaches objects through strings or internals: counted as forbidden."""

    __module__ = "builtins"
    __qualname__ = "__builtins__"

    def __init__(self, chain: str) -> None:
        self.chain = chain


class _Walker:
    """Follows the student's own code from one function, yielding what it refers to."""

    def __init__(self, top: Any, home: dict[str, Any]) -> None:
        self.top = top
        self.home = home
        self.home_module = home.get("__name__")
        self.seen: set[int] = set()

    def is_students(self, obj: Any) -> bool:
        if isinstance(obj, types.FunctionType):
            return obj.__globals__ is self.home
        return isinstance(obj, type) and obj.__module__ == self.home_module

    def walk(self, label: str, obj: Any) -> Iterator[tuple[str, Any]]:
        if id(obj) in self.seen:
            return
        self.seen.add(id(obj))
        yield label, obj
        for child_label, child in self.children(label, obj):
            yield from self.walk(child_label, child)

    def children(self, label: str, obj: Any) -> Iterator[tuple[str, Any]]:
        if isinstance(obj, functools.partial):
            yield f"{label}.func", obj.func
            for value in (*obj.args, *obj.keywords.values()):
                yield f"an argument of {label}", value
        elif isinstance(obj, types.MethodType):
            yield label, obj.__func__
        elif isinstance(obj, types.FunctionType) and self.is_students(obj):
            yield from self.function_children(obj)
        elif isinstance(obj, type) and self.is_students(obj):
            for base in obj.__mro__[1:-1]:
                yield f"the base class {base.__qualname__} of {obj.__name__}", base
            for attribute, value in vars(obj).items():
                yield f"{obj.__name__}.{attribute}", getattr(value, "__func__", value)
        elif isinstance(obj, list | tuple | set | frozenset) and len(obj) <= _MAX_FOLLOWED:
            for item in obj:
                yield f"an item of {label}", item
        elif isinstance(obj, dict) and len(obj) <= _MAX_FOLLOWED:
            for key, item in obj.items():
                yield f"{label}[{key!r}]", item
        elif not isinstance(obj, type) and self.is_students(type(obj)):
            yield f"the class of {label}", type(obj)

    def function_children(self, fn: types.FunctionType) -> Iterator[tuple[str, Any]]:
        closure = dict(zip(fn.__code__.co_freevars,
                           (_cell_value(cell) for cell in fn.__closure__ or ()), strict=True))
        where = "" if fn is self.top else f" in {fn.__qualname__}"
        for value in (*(fn.__defaults__ or ()), *(fn.__kwdefaults__ or {}).values()):
            yield f"a default argument of {fn.__qualname__}", value
        for kind, chain in _loaded_names(fn.__code__):
            if kind == "IMPORT_NAME":
                yield f"`import {chain[0]}`{where}", types.ModuleType(chain[0])
            elif _INDIRECT_NAMES.intersection(chain):
                yield f"`{'.'.join(chain)}`{where}", _Indirect(".".join(chain))
            else:
                namespace = closure if kind == "LOAD_DEREF" else self.home
                for dotted, obj in _resolve(chain, namespace):
                    yield f"`{dotted}`{where}", obj


def assert_written_by_hand(
    fn: Callable, forbidden: tuple[str, ...] = FORBIDDEN_BY_DEFAULT, *, name: str | None = None,
    namespace: dict[str, Any] | None = None,
) -> None:
    """Fail when a student's function uses code the exercise asks them to write themselves.

    Parameters
    ----------
    fn : callable
        The student's function (or class, or ``functools.partial``).
    forbidden : tuple of str, default ("nncourse", "torch")
        Modules (``"torch"`` covers ``torch.nn.functional``) or fully qualified names
        (``"numpy.gradient"``) that may not appear anywhere in ``fn`` or in the helpers it
        calls that the student wrote. :data:`ALWAYS_FORBIDDEN` (``eval``, ``__import__``,
        ``importlib``, ...) is added: code reached through a string cannot be checked.
    name : str, optional
        Name used in the message; ``fn.__name__`` by default.
    namespace : dict, optional
        The globals of the student's code (a notebook's ``__main__``), whose functions and
        classes are followed. By default the globals of the code calling this function: the
        test cell, which runs in the student's namespace.

    Raises
    ------
    AssertionError
        Naming what was used, through which name, and what is expected instead.

    Examples
    --------
    >>> import numpy as np
    >>> def mean_of_squares(x):
    ...     return np.mean(x ** 2)
    >>> assert_written_by_hand(mean_of_squares)
    >>> assert_written_by_hand(mean_of_squares, forbidden=("numpy.mean",))
    Traceback (most recent call last):
    ...
    AssertionError: mean_of_squares uses `np.mean` (numpy.mean), which this task does not \
allow ('numpy.mean' may not be used here): write this part yourself.
    """
    name = name or getattr(fn, "__name__", "the function")
    remote_check = getattr(type(fn), "assert_written_by_hand", None)
    if remote_check is not None:  # the grader's proxy: the check runs where the code is
        remote_check(fn, tuple(forbidden), name)
        return
    home = namespace if namespace is not None else sys._getframe(1).f_globals
    walker = _Walker(fn, home)
    for label, obj in walker.walk(name, fn):
        if walker.is_students(obj) or walker.is_students(type(obj)):
            continue
        entry = _is_forbidden(obj, (*forbidden, *ALWAYS_FORBIDDEN))
        if entry and obj is fn:
            raise AssertionError(
                f"{name} is {_full_name(obj)} itself, not code you wrote: this task asks you to "
                "write it yourself."
            )
        if entry:
            raise AssertionError(
                f"{name} uses {label} ({_full_name(obj)}), which this task does not allow "
                f"('{entry}' may not be used here): write this part yourself."
            )
