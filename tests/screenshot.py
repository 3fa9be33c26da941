"""Take the README screenshots: the real window on a real X server (Xvfb + a window manager).

    python -m tests.screenshot OUT.png [--size 1400x900] [--theme light|dark]
                                       [--first-run | --no-models]

The default scene: a reply is streaming and a download is in progress. With
--first-run there is no Ollama at all (no server, no binary), as a new user
without Ollama sees the launcher. With --no-models the server runs but has no
models yet: the new chat offers a few small models to download.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile

from PySide6.QtWidgets import QApplication

from tests.ollama_server import OllamaTestServer, ReplySpec
from tests.waiting import wait_until

REPLY = """Here is a small **Python** function that reverses the words of a sentence:

```python
def reverse_words(sentence: str) -> str:
    return " ".join(reversed(sentence.split()))
```

How it works:

1. `split()` cuts the sentence at whitespace.
2. `reversed()` walks the words from the last to the first.
3. `" ".join()` glues them back together with single spaces.

| input | output |
| --- | --- |
| `hello big world` | `world big hello` |

It runs in linear time in the length of the sentence, and it never changes the words themselves.
"""


async def take(
    path: str, size: tuple[int, int], theme: str, first_run: bool, no_models: bool
) -> None:
    from launcher.app import build_main_window
    from launcher.ui.theme import ThemeMode

    window = build_main_window()
    window.set_theme(ThemeMode(theme))
    window.move(0, 0)
    screen = window.screen().availableGeometry()
    if size[0] >= screen.width() and size[1] >= screen.height():
        window.showMaximized()  # the whole screen, as a user would have it, frame included
    else:
        window.resize(*size)
        window.show()
    if first_run:
        await wait_until(lambda: window.notice.isVisible(), 10)
    elif no_models:
        await wait_until(lambda: window.chat.empty.downloads[0].isVisible(), 10)
    else:
        await wait_until(lambda: window.chat.model_combo.count() > 0, 10)
        window.models.pull_name.setText("qwen3:8b")
        window.models.pull()
        window.chat.message.setPlainText(
            "Write a Python function that reverses the words of a sentence."
        )
        window.chat.send()
        await wait_until(
            lambda: (
                "never changes" in window.chat.conversation.toPlainText()
                or "linear time" in window.chat.conversation.toPlainText()
            ),
            30,
        )
    await asyncio.sleep(0.5)  # let the last paint land before the picture
    grab = await asyncio.create_subprocess_exec("import", "-window", str(int(window.winId())), path)
    await grab.wait()
    await window.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default="screenshot.png")
    parser.add_argument("--size", default="1400x900")
    parser.add_argument("--theme", choices=["light", "dark", "system"], default="light")
    parser.add_argument("--first-run", action="store_true")
    parser.add_argument("--no-models", action="store_true")
    args = parser.parse_args()
    width, height = (int(n) for n in args.size.split("x"))
    os.environ["OLLAMA_LAUNCHER_CONFIG_DIR"] = tempfile.mkdtemp()
    os.environ["OLLAMA_LAUNCHER_DATA_DIR"] = tempfile.mkdtemp()
    server = None
    if args.first_run:
        os.environ.pop("OLLAMA_HOST", None)
        paths = os.environ.get("PATH", "").split(os.pathsep)
        os.environ["PATH"] = os.pathsep.join(
            p for p in paths if p and not os.path.exists(os.path.join(p, "ollama"))
        )
    elif args.no_models:
        server = OllamaTestServer()
        server.start()
        os.environ["OLLAMA_HOST"] = f"127.0.0.1:{server.port}"
    else:
        server = OllamaTestServer()
        server.add_model("qwen3:8b", capabilities=["completion", "thinking"])
        server.add_model("llama3.2")
        server.reply = ReplySpec(
            text=REPLY + " " + "More detail follows. " * 200, chunk_interval=0.02
        )
        server.add_pull("qwen3:8b", size=5_225_376_047, interval=0.06, bytes_per_tick=26_000_000)
        server.start()
        os.environ["OLLAMA_HOST"] = f"127.0.0.1:{server.port}"
    app = QApplication(sys.argv[:1])
    import qasync

    qasync.run(take(args.path, (width, height), args.theme, args.first_run, args.no_models))
    del app
    if server is not None:
        server.stop()


if __name__ == "__main__":
    main()
