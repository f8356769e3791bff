"""Benchmark: a clean build of the book vs a rebuild after editing one chapter.

Both builds run in one invocation, on a scratch copy of the book's sources, so they share
the machine's state. Jupyter Book's execution cache should make the rebuild re-execute only
the edited chapter. Targets (2 cores): clean build <= 4 minutes, rebuild <= 10% of clean.

Usage::

    .venv/bin/python bench/book_build.py [--chapter book/ch03_numerical_gradients.md]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# What a build reads: configuration, chapters, the exercise notebooks they link, vendored JS.
SOURCES = ("_config.yml", "_toc.yml", "book", "exercises", "_vendor")


def build(root: Path) -> float:
    """Build the book under ``root``; return the wall-clock seconds."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("NNCOURSE_DATA", str((REPO.parent / "shared" / "data").resolve()))
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    start = time.perf_counter()
    subprocess.run(
        [str(Path(sys.executable).parent / "jupyter-book"), "build", str(root), "-W", "-n",
         "--keep-going", "-q"],
        cwd=root, env=env, check=True, stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chapter", default="book/ch03_numerical_gradients.md",
                        help="the chapter to edit before the rebuild")
    args = parser.parse_args()
    if not (REPO / "_vendor").is_dir():
        sys.exit("run `make setup` first (the vendored JavaScript is missing)")

    with tempfile.TemporaryDirectory(prefix="nncourse-book-bench-") as scratch:
        root = Path(scratch)
        for name in SOURCES:
            source = REPO / name
            copy = shutil.copytree if source.is_dir() else shutil.copy2
            copy(source, root / name)
        clean = build(root)
        chapter = root / args.chapter
        # A new code cell: the chapter's code changed, so the cache must re-execute it.
        edit = "\n```{code-cell} ipython3\nprint('edited for the rebuild benchmark')\n```\n"
        chapter.write_text(chapter.read_text() + edit)
        rebuild = build(root)

    print(f"{'build':<28}{'seconds':>10}")
    print(f"{'clean':<28}{clean:>10.1f}")
    print(f"{'rebuild after editing one':<28}{rebuild:>10.1f}")
    print(f"rebuild / clean = {rebuild / clean:.2f}   (target <= 0.10; clean target <= 240 s)")


if __name__ == "__main__":
    main()
