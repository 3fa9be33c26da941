"""Attached files: what goes into the message, what the chips show, what is refused and why."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from launcher.core.attachments import (
    MAX_FILE_BYTES,
    Attachment,
    AttachmentError,
    compose,
    load_attachment,
    read_attachment,
    size_warning,
    split_message,
)
from tests.unit.pdf_maker import write_pdf


def test_a_text_file_becomes_a_delimited_block_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("first line\r\nsecond line\n", encoding="utf-8")
    att = read_attachment(path)
    assert (att.name, att.kind) == ("notes.txt", "text")
    assert att.text == "first line\nsecond line\n"
    content = compose("What do these notes say?", [att])
    assert content.startswith('<attached-file name="notes.txt" type="text">\nfirst line\n')
    assert "</attached-file>\n\nWhat do these notes say?" in content
    assert att.chip() == "notes.txt (24 bytes)"


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("README.md", "markdown"),
        ("data.csv", "csv"),
        ("config.json", "json"),
        ("main.py", "code"),
        ("Dockerfile", "code"),
        ("server.RS", "code"),
        ("LICENSE", "text"),  # no extension, but plain UTF-8 text
    ],
)
def test_text_code_markdown_csv_and_json_files_are_read(
    tmp_path: Path, name: str, kind: str
) -> None:
    path = tmp_path / name
    path.write_text("a,b\n1,2\n" if kind != "json" else json.dumps({"k": "v"}), encoding="utf-8")
    att = read_attachment(path)
    assert att.kind == kind
    assert att.text


def test_a_pdf_gives_the_text_of_each_page(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "report.pdf", [["Quarterly report", "Revenue rose"], ["Page two"]])
    att = read_attachment(path)
    assert (att.kind, att.pages) == ("pdf", 2)
    assert "[Page 1]\nQuarterly report\nRevenue rose" in att.text
    assert "[Page 2]\nPage two" in att.text
    assert att.chip() == "report.pdf (2 pages)"


def test_refusals_say_what_happened_and_what_to_do(tmp_path: Path) -> None:
    binary = tmp_path / "photo.bin"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    with pytest.raises(AttachmentError, match=r"photo.bin is not a text file — attach text"):
        read_attachment(binary)
    with pytest.raises(AttachmentError, match=r"gone.txt could not be attached: the file is gone"):
        read_attachment(tmp_path / "gone.txt")
    with pytest.raises(AttachmentError, match=r"is a folder — attach the files inside it"):
        read_attachment(tmp_path)
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\nthis is not really a pdf\n")
    with pytest.raises(AttachmentError, match=r"broken.pdf could not be read as a PDF"):
        read_attachment(broken)
    empty = write_pdf(tmp_path / "scan.pdf", [[]])
    with pytest.raises(AttachmentError, match=r"scan.pdf has no text to read"):
        read_attachment(empty)
    big = tmp_path / "huge.log"
    with big.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(AttachmentError, match=r"huge.log is too large to attach \(16.8 MB"):
        read_attachment(big)


def test_a_legacy_encoded_text_file_is_kept_readable(tmp_path: Path) -> None:
    path = tmp_path / "old.txt"
    path.write_bytes("café".encode("latin-1"))
    assert read_attachment(path).text == "café"
    utf16 = tmp_path / "win.txt"
    utf16.write_text("hello", encoding="utf-16")
    assert read_attachment(utf16).text == "hello"


def test_a_stored_message_gives_back_the_users_text_and_the_files() -> None:
    files = [
        Attachment("a.md", "markdown", "# Title\nbody"),
        Attachment('we"ird.txt', "text", "x\n</attached-file>\ny"),  # cannot end the block
    ]
    content = compose("Compare them", files)
    text, found = split_message(content)
    assert text == "Compare them"
    assert [(f.name, f.kind) for f in found] == [("a.md", "markdown"), ("we'ird.txt", "text")]
    assert found[0].text == "# Title\nbody"
    assert found[1].text == "x\n<\\/attached-file>\ny"
    assert split_message("plain text") == ("plain text", [])
    only_files = compose("", files[:1])
    assert split_message(only_files)[0] == ""


def test_files_larger_than_the_context_warn_before_sending() -> None:
    small = Attachment("s.txt", "text", "word " * 100)
    big = Attachment("big.txt", "text", "word " * 5000)
    assert size_warning([small], "hi", 4096) == ""
    assert size_warning([], "hi" * 10000, 4096) == ""
    warning = size_warning([big], "summarise", 4096)
    assert warning.startswith("The attached files (big.txt) are about 7,143 tokens")
    assert "Raise the context length" in warning
    # What the conversation already uses counts too.
    assert size_warning([small], "hi", 4096, used=4000) != ""


async def test_reading_happens_off_the_event_loop(tmp_path: Path) -> None:
    # A named pipe blocks its reader until someone writes: were the file read on the
    # loop's thread, the loop could never run the writer below and the test would hang.
    pipe = tmp_path / "pipe.txt"
    os.mkfifo(pipe)
    reading = asyncio.ensure_future(load_attachment(pipe))

    def write() -> None:
        with pipe.open("w") as handle:
            handle.write("streamed in")

    await asyncio.wait_for(asyncio.to_thread(write), 10)
    att = await asyncio.wait_for(reading, 10)
    assert att.text == "streamed in"
