"""The grading engine: release, self-check, autograde, report (never imported by a kernel).

What a student's kernel imports is :mod:`nncourse.grading` (the test-cell helpers); this
package holds what runs on the trusted side: :mod:`~nncourse.autograde.release`
(``nncourse release``), :mod:`~nncourse.autograde.selfcheck` (``nncourse check``),
:mod:`~nncourse.autograde.grade` (``nncourse grade``) with its executor, sandbox and
submissions, :mod:`~nncourse.autograde.report` (``nncourse report``), and ``kernel/``, the
corner that runs next to a student's code (the kernel launcher and the kernel's end of
the grading channel).
"""
