"""Runs the real launcher window in a child process and sends one message.

Used by the kill test: the test SIGKILLs this process mid-reply and then checks
what the next start finds in the conversation store. Prints `sent` once the
message is on its way.
"""

from __future__ import annotations

import asyncio
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

from tests.waiting import wait_until


async def drive(text: str) -> None:
    from launcher.app import build_main_window

    window = build_main_window()
    await wait_until(lambda: window.chat.model_combo.count() > 0, 20)
    window.chat.message.setPlainText(text)
    window.chat.send()
    print("sent", flush=True)
    await asyncio.Event().wait()  # until killed


def main() -> None:
    import qasync

    app = QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    qasync.run(drive(sys.argv[1] if len(sys.argv) > 1 else "hello"))


if __name__ == "__main__":
    main()
