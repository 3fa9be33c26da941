"""Settings > Local server: how the launcher runs `ollama serve` on this computer."""

from __future__ import annotations

import dataclasses

from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from launcher.config import LocalServerSettings, check_env_name
from launcher.ollama import resolve_host
from launcher.ui.file_dialog import FileDialogSlot
from launcher.ui.settings_common import WARNING_STYLE, buddy_label, named
from launcher.ui.settings_common import row as field_row


class LocalServerPage(QWidget):
    """How the launcher runs `ollama serve` on this computer.

    Attributes:
        file_dialog: holds the Browse… dialog while it is open (opened, never exec'd).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.listen = QLineEdit(self)
        named(self.listen, "Listen address", "Address and port `ollama serve` listens on")
        self.listen.setPlaceholderText("127.0.0.1:11434")
        self.listen_note = QLabel(self)
        named(self.listen_note, "Listen address note")
        self.listen_note.setWordWrap(True)
        self.listen_note.hide()
        self.models_dir = QLineEdit(self)
        named(self.models_dir, "Models folder", "Where the server keeps models (OLLAMA_MODELS)")
        self.models_dir.setPlaceholderText("Ollama's default (~/.ollama/models)")
        self.browse_models = QPushButton("Browse…", self)
        named(self.browse_models, "Browse for models folder")
        self.allow_network = QCheckBox("Allow other devices on the &network", self)
        named(self.allow_network, "Allow other devices on the network")
        self.network_warning = QLabel(self)
        named(self.network_warning, "Network warning")
        self.network_warning.setWordWrap(True)
        self.network_warning.setStyleSheet(WARNING_STYLE)
        self.env_table = QTableWidget(0, 2, self)
        named(self.env_table, "Environment variables", "Extra environment for the server")
        self.env_table.setHorizontalHeaderLabels(["Name", "Value"])
        self.env_table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.env_table.verticalHeader().setVisible(False)
        self.env_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.env_table.setMinimumHeight(90)
        self.add_env = QPushButton("Add variable", self)
        named(self.add_env, "Add variable")
        self.remove_env = QPushButton("Remove variable", self)
        named(self.remove_env, "Remove variable")
        self.keep_running = QCheckBox("&Keep the server running after quit", self)
        named(self.keep_running, "Keep the server running after quit")
        self.auto_start = QCheckBox("&Start Ollama automatically", self)
        named(
            self.auto_start,
            "Start Ollama automatically",
            "When this computer is the selected host and nothing answers, start "
            "`ollama serve` without a click",
        )
        self.binary = QLineEdit(self)
        named(self.binary, "Ollama binary", "Path to the ollama program")
        self.binary.setPlaceholderText("Found on PATH or in the usual install places")
        self.browse_binary = QPushButton("Browse…", self)
        named(self.browse_binary, "Browse for ollama binary")
        self.file_dialog = FileDialogSlot()
        self._loaded = LocalServerSettings()

        form = QFormLayout(self)
        form.addRow(buddy_label(self, "&Listen address:", self.listen), self.listen)
        form.addRow(self.listen_note)
        form.addRow(
            buddy_label(self, "&Models folder:", self.models_dir),
            field_row(self.models_dir, self.browse_models),
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
        form.addRow(buddy_label(self, "&Environment:", self.env_table), env_box)
        form.addRow(self.auto_start)
        form.addRow(self.keep_running)
        form.addRow(
            buddy_label(self, "Ollama &binary:", self.binary),
            field_row(self.binary, self.browse_binary),
        )

        self.allow_network.toggled.connect(self._update_warning)
        self.listen.textChanged.connect(self._update_warning)
        self.add_env.clicked.connect(lambda: self._add_env_row())
        self.remove_env.clicked.connect(self._remove_env_row)
        self.browse_models.clicked.connect(self._browse_models)
        self.browse_binary.clicked.connect(self._browse_binary)

    def load(self, local: LocalServerSettings) -> None:
        self._loaded = local
        self.auto_start.setChecked(local.auto_start)
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
        # Fields other pages edit (proxy, tuning, …) are kept as they were loaded.
        return dataclasses.replace(
            self._loaded,
            listen=listen,
            allow_network=self.allow_network.isChecked(),
            models_dir=self.models_dir.text().strip(),
            binary=self.binary.text().strip(),
            extra_env=env,
            keep_running_after_quit=self.keep_running.isChecked(),
            auto_start=self.auto_start.isChecked(),
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
        dialog = self.file_dialog.new(self, title, target.text().strip())
        if dialog is None:
            return
        if folder:
            dialog.setFileMode(QFileDialog.FileMode.Directory)
            dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        else:
            dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(target.setText)
        dialog.open()
