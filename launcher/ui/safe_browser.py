"""The view for model output: a rich-text browser that loads nothing and opens little.

The text comes from a model, i.e. it is untrusted. As a line of defence the browser
*and* its document refuse every resource request (``loadResource``). Refusing only in
``QTextBrowser.loadResource`` is not enough: when the browser returns nothing,
``QTextDocument.loadResource`` falls back to reading local files and decoding
``data:`` URLs itself, so the document is replaced by :class:`SafeDocument`, which
never calls the base implementation. Links are only followed on an explicit click,
only for http/https/mailto, and only through the system browser.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication, QTextDocument
from PySide6.QtWidgets import QTextBrowser, QWidget

#: Internal link scheme of the "Copy" links under code blocks: ``copy-code:N``.
COPY_SCHEME = "copy-code"
#: The only schemes that are ever handed to the system (and only on a click).
EXTERNAL_SCHEMES = frozenset({"http", "https", "mailto"})


def _open_external(url: QUrl) -> None:
    """Hand a URL to the system browser; a separate function so tests can stub it."""
    QDesktopServices.openUrl(url)


class SafeDocument(QTextDocument):
    """A document that never loads any resource.

    ``QTextDocument.loadResource`` reads local files and decodes ``data:`` URLs when the
    owning widget returns nothing, so merely overriding ``QTextBrowser.loadResource`` would
    still let ``![x](file:///...)`` pull a local file into the view. This override never
    calls the base implementation; refusals are reported to ``refused`` for tests/logging.
    """

    def __init__(self, parent: QObject | None = None, refused: list[QUrl] | None = None) -> None:
        super().__init__(parent)
        self._refused = refused

    def loadResource(self, type: int, name: QUrl | str, /) -> Any:
        if self._refused is not None:
            self._refused.append(QUrl(name))
        return None


class SafeTextBrowser(QTextBrowser):
    """Read-only rich-text view for model output that loads nothing and opens little.

    * every resource request is refused and recorded in :attr:`blocked_resource_requests`;
    * a click on an http/https/mailto link opens the system browser (or, when
      :attr:`open_links_externally` is False, emits :attr:`linkActivated` instead);
      all other schemes (file:, javascript:, relative paths, ...) are ignored;
    * ``copy-code:N`` links copy code block N to the clipboard and emit :attr:`codeCopied`.
    """

    codeCopied = Signal(int)
    linkActivated = Signal(QUrl)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        #: URLs whose loading was refused (the document asked, nothing was returned).
        self.blocked_resource_requests: list[QUrl] = []
        self._open_links_externally = True
        self._codes: dict[int, str] = {}
        self._next_code_id = 0
        self._provisional = 0  # ids from _next_code_id on that belong to the streaming tail
        document = SafeDocument(self, self.blocked_resource_requests)
        # Streaming replaces the tail many times per second; an undo history would keep
        # every replaced version alive for nothing.
        document.setUndoRedoEnabled(False)
        self.setDocument(document)
        self.setReadOnly(True)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.anchorClicked.connect(self._on_anchor_clicked)

    # -- safety -------------------------------------------------------------------------

    def loadResource(self, type: int, name: QUrl | str, /) -> Any:
        """Refuse everything: model output must not make us read files or the network."""
        self.blocked_resource_requests.append(QUrl(name))
        return None

    @property
    def open_links_externally(self) -> bool:
        """Whether clicked web links go to the system browser (else: :attr:`linkActivated`)."""
        return self._open_links_externally

    @open_links_externally.setter
    def open_links_externally(self, value: bool) -> None:
        self._open_links_externally = bool(value)

    def _on_anchor_clicked(self, url: QUrl) -> None:
        scheme = url.scheme().lower()
        if scheme == COPY_SCHEME:
            self.copy_code(url.path())
        elif scheme in EXTERNAL_SCHEMES:
            if self._open_links_externally:
                _open_external(url)
            else:
                self.linkActivated.emit(url)
        # Anything else (file:, qrc:, javascript:, relative) is deliberately ignored.

    # -- code blocks ----------------------------------------------------------------------

    def code_text(self, index: int) -> str | None:
        """Source text of code block ``index`` (the N of its ``copy-code:N`` link)."""
        return self._codes.get(index)

    @property
    def code_block_count(self) -> int:
        """Number of code blocks committed so far (ids ``0 .. count-1``)."""
        return self._next_code_id

    def copy_code(self, index: int | str) -> bool:
        """Put code block ``index`` on the clipboard; False if there is no such block."""
        try:
            key = int(index)
        except ValueError:
            return False
        code = self._codes.get(key)
        if code is None:
            return False
        QGuiApplication.clipboard().setText(code)
        self.codeCopied.emit(key)
        return True

    def commit_codes(self, codes: list[str]) -> None:
        """Register code blocks of a finished segment (ids are allocated in order)."""
        self.set_provisional_codes([])
        for code in codes:
            self._codes[self._next_code_id] = code
            self._next_code_id += 1

    def set_provisional_codes(self, codes: list[str]) -> None:
        """Code blocks of the streaming tail: ids after the committed ones, replaced often
        (only the tail's own ids are touched: the cost does not grow with the transcript)."""
        for offset in range(self._provisional):
            self._codes.pop(self._next_code_id + offset, None)
        for offset, code in enumerate(codes):
            self._codes[self._next_code_id + offset] = code
        self._provisional = len(codes)

    def forget_codes(self, first_id: int = 0) -> None:
        """The document was cleared: its code blocks go with it; ids start at `first_id`."""
        self._codes.clear()
        self._next_code_id = first_id
        self._provisional = 0

    def adopt_codes(self, other: SafeTextBrowser) -> None:
        """Take the code blocks `other` rendered (with ids apart from ours): the earlier
        messages of a long transcript are rendered apart, then moved in front."""
        self._codes.update(other._codes)
