"""What a student's feedback page may show: no hidden test, not even inside a traceback."""

from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
from nbgrader.preprocessors import ClearHiddenTests

from nncourse.autograde.trusted import TEST_OUTPUT


class HideHiddenTests(ClearHiddenTests):
    """Remove hidden test regions from the autograded notebook before it becomes feedback.

    nbgrader's feedback shows the autograded notebook, hidden tests included, and an
    IPython traceback quotes the lines around the failing one (upstream issue #917). Cells
    that held hidden tests keep only the last line of their error, ``Name: message``, which
    is where the grading helpers put everything a student needs, and what the test itself
    printed (which of its checks passed, see :class:`~nncourse.grading.Checks`); what the
    student's code printed while tested is dropped (it could echo the hidden inputs).
    """

    def preprocess_cell(
        self, cell: NotebookNode, resources: ResourcesDict, cell_index: int
    ) -> tuple[NotebookNode, ResourcesDict]:
        had_hidden_tests = self._remove_hidden_test_region(cell)
        if had_hidden_tests and cell.cell_type == "code":
            cell.outputs = [output for output in cell.get("outputs", [])
                            if output.output_type == "error"
                            or output.get("metadata", {}).get(TEST_OUTPUT)]
            for output in cell.outputs:
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources
