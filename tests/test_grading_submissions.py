"""nncourse.autograde.submissions: student ids from file names, and the three import shapes."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from nncourse.autograde.submissions import expected_notebook, import_submissions, student_id

A = "ch02_loss_functions"


@pytest.mark.parametrize(("name", "student"), [
    ("alice.ipynb", "alice"),
    (f"Ada Lovelace_{A}.ipynb", "Ada_Lovelace"),
    (f"{A}-bob.ipynb", "bob"),
    ("../../etc/passwd.ipynb", "passwd"),
    (f"{A}.ipynb", ""),
])
def test_student_id_from_file_name(name: str, student: str) -> None:
    assert student_id(name, A) == student


def test_loose_folder_is_copied_not_moved(tmp_path: Path) -> None:
    loose = tmp_path / "export"
    loose.mkdir()
    (loose / "alice.ipynb").write_text("{}")
    (loose / "notes.txt").write_text("not a notebook")
    imported = import_submissions(tmp_path / "course", A, loose)
    assert imported.students == ["alice"]
    assert expected_notebook(tmp_path / "course", "alice", A).read_text() == "{}"
    assert (loose / "alice.ipynb").exists()


def test_zip_members_cannot_escape_the_course(tmp_path: Path) -> None:
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("../../evil.ipynb", "{}")
        handle.writestr(f"carol/{A}/{A}.ipynb", "{}")
    imported = import_submissions(tmp_path / "course", A, archive)
    assert imported.students == ["carol", "evil"]
    assert not (tmp_path.parent / "evil.ipynb").exists()


def test_a_lone_wrongly_named_notebook_is_graded_under_the_expected_name(tmp_path: Path) -> None:
    folder = tmp_path / "submitted" / "dan" / A
    folder.mkdir(parents=True)
    (folder / f"{A} (1).ipynb").write_text("{}")
    imported = import_submissions(tmp_path, A)
    assert imported.students == ["dan"]
    assert "under the expected name" in imported.notes["dan"]
    assert (folder / f"{A}.ipynb").exists() and (folder / f"{A} (1).ipynb").exists()


def test_unusable_sources_say_why(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no submissions at"):
        import_submissions(tmp_path, A, tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds no notebooks"):
        import_submissions(tmp_path, A, tmp_path / "empty")
    (tmp_path / "fake.zip").write_text("not a zip")
    with pytest.raises(ValueError, match="neither a folder nor a zip"):
        import_submissions(tmp_path, A, tmp_path / "fake.zip")
