"""Grading tools of the exercises: test-cell helpers, the self-check, the release.

Test cells of the assignments use :func:`check_function`, :func:`assert_close`,
:func:`assert_shape` and :func:`assert_written_by_hand`; students run :func:`check` (or
``nncourse check NOTEBOOK``) to see which tasks pass; instructors run ``nncourse release``
(:mod:`nncourse.grading.release`) to regenerate ``exercises/`` from ``solutions/``.
"""

from nncourse.grading.asserts import assert_close, assert_shape, check_function, short_repr
from nncourse.grading.handwritten import FORBIDDEN_BY_DEFAULT, assert_written_by_hand
from nncourse.grading.selfcheck import CheckReport, TaskResult, check, run_check

__all__ = [
    "FORBIDDEN_BY_DEFAULT",
    "CheckReport",
    "TaskResult",
    "assert_close",
    "assert_shape",
    "assert_written_by_hand",
    "check",
    "check_function",
    "run_check",
    "short_repr",
]
