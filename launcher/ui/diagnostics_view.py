"""The Diagnostics panel: what the server really runs with, its GPUs, who holds its port.

Built from the server's own log lines (parsed in `core/diagnostics.py`) for a
server we started, and from its API for one we did not. "Copy diagnostics" and
"Save diagnostics…" give the same text, redacted (never an API key).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication, QShowEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from launcher.core.diagnostics import FactsTracker
from launcher.core.diagnostics_collect import report_text, requested_for
from launcher.core.diagnostics_remote import ApiFacts, api_facts
from launcher.core.diagnostics_report import gpu_lines
from launcher.core.diagnostics_tuning import differences
from launcher.core.explain import explain
from launcher.core.launcher import Launcher
from launcher.core.porthold import PortReport, answers_as_ollama, describe, find_holder
from launcher.core.status import ServerState, ServerStatus
from launcher.ui.diagnostics_settings_view import DIFF_STYLE, EffectiveSettingsView, plain_label
from launcher.ui.file_dialog import FileDialogSlot
from launcher.ui.restart_offer import RestartOffer


class DiagnosticsPanel(QWidget):
    """The "Diagnostics" tab.

    Args:
        launcher: whose log, status, settings and clients are shown.

    Attributes:
        tracker: the facts of the latest server run, fed from the log.
        api: what the current host's API said (for a server we did not start).
        port_report: who holds the port, when the port is taken.
        file_dialog: holds the Save dialog while it is open (opened, never exec'd).
        offer: asks before restarting the server to apply settings.
    """

    def __init__(self, launcher: Launcher, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Diagnostics")
        self.launcher = launcher
        self.tracker = FactsTracker()
        self.tracker.feed_all(launcher.log.lines())
        self.api = ApiFacts()
        self.port_report: PortReport | None = None
        self.file_dialog = FileDialogSlot()
        self.offer = RestartOffer(self, launcher, self._restart)
        self._dirty = True
        self._started_with: dict[str, str] | None = None
        self._state: ServerState | None = None
        self._host = ""

        self.server = plain_label(self, "Diagnostics server")
        self.compute = plain_label(self, "Diagnostics compute")
        self.apply_note = plain_label(self, "Settings not applied")
        self.apply_note.setStyleSheet(DIFF_STYLE)
        self.restart_button = QPushButton("&Restart server to apply", self)
        self.restart_button.setAccessibleName("Restart server to apply")
        self.restart_button.setToolTip("Stop the server the launcher started and start it again")
        self.port = plain_label(self, "Port holder")
        self.use_as_is = QPushButton("&Use it as is", self)
        self.use_as_is.setAccessibleName("Use it as is")
        self.use_as_is.setToolTip("Talk to this Ollama as an external server (it is not stopped)")
        self.api_info = plain_label(self, "Server API")
        self.effective = EffectiveSettingsView(self)
        self.message = plain_label(self, "Diagnostics message")
        self.refresh_button = QPushButton("Re&fresh", self)
        self.refresh_button.setAccessibleName("Refresh diagnostics")
        self.copy_button = QPushButton("Co&py diagnostics", self)
        self.copy_button.setAccessibleName("Copy diagnostics")
        self.copy_button.setToolTip("Versions, configuration, GPUs and the last 200 log lines")
        self.save_button = QPushButton("&Save diagnostics…", self)
        self.save_button.setAccessibleName("Save diagnostics")

        body = QWidget(self)
        inner = QVBoxLayout(body)
        inner.addWidget(self.server)
        restart_row = QHBoxLayout()
        restart_row.addWidget(self.apply_note, 1)
        restart_row.addWidget(self.restart_button)
        inner.addLayout(restart_row)
        inner.addWidget(self.compute)
        port_row = QHBoxLayout()
        port_row.addWidget(self.port, 1)
        port_row.addWidget(self.use_as_is)
        inner.addLayout(port_row)
        inner.addWidget(self.api_info)
        inner.addWidget(self.effective)
        inner.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setAccessibleName("Diagnostics details")
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addLayout(buttons)
        self.setTabOrder(self.restart_button, self.use_as_is)
        self.setTabOrder(self.use_as_is, self.refresh_button)
        self.setTabOrder(self.refresh_button, self.copy_button)
        self.setTabOrder(self.copy_button, self.save_button)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)  # started when something changed: idle costs nothing
        self._timer.setInterval(200)
        self._timer.timeout.connect(self._paint_if_dirty)
        self._timer.start()
        self._unsubscribe = launcher.log.subscribe(self._on_line)
        self.destroyed.connect(lambda *_: self._unsubscribe())
        launcher.monitor.statusChanged.connect(self._on_status)
        launcher.supervisor.started.connect(self._on_started)
        launcher.hostChanged.connect(lambda _p: self._on_status(launcher.monitor.status))
        launcher.profilesChanged.connect(lambda _p: self._on_settings_applied())
        self.refresh_button.clicked.connect(self.refresh)
        self.copy_button.clicked.connect(self.copy_diagnostics)
        self.save_button.clicked.connect(self.save_diagnostics)
        self.restart_button.clicked.connect(self.restart_to_apply)
        self.use_as_is.clicked.connect(self._use_as_is)
        self._on_status(launcher.monitor.status)

    # ---- inputs ----------------------------------------------------------

    def _on_line(self, line: str) -> None:
        if self.tracker.feed(line):
            self._dirty = True
        if "address already in use" in line:
            self._look_up_port()

    def _mark_dirty(self) -> None:
        self._dirty = True

    def _on_status(self, status: ServerStatus) -> None:
        """Ask the API (while the tab is shown) or look up the port once per change of
        state, not per poll (the status also changes when only the round-trip time does)."""
        self._dirty = True
        entered = status.state is not self._state or self.launcher.profile.id != self._host
        self._state, self._host = status.state, self.launcher.profile.id
        if self.launcher.closing or not entered:
            return  # quitting (no new requests), or nothing new to ask about
        if status.state is ServerState.RUNNING and self._external:
            if self.isVisible():  # else when the tab is opened: no requests nobody reads
                self.launcher.tasks.spawn(self._ask_api())
        elif status.state is not ServerState.RUNNING:
            self.api = ApiFacts()
        if status.state is ServerState.PORT_IN_USE:
            self._look_up_port()
        elif status.state is ServerState.RUNNING and not self._external:
            self.port_report = None

    @property
    def _external(self) -> bool:
        return not self.launcher.supervisor.running

    def showEvent(self, event: QShowEvent) -> None:
        """Fresh facts whenever the tab is opened (an external server's loaded models change)."""
        super().showEvent(event)
        if not self.launcher.closing:
            self.refresh()

    def refresh(self) -> None:
        """Ask the API again and look up the port holder when the port is taken."""
        status = self.launcher.monitor.status
        if status.state is ServerState.RUNNING and self._external:
            self.launcher.tasks.spawn(self._ask_api())
        if status.state is ServerState.PORT_IN_USE or self._start_failed_on_port():
            self._look_up_port()
        self._dirty = True

    def _start_failed_on_port(self) -> bool:
        last = self.launcher.supervisor.last_exit
        return last is not None and "address already in use" in last.reason()

    async def _ask_api(self) -> None:
        client = self.launcher.client_for(self.launcher.profile)
        facts = await api_facts(client)
        self.api = facts
        self._dirty = True

    def _look_up_port(self) -> None:
        if not self.launcher.closing:
            self.launcher.tasks.spawn(self._port_lookup())

    async def _port_lookup(self) -> None:
        url = self.launcher.profile.base_url
        port = urlsplit(url).port or 11434
        holder = await asyncio.to_thread(find_holder, port)
        version = await answers_as_ollama(url)
        self.port_report = PortReport(port, holder, version)
        self._dirty = True

    # ---- painting --------------------------------------------------------

    @property
    def _dirty(self) -> bool:
        return self._needs_paint

    @_dirty.setter
    def _dirty(self, value: bool) -> None:
        """A change to paint: at most one paint per 200 ms, and no timer while idle."""
        self._needs_paint = value
        timer: QTimer | None = getattr(self, "_timer", None)
        if value and timer is not None and not timer.isActive():
            timer.start()

    def _paint_if_dirty(self) -> None:
        if self._dirty:
            self._dirty = False
            self._paint()

    def _paint(self) -> None:
        launcher = self.launcher
        facts = self.tracker.facts
        status = launcher.monitor.status
        ours = launcher.supervisor.running
        profile = launcher.profile
        version = facts.version if ours else self.api.version or status.version
        who = "started by the launcher" if ours else "not started by the launcher"
        if status.state is not ServerState.RUNNING:
            who = status.description
        context = facts.config.get("OLLAMA_CONTEXT_LENGTH", "") if ours else ""
        self.server.setText(
            f"Ollama {version or '(version unknown)'} at {profile.base_url} — {who}"
            + (f" — context length OLLAMA_CONTEXT_LENGTH={context} tokens" if context else "")
        )
        stopped = status.state is not ServerState.RUNNING
        if ours or (profile.managed and facts.discovered and stopped):
            lines = gpu_lines(facts) or ["GPU discovery has not finished yet."]
            self.compute.setText("Compute:\n" + "\n".join(lines))
        else:
            self.compute.setText(
                "Compute: the GPUs of a server the launcher did not start are not reported "
                "by its API; see its own log."
            )
        self._paint_api(ours)
        self._paint_port()
        self._paint_settings(ours)

    def _paint_api(self, ours: bool) -> None:
        api = self.api
        if ours or not (api.version or api.problem):
            self.api_info.hide()
            return
        self.api_info.show()
        if api.problem:
            self.api_info.setText(f"Its API: {api.problem}")
            return
        loaded = ", ".join(api.loaded_names()) or "none"
        self.api_info.setText(
            f"Its API says: version {api.version} (GET /api/version); loaded models: "
            f"{loaded} (GET /api/ps)."
        )

    def _paint_port(self) -> None:
        report = self.port_report
        self.port.setVisible(report is not None)
        self.use_as_is.setVisible(report is not None and report.is_ollama)
        if report is not None:
            self.port.setText(describe(report))

    def _paint_settings(self, ours: bool) -> None:
        facts = self.tracker.facts
        requested = requested_for(self.launcher)
        differing = differences(requested, facts.config) if ours else {}
        running = self._started_with if ours else None
        changed = ours and running is not None and running != requested
        pending = dict(differing)
        show_restart = bool(differing) or changed
        self.apply_note.setVisible(show_restart)
        self.restart_button.setVisible(show_restart)
        if show_restart:
            self.apply_note.setText(
                "The server runs with settings other than those you chose"
                + (f" ({', '.join(sorted(pending))})" if pending else "")
                + ". Restart it to apply them."
            )
        self.effective.show_config(facts.config, differing, ours)

    def _on_started(self) -> None:
        """Remember what our server was started with: a later change needs a restart."""
        self._started_with = requested_for(self.launcher)
        self._dirty = True

    # ---- actions ---------------------------------------------------------

    def report_text(self) -> str:
        """The diagnostics text (what Copy and Save give); never an API key."""
        return report_text(self.launcher, self.tracker.facts, self.api, self.port_report)

    def copy_diagnostics(self) -> None:
        QGuiApplication.clipboard().setText(self.report_text())
        self.message.setText("Diagnostics copied to the clipboard (no API keys).")

    def save_diagnostics(self) -> None:
        """Ask where (a window-modal dialog, opened), then write off the Qt thread."""
        home = str(Path.home() / "ollama-diagnostics.txt")
        dialog = self.file_dialog.new(self, "Save diagnostics", home)
        if dialog is None:
            return
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilter("Text files (*.txt)")
        dialog.fileSelected.connect(lambda path: self.save_to(Path(path)))
        dialog.open()

    def save_to(self, path: Path) -> asyncio.Task[None]:
        """Write the diagnostics to `path` in a worker thread; the message says how it went."""
        text = self.report_text()
        self.message.setText(f"Saving to {path}…")

        async def write() -> None:
            try:
                await asyncio.to_thread(path.write_text, text, encoding="utf-8")
            except OSError as exc:
                self.message.setText(explain(exc).headline)
                self.message.setToolTip(explain(exc).details)
                return
            self.message.setText(f"Diagnostics saved to {path}.")

        return self.launcher.tasks.spawn(write())

    @property
    def question(self) -> QMessageBox | None:
        """The "Restart the server?" question while it is open."""
        return self.offer.question

    def restart_to_apply(self) -> None:
        """Restart our server; ask first when a reply or a download would be cut."""
        self.offer.restart_now()

    def _on_settings_applied(self) -> None:
        """Settings were saved: offer "Restart server to apply" when our running server
        was started with other values."""
        self._dirty = True
        self.offer.after_settings(self._started_with)

    async def _restart(self) -> None:
        self.message.setText("Restarting the server…")
        await self.launcher.monitor.restart_server()
        self.message.setText("")
        self._dirty = True

    def _use_as_is(self) -> None:
        """Keep talking to the Ollama that holds the port, as an external server."""
        self.port_report = None
        self.launcher.monitor.wake()
        self.message.setText("Using the Ollama that already runs; the launcher will not stop it.")
        self._dirty = True


def open_diagnostics(window: QWidget, launcher: Launcher) -> None:
    """Show the Diagnostics panel (the menu's Server > Diagnostics): its tab when the
    window has one, else a window of its own."""
    tabs = getattr(window, "tabs", None)
    panel = getattr(window, "diagnostics", None)
    if isinstance(panel, DiagnosticsPanel) and tabs is not None:
        tabs.setCurrentWidget(panel)
        panel.setFocus()
        return
    own = DiagnosticsPanel(launcher, window)
    own.setWindowFlag(Qt.WindowType.Window)
    own.setWindowTitle("Diagnostics")
    own.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    own.resize(900, 640)
    own.show()
