"""Shared fixtures: the repository paths and the book, built once per test session."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
HTML = REPO / "_build" / "html"
TEST_OUTPUT = REPO / "test-output"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
    "--disable-background-networking", "--disable-component-update",
]
"""Debian's Chromium, with the background requests that fail on a closed network off."""


def tool_env() -> dict[str, str]:
    """The environment for subprocesses: the venv's tools first on PATH, the course data set."""
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("NNCOURSE_DATA", str((REPO.parent / "shared" / "data").resolve()))
    # One BLAS thread per process: kernels run beside other test workers on 2 cores.
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    return env


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def test_output() -> Path:
    TEST_OUTPUT.mkdir(exist_ok=True)
    return TEST_OUTPUT


@pytest.fixture(scope="session")
def book_build() -> subprocess.CompletedProcess:
    """Build the whole book with warnings as errors (re-using the execution cache)."""
    return subprocess.run(
        [str(VENV_BIN / "jupyter-book"), "build", str(REPO), "--warningiserror", "--nitpick",
         "--keep-going"],
        cwd=REPO, env=tool_env(), capture_output=True, text=True, timeout=1200,
    )


@pytest.fixture(scope="session")
def built_html(book_build: subprocess.CompletedProcess) -> Path:
    """The built site; fails (rather than skips) every dependent test if the build failed."""
    if book_build.returncode != 0:
        log = book_build.stdout[-4000:] + book_build.stderr[-4000:]
        pytest.fail("the book did not build:\n" + log)
    return HTML


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium driven by Playwright (``make test`` installs Chromium)."""
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is not installed: run `make test`, which installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
