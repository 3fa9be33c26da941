"""A test Ollama in a process of its own whose partial downloads live in a file, as blobs do.

Why: fault case 2 SIGKILLs the server mid-pull. A real Ollama keeps the partial
blobs on disk and the next pull resumes from them; here the byte counts are
written to a JSON file (atomically) each time they grow, before the progress
line is sent, and read back at start. Run: ``python -m tests.faults.pull_server
PORT STATE_FILE``.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from tests.ollama_server import OllamaTestServer

PULL_NAME = "big"
PULL_SIZE = 4_000_000_000
PULL_INTERVAL = 0.03


class BlobsOnDisk(dict[str, int]):
    """The server's byte counts, written through to a file as blobs would be."""

    def __init__(self, path: Path) -> None:
        super().__init__(json.loads(path.read_text()) if path.exists() else {})
        self.path = path
        self.tmp = path.with_name(path.name + ".tmp")

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self.tmp.write_text(json.dumps(dict(self)))
        os.replace(self.tmp, self.path)


def main() -> None:
    port, state = int(sys.argv[1]), Path(sys.argv[2])
    server = OllamaTestServer(port=port)
    server.add_model("llama3.2")
    server.add_pull(PULL_NAME, size=PULL_SIZE, interval=PULL_INTERVAL)
    server.downloaded = BlobsOnDisk(state)
    server.start()
    signal.pause()  # serve until a signal ends the process


if __name__ == "__main__":
    main()
