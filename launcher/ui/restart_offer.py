"""Asking before restarting our server to apply settings: a reply or a download would be cut."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from launcher.core.diagnostics_collect import requested_for
from launcher.core.diagnostics_tuning import restart_blockers
from launcher.core.launcher import Launcher


class RestartOffer:
    """The "Restart the server?" question, opened (never exec'd), one at a time.

    Asked modally when the user clicked "Restart server to apply" and something would
    be cut; non-modally after settings were saved that our running server was not
    started with (the user may go on working).

    Args:
        parent: the widget the question belongs to.
        launcher: whose server, reply and downloads are asked about.
        restart: the restart to run when the answer is yes.
    """

    def __init__(
        self,
        parent: QWidget,
        launcher: Launcher,
        restart: Callable[[], Coroutine[Any, Any, None]],
    ) -> None:
        self._parent = parent
        self._launcher = launcher
        self._restart = restart
        #: The question while it is open.
        self.question: QMessageBox | None = None

    def restart_now(self) -> None:
        """Restart our server; ask first when a reply or a download would be cut."""
        launcher = self._launcher
        question = restart_blockers(launcher.chat.busy, launcher.downloads.busy)
        if not question:
            launcher.tasks.spawn(self._restart())
            return
        self._ask(question, modal=True)

    def after_settings(self, started_with: dict[str, str] | None) -> None:
        """Settings were saved: offer the restart when our running server was started
        with other values than `started_with` (None: not known, nothing is offered)."""
        launcher = self._launcher
        if launcher.closing or not launcher.supervisor.running or self.question is not None:
            return
        if started_with is None or requested_for(launcher) == started_with:
            return
        blockers = restart_blockers(launcher.chat.busy, launcher.downloads.busy)
        self._ask(
            "The server still runs with the previous settings; the new ones apply when it "
            "restarts. " + (blockers or "Restart it now?"),
            modal=False,
        )

    def _ask(self, question: str, *, modal: bool) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Restart the server?",
            question,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self._parent,
        )
        box.setAccessibleName("Restart the server?")
        yes = box.button(QMessageBox.StandardButton.Yes)
        yes.setText("&Restart server to apply")
        yes.setAccessibleName("Restart server to apply")
        later = box.button(QMessageBox.StandardButton.No)
        later.setText("&Later" if not modal else "&Not now")
        later.setAccessibleName(later.text().replace("&", ""))
        box.setDefaultButton(QMessageBox.StandardButton.No)
        if not modal:
            box.setWindowModality(Qt.WindowModality.NonModal)
        box.finished.connect(lambda result: self._answered(box, result))
        self.question = box
        box.open()

    def _answered(self, box: QMessageBox, result: int) -> None:
        self.question = None
        box.deleteLater()
        if result == QMessageBox.StandardButton.Yes:
            self._launcher.tasks.spawn(self._restart())
