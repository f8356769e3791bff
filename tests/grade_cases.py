"""Hostile, broken and unusual submissions of ch02_loss_functions, for ``tests/test_grade.py``.

Each :class:`Submission` is the reference solution (or the blank student version) with some
solution cells rewritten, optionally edited further (cells deleted, moved, metadata changed)
or replaced by bytes that are no notebook at all. It says what grading must give: which
autograded tasks score 0 and which keep a part of their points (every other one keeps its
full points), the status and words the reason must contain. Sources may name ``@COURSE@``
(the course folder on the grading host) and ``@MARKER@`` (a word unique to the test run),
filled in when the files are written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from textwrap import dedent

import nbformat
from exercise_cases import Answer, fill
from nbformat import NotebookNode

ASSIGNMENT = "ch02_loss_functions"
TASKS = ("test_mean_squared_error", "test_mean_squared_error_grad", "test_mean_absolute_error",
         "test_softmax", "test_cross_entropy_error", "test_softmax_cross_entropy_grad")
"""The autograded test cells, in notebook order."""
ALL = frozenset(TASKS)
SOLUTION_TEXT = "piecewise constant"
"""Words of the reference's written answer, which no submission below contains."""
OWN_ANSWER = "Accuracy does not change when a weight changes a little, so it has no gradient."


@dataclass(frozen=True)
class Submission:
    """One student's file and what grading it must give.

    Attributes
    ----------
    student : str
        The student id (the folder under ``submitted/``).
    cells : dict of str to str
        Solution cell grade id -> the source this student wrote there; the reference
        solution's source elsewhere.
    blank : bool
        Start from the released student version instead of the reference solution.
    edit : callable, optional
        Changes the filled notebook in place, or returns the bytes to write instead.
    file_name : str, optional
        The file's name in ``submitted/<student>/<assignment>/`` (the expected one by default).
    loses : frozenset of str
        Autograded tasks that must score 0.
    partial : dict of str to float
        Autograded tasks that must earn these points (some of their checks fail).
    status : str
        The record's status.
    reason : tuple of str
        Words the CSV's reason must contain.
    """

    student: str
    cells: dict[str, str] = field(default_factory=dict)
    blank: bool = False
    edit: Callable[[NotebookNode], bytes | None] | None = None
    file_name: str | None = None
    loses: frozenset[str] = frozenset()
    status: str = "graded"
    reason: tuple[str, ...] = ()
    partial: dict[str, float] = field(default_factory=dict)


def case(student: str, loses: tuple[str, ...] | frozenset[str] = (), status: str = "graded",
         reason: tuple[str, ...] = (), edit: Callable[[NotebookNode], bytes | None] | None = None,
         file_name: str | None = None, blank: bool = False,
         partial: dict[str, float] | None = None, **cells: str) -> Submission:
    """A :class:`Submission` whose cell sources are written indented below."""
    sources = {grade_id: dedent(source).strip() for grade_id, source in cells.items()}
    sources.setdefault("answer_accuracy", OWN_ANSWER)
    return Submission(student, sources, blank, edit, file_name, frozenset(loses), status, reason,
                      dict(partial or {}))


def submission_bytes(submission: Submission, released: NotebookNode, solution: NotebookNode,
                     course: str, marker: str) -> bytes:
    """The content of the submission's file.

    Parameters
    ----------
    submission : Submission
        What to write.
    released : NotebookNode
        The student version of the assignment (a copy: it is changed).
    solution : NotebookNode
        The assignment's source, whose answers fill the cells the submission leaves alone.
    course : str
        The course folder, for ``@COURSE@``.
    marker : str
        The run's unique word, for ``@MARKER@``.
    """
    answer = Answer(submission.student, submission.cells, submission.loses)
    notebook = released if submission.blank else fill(released, solution, answer)
    for cell in notebook.cells:
        cell.source = cell.source.replace("@COURSE@", course).replace("@MARKER@", marker)
    content = submission.edit(notebook) if submission.edit else None
    return content if content is not None else nbformat.writes(notebook).encode()


# --- Edits of the notebook --------------------------------------------------------------

def _cell(notebook: NotebookNode, grade_id: str) -> NotebookNode:
    return next(cell for cell in notebook.cells
                if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def edit_test_cells(notebook: NotebookNode) -> None:
    """Delete, weaken and re-point test cells, then move them all to the end, reversed."""
    notebook.cells.remove(_cell(notebook, "test_softmax"))
    _cell(notebook, "test_mean_squared_error").source = "pass"
    _cell(notebook, "test_cross_entropy_error").source = (
        "assert cross_entropy_error(np.array([1.0]), np.array([1.0])) < 1e-6")
    _cell(notebook, "test_mean_absolute_error").metadata.nbgrader["points"] = 100
    tests = [cell for cell in notebook.cells
             if cell.metadata.get("nbgrader", {}).get("grade_id") in TASKS]
    for cell in tests:
        notebook.cells.remove(cell)
    notebook.cells.extend(reversed(tests))


def change_cell_flags(notebook: NotebookNode) -> None:
    """Untag a test, turn one into an answer graded by hand, make an answer worth 50, ..."""
    _cell(notebook, "test_mean_absolute_error").metadata.nbgrader["grade"] = False
    _cell(notebook, "test_softmax").metadata.nbgrader.update(solution=True, locked=False)
    _cell(notebook, "mean_squared_error").metadata.nbgrader.update(grade=True, points=50)
    del _cell(notebook, "test_cross_entropy_error").metadata.nbgrader["schema_version"]
    _cell(notebook, "setup").metadata.nbgrader = "not a dict"


def replace_setup(notebook: NotebookNode) -> None:
    """Delete the setup cell; define test helpers that accept anything, without metadata."""
    index = notebook.cells.index(_cell(notebook, "setup"))
    notebook.cells[index] = nbformat.v4.new_code_cell(dedent("""
        import numpy as np

        def assert_close(*args, **kwargs):
            pass

        assert_shape = assert_written_by_hand = assert_close

        class Checks:
            def __init__(self, points):
                self.points = points

            def __call__(self, name, weight=1):
                return self

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return True

            def score(self):
                return self.points
        """))


def rename_test_cell(notebook: NotebookNode) -> None:
    """Give the softmax test another grade id."""
    _cell(notebook, "test_softmax").metadata.nbgrader["grade_id"] = "my_softmax_test"


def not_a_notebook(notebook: NotebookNode) -> bytes:
    """The answers pasted into a Python file."""
    del notebook
    return b"import numpy as np\n\ndef softmax(x):\n    return np.exp(x)\n"


def truncated(notebook: NotebookNode) -> bytes:
    """An upload cut off in the middle."""
    content = nbformat.writes(notebook).encode()
    return content[: len(content) // 2]


def empty(notebook: NotebookNode) -> bytes:
    """A file of no bytes."""
    del notebook
    return b""


def as_nbformat_3(notebook: NotebookNode) -> bytes:
    """The same notebook saved by a very old Jupyter (nbformat 3)."""
    return nbformat.writes(nbformat.convert(notebook, 3), version=3).encode()


# --- Answers -----------------------------------------------------------------------------

def code(*parts: str) -> str:
    """Cell source made of indented blocks, each dedented on its own."""
    return "\n\n".join(dedent(part).strip() for part in parts)


MSE = """
    def mean_squared_error(y, t):
        return float(np.mean((y - t) ** 2))
    """
MAE = """
    def mean_absolute_error(y, t):
        return float(np.mean(np.abs(y - t)))
    """
SOFTMAX = """
    def softmax(x):
        shifted = x - np.max(x, axis=-1, keepdims=True)
        return np.exp(shifted) / np.sum(np.exp(shifted), axis=-1, keepdims=True)
    """
WRONG_MSE = """
    def mean_squared_error(y, t):
        return 0.0
    """
WRONG_GRAD = """
    def mean_squared_error_grad(y, t):
        return np.zeros_like(y)
    """
WRONG_MAE = """
    def mean_absolute_error(y, t):
        return 0.0
    """
UNSHIFTED_SOFTMAX = """
    def softmax(x):
        exponentials = np.exp(x)
        return exponentials / np.sum(exponentials, axis=-1, keepdims=True)
    """
"""Overflows on large scores: fails their check and the hidden one, keeps the other checks'."""
UNSHIFTED = {"test_softmax": 1.5}
"""What :data:`UNSHIFTED_SOFTMAX` earns: 3 of the 6 shares of 3 points."""
IGNORES_DELTA = """
    def cross_entropy_error(y, t, delta=1e-7):
        y, t = np.asarray(y, dtype=float), np.asarray(t)
        if t.shape != y.shape:
            t = np.eye(y.shape[-1])[t]
        y, t = y.reshape(-1, y.shape[-1]), t.reshape(-1, y.shape[-1])
        return float(-np.sum(t * np.log(y + 1e-7)) / y.shape[0])
    """
"""Fails the checks that pass another delta (visible and hidden), keeps the other checks'."""
IGNORED_DELTA = {"test_cross_entropy_error": 1.5}
"""What :data:`IGNORES_DELTA` earns: 3 of the 6 shares of 3 points."""

# Each wrong answer below would earn more of its test if the change to the tools it comes with
# took effect (a comparison that always agrees, a reference replaced by the same mistake, errors
# that are never shown).
PATCHES_TOOLS = {
    "mean_squared_error": code("""
        np.allclose = lambda *args, **kwargs: True
        np.isfinite = lambda *args, **kwargs: np.True_
        np.testing.assert_allclose = lambda *args, **kwargs: None
        """, WRONG_MSE),
    "mean_squared_error_grad": code("""
        import nncourse.grading
        import nncourse.grading.asserts

        nncourse.grading.asserts._mismatch = lambda *args, **kwargs: None
        nncourse.grading.check_function = lambda *args, **kwargs: None
        """, WRONG_GRAD),
    # An honest answer next to a change of builtins: the change is undone, the points stay.
    "mean_absolute_error": code("""
        import builtins

        builtins.AssertionError = Warning
        """, MAE),
    "softmax": code(UNSHIFTED_SOFTMAX, """
        import nncourse.functions

        nncourse.functions.softmax = softmax
        """),
    "cross_entropy_error": code(IGNORES_DELTA, """
        import nncourse.losses

        nncourse.losses.cross_entropy_error.__code__ = cross_entropy_error.__code__
        """),
}
# The kernel's messages: drop every error report, turn every failed reply into a success.
SILENCE_ERRORS = """
    def _silenced(send):
        def quiet(self, stream, msg_or_type, content=None, *args, **kwargs):
            kind = msg_or_type if isinstance(msg_or_type, str) else msg_or_type["msg_type"]
            if kind == "error":
                return None
            if kind == "execute_reply" and (content or {}).get("status") == "error":
                content = {"status": "ok", "execution_count": content.get("execution_count"),
                           "user_expressions": {}, "payload": []}
            return send(self, stream, msg_or_type, content, *args, **kwargs)
        return quiet
    """
PATCHES_IPYTHON = {
    "mean_squared_error": code(SILENCE_ERRORS + """
    import jupyter_client.session

    get_ipython().showtraceback = lambda *args, **kwargs: None
    jupyter_client.session.Session.send = _silenced(jupyter_client.session.Session.send)
    """, WRONG_MSE),
    "mean_squared_error_grad": code("""
        import types

        session = get_ipython().kernel.session
        session.send = types.MethodType(_silenced(type(session).send), session)
        get_ipython().set_custom_exc((BaseException,), lambda *args, **kwargs: None)
        """, WRONG_GRAD),
    "mean_absolute_error": code("""
        def mean_absolute_error(y, t):
            np.allclose = lambda *args, **kwargs: True
            get_ipython().showtraceback = lambda *args, **kwargs: None
            return 0.0
        """),
    # Names in the notebook's own namespace are the student's: the hidden tests import theirs.
    "softmax": code("""
        assert_close = assert_shape = assert_written_by_hand = lambda *args, **kwargs: None
        check_function = lambda *args, **kwargs: None
        """, UNSHIFTED_SOFTMAX),
    # nbgrader reads a test cell's first displayed value as its score.
    "cross_entropy_error": code("""
        import sys

        def cross_entropy_error(y, t, delta=1e-7):
            sys.displayhook("full marks")
            return 0.0
        """),
}
READS_REFERENCE = {
    "mean_squared_error": code("""
        import importlib
        import os

        import nncourse

        for name in ["nncourse.losses", "nncourse.functions", "nncourse.grading.references",
                     "nncourse.autograde.grade"]:
            try:
                importlib.import_module(name)
                print("imported", name)
            except ImportError as error:
                print("cannot import:", name, type(error).__name__)
        print("the package holds", sorted(os.listdir(os.path.dirname(nncourse.__file__))))
        """, MSE),
}
ESCAPES = {
    "mean_squared_error": code("""
        import os

        for path in ["@COURSE@/solutions/ch02_loss_functions/ch02_loss_functions.ipynb",
                     "@COURSE@/gradebook.db", "@COURSE@/nbgrader_config.py",
                     "@COURSE@/submitted/reference/ch02_loss_functions/ch02_loss_functions.ipynb"]:
            try:
                with open(path, encoding="latin-1") as handle:
                    print(handle.read())
            except OSError as error:
                print("cannot read:", type(error).__name__, error)
        for folder in ["@COURSE@", "@COURSE@/solutions", "/tmp", os.path.expanduser("~")]:
            try:
                print("listed", folder, os.listdir(folder))
            except OSError as error:
                print("cannot list:", type(error).__name__, error)
        """, MSE),
    "mean_squared_error_grad": code("""
        for path in ["@COURSE@/pwned-@MARKER@.txt", "@COURSE@/solutions/pwned-@MARKER@.txt",
                     "/tmp/pwned-@MARKER@.txt", "/var/tmp/pwned-@MARKER@.txt"]:
            try:
                with open(path, "w") as handle:
                    handle.write("pwned")
                print("wrote", path)
            except OSError as error:
                print("cannot write:", type(error).__name__, error)

        def mean_squared_error_grad(y, t):
            return 2.0 * (y - t) / y.size
        """),
    "mean_absolute_error": code("""
        import os
        import subprocess
        import sys

        LOOP = "import time  # @MARKER@\\nfor _ in range(1500): time.sleep(0.2)"
        child = subprocess.Popen([sys.executable, "-c", LOOP], start_new_session=True)
        print("spawned", child.pid)
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.execv(sys.executable, [sys.executable, "-c", LOOP])
            os._exit(0)
        """, MAE),
    "softmax": code("""
        print("spam " * 2_000_000)
        for line in range(100_000):
            print("line", line)
        """, SOFTMAX),
}

SUBMISSIONS: list[Submission] = [
    # Honest ones, in good and in odd files.
    case("reference"),
    case("blank", loses=ALL, blank=True, reason=("NotImplementedError",)),
    case("wrongly_named", file_name=f"{ASSIGNMENT} (1).ipynb",
         reason=(f"graded {ASSIGNMENT} (1).ipynb under the expected name",)),
    case("nbformat_3", edit=as_nbformat_3),
    # A warning of the code under test is shown with the test's output; values decide.
    case("warns", mean_absolute_error="""
            import warnings

            def mean_absolute_error(y, t):
                warnings.warn("mind the outliers")
                return float(np.mean(np.abs(y - t)))
            """),
    # Test cells deleted, edited, moved, their points and flags changed: nbgrader's cells and
    # points count, the student's answers are graded as they are.
    case("edits_test_cells", edit=edit_test_cells, loses=("test_mean_squared_error",),
         partial=UNSHIFTED | IGNORED_DELTA, mean_squared_error=WRONG_MSE, softmax=UNSHIFTED_SOFTMAX,
         cross_entropy_error=IGNORES_DELTA),
    # The setup cell's flags are unreadable: the grader puts the instructor's setup cell back
    # from the gradebook, so the tests keep the grader's helpers.
    case("changes_cell_flags", edit=change_cell_flags, loses=("test_mean_absolute_error",),
         partial=UNSHIFTED, mean_absolute_error=WRONG_MAE, softmax=UNSHIFTED_SOFTMAX),
    # The setup cell replaced by helpers that pass everything: tests never borrow them.
    case("replaces_setup", edit=replace_setup, loses=("test_mean_absolute_error",),
         partial=UNSHIFTED, mean_absolute_error=WRONG_MAE, softmax=UNSHIFTED_SOFTMAX),
    case("renames_test_cell", edit=rename_test_cell, partial=UNSHIFTED,
         softmax=UNSHIFTED_SOFTMAX),
    # Ending the kernel, or trying to.
    case("exits", status="crashed", reason=("the kernel stopped", "SystemExit"),
         loses=TASKS[2:], softmax=code("""
            import sys

            sys.exit("the rest of this cell does not run")
            """, SOFTMAX), mean_absolute_error="""
            def mean_absolute_error(y, t):
                raise SystemExit(0)
            """, cross_entropy_error="""
            import os

            def cross_entropy_error(y, t, delta=1e-7):
                os._exit(1)
            """),
    case("kills_kernel", status="crashed", reason=("the kernel stopped",), loses=TASKS[3:],
         softmax="""
            import os

            def softmax(x):
                os.kill(os.getpid(), 9)
            """),
    case("segfaults", status="crashed", reason=("the kernel stopped",), loses=TASKS[2:],
         mean_absolute_error="""
            import ctypes

            def mean_absolute_error(y, t):
                return ctypes.string_at(0)
            """),
    # Changing the tools the tests trust, in the kernel: the tests run outside it.
    case("patches_tools", loses=ALL - set(UNSHIFTED) - set(IGNORED_DELTA) - {
        "test_mean_absolute_error", "test_softmax_cross_entropy_grad"},
        partial=UNSHIFTED | IGNORED_DELTA, **PATCHES_TOOLS),
    case("patches_ipython", loses=ALL - set(UNSHIFTED) - {"test_softmax_cross_entropy_grad"},
         partial=UNSHIFTED, **PATCHES_IPYTHON),
    # Reaching for the reference implementations, with right answers of its own.
    case("reads_reference", **READS_REFERENCE),
    # Reaching out of the sandbox, with right answers.
    case("escapes", **ESCAPES),
    # Limits: memory (that task fails) and time (the kernel is stopped).
    case("hogs_resources", status="timeout", reason=("ran longer than 20 s", "MemoryError"),
         loses=("test_softmax", "test_cross_entropy_error", "test_softmax_cross_entropy_grad"),
         softmax="""
            def softmax(x):
                hoard = np.ones(10_000_000_000, dtype=np.uint8)
                return hoard[: np.size(x)].reshape(np.shape(x))
            """, cross_entropy_error="""
            def cross_entropy_error(y, t, delta=1e-7):
                while True:
                    pass
            """),
    # Files that are no notebook.
    case("not_a_notebook", loses=ALL, status="invalid", edit=not_a_notebook,
         reason=("not a valid Jupyter notebook",)),
    case("truncated_json", loses=ALL, status="invalid", edit=truncated,
         reason=("not a valid Jupyter notebook",)),
    case("empty_file", loses=ALL, status="invalid", edit=empty,
         reason=("not a valid Jupyter notebook",)),
]
