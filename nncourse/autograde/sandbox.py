"""Where a submission's kernel runs: a bubblewrap sandbox that sees no course files.

The kernel that executes a student's notebook gets a read-only view of the Python install,
the virtual environment, the parts of the ``nncourse`` package listed in
:data:`KERNEL_VISIBLE` (no reference implementation) and the data sets, and nothing else of
the machine: no ``solutions/``, no gradebook, no other student's submission, no network, its own
process tree (everything it starts dies with it), a scrubbed environment and, through
:mod:`nncourse.autograde.kernel.launcher`, limits on memory, file size and core dumps.

Without ``bwrap`` (``apt install bubblewrap``; macOS has none) the kernel still gets the
limits, the scrubbed environment, a fresh working folder and its own session, but can read
whatever the grading user can: :func:`isolation` says which of the two a run gets.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nncourse
from nncourse.autograde.kernel import zygote

NOBODY = 65534
"""The user and group id the kernel runs as inside the sandbox."""


def bwrap_path() -> str | None:
    """The ``bwrap`` executable, or None when bubblewrap is not installed."""
    return shutil.which("bwrap")


def isolation() -> str:
    """``"bubblewrap"`` when kernels run sandboxed, else ``"limits only"``."""
    return "bubblewrap" if bwrap_path() else "limits only"


@dataclass(frozen=True)
class SandboxSpec:
    """What one submission's kernel may use.

    Attributes
    ----------
    workdir : Path
        The kernel's working folder (and HOME): the only place it may write, with ``/tmp``.
    memory_mb : int
        Address-space limit of the kernel, in MiB.
    shared : tuple of Path
        Extra folders the kernel may read (the job's socket folder, data sets).
    env : dict of str to str
        Variables passed to the kernel; everything else of the grader's environment is dropped.
    isolated : bool
        False runs the kernel without bubblewrap (the students' self-check on their own
        machine): only the limits apply.
    cwd : Path, optional
        The kernel's working folder when it is not ``workdir``.
    """

    workdir: Path
    memory_mb: int
    shared: tuple[Path, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    isolated: bool = True
    cwd: Path | None = None


def kernel_environment(workdir: Path, data_dir: str | None) -> dict[str, str]:
    """The scrubbed environment of a grading kernel.

    Parameters
    ----------
    workdir : Path
        The kernel's HOME and working folder.
    data_dir : str or None
        Value of ``NNCOURSE_DATA`` (where the data sets are), if set.

    Returns
    -------
    dict of str to str
    """
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(workdir),
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(workdir / ".config" / "matplotlib"),
        "IPYTHONDIR": str(workdir / ".ipython"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "NBGRADER_EXECUTION": "autograde",
    }
    if data_dir:
        env["NNCOURSE_DATA"] = data_dir
    return env


def grading_spec(workdir: Path, memory_mb: int, data_dir: str | None) -> SandboxSpec:
    """The sandbox of a kernel that runs a submission for grading.

    Parameters
    ----------
    workdir : Path
        Its working folder, HOME and socket folder (the only place it writes, with /tmp).
    memory_mb : int
        Its address-space limit, in MiB.
    data_dir : str or None
        The data sets' folder, readable in the sandbox and given as ``NNCOURSE_DATA``.
    """
    shared = (Path(data_dir).resolve(),) if data_dir else ()
    return SandboxSpec(workdir, memory_mb, shared,
                       kernel_environment(workdir, str(shared[0]) if shared else None))


def self_check_spec(workdir: Path, folder: Path, memory_mb: int) -> SandboxSpec:
    """A kernel for the students' self-check: their own machine, environment and folder.

    Parameters
    ----------
    workdir : Path
        Where its sockets live.
    folder : Path
        The notebook's folder, the kernel's working folder.
    memory_mb : int
        Its address-space limit, in MiB.
    """
    env = {**os.environ, "MPLBACKEND": "Agg", "NBGRADER_EXECUTION": "validate"}
    return SandboxSpec(workdir, memory_mb, env=env, isolated=False, cwd=folder)


KERNEL_VISIBLE = ("__init__.py", "datasets", "grading/__init__.py", "grading/asserts.py",
                  "grading/handwritten.py", "grading/wire.py", "grading/drivers.py",
                  "grading/checks.py",
                  "autograde/__init__.py",
                  "autograde/kernel")
"""The parts of the ``nncourse`` package a grading kernel sees: the data loaders, the test
helpers a student runs in a notebook, and the kernel's end of the grading channel. The
reference implementations (``nncourse.losses``, ``nncourse.grading.references``, ...) and
the grading engine are not there, so no code of the student's can call or read them."""


def _readable_roots() -> list[Path]:
    """Folders every kernel needs to read: Python, the venv, system files."""
    return sorted({Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()})


def _package_view() -> list[str]:
    """bwrap arguments that show the kernel only :data:`KERNEL_VISIBLE` of ``nncourse``.

    An empty folder is laid over the package (wherever it is installed, even inside the
    virtual environment), then the visible parts are bound back into it, read-only.
    """
    package = Path(nncourse.__file__).resolve().parent
    args = ["--tmpfs", str(package)]
    for part in KERNEL_VISIBLE:
        args += ["--ro-bind", str(package / part), str(package / part)]
    return args


def wrap(command: list[str], spec: SandboxSpec, *, template: bool = False) -> list[str]:
    """``command`` preceded by the ``bwrap`` call that sandboxes it (unchanged without bwrap).

    Parameters
    ----------
    command : list of str
        The kernel's command line (the launcher and its arguments).
    spec : SandboxSpec
        What the kernel may see and use.
    template : bool, default False
        For the kernel template (:mod:`~nncourse.autograde.kernel.zygote`): its ``/dev`` is
        read-only (each kernel gets its own ``/dev/shm``), and it sees the machine's ``/proc``
        (mounting a new ``/proc`` in a nested PID namespace, as each forked kernel does,
        needs one that no mount hides parts of); ``spec.workdir`` is the folder of all
        jobs. No student code runs in the template itself.

    Returns
    -------
    list of str
    """
    bwrap = bwrap_path()
    if bwrap is None or not spec.isolated:
        return command
    args = [bwrap, "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for link in ("bin", "lib", "lib64", "sbin"):
        target = Path("/") / link
        if target.is_symlink():
            args += ["--symlink", os.readlink(target), str(target)]
        elif target.is_dir():
            args += ["--ro-bind", str(target), str(target)]
    if template:
        args += ["--bind", "/proc", "/proc", "--dev", "/dev", "--remount-ro", "/dev",
                 "--dir", zygote.WORKDIR]
    else:
        args += ["--proc", "/proc", "--dev", "/dev"]
    args += ["--tmpfs", "/tmp"]
    for root in _readable_roots():
        args += ["--ro-bind", str(root), str(root)]
    args += _package_view()
    for folder in spec.shared:
        args += ["--ro-bind-try", str(folder), str(folder)]
    args += ["--bind", str(spec.workdir), str(spec.workdir)]
    args += ["--unshare-all", "--unshare-user", "--uid", str(NOBODY), "--gid", str(NOBODY),
             "--die-with-parent", "--new-session", "--chdir", str(spec.workdir), "--clearenv"]
    for name, value in spec.env.items():
        args += ["--setenv", name, value]
    return [*args, "--", *command]
