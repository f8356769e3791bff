"""Run a notebook's test cells in the grader's process, never in the student's kernel.

:class:`TrustedCells` keeps a namespace of the grader's own. The instructor's given cells
(the setup cell, helpers the notebook provides) run there as well as in the kernel, so
a test sees the instructor's data, not what the student's code did to it. Before a test cell
runs, every name it reads that this namespace lacks is looked up in the student's kernel
(:class:`~nncourse.autograde.boundary.KernelLink`) and bound to what came back: data, or a
proxy of the student's function, class or object. The cell's text runs unchanged; its
outputs are written here the way IPython would have (an ``error`` output when it raises, an
``execute_result`` for a value on its last line), so nbgrader scores it as usual.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import functools
import io
from types import CodeType
from typing import Any, NamedTuple

from nncourse.autograde.boundary import KernelGone, KernelLink

TEST_OUTPUT = "nncourse_test_output"
"""Metadata key of the output holding what a test cell itself printed (not the student)."""


def _output_stream(name: str, text: str) -> dict:
    return {"output_type": "stream", "name": name, "text": text}


def error_output(name: str, message: str) -> dict:
    """An nbformat error output whose traceback is one line: no test source is quoted."""
    return {"output_type": "error", "ename": name, "evalue": message,
            "traceback": [f"{name}: {message}"]}


class CompiledTest(NamedTuple):
    """A test cell compiled: the names it reads, its statements, and its last expression
    (None when the cell does not end with one), whose value IPython would show."""

    names: frozenset[str]
    body: CodeType
    last: CodeType | None


@functools.lru_cache(maxsize=1024)
def compile_test(source: str, label: str) -> CompiledTest:
    """Compile a test cell once per process (every student's notebook has the same tests).

    Raises
    ------
    SyntaxError
        For a cell that is not valid Python.
    """
    tree = ast.parse(source, f"<{label}>")
    names = frozenset(node.id for node in ast.walk(tree)
                      if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load))
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    return CompiledTest(names, compile(tree, f"<{label}>", "exec"), None if last is None else
                        compile(ast.Expression(last.value), f"<{label}>", "eval"))


class Namespace(dict):
    """The grader's namespace of a notebook, where test cells run.

    In nbgrader a test cell shares the notebook's namespace, and some tests rely on it: they
    delete or replace a function of the student's to see whether another one calls it
    (``del squares`` ... ``squares = orig_squares``). Here, deleting a name the cell borrowed
    from the kernel deletes it there too, and rebinding it to one of the student's own objects
    rebinds it there; nothing of the grader's (data or functions) is ever bound there.
    """

    def __init__(self, link: KernelLink) -> None:
        super().__init__(__name__="__main__", __builtins__=builtins)
        self.link = link
        self.remote: set[str] = set()
        """Names borrowed from the kernel for the current cell."""

    def __setitem__(self, name: str, value: Any) -> None:
        super().__setitem__(name, value)
        if name in self.remote:
            self.link.rebind(name, value)

    def __delitem__(self, name: str) -> None:
        super().__delitem__(name)
        if name in self.remote:
            self.link.unbind(name)


class TrustedCells:
    """The grader's namespace for one notebook, and the link to the student's kernel.

    Parameters
    ----------
    link : KernelLink
        Connected to the kernel's server.
    max_output_chars : int
        Characters of printed text kept per cell.
    """

    def __init__(self, link: KernelLink, max_output_chars: int) -> None:
        self.link = link
        self.max_output_chars = max_output_chars
        self.namespace = Namespace(link)
        self.borrowed: dict[str, Any] = {}
        self.problems: list[str] = []

    def run_given(self, source: str, label: str) -> str | None:
        """Run an instructor's non-test cell here (its outputs are the kernel's to show).

        Returns
        -------
        str or None
            ``"Name: first line of the message"`` when the cell raised, else None.
        """
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(source, f"<{label}>", "exec"), self.namespace)  # noqa: S102
        except Exception as error:  # noqa: BLE001 (reported, and the tests after it not run)
            first = (str(error).strip().splitlines() or [""])[0]
            self.problems.append(f"{label}: {type(error).__name__}: {first}")
            return f"{type(error).__name__}: {first}" if first else type(error).__name__
        return None

    def run_test(self, source: str, label: str) -> list[dict]:
        """Run a test cell here; return its outputs (nbformat dicts).

        Raises
        ------
        KernelGone
            When the student's kernel died or stopped answering during the test.
        """
        printed = io.StringIO()
        self.link.output = []
        outputs: list[dict] = []
        try:
            test = compile_test(source, label)
            self._borrow(test.names)
            with contextlib.redirect_stdout(printed):
                exec(test.body, self.namespace)  # noqa: S102
                value = None if test.last is None else eval(test.last, self.namespace)  # noqa: S307
            if value is not None:
                outputs.append({"output_type": "execute_result", "execution_count": None,
                                "metadata": {}, "data": {"text/plain": repr(value)}})
        except KernelGone:
            raise
        except Exception as error:  # noqa: BLE001 (every failure of a test is its verdict)
            name = getattr(error, "remote_name", type(error).__name__)
            outputs.append(error_output(name, str(error)))
        own = self._capped(printed.getvalue())
        if own:  # what the test printed (e.g. which checks passed): the grader's text
            outputs.insert(0, {"output_type": "display_data", "data": {"text/plain": own},
                               "metadata": {TEST_OUTPUT: True}})
        students = self._capped("".join(self.link.output))
        if students:  # what the student's code printed while tested: feedback only
            outputs.insert(0, _output_stream("stdout", students))
        return outputs

    def _capped(self, text: str) -> str:
        if len(text) > self.max_output_chars:
            text = (text[: self.max_output_chars] + "\n... output truncated: the grader "
                    f"keeps {self.max_output_chars} characters per cell ...\n")
        return text

    def _borrow(self, names: frozenset[str]) -> None:
        """Bind the names a test reads that only the student's kernel has, afresh.

        What an earlier test borrowed is dropped first, unless that test bound the name to
        something of its own since.
        """
        for name, value in self.borrowed.items():
            if self.namespace.get(name) is value:
                dict.__delitem__(self.namespace, name)  # only here: the kernel keeps it
        missing = {name for name in names
                   if name not in self.namespace and not hasattr(builtins, name)}
        self.borrowed = self.link.lookup(sorted(missing)) if missing else {}
        self.namespace.update(self.borrowed)
        self.namespace.remote = set(self.borrowed)
