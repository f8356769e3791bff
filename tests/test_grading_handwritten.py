"""``assert_written_by_hand``: every way of calling the reference is found, honest code passes.

The "student" functions are defined in this module, so they play the notebook's ``__main__``:
helpers defined here are followed, library code is only named.
"""

from __future__ import annotations

import functools
import sys

import numpy as np
import pytest
import torch

import nncourse.functions as course_functions
from nncourse.functions import softmax as course_softmax
from nncourse.grading import assert_written_by_hand
from nncourse.grading.handwritten import origin
from nncourse.losses import mean_squared_error as course_mse


def honest_softmax(x):
    shifted = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def honest_with_helper(x):
    return [honest_softmax(row) for row in x]


class HonestLayer:
    def __call__(self, x):
        return honest_softmax(x)


def through_module(x):
    return course_functions.softmax(x)


def through_alias(x):
    return course_softmax(x)


def through_import_inside(x):
    import nncourse.losses

    return nncourse.losses.mean_squared_error(x, 0 * x)


def torch_helper(x):
    return torch.softmax(torch.tensor(x), -1).numpy()


def through_torch_helper(x):
    return torch_helper(x)


class CheatingLayer:
    def __call__(self, x):
        return course_softmax(x)


cheating_layer = CheatingLayer()


def through_object(x):
    return cheating_layer(x)


def through_import_function(x):
    return __import__("nncourse.functions").functions.softmax(x)


def through_eval(x):
    return eval("course_functions.softmax")(x)


def through_sys_modules(x):
    return sys.modules["nncourse.functions"].softmax(x)


def through_default(x, loss=course_mse):
    return loss(x, 0 * x)


def through_comprehension(x):
    return [course_functions.softmax(row) for row in x]


def make_closure():
    hidden = course_softmax

    def closure(x):
        return hidden(x)

    return closure


through_partial = functools.partial(lambda x, f: f(x), f=course_softmax)
through_closure = make_closure()


@pytest.mark.parametrize("answer", [honest_softmax, honest_with_helper, HonestLayer,
                                    HonestLayer(), lambda x: np.sum(x ** 2)])
def test_honest_answers_pass(answer) -> None:
    assert assert_written_by_hand(answer) is None


@pytest.mark.parametrize(("answer", "words"), [
    (through_module, "uses `course_functions` (nncourse.functions)"),
    (through_alias, "uses `course_softmax` (nncourse.functions.softmax)"),
    (through_import_inside, "uses `import nncourse.losses`"),
    (through_torch_helper, "uses `torch` in torch_helper (torch)"),
    (through_object, "in CheatingLayer.__call__"),
    (through_default, "a default argument of through_default"),
    (through_import_function, "`__import__` (builtins.__import__)"),
    (through_eval, "`eval` (builtins.eval)"),
    (through_sys_modules, "`sys.modules`"),
    (through_comprehension, "`course_functions`"),
    (through_closure, "`hidden` (nncourse.functions.softmax)"),
    (through_partial, "nncourse.functions.softmax"),
    (course_softmax, "is nncourse.functions.softmax itself, not code you wrote"),
    (torch.softmax, "torch"),
])
def test_every_route_to_the_reference_is_found(answer, words: str) -> None:
    with pytest.raises(AssertionError, match="write") as caught:
        assert_written_by_hand(answer)
    assert words in str(caught.value)


def test_the_message_names_the_function_and_the_rule() -> None:
    with pytest.raises(AssertionError) as caught:
        assert_written_by_hand(through_alias, name="softmax")
    assert str(caught.value) == (
        "softmax uses `course_softmax` (nncourse.functions.softmax), which this task does not "
        "allow ('nncourse' may not be used here): write this part yourself.")


def test_forbidden_can_be_a_submodule_or_a_single_function() -> None:
    def uses_a_loss(x):
        return course_mse(x, 0 * x)

    assert_written_by_hand(uses_a_loss, forbidden=("nncourse.gradients", "torch"))
    with pytest.raises(AssertionError, match="'numpy.mean' may not be used"):
        assert_written_by_hand(lambda x: np.mean(x), forbidden=("numpy.mean",))
    assert_written_by_hand(lambda x: np.sum(x) / x.size, forbidden=("numpy.mean",))


def test_names_that_only_resemble_a_forbidden_module_pass() -> None:
    def nncourse_like(x):
        nncoursework = x
        return nncoursework

    assert_written_by_hand(nncourse_like)


@pytest.mark.parametrize(("obj", "module"), [
    (np, "numpy"), (np.exp, "numpy"), (np.zeros(2), "numpy"), (torch.softmax, "torch"),
    (torch.tensor([1.0]).sum, "torch"), (course_softmax, "nncourse.functions"),
    (HonestLayer(), __name__),
])
def test_origin(obj, module: str) -> None:
    assert origin(obj) == module
