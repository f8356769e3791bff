"""The trust boundary against a real IPython kernel: proxies, data only, callbacks, limits.

One kernel (not sandboxed) runs a small notebook's worth of student code and the kernel's
server (nncourse.autograde.kernel.server); each test talks to it through a KernelLink, as
a test cell does while ``nncourse grade`` runs it.
"""

from __future__ import annotations

import inspect
import os
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from jupyter_client.manager import KernelManager

from nncourse.autograde.boundary import (
    KernelGone,
    KernelLink,
    RemoteClass,
    RemoteFunction,
    RemoteObject,
    StudentCodeError,
)
from nncourse.grading import assert_close, assert_written_by_hand, check_function
from nncourse.grading.drivers import beside

SERVER = "nncourse.autograde.kernel.server"
STUDENT_CODE = textwrap.dedent('''
    import inspect
    import numpy as np

    def double(x):
        return 2 * x

    def stats(x):
        return {"mean": np.mean(x), "shape": x.shape, "first": x.flat[0]}

    def zero_in_place(a, d):
        a[...] = 0
        d["w"] = d["w"] + 1
        return None

    def apply_twice(f, x):
        return f(f(x))

    class _Peek:
        def __array__(self, dtype=None, copy=None):
            return np.array(42.0)

        def __eq__(self, other):
            return True

    def peek():
        return _Peek()

    class Counter:
        def __init__(self, start):
            self.n = start

        def add(self, k):
            self.n += k
            return self.n

    class Oops(Exception):
        pass

    def fails(kind):
        raise {"value": ValueError("bad value"), "own": Oops("mine")}[kind]

    def spin():
        while True:
            pass

    def stack_names():
        return [sorted(info.frame.f_locals) for info in inspect.stack()]

    def l1_sum(prediction, target):
        return (prediction - target).abs().sum()

    def uses_reference(x):
        import nncourse.functions
        return nncourse.functions.softmax(x)

    def dies():
        import os
        os._exit(3)

    def squares(n):
        return [i * i for i in range(1, n + 1)]

    def sum_of_squares(n):
        return sum(squares(n))

    kept = []

    def keep(f):
        kept.append(f)

    def call_kept(x):
        return kept[-1](x)
    ''')


class Kernel:
    """A started kernel with the student code run and the grading server listening."""

    def __init__(self, folder: Path) -> None:
        self.manager = KernelManager()
        self.manager.start_kernel(cwd=str(folder), env={**os.environ, "OMP_NUM_THREADS": "1"})
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)
        self.path = str(folder / "grading.sock")
        for code in (STUDENT_CODE, f"import {SERVER}; {SERVER}.listen({self.path!r})"):
            reply = self.client.execute_interactive(code, timeout=60)
            assert reply["content"]["status"] == "ok", reply["content"]
        self.link = KernelLink(self.path, seconds=2)

    def cell(self) -> str:
        """Start one test cell's serve() in the kernel; connect on the first."""
        msg_id = self.client.execute(f"__import__({SERVER!r}, fromlist=['serve']).serve()",
                                     silent=True, store_history=False)
        if self.link.socket is None:
            self.link.connect()
        return msg_id

    def end_cell(self, msg_id: str) -> None:
        self.link.end_cell()
        while True:
            reply = self.client.get_shell_msg(timeout=30)
            if reply["parent_header"].get("msg_id") == msg_id:
                assert reply["content"]["status"] == "ok", reply["content"]
                return

    def stop(self) -> None:
        self.link.close()
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    started = Kernel(tmp_path_factory.mktemp("kernel"))
    yield started
    started.stop()


@pytest.fixture
def student(kernel: Kernel) -> Iterator[dict[str, object]]:
    """The names of the student's notebook, as a test cell would borrow them."""
    msg_id = kernel.cell()
    yield kernel.link.lookup(["double", "stats", "zero_in_place", "apply_twice", "peek",
                              "Counter", "fails", "spin", "stack_names", "l1_sum",
                              "uses_reference", "np", "not_defined", "keep", "call_kept"])
    kernel.end_cell(msg_id)


def test_lookup_gives_proxies_for_code_and_skips_unknown_names(student: dict) -> None:
    assert isinstance(student["double"], RemoteFunction)
    assert isinstance(student["Counter"], RemoteClass)
    assert isinstance(student["np"], RemoteObject)  # a module is not data
    assert "not_defined" not in student
    assert str(inspect.signature(student["zero_in_place"])) == "(a, d)"


def test_calls_send_and_return_plain_data(student: dict) -> None:
    assert_close(student["double"](np.arange(3.0)), np.array([0.0, 2.0, 4.0]))
    result = student["stats"](np.ones((2, 3), dtype=np.float32))
    assert type(result) is dict and type(result["shape"]) is tuple
    assert type(result["first"]) is np.float32
    check_function(student["double"], lambda x: x + x, cases=[(np.arange(4.0),), (1.5,)])


def test_changes_to_arguments_come_back(student: dict) -> None:
    array, params = np.ones(3), {"w": np.zeros(2)}
    alias = params["w"]
    assert student["zero_in_place"](array, params) is None
    np.testing.assert_array_equal(array, np.zeros(3))
    np.testing.assert_array_equal(params["w"], np.ones(2))
    assert params["w"] is alias  # written into the grader's own array


def test_the_graders_callables_stay_in_the_grader(student: dict) -> None:
    calls = []

    def triple(x):
        calls.append(x)
        return 3 * x

    assert student["apply_twice"](triple, 2.0) == 18.0
    assert calls == [2.0, 6.0]


def test_what_is_not_data_refuses_to_be_a_value(student: dict) -> None:
    peeked = student["peek"]()
    assert isinstance(peeked, RemoteObject) and repr(peeked) == "a `_Peek` object"
    for convert in (float, np.asarray, bool, iter, lambda value: value == 42.0):
        with pytest.raises(TypeError, match="`_Peek` object is not a value"):
            convert(peeked)
    with pytest.raises(AssertionError, match="got a `_Peek` object"):
        assert_close(peeked, 42.0)


def test_classes_methods_and_attributes_are_remote(student: dict) -> None:
    counter = student["Counter"](10)
    assert counter.add(5) == 15
    assert counter.n == 15


def test_exceptions_keep_their_names_and_messages(student: dict) -> None:
    with pytest.raises(ValueError, match="bad value"):
        student["fails"]("value")
    with pytest.raises(StudentCodeError, match="mine") as raised:
        student["fails"]("own")
    assert raised.value.remote_name == "Oops"


def test_a_call_past_its_deadline_is_interrupted_and_the_channel_goes_on(student: dict) -> None:
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        student["spin"]()
    assert time.monotonic() - started < 10
    assert student["double"](2) == 4


def test_the_kernels_stack_holds_no_test_values(student: dict) -> None:
    expected = 42.0  # a test's local: the student's code must not find it
    names = {name for frame in student["stack_names"]() for name in frame}
    assert "expected" not in names and expected == 42.0


def test_written_by_hand_runs_on_the_students_objects(student: dict) -> None:
    assert_written_by_hand(student["double"])
    with pytest.raises(AssertionError, match="nncourse"):
        assert_written_by_hand(student["uses_reference"])


def test_drivers_run_beside_the_students_code(student: dict) -> None:
    report = beside(student["l1_sum"], "loss_value_and_grad", np.array([1.0, -2.0]),
                    np.zeros(2))
    assert report["tensor"] and report["differentiable"]
    assert report["value"] == 3.0
    np.testing.assert_array_equal(report["grad"], [1.0, -1.0])


def test_a_kernel_that_dies_is_reported(tmp_path: Path) -> None:
    doomed = Kernel(tmp_path)
    try:
        doomed.cell()
        dies = doomed.link.lookup(["dies"])["dies"]
        with pytest.raises(KernelGone):
            dies()
    finally:
        doomed.stop()


def test_a_test_can_delete_and_restore_a_students_function(kernel: Kernel) -> None:
    """As nbgrader's own example does: ``del squares``, call, ``squares = orig_squares``."""
    from nncourse.autograde.trusted import TrustedCells

    cells = TrustedCells(kernel.link, 10_000)
    msg_id = kernel.cell()
    outputs = cells.run_test(textwrap.dedent("""
        orig_squares = squares
        del squares
        try:
            sum_of_squares(1)
        except NameError:
            pass
        else:
            raise AssertionError("sum_of_squares does not use squares")
        finally:
            squares = orig_squares
        assert sum_of_squares(3) == 14
        expected = 14
        squares = lambda n: [expected]
        assert sum_of_squares(3) == 14, "the grader's function was not bound in the kernel"
        """), "uses_squares")
    kernel.end_cell(msg_id)
    assert outputs == []


def test_the_graders_callables_expire_with_the_cell(kernel: Kernel) -> None:
    msg_id = kernel.cell()
    names = kernel.link.lookup(["keep", "call_kept"])
    names["keep"](lambda x: x + 1)
    assert names["call_kept"](1) == 2
    kernel.end_cell(msg_id)
    msg_id = kernel.cell()
    with pytest.raises(RuntimeError, match="lent by an earlier test"):
        kernel.link.lookup(["call_kept"])["call_kept"](1)
    kernel.end_cell(msg_id)
