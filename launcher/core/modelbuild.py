"""Models the user makes: import a GGUF, derive a persona from an installed model, copy, rename.

`ModelBuilder` is what the Models page talks to. It runs one `BuildJob` at a
time (an upload is disk- and network-heavy; two would only halve each other),
copies and renames through `/api/copy` (a rename deletes the old name only
after the copy succeeded, so a failure never loses a model), refreshes the
installed list after a change and reports every ending as a `BuildOutcome`.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from launcher.core.explain import explain
from launcher.core.modelimport import BuildJob, BuildOutcome, ModelRecipe
from launcher.core.models import ModelCatalog
from launcher.core.tasks import BackgroundTasks
from launcher.ollama import OllamaError


def catalog_host(catalog: ModelCatalog) -> Callable[[], str]:
    """The catalog's current host id, asked when needed (it changes at a host switch)."""
    return lambda: catalog.host_id


class ModelBuilder(QObject):
    """Builds, copies and renames models on the catalog's current host.

    Args:
        catalog: the installed list (its client is the current host's).
        tasks: where the work runs (cancelled at quit).

    Attributes:
        job: the build running now, or the last one (None before the first).

    Signals:
        jobStarted(object): a BuildJob started (watch its `changed`).
        done(object): a BuildOutcome: a build, copy or rename ended (the list is
            refreshed first when something changed).
    """

    jobStarted = Signal(object)
    done = Signal(object)

    def __init__(
        self, catalog: ModelCatalog, tasks: BackgroundTasks, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.tasks = tasks
        self.job: BuildJob | None = None

    @property
    def busy(self) -> bool:
        return self.job is not None and self.job.active

    def build(self, recipe: ModelRecipe) -> BuildJob | None:
        """Start building `recipe`; None when a build is running already."""
        if self.busy:
            return None
        catalog = self.catalog  # history12: the job names its host once the user switches
        job = BuildJob(
            catalog.client,
            recipe,
            self,
            host_id=catalog.host_id,
            current_host=catalog_host(catalog),
        )
        job.finished.connect(self._job_finished)
        self.job = job
        self.jobStarted.emit(job)
        job.start(self.tasks)
        return job

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _job_finished(self, outcome: BuildOutcome) -> None:
        if outcome.ok and not outcome.host:  # another host's list is not the one shown
            self.tasks.spawn(self._refresh_then(outcome))
        else:
            self.done.emit(outcome)

    async def _refresh_then(self, outcome: BuildOutcome) -> None:
        await self.catalog.refresh()
        self.done.emit(outcome)

    def copy(self, source: str, destination: str) -> None:
        """Copy `source` under a new name (in the background; `done` says how it went)."""
        self.tasks.spawn(self._copy(source, destination, rename=False))

    def rename(self, source: str, destination: str) -> None:
        """Copy, then delete the old name, only once the copy exists."""
        self.tasks.spawn(self._copy(source, destination, rename=True))

    async def _copy(self, source: str, destination: str, *, rename: bool) -> None:
        client = self.catalog.client
        verb = "rename" if rename else "copy"
        try:
            await client.copy(source, destination)
        except OllamaError as exc:
            said = explain(exc, host=client.base_url, model=source)
            outcome = BuildOutcome(
                False, f"Could not {verb} {source} to {destination}. {said.headline}", said.details
            )
            await self.catalog.refresh()
            self.done.emit(outcome)
            return
        outcome = BuildOutcome(True, f"Copied {source} to {destination}.", model=destination)
        if rename:
            try:
                await client.delete(source)
                outcome = BuildOutcome(
                    True, f"Renamed {source} to {destination}.", model=destination
                )
            except OllamaError as exc:
                said = explain(exc, host=client.base_url, model=source)
                outcome = BuildOutcome(
                    False,
                    f"Copied {source} to {destination}, but could not remove the old name. "
                    f"{said.headline}",
                    said.details,
                    model=destination,
                )
        await self.catalog.refresh()
        self.done.emit(outcome)


__all__ = ["ModelBuilder"]
