"""Take the README screenshot: the real window on a real X server (run under xvfb-run).

    xvfb-run -s "-screen 0 1100x800x24" python -m tests.screenshot resources/screenshot.png

A reply is streaming and a download is in progress when the picture is taken.
"""

from __future__ import annotations

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


async def take(path: str) -> None:
    from launcher.app import build_main_window

    window = build_main_window()
    window.resize(1060, 760)
    window.move(20, 20)
    window.show()
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
    await asyncio.sleep(0.3)  # let the last paint land before the picture
    grab = await asyncio.create_subprocess_exec("import", "-window", "root", path)
    await grab.wait()
    await window.shutdown()


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else "screenshot.png"
    server = OllamaTestServer()
    server.add_model("qwen3:8b", capabilities=["completion", "thinking"])
    server.add_model("llama3.2")
    server.reply = ReplySpec(text=REPLY + " " + "More detail follows. " * 200, chunk_interval=0.02)
    server.add_pull("qwen3:8b", size=5_225_376_047, interval=0.06, bytes_per_tick=26_000_000)
    server.start()
    os.environ["OLLAMA_HOST"] = f"127.0.0.1:{server.port}"
    os.environ["OLLAMA_LAUNCHER_CONFIG_DIR"] = tempfile.mkdtemp()
    os.environ["OLLAMA_LAUNCHER_DATA_DIR"] = tempfile.mkdtemp()
    app = QApplication(sys.argv[:1])
    import qasync

    qasync.run(take(path))
    del app
    server.stop()


if __name__ == "__main__":
    main()
