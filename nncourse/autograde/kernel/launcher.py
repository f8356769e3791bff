"""Start an IPython kernel with resource limits: ``python -m nncourse.autograde.kernel.launcher``.

``--memory MB`` bounds the kernel's address space (an oversized allocation raises
``MemoryError`` in the student's cell), written files are capped at ``--max-file-mb`` and
core dumps are off; then the same process runs an ordinary ``ipykernel`` with the remaining
arguments (``-f CONNECTION_FILE``). Used for every grading and self-check kernel, sandboxed
or not.

The kernel starts without ipykernel's debugger: importing ``debugpy`` takes a third of its
start-up, and nobody attaches a debugger to a kernel that grades.
"""

from __future__ import annotations

import argparse
import resource
import sys
from pathlib import Path

MIB = 1024 * 1024


def apply_limits(memory_mb: int, max_file_mb: int) -> None:
    """Limit this process and its children.

    Parameters
    ----------
    memory_mb : int
        Address space, in MiB.
    max_file_mb : int
        Largest file the process may write, in MiB.
    """
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * MIB, memory_mb * MIB))
    resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_mb * MIB, max_file_mb * MIB))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run_kernel(kernel_args: list[str]) -> None:
    """Run an IPython kernel in this process, without the debugger (see the module's text).

    Parameters
    ----------
    kernel_args : list of str
        ipykernel's arguments, e.g. ``["-f", "kernel.json"]``.
    """
    here = Path(__file__).resolve().parent
    if sys.path and sys.path[0] and Path(sys.path[0]).resolve() == here:
        del sys.path[0]  # run by file: the student's imports must not find this folder
    sys.modules["debugpy"] = None  # ipykernel then starts without its debugger
    from ipykernel.kernelapp import IPKernelApp

    # ipykernel sleeps half a millisecond before each reply, to let output reach slow
    # front ends first; the grader reads each cell's output up to the kernel's idle status,
    # which comes after all of it on the same channel.
    IPKernelApp.launch_instance(argv=[*kernel_args, "--IPythonKernel._execute_sleep=0"])


def main(argv: list[str] | None = None) -> None:
    """Apply the limits, then run an IPython kernel in this process."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--memory", type=int, required=True, help="MiB of address space")
    parser.add_argument("--max-file-mb", type=int, default=64, help="largest file written")
    args, kernel_args = parser.parse_known_args(argv)
    apply_limits(args.memory, args.max_file_mb)
    run_kernel(kernel_args)


if __name__ == "__main__":
    main()
