"""Model downloads: a queue of pulls with honest progress, speed, time left, cancel and resume.

Ollama reports progress per layer, and each layer's percentage runs 0 to 100
again, which is useless as a progress bar. A PullJob folds the lines into one
overall figure (sum of completed bytes over the sum of the layer sizes known
so far), never going backwards, with a speed measured over a sliding window.
Cancel closes the connection (Ollama has no cancel endpoint); the server keeps
the partial files, so the next pull of the same model resumes.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import time
from collections import deque
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from launcher.core.chat import describe_error
from launcher.ollama import OllamaClient, OllamaError, PullProgress

SPEED_WINDOW_SECONDS = 5.0


class JobState(enum.Enum):
    QUEUED = "Queued"
    RUNNING = "Downloading"
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


class PullProgressModel:
    """Folds pull lines into overall progress, speed and time left (no Qt, no I/O).

    Attributes:
        layers: per-layer progress in the order the layers appeared.
        status: the server's latest status text.
        resuming: a layer started with bytes already on disk.
    """

    def __init__(self) -> None:
        self.layers: dict[str, Layer] = {}
        self.status = "waiting"
        self.resuming = False
        self._overall = 0.0
        self._samples: deque[tuple[float, int]] = deque()
        self._first_seen: dict[str, int] = {}

    def feed(self, line: PullProgress, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self.status = line.status
        if line.digest and line.total:
            layer = self.layers.get(line.digest)
            completed = line.completed or 0
            if layer is None:
                layer = self.layers[line.digest] = Layer(line.digest, line.total)
                if completed > 0:
                    # The first line of a layer already has bytes: they were on
                    # disk from an earlier (cancelled) pull.
                    self.resuming = True
                    self._first_seen[line.digest] = completed
            layer.total = line.total
            layer.completed = max(layer.completed, min(completed, line.total))
        self._samples.append((now, self.downloaded))
        while len(self._samples) > 2 and now - self._samples[0][0] > SPEED_WINDOW_SECONDS:
            self._samples.popleft()
        fraction = self.completed / self.total if self.total else 0.0
        self._overall = max(self._overall, fraction)

    @property
    def completed(self) -> int:
        return sum(layer.completed for layer in self.layers.values())

    @property
    def total(self) -> int:
        return sum(layer.total for layer in self.layers.values())

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


class PullJob(QObject):
    """One model download.

    Signals:
        changed(): progress or state changed (the UI throttles its repaint).
        finished(object): the job ended; the argument is this job.
    """

    changed = Signal()
    finished = Signal(object)

    def __init__(self, model: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.state = JobState.QUEUED
        self.progress = PullProgressModel()
        self.error = ""
        self._task: asyncio.Task[None] | None = None
        self.cancel_requested_at: float | None = None

    @property
    def active(self) -> bool:
        return self.state in (JobState.QUEUED, JobState.RUNNING)

    def status_text(self) -> str:
        if self.state is JobState.RUNNING:
            text = self.progress.status
            if self.progress.resuming and text.startswith("pulling"):
                text = f"resuming: {text}"
            return text
        if self.state is JobState.FAILED:
            return f"Failed: {self.error}"
        return str(self.state.value)

    async def run(self, client: OllamaClient) -> None:
        """Pull the model; returns when done, failed or cancelled."""
        self.state = JobState.RUNNING
        self.changed.emit()
        try:
            async with client.pull(self.model) as lines:
                async for line in lines:
                    self.progress.feed(line)
                    self.changed.emit()
            self.progress.finish()
            self.state = JobState.DONE
        except asyncio.CancelledError:
            self.state = JobState.CANCELLED
            self.changed.emit()
            self.finished.emit(self)
            raise
        except OllamaError as exc:
            self.error = describe_error(exc).removeprefix("Error: ")
            self.state = JobState.FAILED
        self.changed.emit()
        self.finished.emit(self)


class DownloadManager(QObject):
    """Runs queued pulls one after another (a disk and a network link are shared).

    Signals:
        jobAdded(object): a PullJob was queued.
        jobFinished(object): a PullJob ended (done, failed or cancelled).
        modelsChanged(): a pull succeeded, so the installed models changed.
    """

    jobAdded = Signal(object)
    jobFinished = Signal(object)
    modelsChanged = Signal()

    def __init__(self, client: OllamaClient, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.jobs: list[PullJob] = []
        self._queue: deque[PullJob] = deque()
        self._current: PullJob | None = None
        self._runner: asyncio.Task[None] | None = None

    def pull(self, model: str) -> PullJob | None:
        """Queue a pull; None when the same model is already queued or running."""
        model = model.strip()
        if not model or any(j.model == model and j.active for j in self.jobs):
            return None
        job = PullJob(model, parent=self)
        self.jobs.append(job)
        self._queue.append(job)
        self.jobAdded.emit(job)
        if self._runner is None or self._runner.done():
            self._runner = asyncio.ensure_future(self._run_queue())
        return job

    def cancel(self, job: PullJob) -> None:
        """Cancel a queued or running pull; a running one closes its connection now."""
        job.cancel_requested_at = time.perf_counter()
        if job in self._queue:
            self._queue.remove(job)
            job.state = JobState.CANCELLED
            job.changed.emit()
            job.finished.emit(job)
            self.jobFinished.emit(job)
        elif job is self._current and job._task is not None:
            job._task.cancel()

    @property
    def current(self) -> PullJob | None:
        return self._current

    async def _run_queue(self) -> None:
        while self._queue:
            job = self._current = self._queue.popleft()
            job._task = asyncio.ensure_future(job.run(self.client))
            with contextlib.suppress(asyncio.CancelledError):
                await job._task
            self._current = None
            self.jobFinished.emit(job)
            if job.state is JobState.DONE:
                self.modelsChanged.emit()

    async def aclose(self) -> None:
        """Cancel everything (at quit)."""
        for job in list(self._queue):
            self.cancel(job)
        if self._current is not None:
            self.cancel(self._current)
        if self._runner is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
