"""A SQLite gradebook on a local disk is in write-ahead-log mode while workers grade."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from nncourse.autograde.journal import file_system_type, journal_mode, write_ahead_log

MOUNTINFO = """\
22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw
30 27 0:40 / /home rw,relatime - nfs4 server:/home rw,vers=4.2
31 30 0:41 / /home/course\\040files rw,relatime - xfs /dev/sdb1 rw
"""


def test_the_file_system_of_a_path_is_its_deepest_mount_point() -> None:
    assert file_system_type(Path("/srv/course/gradebook.db"), MOUNTINFO) == "ext4"
    assert file_system_type(Path("/home/teacher/gradebook.db"), MOUNTINFO) == "nfs4"
    assert file_system_type(Path("/home/course files/gradebook.db"), MOUNTINFO) == "xfs"
    assert file_system_type(Path("/home"), MOUNTINFO) == "nfs4"
    assert file_system_type(Path("/anything"), "") is None


def _gradebook(folder: Path) -> Path:
    path = folder / "gradebook.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE grade (id INTEGER)")
    connection.commit()
    connection.close()
    return path


def test_a_local_sqlite_gradebook_is_in_wal_mode_during_the_block_only(tmp_path: Path) -> None:
    path = _gradebook(tmp_path)
    assert journal_mode(path) == "delete"
    with write_ahead_log(f"sqlite:///{path}?timeout=30") as switched:
        assert switched
        assert journal_mode(path) == "wal"
    assert journal_mode(path) == "delete"


def test_other_gradebooks_are_left_as_they_are(tmp_path: Path) -> None:
    for url in ("postgresql://grader@localhost/gradebook", "sqlite://",
                f"sqlite:///{tmp_path / 'missing.db'}"):
        with write_ahead_log(url) as switched:
            assert not switched
    assert not (tmp_path / "missing.db").exists()
