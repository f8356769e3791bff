"""Benchmark: ``nncourse check`` vs ``nbgrader validate`` on the same notebook, side by side.

Each round runs both commands on a copy of one filled-in notebook (the assignment's solution),
alternating which goes first, and prints the seconds of each and their ratio; the median
ratio ends the output. Target (issue #12): ``nncourse check`` <= 0.25x ``nbgrader validate``.

Usage::

    .venv/bin/python bench/selfcheck.py [--assignment ch02_loss_functions] [--rounds 5]
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import cpu_name  # noqa: E402

BIN = Path(sys.executable).parent


def seconds(command: list[str], folder: Path) -> float:
    """Wall-clock seconds of one run of ``command`` in ``folder`` (its output is dropped)."""
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("NNCOURSE_DATA", str((REPO.parent / "shared" / "data").resolve()))
    env.setdefault("OMP_NUM_THREADS", "1")
    start = time.perf_counter()
    subprocess.run(command, cwd=folder, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="ch02_loss_functions")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"{datetime.date.today()}  {cpu_name()}, {os.cpu_count()} cores; "
          f"python {sys.version.split()[0]}; {args.assignment}; "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    source = REPO / "solutions" / args.assignment / f"{args.assignment}.ipynb"
    commands = {"nncourse check": [str(BIN / "nncourse"), "check", source.name],
                "nbgrader validate": [str(BIN / "nbgrader"), "validate", source.name]}
    ratios = []
    with tempfile.TemporaryDirectory(prefix="nncourse-bench-check-") as scratch:
        folder = Path(scratch)
        shutil.copy(source, folder / source.name)
        print(f"{'round':>5}  {'nncourse check s':>17}  {'nbgrader validate s':>19}  ratio")
        for index in range(args.rounds):
            order = list(commands) if index % 2 == 0 else list(reversed(commands))
            times = {name: seconds(commands[name], folder) for name in order}
            ratio = times["nncourse check"] / times["nbgrader validate"]
            ratios.append(ratio)
            print(f"{index + 1:>5}  {times['nncourse check']:>17.2f}  "
                  f"{times['nbgrader validate']:>19.2f}  {ratio:.2f}")
    print(f"median ratio check/validate = {statistics.median(ratios):.2f}   "
          "(issue #12: <= 0.25)")


if __name__ == "__main__":
    main()
