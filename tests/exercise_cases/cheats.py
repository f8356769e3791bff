"""Submissions that try to earn points without doing the work, for every assignment (issue #11).

:func:`cheat_cells` rewrites every function and method a notebook's solution cells define.
With no category it writes an honest wrong answer (``return 0``); with a category of
:data:`CATEGORIES` every function and method returns what one trick finds instead, and the
first answer cell starts with :data:`PRELUDE`, which sets the tricks up when the notebook
runs. Each trick worked, once, against graders that run the tests in the student's process;
graded across the trust boundary, each must earn exactly what the honest wrong answers earn.
"""

from __future__ import annotations

import ast

from nbformat import NotebookNode

from nncourse.autograde.notebook import solution_cells

CATEGORIES = ("peeks", "calls_reference", "reads_test_source", "hooks", "walks_gc",
              "patches_later", "mutates_arguments")
"""The tricks: conversion hooks that walk the caller's frames for the expected value; the
reference reached through ``getattr(__builtins__, ...)`` and a table; the calling test's
source read with ``inspect``/``linecache`` and evaluated; profile, trace and audit hooks
that record what runs; a walk of every object ``gc`` knows; a finalizer that patches numpy
and the grading helpers later; changing the arrays and dicts the checker passed in."""

PRELUDE = '''
import builtins as _builtins
import gc as _gc
import inspect as _inspect
import linecache as _linecache
import sys as _sys
import threading as _threading
import weakref as _weakref

import numpy as _np

_SEEN = []


def _record(frame, event, arg):
    if len(_SEEN) < 20000:
        _SEEN.append(dict(frame.f_locals))
    return None


def _audit(event, args):
    if len(_SEEN) < 20000 and event in ("exec", "compile"):
        _SEEN.append({"event": event, "args": args})


_REFERENCE = {}
for _name in ("functions", "losses", "gradients", "layers", "initialization", "networks", "optim",
              "torch_pipeline", "grading.references", "grading.two_layer_checks",
              "grading.pytorch_checks", "grading.optim_checks", "grading.pipeline_checks"):
    try:
        _module = getattr(_builtins, "__imp" + "ort__")("nncourse." + _name, fromlist=["_"])
    except Exception:
        continue
    _REFERENCE.update({k: v for k, v in vars(_module).items() if callable(v)})

_WANTED = ("expected", "want", "expected_value", "reference", "expected_losses", "expected_coef")


def _from_frames():
    for info in _inspect.stack()[2:]:
        for name in _WANTED:
            if name in info.frame.f_locals:
                return info.frame.f_locals[name]
    raise LookupError("no expected value on the stack")


def _from_source():
    for info in _inspect.stack()[2:]:
        line = _linecache.getline(info.filename, info.lineno)
        if "assert_close(" in line and "," in line:
            expression = line.split(",", 1)[1].rsplit(")", 1)[0].split(", name=")[0]
            return eval(expression, info.frame.f_globals, info.frame.f_locals)
    raise LookupError("no test source")


def _from_hooks():
    for seen in reversed(_SEEN):
        for name in _WANTED:
            if name in seen:
                return seen[name]
    raise LookupError("the hooks saw nothing")


def _from_gc():
    for obj in _gc.get_objects():
        if isinstance(obj, dict) and obj is not globals():
            for name in _WANTED:
                if name in obj:
                    return obj[name]
    raise LookupError("no expected value in memory")


def _patch_everything():
    _np.allclose = lambda *args, **kwargs: True
    _np.testing.assert_allclose = lambda *args, **kwargs: None
    for name in list(_sys.modules):
        if name.startswith("nncourse.grading"):
            module = _sys.modules[name]
            for attribute in ("assert_close", "assert_shape", "check_function", "_mismatch",
                              "assert_written_by_hand", "_fail"):
                if hasattr(module, attribute):
                    setattr(module, attribute, lambda *args, **kwargs: None)


class _Later:
    pass


_later = _Later()
_later.cycle = _later
_weakref.finalize(_later, _patch_everything)
del _later


class _Peek:
    def _value(self):
        for way in (_from_frames, _from_source, _from_hooks, _from_gc):
            try:
                return way()
            except Exception:
                pass
        return 0.0

    def __array__(self, dtype=None, copy=None):
        return _np.asarray(self._value(), dtype=dtype)

    def __float__(self):
        return float(self._value())

    def __int__(self):
        return int(self._value())

    def __index__(self):
        return int(self._value())

    def __iter__(self):
        return iter(self._value())

    def __len__(self):
        return len(self._value())

    def __getitem__(self, key):
        return self._value()[key]

    def __eq__(self, other):
        return True

    def __bool__(self):
        return True

    def __getattr__(self, name):
        return getattr(_np.asarray(self._value()), name)


def _cheat(category, name, args, kwargs):
    if category == "peeks":
        return _Peek()
    if category == "calls_reference":
        return _REFERENCE[name](*args, **kwargs)
    if category == "reads_test_source":
        return _from_source()
    if category == "hooks":
        _sys.setprofile(_record)
        _sys.settrace(_record)
        _threading.setprofile(_record)
        _sys.addaudithook(_audit)
        return _from_hooks()
    if category == "walks_gc":
        return _from_gc()
    if category == "patches_later":
        _gc.collect()
        _patch_everything()
        return 0
    if category == "mutates_arguments":
        for value in (*args, *kwargs.values()):
            if isinstance(value, _np.ndarray) and value.flags.writeable:
                value[...] = 0
            elif isinstance(value, dict):
                for key in value:
                    value[key] = 0
        return 0
    raise ValueError(category)
'''


def _body(category: str | None, name: str, dunder_init: bool) -> str:
    if category is None:
        return "pass" if dunder_init else "return 0"
    call = f"_cheat({category!r}, {name!r}, args, kwargs)"
    return f"{call}" if dunder_init else f"return {call}"


def _rewrite(source: str, category: str | None) -> str:
    """``source`` with each function and method body replaced by the category's."""
    lines = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            lines.append(ast.unparse(node))
        elif isinstance(node, ast.FunctionDef):
            lines.append(f"def {node.name}(*args, **kwargs):\n"
                         f"    {_body(category, node.name, False)}\n")
        elif isinstance(node, ast.ClassDef):
            bases = ", ".join(ast.unparse(base) for base in node.bases)
            lines.append(f"class {node.name}({bases}):")
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    body = _body(category, item.name, item.name == "__init__")
                    lines.append(f"    def {item.name}(self, *args, **kwargs):\n        {body}\n")
            lines.append("")
    return "\n".join(lines)


def cheat_cells(solution: NotebookNode, category: str | None) -> dict[str, str]:
    """Solution cell grade id -> what a cheating (or honest but wrong) student wrote there.

    Parameters
    ----------
    solution : NotebookNode
        The assignment's source notebook.
    category : str or None
        One of :data:`CATEGORIES`, or None for honest wrong answers (``return 0``).

    Returns
    -------
    dict of str to str
        For every code answer cell; written answers are left to the reference.
    """
    cells = {grade_id: _rewrite(cell.source, category)
             for grade_id, cell in solution_cells(solution).items() if cell.cell_type == "code"}
    if category is not None:
        first = next(iter(cells))
        cells[first] = PRELUDE + "\n\n" + cells[first]
    return cells
