"""nncourse.autograde.submissions: student ids from file names, and the three import shapes."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from nncourse.autograde.course import Layout
from nncourse.autograde.submissions import expected_notebooks, import_submissions, student_id

A = "ch02_loss_functions"


def course(root: Path, notebooks: tuple[str, ...] = (A,)) -> Layout:
    """An nbgrader course with nbgrader's default folders and these source notebooks."""
    for name in notebooks:
        (root / "source" / A).mkdir(parents=True, exist_ok=True)
        (root / "source" / A / f"{name}.ipynb").write_text("{}")
    return Layout(root)


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
    layout = course(tmp_path / "course")
    imported = import_submissions(layout, A, loose)
    assert imported.students == ["alice"]
    assert expected_notebooks(layout, "alice", A)[0].read_text() == "{}"
    assert (loose / "alice.ipynb").exists()


def test_zip_members_cannot_escape_the_course(tmp_path: Path) -> None:
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("../../evil.ipynb", "{}")
        handle.writestr(f"carol/{A}/{A}.ipynb", "{}")
    imported = import_submissions(course(tmp_path / "course"), A, archive)
    assert imported.students == ["carol", "evil"]
    assert not (tmp_path.parent / "evil.ipynb").exists()


def test_a_lone_wrongly_named_notebook_is_graded_under_the_expected_name(tmp_path: Path) -> None:
    folder = tmp_path / "submitted" / "dan" / A
    folder.mkdir(parents=True)
    (folder / f"{A} (1).ipynb").write_text("{}")
    imported = import_submissions(course(tmp_path), A)
    assert imported.students == ["dan"]
    assert "under the expected name" in imported.notes["dan"]
    assert (folder / f"{A}.ipynb").exists() and (folder / f"{A} (1).ipynb").exists()


def test_unusable_sources_say_why(tmp_path: Path) -> None:
    layout = course(tmp_path)
    with pytest.raises(FileNotFoundError, match="no submissions at"):
        import_submissions(layout, A, tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds no notebooks"):
        import_submissions(layout, A, tmp_path / "empty")
    (tmp_path / "fake.zip").write_text("not a zip")
    with pytest.raises(ValueError, match="neither a folder nor a zip"):
        import_submissions(layout, A, tmp_path / "fake.zip")


def test_several_notebooks_need_nbgrader_layout(tmp_path: Path) -> None:
    layout = course(tmp_path / "course", ("problem1", "problem2"))
    loose = tmp_path / "export"
    loose.mkdir()
    (loose / "alice.ipynb").write_text("{}")
    with pytest.raises(ValueError, match="2 notebooks .*problem1, problem2.*nbgrader's layout"):
        import_submissions(layout, A, loose)
    (loose / "bob" / A).mkdir(parents=True)
    for name in ("problem1", "problem2", "data"):
        (loose / "bob" / A / f"{name}.ipynb").write_text(name)
    assert import_submissions(layout, A, loose).students == ["bob"]
    assert [path.read_text() for path in expected_notebooks(layout, "bob", A)] == [
        "problem1", "problem2"]
