"""A test Ollama in a process of its own whose partial downloads live in a file, as blobs do.

Why: fault case 2 SIGKILLs the server mid-pull. A real Ollama keeps the partial
blobs on disk and the next pull resumes from them; here the byte counts are
written to a JSON file every 50 ms (a kill loses at most that much, like a
write cache) and read back at start. Run: ``python -m tests.faults.pull_server
PORT STATE_FILE``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from tests.ollama_server import OllamaTestServer

PULL_NAME = "big"
PULL_SIZE = 4_000_000_000
PULL_INTERVAL = 0.03


def main() -> None:
    port, state = int(sys.argv[1]), Path(sys.argv[2])
    server = OllamaTestServer(port=port)
    server.add_model("llama3.2")
    server.add_pull(PULL_NAME, size=PULL_SIZE, interval=PULL_INTERVAL)
    if state.exists():
        server.downloaded.update(json.loads(state.read_text()))
    server.start()
    tmp = state.with_name(state.name + ".tmp")
    while True:  # the process ends by a signal
        try:
            snapshot = dict(server.downloaded)
        except RuntimeError:  # changed size while copied: take the next one
            continue
        tmp.write_text(json.dumps(snapshot))
        os.replace(tmp, state)
        time.sleep(0.05)


if __name__ == "__main__":
    main()
