"""An import's memory stays flat whatever the file's size: measured in a real child process.

The child runs one `BuildJob` (hash, upload, create) against the test server and reports
its resident memory before and at every block; the server (which keeps the whole body) runs
in this process, so only the launcher's side is measured.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.ollama_server import OllamaTestServer

CHILD = """
import asyncio, json, sys
from pathlib import Path
from launcher.core.modelimport import BuildJob, ModelRecipe
from launcher.core.tasks import BackgroundTasks
from launcher.ollama import OllamaClient

def rss_kib():  # resident now (a peak counter would start at the parent's peak at fork)
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1])

async def main():
    async with OllamaClient(sys.argv[1]) as client:
        job = BuildJob(client, ModelRecipe("big", path=Path(sys.argv[2])))
        samples = []
        job.changed.connect(lambda: samples.append(rss_kib()))  # at every block
        before = rss_kib()
        job.start(BackgroundTasks())
        await job.wait()
        print(json.dumps({"before": before, "peak": max(samples), "samples": len(samples),
                          "ok": job.outcome.ok, "message": job.outcome.message}))

asyncio.run(main())
"""
SIZE = 96 * (1 << 20)


def test_importing_a_large_file_keeps_memory_flat(
    ollama_server: OllamaTestServer, tmp_path: Path
) -> None:
    path = tmp_path / "big.gguf"
    with path.open("wb") as handle:
        handle.write(b"GGUF")
        for _ in range(SIZE // (1 << 20)):
            handle.write(os.urandom(1 << 20))
    done = subprocess.run(
        [sys.executable, "-c", CHILD, ollama_server.url, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["ok"], report["message"]
    assert ollama_server.blobs and "big:latest" in ollama_server.models
    assert report["samples"] >= 2 * (SIZE >> 20)  # hashing and uploading, block by block
    grown_mib = (report["peak"] - report["before"]) / 1024
    assert grown_mib < 24, f"memory grew by {grown_mib:.0f} MiB for a {SIZE >> 20} MiB file"
