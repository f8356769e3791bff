"""The split of issue #11: what a student's kernel imports stays small and holds no engine."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import tool_env

ENGINE = ("nbformat", "nbgrader", "jupyter_client", "nbclient", "jsonschema",
          "nncourse.autograde.execute", "nncourse.autograde.grade", "nncourse.autograde.trusted",
          "nncourse.autograde.boundary", "nncourse.autograde.selfcheck")
REFERENCE = ("nncourse.functions", "nncourse.losses", "nncourse.gradients", "nncourse.optim",
             "nncourse.torch_pipeline", "nncourse.grading.references")


def modules_after(statement: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running ``statement``."""
    code = f"{statement}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=tool_env(), timeout=120, check=True)
    return set(json.loads(result.stdout.splitlines()[-1]))


def loaded(modules: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(name for name in modules
                  if any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes))


@pytest.mark.parametrize("module", ["nncourse.grading", "nncourse.autograde.kernel.server"])
def test_the_kernel_side_loads_no_grading_engine_and_no_reference(module: str) -> None:
    assert loaded(modules_after(f"import {module}"), ENGINE + REFERENCE) == []


def test_the_command_line_answers_help_without_the_engine() -> None:
    modules = modules_after("import nncourse.cli")
    assert loaded(modules, ENGINE + ("torch", "matplotlib")) == []
