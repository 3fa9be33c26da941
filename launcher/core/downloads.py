"""The download queue: pulls run one after another, pause, resume, update, and survive a restart.

A disk and a network link are shared, so one pull runs at a time. Each job
keeps the host it was queued for. What is pending or was interrupted is saved
(`pullqueue`) and offered again at the next start. The progress arithmetic
lives in `pullprogress`, one download's request loop in `pulljob`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from launcher.core.diskspace import RESERVE_BYTES
from launcher.core.pulljob import PullJob, stall_backoff
from launcher.core.pullprogress import JobState, Layer, PullProgressModel
from launcher.core.pullqueue import QueueFile, SavedPull
from launcher.ollama import OllamaClient

__all__ = ["DownloadManager", "JobState", "Layer", "PullJob", "PullProgressModel", "SavedPull"]


def _worth_saving(job: PullJob) -> bool:
    """Pending, paused, or cut off by a lost connection or the quit."""
    if job.active or job.state is JobState.PAUSED:
        return True
    return job.interrupted and job.state is JobState.FAILED


class DownloadManager(QObject):
    """Runs queued pulls one after another.

    Args:
        client: the current host's client (the launcher re-points `client`
            and `host_id` when the host changes; queued jobs keep theirs).
        host_id: the current host's id.
        folder_for: host id -> the folder its server writes models to, or None
            when unknown (remote): the disk-space check is skipped then.
        client_for_host: host id -> a client, to resume saved pulls of a host
            that is not the current one (None: that host is gone).
        reserve_bytes: free space every pull must leave (1 GB).
        stall_seconds: host-independent stall time, read at each pull.
        queue_file: where the queue is saved; None keeps it in memory only.
        retry_delay: seconds before stall retry n (1, 2, 4, 8, 16 by default).

    Signals:
        jobAdded(object): a PullJob was queued.
        jobFinished(object): a PullJob ended a run (done, failed, paused or cancelled).
        jobRemoved(object): a finished PullJob was dismissed.
        modelsChanged(): a pull succeeded, so the installed models changed.
        resumable(list): saved pulls from the last session (list of SavedPull).
    """

    jobAdded = Signal(object)
    jobFinished = Signal(object)
    jobRemoved = Signal(object)
    modelsChanged = Signal()
    resumable = Signal(list)

    def __init__(
        self,
        client: OllamaClient,
        parent: QObject | None = None,
        *,
        host_id: str = "",
        folder_for: Callable[[str], Path | None] | None = None,
        client_for_host: Callable[[str], OllamaClient | None] | None = None,
        reserve_bytes: int = RESERVE_BYTES,
        stall_seconds: Callable[[], float] | float = 30.0,
        queue_file: Path | None = None,
        retry_delay: Callable[[int], float] = stall_backoff,
    ) -> None:
        super().__init__(parent)
        self._retry_delay = retry_delay
        self.client = client
        self.host_id = host_id
        self.reserve_bytes = reserve_bytes
        self._folder_for = folder_for or (lambda _host: None)
        self._client_for_host = client_for_host
        self._stall = stall_seconds
        self.jobs: list[PullJob] = []
        self.offered: list[SavedPull] = []  # saved pulls not yet resumed or forgotten
        self._queue: deque[PullJob] = deque()
        self._current: PullJob | None = None
        self._runner: asyncio.Task[None] | None = None
        self._file = QueueFile(queue_file) if queue_file is not None else None
        self._saves: set[asyncio.Task[Any]] = set()
        self._closing = False

    # ---- commands -------------------------------------------------------

    def pull(self, model: str, *, update: bool = False) -> PullJob | None:
        """Queue a pull on the current host; None when the model is already in the list
        and not finished (a paused one is resumed instead)."""
        return self._add(model.strip(), self.client, self.host_id, update)

    def update(self, model: str) -> PullJob | None:
        """Re-pull an installed model in the background; the job says whether it changed."""
        return self.pull(model, update=True)

    def update_all(self, models: list[str]) -> list[PullJob]:
        return [job for name in models if (job := self.update(name)) is not None]

    def cancel(self, job: PullJob) -> None:
        """Cancel a queued, paused or running pull; a running one closes its connection now."""
        job.cancel_requested_at = time.perf_counter()
        if job in self._queue:
            self._queue.remove(job)
            job.settle(JobState.CANCELLED)
            self.jobFinished.emit(job)
            self._save()
        elif job.state is JobState.PAUSED:
            job.state = JobState.CANCELLED
            job.changed.emit()
            self.jobFinished.emit(job)
            self._save()
        elif job is self._current and job._task is not None:
            job._task.cancel()

    def pause(self, job: PullJob) -> None:
        """Close the connection but keep the item (the server keeps the partial files)."""
        if job in self._queue:
            self._queue.remove(job)
            job.request_pause()
            job.settle(JobState.CANCELLED)  # settles as Paused
            self.jobFinished.emit(job)
            self._save()
        elif job is self._current and job._task is not None:
            job.request_pause()
            job._task.cancel()

    def resume(self, job: PullJob) -> None:
        """Put a paused (or failed, or cancelled) job back in the queue, progress kept."""
        if job.active or job not in self.jobs:
            return
        job.requeue()
        self._queue.append(job)
        self._kick()
        self._save()

    def dismiss(self, job: PullJob) -> None:
        """Remove a finished, failed or cancelled item from the list."""
        if job.dismissible and job in self.jobs:
            self.jobs.remove(job)
            self.jobRemoved.emit(job)
            job.deleteLater()
            self._save()

    def resume_saved(self) -> list[PullJob]:
        """Queue the pulls offered from the last session, each on its own host."""
        offered, self.offered = self.offered, []
        jobs: list[PullJob] = []
        for saved in offered:
            client: OllamaClient | None = self.client
            if saved.host_id != self.host_id:
                client = self._client_for_host(saved.host_id) if self._client_for_host else None
            if client is not None:
                job = self._add(saved.model, client, saved.host_id, saved.update)
                if job is not None:
                    jobs.append(job)
        self._save()
        return jobs

    def forget_saved(self) -> None:
        self.offered = []
        self._save()

    async def restore(self) -> list[SavedPull]:
        """Read the queue saved by the last session and offer it (`resumable`)."""
        if self._file is None:
            return []
        saved = await self._file.load()
        if saved and not self._closing:
            known = {(p.model, p.host_id) for p in self.offered}
            self.offered.extend(p for p in saved if (p.model, p.host_id) not in known)
            self.resumable.emit(list(self.offered))
        return saved

    @property
    def current(self) -> PullJob | None:
        return self._current

    @property
    def busy(self) -> bool:
        """A pull is running or queued (ask before restarting the server under it)."""
        return any(job.active for job in self.jobs)

    # ---- the queue ------------------------------------------------------

    def _add(self, model: str, client: OllamaClient, host_id: str, update: bool) -> PullJob | None:
        if not model:
            return None
        same = next((j for j in self.jobs if j.model == model and j.host_id == host_id), None)
        if same is not None and same.state is JobState.PAUSED:
            self.resume(same)
            return None
        if same is not None and same.active:
            return None
        stall = self._stall() if callable(self._stall) else self._stall
        job = PullJob(
            model,
            client,
            host_id=host_id,
            models_dir=self._folder_for(host_id),
            reserve_bytes=self.reserve_bytes,
            stall_seconds=float(stall),
            update=update,
            retry_delay=self._retry_delay,
            parent=self,
        )
        self.jobs.append(job)
        self._queue.append(job)
        self.jobAdded.emit(job)
        self._kick()
        self._save()
        return job

    def _kick(self) -> None:
        if not self._closing and (self._runner is None or self._runner.done()):
            self._runner = asyncio.ensure_future(self._run_queue())

    async def _run_queue(self) -> None:
        while self._queue and not self._closing:
            job = self._current = self._queue.popleft()
            job._task = asyncio.ensure_future(job.run())
            try:
                with contextlib.suppress(asyncio.CancelledError):
                    await job._task
            finally:
                job.settle(JobState.CANCELLED)  # cancelled before its first step
                self._current = None
            self.jobFinished.emit(job)
            self._save()
            if job.state is JobState.DONE:
                self.modelsChanged.emit()

    # ---- the saved queue ------------------------------------------------

    def saved(self) -> list[SavedPull]:
        """What to offer at the next start: pending, paused and interrupted pulls."""
        keep = [SavedPull(j.model, j.host_id, j.update) for j in self.jobs if _worth_saving(j)]
        seen = {(p.model, p.host_id) for p in keep}
        return keep + [p for p in self.offered if (p.model, p.host_id) not in seen]

    def _save(self) -> None:
        if self._file is None or self._closing:
            return
        task = asyncio.ensure_future(self._file.save(self.saved()))
        self._saves.add(task)
        task.add_done_callback(self._saves.discard)

    async def aclose(self) -> None:
        """At quit: remember what is pending, then cancel everything promptly."""
        snapshot = self.saved()
        self._closing = True
        if self._file is not None:
            await self._file.save(snapshot)
        for job in list(self._queue):
            self._queue.remove(job)
            job.settle(JobState.CANCELLED)
        if self._current is not None and self._current._task is not None:
            self._current._task.cancel()
        if self._runner is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        if self._saves:
            await asyncio.wait(set(self._saves), timeout=5.0)
