"""nncourse.grading.kernel_guard in an in-process IPython shell: what it restores and reports.

The end-to-end behaviour, in real sandboxed kernels, is tested in test_grade.py.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterator

import numpy as np
import pytest
from IPython.core.interactiveshell import InteractiveShell

import nncourse.grading
from nncourse.grading.kernel_guard import Guard


@pytest.fixture
def guard() -> Iterator[Guard]:
    shell = InteractiveShell.instance()
    watch = Guard(shell, ("nncourse.grading", "nncourse.losses"))
    yield watch
    watch.check()  # whatever a test broke is put back for the next one


def test_nothing_changed_means_nothing_reported(guard: Guard) -> None:
    assert guard.check() == []


def test_replaced_module_functions_are_put_back(guard: Guard) -> None:
    original = np.allclose
    np.allclose = lambda *args, **kwargs: True
    nncourse.grading.assert_close = print
    changes = guard.check()
    assert np.allclose is original
    assert nncourse.grading.assert_close is not print
    assert "numpy.allclose was replaced" in changes
    assert "nncourse.grading.assert_close was replaced" in changes


def test_changed_function_code_is_put_back(guard: Guard) -> None:
    from nncourse.grading import asserts

    code = asserts.assert_close.__code__
    asserts.assert_close.__code__ = (lambda *args, **kwargs: None).__code__
    assert any("code of nncourse.grading.asserts.assert_close" in change
               for change in guard.check())
    assert asserts.assert_close.__code__ is code


def test_error_hiding_in_ipython_is_undone(guard: Guard) -> None:
    shell = guard.shell
    shell.set_custom_exc((BaseException,), lambda *args, **kwargs: None)
    shell.showtraceback = lambda *args, **kwargs: None
    shell.ast_transformers.append(object())
    changes = guard.check()
    assert shell.custom_exceptions == ()
    assert "showtraceback" not in shell.__dict__
    assert shell.ast_transformers == []
    assert {"IPython's custom_exceptions was replaced", "IPython's showtraceback was replaced",
            "IPython's ast_transformers were changed"} <= set(changes)


def test_builtins_and_trace_functions_are_restored(guard: Guard) -> None:
    import builtins

    original = builtins.AssertionError
    builtins.AssertionError = Warning
    sys.settrace(lambda *args: None)
    changes = guard.check()
    assert builtins.AssertionError is original and sys.gettrace() is None
    assert "builtins.AssertionError was replaced" in changes
    assert "a trace or profile function was set" in changes


def test_library_wrappers_of_the_original_are_accepted(guard: Guard) -> None:
    original = np.isclose
    np.isclose = functools.singledispatch(original)  # a wrapper written in the standard library
    assert guard.check() == []
    assert np.isclose.__wrapped__ is original
    np.isclose = original
    guard.module_dicts["numpy"]["isclose"] = original


def test_wrappers_made_of_other_code_are_not(guard: Guard) -> None:
    original = np.isclose
    np.isclose = functools.wraps(original)(functools.partial(original))  # not library code
    assert guard.check() == ["numpy.isclose was replaced"]
    np.isclose = functools.wraps(original)(lambda *args, **kwargs: True)  # a cell's code
    assert guard.check() == ["numpy.isclose was replaced"]
    assert np.isclose is original
