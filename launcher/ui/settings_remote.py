"""Settings > Remote hosts: a list, and a form for the selected one (name, URL, API key)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from launcher.config import RemoteHost, check_host_url
from launcher.ui.settings_common import WARNING_STYLE, named

SESSION_ONLY_NOTE = "No system keyring: the key is kept for this session only."
KEYRING_NOTE = "The key is stored in the system keyring, never in the settings file."


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
        self._loaded: dict[str, RemoteHost] = {}
        self.hosts = QListWidget(self)
        named(self.hosts, "Remote hosts")
        self.add_button = QPushButton("&Add host", self)
        named(self.add_button, "Add host")
        self.remove_button = QPushButton("&Remove host", self)
        named(self.remove_button, "Remove host")
        self.form = QGroupBox("Selected host", self)
        self.name = QLineEdit(self.form)
        named(self.name, "Host name", "What the Host switcher shows")
        self.name.setPlaceholderText("e.g. GPU box")
        self.url = QLineEdit(self.form)
        named(self.url, "Host URL", "Same forms as OLLAMA_HOST: host, host:port, https://host/path")
        self.url.setPlaceholderText("e.g. http://gpu-box:11434")
        self.url_problem = QLabel(self.form)
        named(self.url_problem, "Host URL problem")
        self.url_problem.setStyleSheet(WARNING_STYLE)
        self.url_problem.setWordWrap(True)
        self.key = QLineEdit(self.form)
        named(self.key, "API key", "Sent as a Bearer token to this host only")
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("optional")
        self.proxy = QLineEdit(self.form)
        named(self.proxy, "Proxy", "system (HTTPS_PROXY/NO_PROXY), none, or http://proxy:port")
        self.proxy.setPlaceholderText("system — or none, or http://proxy:3128")
        self.ca_file = QLineEdit(self.form)
        named(self.ca_file, "CA file", "A PEM file of CAs trusted for this https host")
        self.ca_file.setPlaceholderText("optional, e.g. /etc/ssl/corp-ca.pem")
        self.keyring_note = QLabel(KEYRING_NOTE if keyring_available else SESSION_ONLY_NOTE, self)
        named(self.keyring_note, "Keyring notice")
        self.keyring_note.setWordWrap(True)
        if not keyring_available:
            self.keyring_note.setStyleSheet(WARNING_STYLE)
        self.keyring_note.hide()  # it concerns API keys: shown once a remote host exists

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
        self._loaded = {r.id: r for r in remotes}
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
        self.keyring_note.setVisible(bool(self._remotes))
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
            # Fields this form does not show (proxy, CA file, …) are kept as loaded.
            loaded = self._loaded.get(remote.id) or RemoteHost(remote.id, name, "")
            hosts.append(
                dataclasses.replace(
                    loaded,
                    name=name,
                    url=remote.url.strip(),
                    proxy=remote.proxy.strip() or "system",
                    ca_file=remote.ca_file.strip(),
                    verify_tls=remote.verify_tls,
                )
            )
            key = remote.key.strip()
            if key != self._original_keys.get(remote.id, ""):
                changed[remote.id] = key
        return hosts, changed
