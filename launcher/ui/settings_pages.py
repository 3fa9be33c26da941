"""The three pages of the settings dialog: local server, remote hosts, runaway guard.

Each page loads a settings record into its controls and builds a new record
from them (`result()`), raising ValueError with a message for the user when
a field is wrong. The pages never save anything: the dialog does, through
the Launcher.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from launcher.config import (
    LocalServerSettings,
    RemoteHost,
    check_env_name,
    check_host_url,
)
from launcher.core.guard import GuardSettings
from launcher.ollama import resolve_host

SESSION_ONLY_NOTE = "No system keyring: the key is kept for this session only."
KEYRING_NOTE = "The key is stored in the system keyring, never in the settings file."
WARNING_STYLE = "color: #b71c1c; font-weight: bold;"


def _named(widget: QWidget, name: str, tip: str = "") -> None:
    widget.setAccessibleName(name)
    if tip:
        widget.setToolTip(tip)


class LocalServerPage(QWidget):
    """How the launcher runs `ollama serve` on this computer.

    Attributes:
        file_dialog: the Browse… dialog while it is open (opened, never exec'd).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.listen = QLineEdit(self)
        _named(self.listen, "Listen address", "Address and port `ollama serve` listens on")
        self.listen.setPlaceholderText("127.0.0.1:11434")
        self.listen_note = QLabel(self)
        _named(self.listen_note, "Listen address note")
        self.listen_note.setWordWrap(True)
        self.listen_note.hide()
        self.models_dir = QLineEdit(self)
        _named(self.models_dir, "Models folder", "Where the server keeps models (OLLAMA_MODELS)")
        self.models_dir.setPlaceholderText("Ollama's default (~/.ollama/models)")
        self.browse_models = QPushButton("Browse…", self)
        _named(self.browse_models, "Browse for models folder")
        self.allow_network = QCheckBox("Allow other devices on the &network", self)
        _named(self.allow_network, "Allow other devices on the network")
        self.network_warning = QLabel(self)
        _named(self.network_warning, "Network warning")
        self.network_warning.setWordWrap(True)
        self.network_warning.setStyleSheet(WARNING_STYLE)
        self.env_table = QTableWidget(0, 2, self)
        _named(self.env_table, "Environment variables", "Extra environment for the server")
        self.env_table.setHorizontalHeaderLabels(["Name", "Value"])
        self.env_table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.env_table.verticalHeader().setVisible(False)
        self.env_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.env_table.setMinimumHeight(90)
        self.add_env = QPushButton("Add variable", self)
        _named(self.add_env, "Add variable")
        self.remove_env = QPushButton("Remove variable", self)
        _named(self.remove_env, "Remove variable")
        self.keep_running = QCheckBox("&Keep the server running after quit", self)
        _named(self.keep_running, "Keep the server running after quit")
        self.binary = QLineEdit(self)
        _named(self.binary, "Ollama binary", "Path to the ollama program")
        self.binary.setPlaceholderText("Found on PATH or in the usual install places")
        self.browse_binary = QPushButton("Browse…", self)
        _named(self.browse_binary, "Browse for ollama binary")
        self.file_dialog: QFileDialog | None = None

        form = QFormLayout(self)
        form.addRow(self._label("&Listen address:", self.listen), self.listen)
        form.addRow(self.listen_note)
        form.addRow(
            self._label("&Models folder:", self.models_dir),
            self._row(self.models_dir, self.browse_models),
        )
        form.addRow(self.allow_network)
        form.addRow(self.network_warning)
        env_buttons = QHBoxLayout()
        env_buttons.addWidget(self.add_env)
        env_buttons.addWidget(self.remove_env)
        env_buttons.addStretch(1)
        env_box = QVBoxLayout()
        env_box.addWidget(self.env_table)
        env_box.addLayout(env_buttons)
        form.addRow(self._label("&Environment:", self.env_table), env_box)
        form.addRow(self.keep_running)
        form.addRow(
            self._label("Ollama &binary:", self.binary), self._row(self.binary, self.browse_binary)
        )

        self.allow_network.toggled.connect(self._update_warning)
        self.listen.textChanged.connect(self._update_warning)
        self.add_env.clicked.connect(lambda: self._add_env_row())
        self.remove_env.clicked.connect(self._remove_env_row)
        self.browse_models.clicked.connect(self._browse_models)
        self.browse_binary.clicked.connect(self._browse_binary)

    def _label(self, text: str, buddy: QWidget) -> QLabel:
        label = QLabel(text, self)
        label.setBuddy(buddy)
        return label

    @staticmethod
    def _row(*widgets: QWidget) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(widgets[0], 1)
        for widget in widgets[1:]:
            row.addWidget(widget)
        return row

    def load(self, local: LocalServerSettings) -> None:
        self.listen.setText(local.listen)
        self.models_dir.setText(local.models_dir)
        self.allow_network.setChecked(local.allow_network)
        self.keep_running.setChecked(local.keep_running_after_quit)
        self.binary.setText(local.binary)
        self.env_table.setRowCount(0)
        for name, value in local.extra_env.items():
            self._add_env_row(name, value)
        self._update_warning()

    def show_override(self, env_host: str) -> None:
        """Say that `OLLAMA_HOST` from the environment wins over the listen address."""
        self.listen_note.setText(
            f"OLLAMA_HOST={env_host} is set in the environment and takes precedence "
            "over this address until it is unset."
        )
        self.listen_note.setVisible(bool(env_host))

    def result(self) -> LocalServerSettings:
        """The settings in the fields; ValueError when one is wrong."""
        listen = self.listen.text().strip() or "127.0.0.1:11434"
        try:
            resolve_host(listen)
        except ValueError as exc:
            raise ValueError(f"Listen address: {exc}") from None
        env: dict[str, str] = {}
        for row in range(self.env_table.rowCount()):
            name, value = (self._cell(row, 0), self._cell(row, 1))
            if not name.strip() and not value:
                continue
            env[check_env_name(name)] = value
        return LocalServerSettings(
            listen=listen,
            allow_network=self.allow_network.isChecked(),
            models_dir=self.models_dir.text().strip(),
            binary=self.binary.text().strip(),
            extra_env=env,
            keep_running_after_quit=self.keep_running.isChecked(),
        )

    def _cell(self, row: int, column: int) -> str:
        item = self.env_table.item(row, column)
        return item.text() if item is not None else ""

    def _update_warning(self) -> None:
        allowed = self.allow_network.isChecked()
        self.network_warning.setVisible(allowed)
        if not allowed:
            self.network_warning.clear()
            return
        try:
            port = resolve_host(self.listen.text().strip() or "127.0.0.1:11434").rsplit(":", 1)[1]
        except ValueError:
            port = "its port"
        self.network_warning.setText(
            f"Warning: the server will listen on 0.0.0.0:{port}, so anyone on the network "
            "can reach it: use your models, download new ones and delete them. Ollama has "
            "no password. Turn this on only on a network you trust."
        )

    def _add_env_row(self, name: str = "", value: str = "") -> None:
        row = self.env_table.rowCount()
        self.env_table.insertRow(row)
        self.env_table.setItem(row, 0, QTableWidgetItem(name))
        self.env_table.setItem(row, 1, QTableWidgetItem(value))
        if not name:  # a new row: select it; typing or F2 edits the name
            self.env_table.setCurrentCell(row, 0)
            self.env_table.setFocus()

    def _remove_env_row(self) -> None:
        row = self.env_table.currentRow()
        if row >= 0:
            self.env_table.removeRow(row)

    def _browse_models(self) -> None:
        self._open_file_dialog("Choose the models folder", self.models_dir, folder=True)

    def _browse_binary(self) -> None:
        self._open_file_dialog("Choose the ollama program", self.binary, folder=False)

    def _open_file_dialog(self, title: str, target: QLineEdit, *, folder: bool) -> None:
        """A window-modal file dialog, opened (not exec'd) so the event loop runs on."""
        if self.file_dialog is not None:
            self.file_dialog.raise_()
            return
        dialog = QFileDialog(self, title, target.text().strip())
        dialog.setAccessibleName(title)
        if folder:
            dialog.setFileMode(QFileDialog.FileMode.Directory)
            dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        else:
            dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(target.setText)
        dialog.finished.connect(self._file_dialog_closed)
        self.file_dialog = dialog
        dialog.open()

    def _file_dialog_closed(self) -> None:
        dialog, self.file_dialog = self.file_dialog, None
        if dialog is not None:
            dialog.deleteLater()


@dataclass
class _Remote:
    """A remote host being edited; `key` is what the API key field holds."""

    id: str
    name: str
    url: str
    key: str
    proxy: str = "system"
    ca_file: str = ""
    verify_tls: bool = True


class RemoteHostsPage(QWidget):
    """Remote hosts: a list, and a form for the selected one (name, URL, API key).

    Args:
        keyring_available: whether keys persist; when not, the page says so.
    """

    def __init__(self, keyring_available: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._remotes: list[_Remote] = []
        self._original_keys: dict[str, str] = {}
        self.hosts = QListWidget(self)
        _named(self.hosts, "Remote hosts")
        self.add_button = QPushButton("&Add host", self)
        _named(self.add_button, "Add host")
        self.remove_button = QPushButton("&Remove host", self)
        _named(self.remove_button, "Remove host")
        self.form = QGroupBox("Selected host", self)
        self.name = QLineEdit(self.form)
        _named(self.name, "Host name", "What the Host switcher shows")
        self.name.setPlaceholderText("e.g. GPU box")
        self.url = QLineEdit(self.form)
        _named(
            self.url, "Host URL", "Same forms as OLLAMA_HOST: host, host:port, https://host/path"
        )
        self.url.setPlaceholderText("e.g. http://gpu-box:11434")
        self.url_problem = QLabel(self.form)
        _named(self.url_problem, "Host URL problem")
        self.url_problem.setStyleSheet(WARNING_STYLE)
        self.url_problem.setWordWrap(True)
        self.key = QLineEdit(self.form)
        _named(self.key, "API key", "Sent as a Bearer token to this host only")
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("optional")
        self.proxy = QLineEdit(self.form)
        _named(self.proxy, "Proxy", "system (HTTPS_PROXY/NO_PROXY), none, or http://proxy:port")
        self.proxy.setPlaceholderText("system — or none, or http://proxy:3128")
        self.ca_file = QLineEdit(self.form)
        _named(self.ca_file, "CA file", "A PEM file of CAs trusted for this https host")
        self.ca_file.setPlaceholderText("optional, e.g. /etc/ssl/corp-ca.pem")
        self.keyring_note = QLabel(KEYRING_NOTE if keyring_available else SESSION_ONLY_NOTE, self)
        _named(self.keyring_note, "Keyring notice")
        self.keyring_note.setWordWrap(True)
        if not keyring_available:
            self.keyring_note.setStyleSheet(WARNING_STYLE)

        buttons = QVBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        top = QHBoxLayout()
        top.addWidget(self.hosts, 1)
        top.addLayout(buttons)
        form = QFormLayout(self.form)
        for text, field in (
            ("&Name:", self.name),
            ("&URL:", self.url),
            ("API &key:", self.key),
            ("&Proxy:", self.proxy),
            ("&CA file:", self.ca_file),
        ):
            label = QLabel(text, self.form)
            label.setBuddy(field)
            form.addRow(label, field)
            if field is self.url:
                form.addRow(self.url_problem)
        form.addRow(self.keyring_note)
        layout = QVBoxLayout(self)
        layout.addLayout(top, 1)
        layout.addWidget(self.form)

        self.hosts.currentRowChanged.connect(self._show_row)
        self.add_button.clicked.connect(self.add_host)
        self.remove_button.clicked.connect(self.remove_host)
        self.name.textEdited.connect(self._edited)
        self.url.textEdited.connect(self._edited)
        self.key.textEdited.connect(self._edited)
        self.proxy.textEdited.connect(self._edited)
        self.ca_file.textEdited.connect(self._edited)
        self._show_row(-1)

    def load(self, remotes: list[RemoteHost], keys: Mapping[str, str]) -> None:
        self._remotes = [
            _Remote(r.id, r.name, r.url, keys.get(r.id, ""), r.proxy, r.ca_file, r.verify_tls)
            for r in remotes
        ]
        self._original_keys = {r.id: keys.get(r.id, "") for r in remotes}
        self.hosts.clear()
        for remote in self._remotes:
            self.hosts.addItem(QListWidgetItem(self._title(remote)))
        self.hosts.setCurrentRow(0 if self._remotes else -1)

    @staticmethod
    def _title(remote: _Remote) -> str:
        return f"{remote.name or '(unnamed)'} — {remote.url}"

    def add_host(self) -> None:
        fresh = RemoteHost.new("", "")
        self._remotes.append(_Remote(fresh.id, "", "", ""))
        self.hosts.addItem(QListWidgetItem(self._title(self._remotes[-1])))
        self.hosts.setCurrentRow(len(self._remotes) - 1)
        self.name.setFocus()

    def remove_host(self) -> None:
        row = self.hosts.currentRow()
        if 0 <= row < len(self._remotes):
            del self._remotes[row]
            self.hosts.takeItem(row)
            self._show_row(self.hosts.currentRow())

    def _show_row(self, row: int) -> None:
        remote = self._remotes[row] if 0 <= row < len(self._remotes) else None
        self.form.setEnabled(remote is not None)
        self.remove_button.setEnabled(remote is not None)
        for field, value in (
            (self.name, remote.name if remote else ""),
            (self.url, remote.url if remote else ""),
            (self.key, remote.key if remote else ""),
            (self.proxy, remote.proxy if remote else ""),
            (self.ca_file, remote.ca_file if remote else ""),
        ):
            field.setText(value)
        self._check_url()

    def _edited(self) -> None:
        row = self.hosts.currentRow()
        if not 0 <= row < len(self._remotes):
            return
        remote = self._remotes[row]
        remote.name = self.name.text()
        remote.url = self.url.text()
        remote.key = self.key.text()
        remote.proxy = self.proxy.text()
        remote.ca_file = self.ca_file.text()
        item = self.hosts.item(row)
        if item is not None:
            item.setText(self._title(remote))
        self._check_url()

    def _check_url(self) -> None:
        text = self.url.text()
        problem = ""
        if text.strip():
            try:
                check_host_url(text)
            except ValueError as exc:
                problem = str(exc)
        self.url_problem.setText(problem)
        self.url_problem.setVisible(bool(problem))

    def result(self) -> tuple[list[RemoteHost], dict[str, str]]:
        """The hosts, and the keys that changed (host id -> key, "" = remove).

        ValueError (with the offending host selected) when a URL is wrong.
        """
        hosts: list[RemoteHost] = []
        changed: dict[str, str] = {}
        for row, remote in enumerate(self._remotes):
            try:
                check_host_url(remote.url)
            except ValueError as exc:
                self.hosts.setCurrentRow(row)
                raise ValueError(f"Remote host {remote.name or row + 1}: {exc}") from None
            name = remote.name.strip() or remote.url.strip()
            proxy = remote.proxy.strip() or "system"
            hosts.append(
                RemoteHost(
                    remote.id,
                    name,
                    remote.url.strip(),
                    proxy=proxy,
                    ca_file=remote.ca_file.strip(),
                    verify_tls=remote.verify_tls,
                )
            )
            key = remote.key.strip()
            if key != self._original_keys.get(remote.id, ""):
                changed[remote.id] = key
        return hosts, changed


class GuardPage(QWidget):
    """The runaway guard: on/off, the length limit and the repetition thresholds."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.enabled = QCheckBox("&Stop replies that loop or run too long", self)
        _named(self.enabled, "Runaway guard enabled")
        self.max_chars = self._spin("Length limit", 0, 100_000_000, " characters")
        self.max_chars.setSpecialValueText("No limit")
        self.max_chars.setSingleStep(10_000)
        self.min_repeats_short = self._spin("Short span repeats", 2, 10_000, " copies")
        self.min_repeats_long = self._spin("Long span repeats", 2, 10_000, " copies")
        self.min_repeated_chars = self._spin("Minimum repeated characters", 1, 10_000_000, "")
        self.max_period = self._spin("Longest repeated span", 1, 1_000_000, " characters")
        explain = QLabel(
            "The guard stops a reply the way Stop does when its end repeats the same "
            "text several times in a row, or when it passes the length limit, and says why "
            "in the conversation.",
            self,
        )
        explain.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow(explain)
        form.addRow(self.enabled)
        for text, spin in (
            ("&Length limit:", self.max_chars),
            ("Repeats of a short span (under 20 characters):", self.min_repeats_short),
            ("Repeats of a long span:", self.min_repeats_long),
            ("Repeated region at least:", self.min_repeated_chars),
            ("Longest span looked for:", self.max_period),
        ):
            label = QLabel(text, self)
            label.setBuddy(spin)
            form.addRow(label, spin)
        self.enabled.toggled.connect(self._update_enabled)

    def _spin(self, name: str, low: int, high: int, suffix: str) -> QSpinBox:
        spin = QSpinBox(self)
        spin.setRange(low, high)
        spin.setSuffix(suffix)
        spin.setAlignment(Qt.AlignmentFlag.AlignRight)
        _named(spin, name)
        return spin

    def _thresholds(self) -> list[QSpinBox]:
        return [
            self.max_chars,
            self.min_repeats_short,
            self.min_repeats_long,
            self.min_repeated_chars,
            self.max_period,
        ]

    def _update_enabled(self) -> None:
        for spin in self._thresholds():
            spin.setEnabled(self.enabled.isChecked())

    def load(self, guard: GuardSettings) -> None:
        self.enabled.setChecked(guard.enabled)
        self.max_chars.setValue(guard.max_chars)
        self.min_repeats_short.setValue(guard.min_repeats_short)
        self.min_repeats_long.setValue(guard.min_repeats_long)
        self.min_repeated_chars.setValue(guard.min_repeated_chars)
        self.max_period.setValue(guard.max_period)
        self._update_enabled()

    def result(self) -> GuardSettings:
        """The guard settings; ValueError when the thresholds do not make sense."""
        return GuardSettings(
            enabled=self.enabled.isChecked(),
            max_chars=self.max_chars.value(),
            min_repeats_short=self.min_repeats_short.value(),
            min_repeats_long=self.min_repeats_long.value(),
            min_repeated_chars=self.min_repeated_chars.value(),
            max_period=self.max_period.value(),
        )
