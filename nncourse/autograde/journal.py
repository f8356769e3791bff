"""A SQLite gradebook in write-ahead-log mode while several grading workers write to it.

In SQLite's default journal mode a writer waits until no other connection reads, and a
connection that finds the database locked sleeps and tries again (1, 2, 5, 10 ms ...): with
two workers, each booking a submission in about forty transactions, half a second of a
class's grading went to these sleeps. In write-ahead-log mode readers and the writer no
longer wait for each other. :func:`write_ahead_log` switches a gradebook to it for the
length of a grading run and back to its own mode after, when the file is on a local file
system: the log's shared-memory index does not work over a network file system (NFS, SMB),
where the gradebook is left as it is.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

LOCAL_FILE_SYSTEMS = frozenset({
    "ext2", "ext3", "ext4", "xfs", "btrfs", "tmpfs", "overlay", "zfs", "f2fs", "jfs",
    "reiserfs", "bcachefs"})
"""File systems (``/proc/self/mountinfo`` names) on which a write-ahead log is safe."""

_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")
"""How mountinfo writes a space, tab, newline or backslash in a path (``\\040``)."""


def file_system_type(path: Path, mountinfo: str) -> str | None:
    """The type of the file system ``path`` is on, from the text of a ``mountinfo`` file.

    Parameters
    ----------
    path : Path
        An absolute, resolved path.
    mountinfo : str
        The contents of ``/proc/self/mountinfo``.

    Returns
    -------
    str or None
        E.g. ``ext4`` or ``nfs4``; None when no mount point holds ``path``.
    """
    best, kind = None, None
    for line in mountinfo.splitlines():
        fields, _, rest = line.partition(" - ")
        parts = fields.split()
        if len(parts) < 5 or not rest:
            continue
        point = Path(_OCTAL_ESCAPE.sub(lambda match: chr(int(match[1], 8)), parts[4]))
        if (path == point or point in path.parents) and \
                (best is None or len(point.parts) > len(best.parts)):
            best, kind = point, rest.split()[0]
    return kind


def _on_local_disk(path: Path) -> bool:
    if sys.platform != "linux":
        return False
    try:
        mountinfo = Path("/proc/self/mountinfo").read_text(encoding="utf-8")
    except OSError:
        return False
    return file_system_type(path.resolve(), mountinfo) in LOCAL_FILE_SYSTEMS


def _sqlite_file(db_url: str) -> Path | None:
    """The database file of a ``sqlite:///`` URL; None for anything else (PostgreSQL, memory)."""
    from sqlalchemy.engine import make_url

    url = make_url(db_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def journal_mode(path: Path, new: str | None = None) -> str:
    """The journal mode of the SQLite database at ``path``, after setting it to ``new``."""
    connection = sqlite3.connect(path, timeout=10)
    try:
        query = "PRAGMA journal_mode" + (f"={new}" if new else "")
        return str(connection.execute(query).fetchone()[0]).lower()
    finally:
        connection.close()


@contextlib.contextmanager
def write_ahead_log(db_url: str) -> Iterator[bool]:
    """For the length of the block, the SQLite gradebook at ``db_url`` in WAL mode.

    Only a SQLite file on a local file system is switched; after the block it gets its
    journal mode back (when nothing else holds it open then; else it stays in WAL mode,
    which nbgrader reads and writes as well).

    Yields
    ------
    bool
        Whether the gradebook is in write-ahead-log mode during the block.
    """
    path = _sqlite_file(db_url)
    if path is None or not path.is_file() or not _on_local_disk(path):
        yield False
        return
    try:
        before = journal_mode(path)
        switched = before != "wal" and journal_mode(path, "wal") == "wal"
    except sqlite3.Error:
        before, switched = "", False
    try:
        yield switched or before == "wal"
    finally:
        if switched:
            with contextlib.suppress(sqlite3.Error):
                journal_mode(path, before)
