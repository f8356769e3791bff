"""The pages of the book, read from ``_toc.yml`` (shared by the build and browser tests)."""

from __future__ import annotations

from pathlib import Path

import yaml


def toc_files(repo: Path) -> list[str]:
    """Every document named in ``_toc.yml``, root first, as paths without a suffix."""
    toc = yaml.safe_load((repo / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections", []))

    for part in toc.get("parts", []):
        walk(part.get("chapters", []))
    walk(toc.get("chapters", []))
    return files


def chapter_files(repo: Path) -> list[str]:
    """The numbered chapters (``book/chNN_*``)."""
    return [f for f in toc_files(repo) if Path(f).name.startswith("ch")]
