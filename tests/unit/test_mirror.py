"""The continuous Markdown export's files and the check of the folder a person picks."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from launcher.core.mirror import check_folder, file_name, write


def test_a_conversation_file_is_written_whole_and_replaced_on_rename(tmp_path: Path) -> None:
    first = write(tmp_path, "Bread: recipes?", 12, "# Bread\n")
    assert first.name == "Bread recipes-12.md" and first.read_text() == "# Bread\n"
    renamed = write(tmp_path, "Sourdough", 12, "# Sourdough\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Sourdough-12.md"]  # no temp left
    assert renamed.read_text() == "# Sourdough\n"
    assert file_name("", 3) == "Untitled conversation-3.md"


def test_a_usable_folder_passes_and_leaves_nothing_behind(tmp_path: Path) -> None:
    assert check_folder(str(tmp_path)) == ""
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda base: "notes/here", "is not a full path"),
        (lambda base: str(base / "missing"), "There is no folder"),
        (lambda base: str(base / "file.txt"), "is a file, not a folder"),
    ],
)
def test_a_folder_that_cannot_be_used_is_said_in_words(
    tmp_path: Path, make: object, said: str
) -> None:
    (tmp_path / "file.txt").write_text("x")
    text = make(tmp_path)  # type: ignore[operator]
    problem = check_folder(text)
    assert said in problem and "Errno" not in problem


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/sys is Linux's")
def test_a_folder_the_launcher_cannot_write_in_is_refused() -> None:
    problem = check_folder("/sys")  # read-only, even for root
    assert problem.startswith("The launcher cannot write files in “/sys”")
    assert "choose another folder" in problem
