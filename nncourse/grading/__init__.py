"""What the exercises' test cells call: assertions with helpful messages, the written-by-hand check.

Test cells of the assignments use :func:`check_function`, :func:`assert_close`,
:func:`assert_shape`, :func:`assert_written_by_hand` and :class:`Checks` (partial credit);
hidden tests also use the reference checks of :mod:`~nncourse.grading.references`,
``two_layer_checks``, ``optim_checks``, ``pytorch_checks`` and ``pipeline_checks``.
Importing this package loads numpy and nothing of the grading engine (nbformat, nbgrader,
jupyter_client): that lives in :mod:`nncourse.autograde`. :func:`check` is the students'
self-check, imported on first use.
"""

from pathlib import Path
from typing import Any

from nncourse.grading.asserts import assert_close, assert_shape, check_function, short_repr
from nncourse.grading.checks import Checks
from nncourse.grading.handwritten import FORBIDDEN_BY_DEFAULT, assert_written_by_hand


def check(notebook: str | Path, **options: Any) -> Any:
    """Check a saved notebook in a fresh kernel: :func:`nncourse.autograde.selfcheck.check`."""
    from nncourse.autograde.selfcheck import check as run_self_check

    return run_self_check(notebook, **options)


__all__ = [
    "FORBIDDEN_BY_DEFAULT",
    "Checks",
    "assert_close",
    "assert_shape",
    "assert_written_by_hand",
    "check",
    "check_function",
    "short_repr",
]
