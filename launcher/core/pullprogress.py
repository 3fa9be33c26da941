"""The pure part of a download: fold `/api/pull` lines into honest progress, and name it.

Ollama reports progress per layer, and each layer's percentage runs 0 to 100
again, which is useless as a progress bar. `PullProgressModel` folds the lines
into one overall figure (completed bytes over the layer sizes known so far),
never going backwards (not even across a cancelled-and-resumed request), with
a speed measured over a sliding window. No Qt, no I/O: tested with plain values.
"""

from __future__ import annotations

import enum
import time
from collections import deque
from dataclasses import dataclass

from launcher.ollama import PullProgress

SPEED_WINDOW_SECONDS = 5.0
WEIGHTS_MIN_BYTES = 50_000_000  # a layer this big is the model's weights (or a projector)


class JobState(enum.Enum):
    """Where a download is; the value is what the downloads list says."""

    QUEUED = "Queued"
    RUNNING = "Downloading"
    PAUSED = "Paused"
    DONE = "Done"
    CANCELLED = "Cancelled"
    FAILED = "Failed"


@dataclass
class Layer:
    digest: str
    total: int
    completed: int = 0

    @property
    def fraction(self) -> float:
        return self.completed / self.total if self.total else 0.0

    @property
    def label(self) -> str:
        """What a person calls this layer: by kind and size, never by digest."""
        kind = "model weights" if self.total >= WEIGHTS_MIN_BYTES else "model file"
        return f"{kind} ({size_text(self.total)})"


def size_text(count: float) -> str:
    """1536 -> '1.5 KB' (decimal units, as Ollama and disk vendors use)."""
    value = float(count)
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if abs(value) < 1000 or unit == "PB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} PB"  # pragma: no cover - the loop returns


_PHASES = {
    "pulling manifest": "Fetching the model's manifest",
    "verifying sha256 digest": "Verifying the download",
    "writing manifest": "Installing",
    "removing unused layers": "Cleaning up",
    "removing any unused layers": "Cleaning up",
    "success": "Installed",
}


class PullProgressModel:
    """Folds pull lines into overall progress, speed and time left (no Qt, no I/O).

    One model lives as long as its download, across retries and pauses, so
    the overall figure and each layer only ever move forward.

    Attributes:
        layers: per-layer progress in the order the layers appeared.
        status: the server's latest status text (technical: it names digests).
    """

    def __init__(self) -> None:
        self.layers: dict[str, Layer] = {}
        self.status = "waiting"
        self._resumed: set[str] = set()
        self._overall = 0.0
        self._samples: deque[tuple[float, int]] = deque()
        self._first_seen: dict[str, int] = {}
        self._current = ""
        self._fresh = False

    def feed(self, line: PullProgress, now: float | None = None) -> bool:
        """Take one line; True when it moved the download forward (bytes or phase)."""
        now = time.monotonic() if now is None else now
        before = (self.completed, self.status, len(self.layers))
        self.status = line.status
        if line.digest and line.total:
            self._current = line.digest
            layer = self.layers.get(line.digest)
            completed = line.completed or 0
            if layer is None:
                layer = self.layers[line.digest] = Layer(line.digest, line.total)
                if completed > 0:
                    # The first line of a layer already has bytes: they were on
                    # disk from an earlier (cancelled) pull.
                    self._resumed.add(line.digest)
                    self._first_seen[line.digest] = completed
            elif self._fresh and 0 < completed < line.total:
                self._resumed.add(line.digest)  # a retried request carried on from disk
            self._fresh = False
            layer.total = line.total
            layer.completed = max(layer.completed, min(completed, line.total))
        self._samples.append((now, self.downloaded))
        while len(self._samples) > 2 and now - self._samples[0][0] > SPEED_WINDOW_SECONDS:
            self._samples.popleft()
        fraction = self.completed / self.total if self.total else 0.0
        self._overall = max(self._overall, fraction)
        return (self.completed, self.status, len(self.layers)) != before

    def restart(self) -> None:
        """A new request begins (retry or resume): the speed starts afresh, bytes stay."""
        self._samples.clear()
        self._fresh = True

    @property
    def resuming(self) -> bool:
        """A layer went on from bytes already on disk (an earlier or retried request)."""
        return bool(self._resumed)

    @property
    def completed(self) -> int:
        return sum(layer.completed for layer in self.layers.values())

    @property
    def total(self) -> int:
        return sum(layer.total for layer in self.layers.values())

    @property
    def remaining(self) -> int:
        """Bytes still to fetch for the layers known so far."""
        return max(0, self.total - self.completed)

    @property
    def downloading(self) -> bool:
        """Bytes are still expected (not before the first layer, not while verifying)."""
        return self.status.startswith("pulling ") and self.status != "pulling manifest"

    @property
    def downloaded(self) -> int:
        """Bytes fetched by this pull (not counting what was on disk already)."""
        return self.completed - sum(self._first_seen.values())

    @property
    def overall(self) -> float:
        """0..1, never going backwards even when a new layer grows the total."""
        return self._overall

    def finish(self) -> None:
        self._overall = 1.0

    @property
    def speed(self) -> float | None:
        """Bytes per second over the last few seconds; None until measurable."""
        if len(self._samples) < 2:
            return None
        (t0, b0), (t1, b1) = self._samples[0], self._samples[-1]
        if t1 - t0 < 0.25:
            return None
        return max(0.0, (b1 - b0) / (t1 - t0))

    @property
    def eta(self) -> float | None:
        """Seconds left for the layers known so far; None when unknown."""
        speed = self.speed
        if not speed or not self.total:
            return None
        return max(0.0, (self.total - self.completed) / speed)

    def phase(self) -> str:
        """The server's status in words: layers by kind and size, never by digest."""
        status = self.status
        if status in _PHASES:
            return _PHASES[status]
        if status.startswith("pulling ") and self._current in self.layers:
            # Ollama fetches layers in parallel: name the biggest one still coming, so
            # the line does not flicker between layers.
            open_layers = [x for x in self.layers.values() if x.completed < x.total]
            layer = max(open_layers, key=lambda x: x.total, default=self.layers[self._current])
            verb = "Resuming" if layer.digest in self._resumed else "Downloading"
            return f"{verb} {layer.label}"
        if status == "waiting":
            return "Waiting"
        return status[:1].upper() + status[1:]
