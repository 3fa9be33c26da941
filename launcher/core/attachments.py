"""Files in a message: read text, code, Markdown, CSV, JSON and PDF into delimited blocks.

A model reads text only, so an attached file becomes text inside the user's
message, in a block that names the file:

    <attached-file name="notes.md" type="markdown">
    ...the file's text...
    </attached-file>

Keeping the file inside the message content (rather than in a side table) is
what makes attachments stored, exported, imported, branched and resent with
the conversation with no extra machinery; `split_message` recovers the
user's own text and the files from a stored message, for the chips the UI
shows instead of the raw blocks.

Reading can be slow (a large PDF) and touches the disk: `load_attachment` runs
it in a worker thread. Every failure is an `AttachmentError` whose message is
written for a person.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from launcher.core.context import estimate_tokens

log = logging.getLogger(__name__)

#: Files larger than this are refused before reading (a model could not use them anyway).
MAX_FILE_BYTES: Final = 16 * 1024 * 1024
#: Extracted text longer than this is refused (about 500,000 tokens).
MAX_TEXT_CHARS: Final = 2_000_000

_KINDS: Final[dict[str, str]] = {
    ".txt": "text",
    ".text": "text",
    ".log": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".rst": "text",
    ".csv": "csv",
    ".tsv": "csv",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
    ".pdf": "pdf",
}
_CODE: Final = frozenset(
    {
        ".py",
        ".pyi",
        ".js",
        ".mjs",
        ".ts",
        ".tsx",
        ".jsx",
        ".c",
        ".h",
        ".cc",
        ".cpp",
        ".hpp",
        ".cs",
        ".java",
        ".kt",
        ".go",
        ".rs",
        ".rb",
        ".php",
        ".swift",
        ".m",
        ".scala",
        ".sh",
        ".bash",
        ".zsh",
        ".ps1",
        ".bat",
        ".sql",
        ".html",
        ".htm",
        ".css",
        ".scss",
        ".xml",
        ".yaml",
        ".yml",
        ".toml",
        ".ini",
        ".cfg",
        ".conf",
        ".lua",
        ".pl",
        ".r",
        ".jl",
        ".dart",
        ".vue",
        ".svelte",
        ".tex",
        ".diff",
        ".patch",
        ".dockerfile",
        ".mk",
        ".cmake",
        ".gradle",
        ".proto",
        ".graphql",
        ".env",
        ".properties",
    }
)
_CODE_NAMES: Final = frozenset({"Dockerfile", "Makefile", "CMakeLists.txt", "Justfile"})

OPEN_TAG: Final = "<attached-file"
CLOSE_TAG: Final = "</attached-file>"
_BLOCK = re.compile(
    r'<attached-file name="(?P<name>[^"\n]*)" type="(?P<kind>[a-z]+)">\n'
    r"(?P<text>.*?)\n</attached-file>",
    re.S,
)


class AttachmentError(Exception):
    """A file that cannot be attached; the message says why and what to do."""


@dataclass(frozen=True)
class Attachment:
    """One file's extracted text, ready to go into a message.

    Attributes:
        name: the file's name (no folder: the model and the chip need no more).
        kind: text, code, markdown, csv, json or pdf.
        text: the extracted text.
        size: the file's size on disk in bytes (0 when not read from a file).
        pages: a PDF's page count, else None.
    """

    name: str
    kind: str
    text: str
    size: int = 0
    pages: int | None = None

    @property
    def tokens(self) -> int:
        """A rough estimate of what the file costs in the context."""
        return estimate_tokens(self.text)

    def block(self) -> str:
        """The delimited block that goes into the message."""
        name = self.name.replace('"', "'").replace("\n", " ")
        # A line that would end the block early is defused (seen only by the model).
        text = self.text.replace(f"\n{CLOSE_TAG}", "\n<\\/attached-file>")
        if text.startswith(CLOSE_TAG):
            text = "<\\/" + text[2:]
        return f'{OPEN_TAG} name="{name}" type="{self.kind}">\n{text}\n{CLOSE_TAG}'

    def chip(self) -> str:
        """The chip's label: name and a size a person reads."""
        if self.pages is not None:
            return f"{self.name} ({self.pages} page{'s' if self.pages != 1 else ''})"
        return f"{self.name} ({_human_size(self.size or len(self.text.encode()))})"


def kind_of(path: Path) -> str | None:
    """The attachment kind for a file name, or None when it is not a text-like file."""
    suffix = path.suffix.lower()
    if suffix in _KINDS:
        return _KINDS[suffix]
    if suffix in _CODE or path.name in _CODE_NAMES:
        return "code"
    return None


def read_attachment(path: str | os.PathLike[str]) -> Attachment:
    """Read a file as an Attachment (blocking: call it from a worker thread).

    A file of unknown type is accepted when it decodes as UTF-8 text without
    NUL bytes (a README without an extension, a config file); a binary file is
    refused. Raises AttachmentError.
    """
    file = Path(path)
    name = file.name
    try:
        size = file.stat().st_size
    except FileNotFoundError:
        raise AttachmentError(f"{name} could not be attached: the file is gone.") from None
    except OSError as exc:
        raise AttachmentError(
            f"{name} could not be attached: {(exc.strerror or 'it cannot be read').lower()}."
        ) from exc
    if file.is_dir():
        raise AttachmentError(f"{name} is a folder — attach the files inside it instead.")
    if size > MAX_FILE_BYTES:
        raise AttachmentError(
            f"{name} is too large to attach ({_human_size(size)}; the limit is "
            f"{_human_size(MAX_FILE_BYTES)}) — attach the part you need."
        )
    kind = kind_of(file)
    try:
        if kind == "pdf":
            text, pages = _read_pdf(file)
        else:
            text, pages = _read_text(file, kind), None
            kind = kind or "text"
    except OSError as exc:
        raise AttachmentError(
            f"{name} could not be attached: {(exc.strerror or 'it cannot be read').lower()}."
        ) from exc
    if len(text) > MAX_TEXT_CHARS:
        raise AttachmentError(
            f"{name} holds too much text to attach ({len(text):,} characters) — attach the "
            "part you need."
        )
    if kind == "json":
        text = _tidy_json(text)
    return Attachment(name, kind, text, size, pages)


async def load_attachment(path: str | os.PathLike[str]) -> Attachment:
    """`read_attachment` in a worker thread (the UI thread never reads a file)."""
    return await asyncio.to_thread(read_attachment, path)


def _read_text(file: Path, kind: str | None) -> str:
    data = file.read_bytes()
    refusal = (
        f"{file.name} is not a text file — attach text, code, Markdown, CSV, JSON or PDF files."
    )
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 with its byte-order mark
        try:
            return data.decode("utf-16").replace("\r\n", "\n")
        except UnicodeDecodeError:
            raise AttachmentError(refusal) from None
    if b"\x00" in data[:8192]:
        raise AttachmentError(refusal)
    try:
        return data.decode("utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError:
        if kind is None:
            raise AttachmentError(refusal) from None
    # A known text type in a legacy encoding: keep it readable rather than refuse it.
    return data.decode("latin-1").replace("\r\n", "\n")


def _read_pdf(file: Path) -> tuple[str, int]:
    """The text of every page (pypdf: pure Python, well kept, no external tools)."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(file)
        if reader.is_encrypted:
            # Many "protected" PDFs only restrict printing: an empty password opens them.
            with contextlib.suppress(Exception):
                reader.decrypt("")
        pages: list[str] = []
        for number, page in enumerate(reader.pages, start=1):
            text = (page.extract_text() or "").strip()
            pages.append(f"[Page {number}]\n{text}" if text else f"[Page {number}]")
    except OSError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, NotImplementedError) as exc:
        log.warning("could not read PDF %s: %s: %s", file.name, type(exc).__name__, exc)
        raise AttachmentError(
            f"{file.name} could not be read as a PDF — it may be damaged or password-"
            "protected. Open it and save a copy, or attach its text."
        ) from exc
    if not any("\n" in p for p in pages):
        raise AttachmentError(
            f"{file.name} has no text to read (it may be scanned images) — attach a PDF "
            "with text, or copy its text into the message."
        )
    return "\n\n".join(pages), len(pages)


def _tidy_json(text: str) -> str:
    """Leave JSON as written; only a whole document on one huge line is indented."""
    if "\n" in text.strip() or len(text) < 2000:
        return text
    try:
        return json.dumps(json.loads(text), indent=1, ensure_ascii=False)
    except ValueError:
        return text


def compose(text: str, attachments: list[Attachment]) -> str:
    """The message content: the files' blocks first, then what the user wrote."""
    blocks = [a.block() for a in attachments]
    if text.strip():
        blocks.append(text)
    return "\n\n".join(blocks)


@dataclass(frozen=True)
class AttachedFile:
    """A file found in a stored message (for its chip)."""

    name: str
    kind: str
    text: str

    def chip(self) -> str:
        return Attachment(self.name, self.kind, self.text).chip()


def split_message(content: str) -> tuple[str, list[AttachedFile]]:
    """(the user's own text, the files) of a message written by `compose`."""
    if OPEN_TAG not in content:
        return content, []
    files = [
        AttachedFile(m.group("name"), m.group("kind"), m.group("text"))
        for m in _BLOCK.finditer(content)
    ]
    text = _BLOCK.sub("", content).strip("\n")
    return text, files


def size_warning(attachments: list[Attachment], text: str, limit: int, used: int = 0) -> str:
    """A warning before sending when the files would not fit the context, else "".

    `used` is what the conversation already takes (the last request's tokens).
    """
    if not attachments:
        return ""
    files = sum(a.tokens for a in attachments)
    total = used + files + estimate_tokens(text)
    if total <= limit:
        return ""
    names = ", ".join(a.name for a in attachments)
    return (
        f"The attached files ({names}) are about {files:,} tokens, more than the context "
        f"({limit:,} tokens) holds with this conversation: the model will not see all of it. "
        "Raise the context length in the options, or attach less."
    )


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} bytes"
