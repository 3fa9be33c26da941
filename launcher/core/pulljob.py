"""One model download: the request loop with stall retries, disk checks, pause and update.

A job keeps the client (and so the host) it was queued for, whatever host the
window shows later. It always ends in one place (`run`'s `finally`), whatever
is raised: done, paused, cancelled or failed with a message from `explain()`.
Cancel and pause close the connection (Ollama has no cancel endpoint); the
server keeps the partial files, so the next request resumes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from launcher.core.diskspace import RESERVE_BYTES, free_bytes, space_problem
from launcher.core.explain import explain
from launcher.core.pullprogress import JobState, PullProgressModel
from launcher.ollama import OllamaClient, OllamaConnectionError, OllamaError

log = logging.getLogger(__name__)

MAX_STALL_RETRIES = 5
SPACE_RECHECK_SECONDS = 10.0  # while bytes arrive: other programs fill disks too


def stall_backoff(attempt: int) -> float:
    """Seconds to wait before retry `attempt` (1-based): 1, 2, 4, 8, 16."""
    return float(min(2 ** (attempt - 1), 16))


class _Refused(Exception):
    """The job stops itself with a message for a person (no space, stalled too often)."""


class _Stalled(Exception):
    """No progress for the stall time: close the request and retry."""


class PullJob(QObject):
    """One model download.

    Args:
        model: the name as typed.
        client: the client of the host it was queued for (kept for its life).
        host_id: that host's id (for the saved queue).
        models_dir: the folder the host writes models to, or None (remote: unknown).
        reserve_bytes: free space a pull must leave.
        stall_seconds: no progress for this long retries the request.
        update: re-pull an installed model and tell whether it changed.
        retry_delay: seconds to wait before stall retry n (1-based).

    Attributes:
        note: a transient line such as "Stalled — retrying (2/5)".
        error, details: why it failed (headline for a person, technical text).
        interrupted: it ended because the connection was lost or the app quit
            (worth offering again at the next start).
        update_result: "updated" or "unchanged" after an update.

    Signals:
        changed(): progress or state changed (the UI throttles its repaint).
        finished(object): the job ended this run; the argument is this job.
    """

    changed = Signal()
    finished = Signal(object)

    def __init__(
        self,
        model: str,
        client: OllamaClient,
        *,
        host_id: str = "",
        models_dir: Path | None = None,
        reserve_bytes: int = RESERVE_BYTES,
        stall_seconds: float = 30.0,
        update: bool = False,
        retry_delay: Callable[[int], float] = stall_backoff,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.retry_delay = retry_delay
        self.model = model
        self.client = client
        self.host_id = host_id
        self.models_dir = models_dir
        self.reserve_bytes = reserve_bytes
        self.stall_seconds = stall_seconds
        self.update = update
        self.state = JobState.QUEUED
        self.progress = PullProgressModel()
        self.note = ""
        self.error = ""
        self.details = ""
        self.interrupted = False
        self.update_result = ""
        self.retries = 0
        self.cancel_requested_at: float | None = None
        self._task: asyncio.Task[None] | None = None
        self._pausing = False

    @property
    def active(self) -> bool:
        """Queued or running (a paused job waits for the user, not for the queue)."""
        return self.state in (JobState.QUEUED, JobState.RUNNING)

    @property
    def dismissible(self) -> bool:
        return self.state in (JobState.DONE, JobState.CANCELLED, JobState.FAILED)

    def status_text(self) -> str:
        """One line for the downloads list and the status bar."""
        if self.state is JobState.RUNNING:
            return self.note or self.progress.phase()
        if self.state is JobState.FAILED:
            return f"Failed: {self.error}"
        if self.state is JobState.DONE and self.update:
            return "Updated" if self.update_result == "updated" else "Already up to date"
        if self.state is JobState.DONE:
            return "Installed"
        if self.state is JobState.PAUSED and self.progress.total:
            return f"Paused at {self.progress.overall * 100:.0f}%"
        return str(self.state.value)

    def requeue(self) -> None:
        """Back in the queue (resume after pause, or retry), keeping the progress."""
        self.state = JobState.QUEUED
        self.error = self.details = self.note = ""
        self.interrupted = False
        self._pausing = False
        self.changed.emit()

    def request_pause(self) -> None:
        self._pausing = True

    def settle(self, state: JobState) -> None:
        """End a job that never got to run (cancelled in the queue or before its first step)."""
        if self.state is not JobState.QUEUED:
            return  # it ran: `run` has ended it already
        self.state = JobState.PAUSED if self._pausing and state is JobState.CANCELLED else state
        self.changed.emit()
        self.finished.emit(self)

    async def run(self) -> None:
        """Pull until done, paused, cancelled or failed; this is where every run ends."""
        self.state = JobState.RUNNING
        self.error = self.details = ""
        self.changed.emit()
        outcome = JobState.FAILED
        try:
            await self._download()
            outcome = JobState.DONE
        except asyncio.CancelledError:
            outcome = JobState.PAUSED if self._pausing else JobState.CANCELLED
            raise
        except _Refused as refused:
            self.error = str(refused)
        except OllamaError as exc:
            explanation = explain(exc, host=self.client.base_url, model=self.model)
            self.error, self.details = explanation.headline, explanation.details
            self.interrupted = isinstance(exc, OllamaConnectionError)
            log.info("pull of %s failed: %s", self.model, explanation.details)
        except Exception as exc:  # a job must end whatever is raised
            explanation = explain(exc, host=self.client.base_url, model=self.model)
            self.error, self.details = explanation.headline, explanation.details
            log.exception("pull of %s failed unexpectedly", self.model)
        finally:
            self.state = outcome
            self.note = ""
            self.changed.emit()
            self.finished.emit(self)

    async def _download(self) -> None:
        before = await self._digest() if self.update else ""
        attempt = 0
        while True:
            self.progress.restart()
            await self._check_space()
            try:
                await self._request()
                break
            except _Stalled:
                attempt += 1
                self.retries = attempt
                if attempt > MAX_STALL_RETRIES:
                    raise _Refused(
                        f"The download of {self.model} stopped making progress "
                        f"{MAX_STALL_RETRIES + 1} times (no data for {self.stall_seconds:.0f} s "
                        "each time) — check the network connection, then pull it again "
                        "(what was downloaded is kept)."
                    ) from None
                self.note = f"Stalled — retrying ({attempt}/{MAX_STALL_RETRIES})"
                log.info("pull of %s stalled; retry %d", self.model, attempt)
                self.changed.emit()
                await asyncio.sleep(self.retry_delay(attempt))
        self.progress.finish()
        if self.update:
            after = await self._digest()
            self.update_result = "updated" if after != before else "unchanged"

    async def _request(self) -> None:
        """One `/api/pull` request; `_Stalled` when bytes stop coming."""
        loop = asyncio.get_running_loop()
        last_check = loop.time()
        try:
            async with asyncio.timeout_at(loop.time() + self.stall_seconds) as deadline:
                async with self.client.pull(self.model) as lines:
                    async for line in lines:
                        layers, before = len(self.progress.layers), self.progress.completed
                        moved = self.progress.feed(line)
                        if self.note and self.progress.completed > before:
                            self.note = ""  # bytes flow again after a retry
                        if not self.progress.downloading and self.progress.layers:
                            deadline.reschedule(None)  # verifying may take minutes, silently
                        elif moved:
                            deadline.reschedule(loop.time() + self.stall_seconds)
                        self.changed.emit()
                        grew = len(self.progress.layers) != layers
                        if grew or loop.time() - last_check > SPACE_RECHECK_SECONDS:
                            last_check = loop.time()
                            await self._check_space()
        except TimeoutError:
            if deadline.expired():
                raise _Stalled from None
            raise

    async def _check_space(self) -> None:
        if self.models_dir is None:
            return
        free, folder = await asyncio.to_thread(free_bytes, self.models_dir)
        problem = space_problem(
            self.model, self.progress.remaining, free, self.reserve_bytes, folder
        )
        if problem:
            raise _Refused(problem)

    async def _digest(self) -> str:
        """The installed model's digest (`/api/tags`), "" when not installed."""
        wanted = {self.model, f"{self.model}:latest"}
        for model in await self.client.list_models():
            if model.name in wanted or model.model in wanted:
                return model.digest
        return ""
