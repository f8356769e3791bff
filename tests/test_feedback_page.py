"""The feedback page of ``nncourse grade`` renders its maths with the network closed.

A small course of ch02_loss_functions (a full-marks and a blank submission) is graded for
real; each feedback page is opened from disk in headless Chromium (Debian's, through
Playwright) with every request to another host aborted. Its markdown holds
``$\\partial L / \\partial y_k$`` and ``$\\frac1n$``: MathJax, inlined into the page
(:mod:`nncourse.autograde.feedback_page`), must typeset them.
"""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import nbformat
import pytest
from conftest import REPO, VENV_BIN, tool_env
from grade_cases import ASSIGNMENT, case, submission_bytes
from offline_visit import OfflineVisit

from nncourse.autograde.course import RELEASE_DIR, SOURCE_DIR
from nncourse.autograde.feedback_page import VENDORED_MATHJAX, FeedbackPage
from nncourse.autograde.release import prepare_course

NOTEBOOK = f"{ASSIGNMENT}.ipynb"
STUDENTS = {"full_marks": case("full_marks"), "blank": case("blank", blank=True)}
RAW_TEX = ("$\\partial", "\\partial y_k", "\\frac", "$$")


@pytest.fixture(scope="module")
def feedback(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The feedback page of each student, after one real ``nncourse grade``."""
    if not VENDORED_MATHJAX.is_file():
        pytest.fail(f"no vendored MathJax at {VENDORED_MATHJAX}: run `make setup`")
    course = tmp_path_factory.mktemp("feedback") / "course"
    prepare_course(REPO, course, [ASSIGNMENT])
    for student, submission in STUDENTS.items():
        released = nbformat.read(REPO / RELEASE_DIR / ASSIGNMENT / NOTEBOOK, as_version=4)
        solution = nbformat.read(REPO / SOURCE_DIR / ASSIGNMENT / NOTEBOOK, as_version=4)
        path = course / "submitted" / student / ASSIGNMENT / NOTEBOOK
        path.parent.mkdir(parents=True)
        path.write_bytes(submission_bytes(submission, released, solution, str(course), "-"))
    result = subprocess.run(
        [str(VENV_BIN / "nncourse"), "grade", ASSIGNMENT, "--root", str(course), "--jobs", "2",
         "--quiet", "--timeout", "60"],
        cwd=course.parent, env=tool_env(), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "MathJax" not in result.stderr, result.stderr[-3000:]  # no missing-MathJax warning
    return {student: course / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
            for student in STUDENTS}


@pytest.mark.slow
@pytest.mark.parametrize("student", STUDENTS)
def test_feedback_renders_maths_offline(feedback: dict[str, Path], browser,
                                        student: str) -> None:
    html = feedback[student].read_text(encoding="utf-8")
    # The page holds the formulas the test looks for, and no MathJax from elsewhere.
    assert "\\partial L / \\partial y_k" in html and "\\frac1n" in html
    assert "libs/mathjax" not in html and 'src="http' not in html
    visit = OfflineVisit(browser, feedback[student].as_uri())
    try:
        problems = {"console": visit.console_errors, "failed": visit.failed,
                    "external": visit.blocked}
        assert problems == {"console": [], "failed": [], "external": []}
        assert visit.page.locator("mjx-container").count() >= 10
        assert visit.page.locator("mjx-merror").count() == 0  # no TeX error either
        assert visit.page.locator("mjx-container svg").count() >= 10
        text = visit.page.locator(".text_cell_render").all_inner_texts()
        assert text, "no markdown cell in the page"
        for raw in RAW_TEX:
            shown = [cell for cell in text if raw in cell]
            assert not shown, f"raw TeX {raw!r} left in the page: {shown[0][:200]!r}"
        assert "Score:" in visit.page.locator("body").inner_text()
    finally:
        visit.page.close()


def _export(exporter: FeedbackPage) -> str:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("$\\frac1n$")])
    return exporter.from_notebook_node(notebook)[0]


def test_without_vendored_mathjax_the_page_shows_tex_and_loads_nothing(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="nncourse.autograde.feedback_page"):
        html = _export(FeedbackPage(template_name="classic",
                                    mathjax_file=str(tmp_path / "missing.js")))
    assert "libs/mathjax" not in html and "$\\frac1n$" in html
    assert "no vendored MathJax" in html
    assert "run `make setup`" in caplog.text and "no MathJax" in caplog.text


def test_with_vendored_mathjax_the_page_carries_it(tmp_path: Path) -> None:
    component = tmp_path / "tex-svg-full.js"
    component.write_text("window.offlineMathJax = true;", encoding="utf-8")
    html = _export(FeedbackPage(template_name="classic", mathjax_file=str(component)))
    assert "<script>window.offlineMathJax = true;</script>" in html
    assert "window.MathJax = {" in html and "libs/mathjax" not in html


def test_the_page_is_nbconverts_without_its_soup_pass(tmp_path: Path) -> None:
    """FeedbackPage skips HTMLExporter's BeautifulSoup pass; the page stays the same.

    A notebook with an image without alternative text, one with, text and code, rendered by
    both exporters (the same template, MathJax file and settings): parsed, they are equal.
    """
    from bs4 import BeautifulSoup
    from nbconvert.exporters import HTMLExporter
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    from nncourse.autograde.feedback_page import NO_ALT_TEXT

    pixel = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9aw"
             "AAAABJRU5ErkJggg==")
    notebook = new_notebook(cells=[
        new_markdown_cell("# Title\n\n$\\frac1n$ and <img src='x.png'> and "
                          "<img src='y.png' alt='y'>"),
        new_code_cell("plot()", execution_count=1, outputs=[
            new_output("display_data", data={"image/png": pixel, "text/plain": "<Figure>"}),
            new_output("stream", name="stdout", text="a < b & c\n")]),
    ])
    notebook.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    component = tmp_path / "tex-svg-full.js"
    component.write_text("window.offlineMathJax = true;", encoding="utf-8")
    ours = FeedbackPage(template_name="classic", mathjax_file=str(component))
    theirs = type("Plain", (HTMLExporter,), {})(template_name="classic")
    theirs.extra_loaders, theirs.mathjax_url = ours.extra_loaders, ""
    theirs.environment.globals.update(
        {name: value for name, value in ours.environment.globals.items()
         if name.startswith("nncourse")})
    page, reference = ours.from_notebook_node(notebook)[0], theirs.from_notebook_node(notebook)[0]
    assert page.count(f'alt="{NO_ALT_TEXT}"') == 2  # the markdown image and the plot
    assert str(BeautifulSoup(page, features="html.parser")) == reference


@pytest.mark.parametrize("options", [{}, {"linenos": "inline"}])
def test_remembered_highlighting_is_nbconverts(options: dict) -> None:
    """Code is coloured as nbconvert colours it, the first time and from memory after."""
    from nbconvert.filters.highlight import Highlight2HTML

    from nncourse.autograde.feedback_page import RememberedHighlight

    cells = [("x = 1  # a comment\nprint(f'{x}')", None, None),
             ("%%bash\necho hi", None, {"magics_language": "bash"}),
             ("SELECT 1", "sql", None), ("", None, None)]
    for _ in range(2):
        for source, language, metadata in cells:
            ours = RememberedHighlight(pygments_lexer="ipython3",
                                       extra_formatter_options=options)
            theirs = Highlight2HTML(pygments_lexer="ipython3", extra_formatter_options=options)
            assert ours(source, language, metadata) == theirs(source, language, metadata)
