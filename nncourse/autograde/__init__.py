"""The grading engine: release, self-check, autograde, report (never imported by a kernel).

What a student's kernel imports is :mod:`nncourse.grading` (the test-cell helpers); this
package holds what runs on the trusted side: :mod:`~nncourse.autograde.release`
(``nncourse release``), :mod:`~nncourse.autograde.selfcheck` (``nncourse check``),
:mod:`~nncourse.autograde.grade` (``nncourse grade``) with its executor, sandbox and
submissions, :mod:`~nncourse.autograde.report` (``nncourse report``), and ``kernel/``, the
corner that runs next to a student's code (the kernel launcher and the kernel's end of
the grading channel).
"""

import sys


def skip_slow_optional_imports() -> None:
    """Keep ``rfc3987_syntax`` out of this process: nbformat's import then takes 0.1 s, not 1 s.

    jupyter-events (a dependency of nbgrader's server extensions) installs jsonschema with
    its ``format-nongpl`` extra, whose ``rfc3987-syntax`` compiles 38 Lark grammars when
    jsonschema is imported, in every process that reads a notebook with nbformat, only to
    check the ``iri`` string format, which no notebook schema uses. jsonschema imports it
    optionally; marked missing, it is skipped. Called by the command line and the grading
    workers (never by a kernel).
    """
    sys.modules.setdefault("rfc3987_syntax", None)
