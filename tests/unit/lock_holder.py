"""A second process that holds a conversation database's write lock until told to let go.

Run as ``python -m tests.unit.lock_holder DB``: it prints ``locked`` once it holds
the lock (SQLite ``BEGIN IMMEDIATE``, as a second launcher or a backup tool would),
and commits and exits when a line arrives on stdin (or stdin closes).
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path


def main() -> int:
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    print("locked", flush=True)
    sys.stdin.readline()
    conn.execute("COMMIT")
    conn.close()
    return 0


class LockHolder:
    """The lock-holding child, for tests: `release()` lets go and waits for the exit."""

    def __init__(self, db: Path) -> None:
        repo = Path(__file__).resolve().parents[2]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.unit.lock_holder", str(db)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=repo,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # blocks until the child holds the lock
        if line.strip() != "locked":
            self.proc.kill()
            raise RuntimeError(f"lock holder failed to start: {line!r}")

    def release(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.write("\n")
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


if __name__ == "__main__":
    sys.exit(main())
