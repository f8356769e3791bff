"""nbgrader configuration of the course: solutions/ are the sources, exercises/ the releases.

nbgrader runs ``alembic`` from PATH when it creates the gradebook: run it with the virtual
environment's ``bin`` first on PATH (``nncourse release`` does this for you).
"""

from pathlib import Path

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import GetGrades

from nncourse.autograde.feedback import HideHiddenTests
from nncourse.autograde.feedback_page import FeedbackPage

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

COURSE_ROOT = Path(__file__).resolve().parent

c.CourseDirectory.root = str(COURSE_ROOT)
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.db_url = f"sqlite:///{COURSE_ROOT / 'gradebook.db'}"

# Solution regions become this stub in the student version.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# A test cell a student deleted is put back (and graded) instead of silently dropped.
c.OverwriteCells.add_missing_cells = True

# Per cell: long enough for a training loop on the small data sets, short for an endless loop.
c.ExecutePreprocessor.timeout = 60

# Feedback shows neither the hidden tests nor tracebacks that quote them.
c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]

# Feedback pages carry the vendored MathJax, so their maths renders without network.
c.GenerateFeedback.exporter_class = FeedbackPage
