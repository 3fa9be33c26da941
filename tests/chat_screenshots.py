"""Take the chat screenshots for the README: light and dark, 1400x900 and 800x600.

    Xvfb :14 -screen 0 1400x900x24 &  DISPLAY=:14 openbox &
    DISPLAY=:14 python -m tests.chat_screenshots resources/screenshots

Runs the real window against the test server: a finished conversation with a
regenerated reply (versions), code, a list, a table and a stopped reply.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QWidget

from tests.ollama_server import OllamaTestServer, ReplySpec
from tests.waiting import wait_until

REPLY = """Here is a small **Python** function that reverses the words of a sentence:

```python
def reverse_words(sentence: str) -> str:
    # split at whitespace, walk backwards, glue together
    return " ".join(reversed(sentence.split()))
```

How it works:

1. `split()` cuts the sentence at whitespace.
2. `reversed()` walks the words from the last to the first.
3. `" ".join()` glues them back together.

| input | output |
| --- | --- |
| `hello big world` | `world big hello` |

> It runs in linear time and never changes the words themselves.
"""


async def shoot(window: QWidget, path: Path) -> None:
    await asyncio.sleep(0.4)  # let the window manager place it and the last paint land
    frame = window.frameGeometry()
    crop = f"{frame.width()}x{frame.height()}+{max(0, frame.x())}+{max(0, frame.y())}"
    grab = await asyncio.create_subprocess_exec(
        "import", "-window", "root", "-crop", crop, str(path)
    )
    await grab.wait()


async def take(folder: Path, server: OllamaTestServer, scheme: str) -> None:
    from launcher.app import build_main_window
    from launcher.ui.theme import ThemeMode

    window = build_main_window()
    window.set_theme(ThemeMode(scheme))  # the app's own theme (a palette set before is replaced)
    window.move(0, 0)
    window.resize(1400, 900)
    window.show()
    chat = window.chat
    await wait_until(lambda: chat.model_combo.count() > 1, 10)
    chat.model_combo.setCurrentText("qwen3:8b")
    chat.controller.conversation.settings.think = True
    # An empty chat first (example prompts).
    await shoot(window, folder / f"chat-empty-{scheme}-1400x900.png")
    server.reply = ReplySpec(text="Sure — which language would you like?")
    await wait_until(lambda: chat.attach_button.isEnabled(), 10)
    picture = folder / "sketch.png"
    image = QImage(96, 64, QImage.Format.Format_RGB32)
    image.fill(QColor("#4a90d9"))
    image.save(str(picture))
    chat.attach_files([str(picture)])
    await wait_until(lambda: bool(chat.attachments.text()), 10)
    picture.unlink()
    chat.message.setPlainText("Write a function that reverses the words of a sentence.")
    chat.send()
    await wait_until(lambda: chat._turn is None, 10)
    server.reply = ReplySpec(
        text=REPLY,
        thinking="The user wants a function. Split, reverse, join: simple and linear.",
        chunk_interval=0.03,
    )
    chat.regenerate()
    await wait_until(lambda: chat._turn is None, 10)
    server.reply = ReplySpec(
        text="Sure: " + "a longer explanation follows, " * 200, chunk_interval=0.02
    )
    chat.message.setPlainText("Explain it in more detail?")
    chat.send()
    await wait_until(lambda: "longer explanation" in chat.conversation.toPlainText(), 10)
    chat.stop()
    chat.message.setPlainText("Thanks! Can you add a docstring?\nAnd a test?")
    chat.conversation.scroll_to_bottom()
    await asyncio.sleep(0.2)
    chat.conversation.show_actions(1)  # the hover bar, as under the pointer
    await shoot(window, folder / f"chat-{scheme}-1400x900.png")
    window.resize(800, 600)
    await asyncio.sleep(0.3)
    chat.conversation.scroll_to_bottom()
    await shoot(window, folder / f"chat-{scheme}-800x600.png")
    await window.shutdown()


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "resources/screenshots")
    scheme = sys.argv[2] if len(sys.argv) > 2 else "light"
    folder.mkdir(parents=True, exist_ok=True)
    server = OllamaTestServer()
    server.add_model("llama3.2")
    server.add_model("qwen3:8b", capabilities=["completion", "thinking", "vision"])
    server.start()
    os.environ["OLLAMA_HOST"] = f"127.0.0.1:{server.port}"
    os.environ["OLLAMA_LAUNCHER_CONFIG_DIR"] = tempfile.mkdtemp()
    os.environ["OLLAMA_LAUNCHER_DATA_DIR"] = tempfile.mkdtemp()
    app = QApplication(sys.argv[:1])
    app.setStyle("Fusion")
    import qasync

    qasync.run(take(folder, server, scheme))
    del app
    server.stop()


if __name__ == "__main__":
    main()
