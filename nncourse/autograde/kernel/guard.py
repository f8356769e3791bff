"""Runs inside a grading kernel: undoes what student code did to the tools the tests trust.

The grader (:mod:`nncourse.grading.execute`) installs a :class:`Guard` before the first
cell, then calls it before and after every test cell. The guard remembers, at install time:

- the attributes of ``builtins``, ``numpy``, ``numpy.testing``, ``nncourse`` (every loaded
  submodule), ``torch`` (when the assignment uses it) and the ``sys.modules`` entries of them;
- the code, defaults and class attributes of the functions and classes defined there;
- how IPython reports errors: the shell's and kernel's classes, ``custom_exceptions``, the
  traceback printers, input and AST transformers, event callbacks, ``sys.excepthook``,
  ``sys.displayhook``, ``sys.stdout``/``sys.stderr`` and the trace and profile functions.

:meth:`Guard.check` puts back anything that changed and says what it was. Before a test cell
that only means the tests then run against honest tools; after a test cell it means the
tested code changed the tools while the test ran, and the grader fails that test.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import types
from typing import Any

ALWAYS_PROTECTED = ("builtins", "math", "numpy", "numpy.testing", "numpy.linalg", "nncourse")
"""Modules whose attributes are restored."""
PROTECTED_PACKAGES = ("nncourse",)
"""Packages whose every loaded submodule is protected too."""

_SHELL_ATTRIBUTES = ("custom_exceptions", "CustomTB", "showtraceback", "_showtraceback",
                     "showsyntaxerror", "InteractiveTB", "SyntaxTB", "displayhook",
                     "display_pub", "display_formatter", "run_cell", "run_cell_async",
                     "run_ast_nodes", "run_code", "excepthook")
_SHELL_LISTS = ("ast_transformers", "input_transformers_cleanup", "input_transformers_post")
_IGNORED_BUILTINS = frozenset({"_", "__", "___", "input", "raw_input", "get_ipython", "exit",
                               "quit", "display"})
"""Set by IPython and ipykernel around every execution: not a student's doing."""
_MISSING = object()
_LIBRARY_FOLDERS = tuple(os.path.realpath(folder) + os.sep for folder in {
    sys.prefix, sys.base_prefix, os.path.dirname(os.path.dirname(__file__))})


def _function_state(function: types.FunctionType) -> tuple[Any, ...]:
    return function.__code__, function.__defaults__, function.__kwdefaults__


def _same_items(now: Any, saved: Any) -> bool:
    now, saved = tuple(now or ()), tuple(saved or ())
    return len(now) == len(saved) and all(a is b for a, b in zip(now, saved, strict=True))


def _same_state(now: tuple[Any, ...], saved: tuple[Any, ...]) -> bool:
    """Whether a function still has its code and the very same default objects."""
    now_kw, saved_kw = now[2] or {}, saved[2] or {}
    return (now[0] is saved[0] and _same_items(now[1], saved[1])
            and now_kw.keys() == saved_kw.keys()
            and _same_items(now_kw.values(), [saved_kw[key] for key in now_kw]))


def _library_wrapper(new: Any, old: Any) -> bool:
    """Whether ``new`` wraps ``old`` with code of an installed library (not of a cell)."""
    code = getattr(new, "__code__", None)
    if getattr(new, "__wrapped__", _MISSING) is not old or code is None:
        return False
    return os.path.realpath(code.co_filename).startswith(_LIBRARY_FOLDERS)


def _shadows_method(instance: Any, name: str) -> bool:
    """Whether the instance attribute ``name`` hides a method of the instance's class."""
    return isinstance(getattr(type(instance), name, None), types.FunctionType)


def _own_value(instance: Any, name: str) -> Any:
    """An attribute set on the instance itself (plain or traitlet), else ``_MISSING``."""
    if name in instance.__dict__:
        return instance.__dict__[name]
    return getattr(instance, "_trait_values", {}).get(name, _MISSING)


class Guard:
    """What the tests rely on, as it was before any student code ran.

    Parameters
    ----------
    shell : IPython.core.interactiveshell.InteractiveShell
        The kernel's shell.
    modules : iterable of str
        Modules to import now and protect, besides :data:`ALWAYS_PROTECTED`.
    """

    def __init__(self, shell: Any, modules: tuple[str, ...] = ()) -> None:
        self.shell = shell
        for name in (*ALWAYS_PROTECTED, *modules):
            try:
                importlib.import_module(name)
            except ImportError:
                continue
        names = (*ALWAYS_PROTECTED, *modules)
        self.modules = {name: module for name, module in sorted(sys.modules.items())
                        if isinstance(module, types.ModuleType) and (
                            name in names
                            or name.startswith(tuple(f"{root}." for root in PROTECTED_PACKAGES)))}
        self.module_dicts = {name: dict(vars(module)) for name, module in self.modules.items()}
        self.classes: dict[type, dict[str, Any]] = {}
        self.functions: dict[types.FunctionType, tuple[Any, ...]] = {}
        for name, namespace in self.module_dicts.items():
            for value in namespace.values():
                self._remember(value, name)
        kernel = getattr(shell, "kernel", None)
        # The objects that run cells and report their results: shell, kernel, message session.
        self.messengers = [item for item in (shell, kernel, getattr(kernel, "session", None))
                           if item is not None]
        for item in self.messengers:
            for cls in type(item).__mro__:
                if cls.__module__.startswith(("IPython.", "ipykernel.", "jupyter_client.")):
                    self._remember(cls, cls.__module__)
        self.shadows = [set(filter(lambda name, item=item: _shadows_method(item, name),
                                   vars(item))) for item in self.messengers]
        self.shell_attributes = {name: _own_value(shell, name) for name in _SHELL_ATTRIBUTES}
        self.shell_lists = {name: list(getattr(shell, name, [])) for name in _SHELL_LISTS}
        self.callbacks = {event: list(functions)
                          for event, functions in shell.events.callbacks.items()}
        self.sys_hooks = {name: getattr(sys, name)
                          for name in ("excepthook", "displayhook", "stdout", "stderr")}

    def _remember(self, value: Any, module: str) -> None:
        if isinstance(value, types.FunctionType) and value not in self.functions:
            self.functions[value] = _function_state(value)
        elif isinstance(value, type) and value not in self.classes \
                and value.__module__ == module:
            self.classes[value] = dict(vars(value))
            for member in vars(value).values():
                function = getattr(member, "__func__", member)
                if isinstance(function, types.FunctionType):
                    self.functions.setdefault(function, _function_state(function))

    def check(self) -> list[str]:
        """Restore everything that changed since install; describe each change.

        Returns
        -------
        list of str
            E.g. ``["numpy.allclose was replaced", "sys.settrace was set"]``; empty when
            nothing had changed.
        """
        changes: list[str] = []
        for name, module in self.modules.items():
            if sys.modules.get(name) is not module:
                sys.modules[name] = module
                changes.append(f"sys.modules[{name!r}] was replaced")
            self._restore_namespace(vars(module), self.module_dicts[name], name, changes)
        for cls, namespace in self.classes.items():
            self._restore_class(cls, namespace, changes)
        for function, state in self.functions.items():
            if not _same_state(_function_state(function), state):
                function.__code__, function.__defaults__, function.__kwdefaults__ = state
                changes.append(f"the code of {function.__module__}.{function.__qualname__} "
                               "was changed")
        self._restore_shell(changes)
        for item, allowed in zip(self.messengers, self.shadows, strict=True):
            for name in [name for name in vars(item)
                         if name not in allowed and _shadows_method(item, name)]:
                del vars(item)[name]
                changes.append(f"{type(item).__name__}.{name} was replaced on the instance")
        if sys.gettrace() is not None or sys.getprofile() is not None:
            sys.settrace(None)
            sys.setprofile(None)
            changes.append("a trace or profile function was set")
        return changes

    def _restore_namespace(self, current: dict[str, Any], saved: dict[str, Any], where: str,
                           changes: list[str]) -> None:
        for key, value in saved.items():
            if where == "builtins" and key in _IGNORED_BUILTINS:
                continue
            now = current.get(key, _MISSING)
            if _library_wrapper(now, value):
                saved[key] = now  # e.g. torch._dynamo wraps torch.manual_seed when imported
                continue
            if now is not value:
                current[key] = value
                changes.append(f"{where}.{key} was replaced")

    def _restore_class(self, cls: type, saved: dict[str, Any], changes: list[str]) -> None:
        for key, value in saved.items():
            if key == "__dict__" or key == "__weakref__":
                continue
            if vars(cls).get(key, _MISSING) is not value:
                setattr(cls, key, value)
                changes.append(f"{cls.__module__}.{cls.__qualname__}.{key} was replaced")

    def _restore_shell(self, changes: list[str]) -> None:
        shell = self.shell
        for name, value in self.shell_attributes.items():
            if _own_value(shell, name) is not value:
                if value is _MISSING:
                    shell.__dict__.pop(name, None)
                elif name in getattr(shell, "_trait_values", {}):
                    setattr(shell, name, value)
                else:
                    shell.__dict__[name] = value
                changes.append(f"IPython's {name} was replaced")
        for name, saved in self.shell_lists.items():
            if list(getattr(shell, name, [])) != saved:
                setattr(shell, name, list(saved))
                changes.append(f"IPython's {name} were changed")
        for event in set(self.callbacks) | set(shell.events.callbacks):
            if shell.events.callbacks.get(event) != self.callbacks.get(event, []):
                shell.events.callbacks[event] = list(self.callbacks.get(event, []))
                changes.append(f"IPython's {event} callbacks were changed")
        for name, value in self.sys_hooks.items():
            if getattr(sys, name) is not value:
                setattr(sys, name, value)
                changes.append(f"sys.{name} was replaced")


def install(name: str, modules: tuple[str, ...] = ()) -> None:
    """Create the guard and register it as module ``name``, whose ``check()`` returns JSON.

    Parameters
    ----------
    name : str
        A random name chosen by the grader for this kernel.
    modules : tuple of str
        Extra modules to protect (e.g. ``("torch",)``).
    """
    from IPython import get_ipython

    guard = Guard(get_ipython(), modules)
    handle = types.ModuleType(name)
    handle.check = lambda: json.dumps(guard.check())  # type: ignore[attr-defined]
    sys.modules[name] = handle
