"""Take the README screenshot of the chat extras: a web search step opened, the Context
label, the switches, a file chip, and a word's token-probability popup.

    Xvfb :20 -screen 0 1400x900x24 &  DISPLAY=:20 openbox &
    DISPLAY=:20 python -m tests.chatplus_screenshot resources/screenshots

Runs the real window against the test server and the web search stand-in.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QPoint, QUrl
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QApplication, QToolTip, QWidget

from tests.ollama_server import OllamaTestServer, ReplySpec
from tests.ollama_server.websearch import WebRequest, WebSearchServer
from tests.waiting import wait_until

ANSWER = (
    "Ollama **0.12** added a hosted *web search* API: a model that can call tools asks "
    "for a search, the launcher runs it and sends the results back, and the model "
    "answers with sources."
)


async def shoot(window: QWidget, path: Path) -> None:
    await asyncio.sleep(0.5)  # let the window manager place it and the last paint land
    frame = window.frameGeometry()
    crop = f"{frame.width()}x{frame.height()}+{max(0, frame.x())}+{max(0, frame.y())}"
    grab = await asyncio.create_subprocess_exec(
        "import", "-window", "root", "-crop", crop, str(path)
    )
    await grab.wait()


async def take(folder: Path, server: OllamaTestServer, web: WebSearchServer) -> None:
    from launcher.app import build_main_window

    window = build_main_window()
    window.move(0, 0)
    window.resize(1400, 900)
    window.show()
    chat = window.chat
    wiring = window.history_wiring.chatplus
    await wait_until(lambda: chat.model_combo.count() > 0, 10)
    chat.model_combo.setCurrentText("qwen3:8b")
    await wait_until(wiring.switches.web_search.isEnabled, 10)
    wiring.switches.web_search.setChecked(True)
    wiring.switches.logprobs.setChecked(True)
    wiring.switches.tint.setChecked(True)
    server.reply = ReplySpec(
        text="",
        tool_calls=[
            {"function": {"name": "web_search", "arguments": {"query": "ollama 0.12 release"}}}
        ],
    )

    def answer(_: WebRequest) -> None:
        server.reply = ReplySpec(text=ANSWER, prompt_eval_count=1480, chunk_interval=0.01)

    web.on_request = answer
    chat.message.setPlainText("What did the latest Ollama release add?")
    chat.send()
    await wait_until(lambda: chat._turn is None, 20)
    await asyncio.sleep(0.3)
    chat.conversation.anchorClicked.emit(QUrl("toolstep:1/0"))  # open the step
    notes = folder / "release-notes.md"
    notes.write_text("# Release notes\n\n- web search\n- faster model loading\n")
    wiring.files.attach([str(notes)])
    await wait_until(lambda: bool(wiring.chips.attachments), 10)
    notes.unlink()
    chat.message.setPlainText("Compare with these notes.")
    view = chat.conversation
    await asyncio.sleep(0.3)
    text = view.toPlainText()
    cursor = QTextCursor(view.document())
    cursor.setPosition(text.rindex("hosted") + 2)
    rect = view.cursorRect(cursor)
    word = next(w for w in wiring.marks.words.values() if w.text == "hosted")
    from launcher.core.tokenprobs import describe

    QToolTip.showText(
        view.viewport().mapToGlobal(rect.bottomLeft() + QPoint(0, 6)), describe(word), view
    )
    await shoot(window, folder / "chat-tools-1400x900.png")
    await window.shutdown()


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "resources/screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    server = OllamaTestServer()
    server.add_model("qwen3:8b", capabilities=["completion", "tools", "thinking"])
    server.start()
    web = WebSearchServer(
        results=[
            {
                "title": "Ollama 0.12: web search",
                "url": "https://ollama.com/blog/web-search",
                "content": "A web search API for models that can call tools.",
            },
            {
                "title": "Release notes",
                "url": "https://github.com/ollama/ollama/releases",
                "content": "Web search and web fetch, faster loading.",
            },
        ]
    ).start()
    os.environ["OLLAMA_HOST"] = f"127.0.0.1:{server.port}"
    os.environ["OLLAMA_API_KEY"] = web.key
    os.environ["OLLAMA_LAUNCHER_WEB_BASE"] = web.url
    os.environ["OLLAMA_LAUNCHER_CONFIG_DIR"] = tempfile.mkdtemp()
    os.environ["OLLAMA_LAUNCHER_DATA_DIR"] = tempfile.mkdtemp()
    app = QApplication(sys.argv[:1])
    app.setStyle("Fusion")
    import qasync

    qasync.run(take(folder, server, web))
    del app
    web.stop()
    server.stop()


if __name__ == "__main__":
    main()
