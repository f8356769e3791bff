"""The executor's kernel: outputs kept as a front end keeps them, limits, a dying kernel."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nncourse.autograde import sandbox
from nncourse.autograde.kernels import CellOutputs, Kernel, KernelGone
from nncourse.autograde.runner import RunOptions, run_notebook


def test_cell_outputs_join_streams_clear_and_cap() -> None:
    outputs = CellOutputs(max_chars=30)
    outputs.add("stream", {"name": "stdout", "text": "a\n"})
    outputs.add("stream", {"name": "stdout", "text": "b\n"})
    outputs.add("stream", {"name": "stderr", "text": "!"})
    assert outputs.items == [{"output_type": "stream", "name": "stdout", "text": "a\nb\n"},
                             {"output_type": "stream", "name": "stderr", "text": "!"}]
    outputs.add("clear_output", {"wait": True})
    assert len(outputs.items) == 2  # cleared at the next output only
    outputs.add("stream", {"name": "stdout", "text": "x" * 40})
    assert len(outputs.items) == 1 and outputs.items[0]["text"].startswith("x" * 30 + "\n...")
    outputs.add("display_data", {"data": {"text/plain": "too late"}, "metadata": {}})
    outputs.add("error", {"ename": "ValueError", "evalue": "kept", "traceback": []})
    assert [item["output_type"] for item in outputs.items] == ["stream", "error"]


def test_cell_outputs_update_a_display() -> None:
    outputs = CellOutputs(max_chars=1000)
    outputs.add("display_data", {"data": {"text/plain": "0%"}, "metadata": {},
                                 "transient": {"display_id": "bar"}})
    outputs.add("update_display_data", {"data": {"text/plain": "100%"}, "metadata": {},
                                        "transient": {"display_id": "bar"}})
    assert outputs.items == [{"output_type": "display_data", "data": {"text/plain": "100%"},
                              "metadata": {}}]


@pytest.fixture
def kernel(tmp_path: Path) -> Kernel:
    started = Kernel(sandbox.self_check_spec(tmp_path, tmp_path, memory_mb=2048))
    started.wait_ready(60)
    yield started
    started.close()


def test_a_cell_past_its_time_is_interrupted_and_the_kernel_goes_on(kernel: Kernel) -> None:
    outputs = CellOutputs(1000)
    reply = kernel.run("import time\nprint('start')\ntime.sleep(30)", 1, outputs.add)
    assert reply["timed_out"] and reply["status"] == "error"
    assert outputs.items[0]["text"] == "start\n"
    outputs = CellOutputs(1000)
    assert kernel.run("print(6 * 7)", 10, outputs.add)["status"] == "ok"
    assert outputs.items == [{"output_type": "stream", "name": "stdout", "text": "42\n"}]


def test_a_kernel_that_dies_is_reported(kernel: Kernel) -> None:
    with pytest.raises(KernelGone, match="stopped"):
        kernel.run("import os\nos._exit(3)", 10, CellOutputs(1000).add)


def test_run_notebook_marks_the_tests_after_a_crash(tmp_path: Path) -> None:
    test = {"cell_type": "code", "source": "assert True", "outputs": [],
            "metadata": {"nbgrader": {"grade": True, "grade_id": "test", "points": 1}}}
    cells = [{"cell_type": "markdown", "source": "# Title", "metadata": {}},
             {"cell_type": "code", "source": "x = 1\nx", "outputs": [], "metadata": {}},
             {"cell_type": "code", "source": "import os; os._exit(1)", "outputs": [],
              "metadata": {}}, test]
    kernel = Kernel(sandbox.self_check_spec(tmp_path, tmp_path, memory_mb=2048))
    report = run_notebook(cells, kernel, tmp_path, RunOptions(10, 60))
    assert report.status == "crashed" and "cell 3" in report.reason
    assert report.language_info["name"] == "python"
    assert cells[1]["outputs"][0]["data"] == {"text/plain": "1"}
    assert test["outputs"][-1]["ename"] == "NotGraded"
    assert not kernel.alive()


def test_closed_kernels_leave_no_open_files(tmp_path: Path) -> None:
    def open_files() -> int:
        return len(os.listdir("/proc/self/fd"))

    def start_and_close(folder: Path) -> None:
        kernel = Kernel(sandbox.self_check_spec(folder, folder, memory_mb=2048))
        kernel.wait_ready(60)
        kernel.close()

    start_and_close(tmp_path / "first")  # the process-wide context and its files
    before = open_files()
    for index in range(4):
        start_and_close(tmp_path / str(index))
    assert open_files() <= before + 2
