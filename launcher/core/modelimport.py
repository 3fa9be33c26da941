"""Building one model: upload a GGUF as a blob (unless the server has it), then `/api/create`.

A `BuildJob` is the one object the Models page watches while a model is being
imported or derived ("New model from…"): its stage, bytes done, speed, and in
the end one `BuildOutcome`. Every way it can end (created, failed, cancelled,
shut down) goes through `run()`'s `finally`, which emits `finished` once.
A job stays on the host it started on; when the user has switched to another
host meanwhile, its progress and its outcome name that host.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from launcher.core.explain import explain, host_label
from launcher.core.modelnames import GGUF_MAGIC, NotGGUFError
from launcher.core.tasks import BackgroundTasks
from launcher.ollama import BlobProgress, OllamaClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelRecipe:
    """What to build. Exactly one of `path` (a GGUF file) and `base` (an installed model).

    Attributes:
        name: the new model's name (checked with `modelnames.name_problem`).
        path: a `.gguf` file on this computer, uploaded as a blob.
        base: an installed model to build on (`from`).
        system, template: "" for none (the base's own are kept).
        parameters: Modelfile parameters (`modelnames.parse_parameters`).
    """

    name: str
    path: Path | None = None
    base: str = ""
    system: str = ""
    template: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BuildOutcome:
    """How a build, copy or rename ended, for a person (details for "Details" and the log)."""

    ok: bool
    message: str
    details: str = ""
    cancelled: bool = False
    model: str = ""
    #: The host it ran on, when that is not the current host any more ("" when it is).
    host: str = ""


async def _check_gguf(path: Path) -> None:
    """Raise NotGGUFError unless `path` starts with `GGUF` (read in a worker thread)."""

    def head() -> bytes:
        with path.open("rb") as handle:
            return handle.read(len(GGUF_MAGIC))

    magic = await asyncio.to_thread(head)
    if magic != GGUF_MAGIC:
        raise NotGGUFError(path.name, magic)


def _file_key(path: Path) -> str:
    """The file's name in `files`: Ollama tells GGUF from safetensors by a `.gguf` ending."""
    return path.name if path.name.endswith(".gguf") else f"{path.stem}.gguf"


def _stopped(name: str, host: str = "") -> BuildOutcome:
    where = f" on {host}" if host else ""
    return BuildOutcome(
        False, f"Stopped before {name} was created{where}.", cancelled=True, model=name, host=host
    )


class BuildJob(QObject):
    """One model being built. Start with `start()`; stop with `cancel()`.

    Attributes:
        stage: "waiting", "hashing", "checking", "uploading", "creating", then
            "done", "failed" or "cancelled".
        completed, total: bytes hashed or uploaded (0 while creating).
        speed: upload speed in bytes per second (0 when not uploading).
        status: the server's last create line ("parsing GGUF"…).
        skipped_upload: the server had the blob already; nothing was sent.
        outcome: set once, when the job has ended.

    Signals:
        changed(): progress moved (often: the UI repaints on its own timer).
        finished(object): the BuildOutcome, emitted exactly once.
    """

    changed = Signal()
    finished = Signal(object)

    def __init__(
        self,
        client: OllamaClient,
        recipe: ModelRecipe,
        parent: QObject | None = None,
        *,
        host_id: str = "",
        current_host: Callable[[], str] | None = None,
    ) -> None:
        super().__init__(parent)
        self.client = client
        self.recipe = recipe
        #: The host the job runs on (its id; `host` is how a person names it).
        self.host_id = host_id
        self.host = host_label(client.base_url)
        self._current_host = current_host
        self.stage = "waiting"
        self.completed = 0
        self.total = 0
        self.speed = 0.0
        self.status = ""
        self.skipped_upload = False
        self.outcome: BuildOutcome | None = None
        self._task: asyncio.Task[None] | None = None
        self._upload_start: tuple[float, int] | None = None

    @property
    def active(self) -> bool:
        return self.outcome is None

    @property
    def elsewhere(self) -> bool:
        """The user switched to another host since the job started (it goes on there)."""
        return self._current_host is not None and self._current_host() != self.host_id

    def headline(self) -> str:
        """What the job does, naming its host when that is not the current one."""
        recipe = self.recipe
        if not self.elsewhere:
            return ""
        if recipe.path is not None:
            return f"Importing {recipe.name} to {self.host}…"
        return f"Creating {recipe.name} on {self.host}…"

    def start(self, tasks: BackgroundTasks) -> asyncio.Task[None]:
        """Run the job as one of `tasks` (cancelled with them at quit)."""
        self._task = tasks.spawn(self.run())
        # A task cancelled before its first step never enters `run()`: end it here then.
        self._task.add_done_callback(lambda _task: self._finish(self._stopped()))
        return self._task

    def cancel(self) -> None:
        """Stop at once: the upload or create connection is closed; nothing is created."""
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def wait(self) -> None:
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(self._task)

    async def run(self) -> None:
        """Check, hash, upload (unless present), create; whatever happens, `_finish` once."""
        recipe = self.recipe
        outcome = self._stopped()
        try:
            files: dict[str, str] | None = None
            if recipe.path is not None:
                await _check_gguf(recipe.path)  # before hashing and uploading gigabytes
                digest = await self.client.push_blob(recipe.path, self._progress)
                files = {_file_key(recipe.path): digest}
            self._set_stage("creating")
            async with self.client.create(
                recipe.name,
                files=files,
                from_=recipe.base or None,
                system=recipe.system or None,
                template=recipe.template or None,
                parameters=recipe.parameters or None,
            ) as lines:
                async for line in lines:
                    self.status = line.status
                    self.changed.emit()
            how = "imported" if recipe.path is not None else f"created from {recipe.base}"
            outcome = BuildOutcome(True, f"{recipe.name} is {how}.", model=recipe.name)
            if self.elsewhere:
                outcome = BuildOutcome(
                    True,
                    f"Created {recipe.name} on {self.host} (not the host shown now).",
                    model=recipe.name,
                    host=self.host,
                )
        except asyncio.CancelledError:
            outcome = self._stopped()  # cancelled, by the user or at quit (named by host)
            raise
        except Exception as exc:  # every failure becomes words for a person, then ends here
            what = recipe.path.name if recipe.path is not None else recipe.base
            said = explain(exc, host=self.client.base_url, model=recipe.base or recipe.name)
            on = f" on {self.host}" if self.elsewhere else ""
            outcome = BuildOutcome(
                False,
                f"Could not build {recipe.name} from {what}{on}. {said.headline}",
                said.details,
                host=self.host if on else "",
            )
            log.warning("building %s failed: %s", recipe.name, said.details)
        finally:
            self._finish(outcome)

    def _stopped(self) -> BuildOutcome:
        return _stopped(self.recipe.name, self.host if self.elsewhere else "")

    def _finish(self, outcome: BuildOutcome) -> None:
        if self.outcome is not None:
            return  # ended already: `finished` is emitted once
        self.outcome = outcome
        self.speed = 0.0
        self.stage = "done" if outcome.ok else "cancelled" if outcome.cancelled else "failed"
        self.finished.emit(outcome)

    def _progress(self, step: BlobProgress) -> None:
        stage = {"present": "uploading", "hashing": "hashing"}.get(step.stage, step.stage)
        if step.stage == "present":
            self.skipped_upload = True
        if step.stage == "hashing" and step.completed >= step.total:
            stage = "checking"  # asking the server whether it has the blob
        now = time.monotonic()
        if step.stage == "uploading":
            if self._upload_start is None:
                self._upload_start = (now, step.completed)  # the first block is out
            began, done_before = self._upload_start
            if now > began:
                self.speed = (step.completed - done_before) / (now - began)
        self.stage, self.completed, self.total = stage, step.completed, step.total
        self.changed.emit()

    def _set_stage(self, stage: str) -> None:
        self.stage, self.completed, self.total, self.speed = stage, 0, 0, 0.0
        self.changed.emit()


__all__ = ["BuildJob", "BuildOutcome", "ModelRecipe"]
