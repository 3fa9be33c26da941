"""The "Server" settings page: the variables `ollama serve` reads, checked, each explained.

The rules (what a value may be, Ollama's defaults, which OLLAMA_* names exist)
live in `core/diagnostics_tuning.py`; this page only shows them. Values go to
`settings.local.tuning` (empty = Ollama's default), `https_proxy` and `noprune`;
they reach the server at its next start (saving offers "Restart server to
apply").
"""

from __future__ import annotations

import copy

from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from launcher.config import LocalServerSettings, Settings
from launcher.core.diagnostics_tuning import (
    BY_NAME,
    KV_CACHE_TYPES,
    check_extra_name,
    check_listen,
    check_models_dir,
    check_proxy,
    check_value,
    is_unknown_ollama,
    parse_bool,
)

WARNING_STYLE = "color: #b71c1c; font-weight: bold;"
HELP_STYLE = "color: palette(placeholder-text);"
TEXT_FIELDS = (
    ("OLLAMA_CONTEXT_LENGTH", "&Context length"),
    ("OLLAMA_NUM_PARALLEL", "&Parallel requests"),
    ("OLLAMA_MAX_LOADED_MODELS", "&Models kept loaded"),
    ("OLLAMA_KEEP_ALIVE", "&Keep alive"),
    ("OLLAMA_ORIGINS", "Allowed &origins"),
    ("CUDA_VISIBLE_DEVICES", "NV&IDIA GPUs"),
    ("ROCR_VISIBLE_DEVICES", "&AMD GPUs"),
)
FLASH = "OLLAMA_FLASH_ATTENTION"
KV = "OLLAMA_KV_CACHE_TYPE"
PAGE_NAMES = {FLASH, KV, *(name for name, _label in TEXT_FIELDS)}


class ServerSettingsPage(QWidget):
    """Tuning of the local server. `load()` fills it, `result()` builds the new settings.

    Args:
        settings: the settings to show at first (optional; `load()` may come later).
    """

    def __init__(self, settings: Settings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Server settings")
        self.fields: dict[str, QLineEdit] = {}
        body = QWidget(self)
        form = QFormLayout(body)
        intro = QLabel(
            "What the local `ollama serve` runs with. Empty means Ollama's default. Changes "
            "apply when the server restarts: after OK the launcher offers to restart it.",
            body,
        )
        intro.setWordWrap(True)
        form.addRow(intro)
        self.listen = QLineEdit(body)
        self.listen.setAccessibleName("OLLAMA_HOST")
        self.listen.setPlaceholderText("127.0.0.1:11434 (Ollama's default)")
        form.addRow(self._label("Liste&n address", self.listen, body), self.listen)
        form.addRow(
            self._help(
                "OLLAMA_HOST: the address and port the server listens on. Loopback keeps it "
                "private to this computer. Default: 127.0.0.1:11434.",
                body,
            )
        )
        self.models_dir = QLineEdit(body)
        self.models_dir.setAccessibleName("OLLAMA_MODELS")
        self.models_dir.setPlaceholderText("~/.ollama/models (Ollama's default)")
        form.addRow(self._label("Models fol&der", self.models_dir, body), self.models_dir)
        form.addRow(
            self._help(
                "OLLAMA_MODELS: the folder where models are stored (a full path). "
                "Default: ~/.ollama/models.",
                body,
            )
        )
        for name, label in TEXT_FIELDS[:1]:
            self._text_row(form, body, name, label)
        self.flash = QComboBox(body)
        self.flash.setAccessibleName(FLASH)
        self.flash.addItem("Default (off)", "")
        self.flash.addItem("On", "1")
        self.flash.addItem("Off", "0")
        self._row(form, body, FLASH, "&Flash attention", self.flash)
        self.kv_cache = QComboBox(body)
        self.kv_cache.setAccessibleName(KV)
        self.kv_cache.addItem("Default (f16)", "")
        for kind in KV_CACHE_TYPES:
            self.kv_cache.addItem(kind, kind)
        self._row(form, body, KV, "K&V cache type", self.kv_cache)
        for name, label in TEXT_FIELDS[1:]:
            self._text_row(form, body, name, label)
        self.https_proxy = QLineEdit(body)
        self.https_proxy.setAccessibleName("HTTPS_PROXY")
        self.https_proxy.setPlaceholderText("the launcher's own environment")
        form.addRow(self._label("HTTPS pro&xy", self.https_proxy, body), self.https_proxy)
        form.addRow(self._help("HTTPS_PROXY: the proxy Ollama downloads models through.", body))
        self.noprune = QCheckBox("Keep partial do&wnloads across server restarts", body)
        self.noprune.setAccessibleName("OLLAMA_NOPRUNE")
        form.addRow(self.noprune)
        form.addRow(
            self._help(
                "OLLAMA_NOPRUNE=1 (on by default here; Ollama's own default is off) lets an "
                "interrupted download resume after a restart.",
                body,
            )
        )
        self.extra = QTableWidget(0, 2, body)
        self.extra.setAccessibleName("Extra server variables")
        self.extra.setHorizontalHeaderLabels(["Name", "Value"])
        self.extra.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.extra.verticalHeader().setVisible(False)
        self.extra.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.extra.setMinimumHeight(90)
        self.add_extra = QPushButton("Add variable", body)
        self.add_extra.setAccessibleName("Add server variable")
        self.remove_extra = QPushButton("Remove variable", body)
        self.remove_extra.setAccessibleName("Remove server variable")
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_extra)
        buttons.addWidget(self.remove_extra)
        buttons.addStretch(1)
        box = QVBoxLayout()
        box.addWidget(self.extra)
        box.addLayout(buttons)
        form.addRow(self._label("&Extra variables", self.extra, body), box)
        self.unknown = QLabel(body)
        self.unknown.setAccessibleName("Unknown variables")
        self.unknown.setWordWrap(True)
        self.unknown.setStyleSheet(WARNING_STYLE)
        self.unknown.hide()
        form.addRow(self.unknown)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)

        self.flash.currentIndexChanged.connect(self._update_kv)
        self.add_extra.clicked.connect(lambda: self._add_extra_row())
        self.remove_extra.clicked.connect(self._remove_extra_row)
        self.extra.itemChanged.connect(lambda _item: self._flag_unknown())
        if settings is not None:
            self.load(settings.local)
        self._update_kv()

    # ---- building -------------------------------------------------------

    @staticmethod
    def _label(text: str, buddy: QWidget, parent: QWidget) -> QLabel:
        label = QLabel(text, parent)
        label.setBuddy(buddy)
        return label

    @staticmethod
    def _help(text: str, parent: QWidget) -> QLabel:
        label = QLabel(text, parent)
        label.setWordWrap(True)
        label.setStyleSheet(HELP_STYLE)
        return label

    def _row(self, form: QFormLayout, parent: QWidget, name: str, label: str, w: QWidget) -> None:
        var = BY_NAME[name]
        w.setToolTip(f"{name}: {var.what} Default: {var.default}.")
        form.addRow(self._label(label, w, parent), w)
        form.addRow(self._help(f"{name}: {var.what} Default: {var.default}.", parent))

    def _text_row(self, form: QFormLayout, parent: QWidget, name: str, label: str) -> None:
        field = QLineEdit(parent)
        field.setAccessibleName(name)
        field.setPlaceholderText(f"{BY_NAME[name].default} (Ollama's default)")
        self.fields[name] = field
        self._row(form, parent, name, label, field)

    # ---- values ---------------------------------------------------------

    def load(self, local: LocalServerSettings) -> None:
        tuning = dict(local.tuning)
        for name, field in self.fields.items():
            field.setText(tuning.get(name, ""))
        self.flash.setCurrentIndex(max(self.flash.findData(_flag(tuning.get(FLASH, ""))), 0))
        self.kv_cache.setCurrentIndex(max(self.kv_cache.findData(tuning.get(KV, "")), 0))
        self.listen.setText(local.listen)
        self.models_dir.setText(local.models_dir)
        self.https_proxy.setText(local.https_proxy)
        self.noprune.setChecked(local.noprune)
        self.extra.setRowCount(0)
        for name, value in tuning.items():
            if name not in PAGE_NAMES:
                self._add_extra_row(name, value, select=False)
        self._update_kv()
        self._flag_unknown()

    def result(self, local: LocalServerSettings) -> LocalServerSettings:
        """A copy of `local` with this page's values; ValueError saying which field is wrong."""
        tuning: dict[str, str] = {}
        flash_on = self.flash.currentData() == "1"
        for name, field in self.fields.items():
            value = check_value(name, field.text())
            if value:
                tuning[name] = value
        if self.flash.currentData():
            tuning[FLASH] = str(self.flash.currentData())
        kv = str(self.kv_cache.currentData() or "")
        if kv:
            tuning[KV] = check_value(KV, kv, flash_attention=flash_on)
        for row in range(self.extra.rowCount()):
            name, value = self._cell(row, 0), self._cell(row, 1)
            if not name.strip() and not value.strip():
                continue
            name = check_extra_name(name)
            if name in PAGE_NAMES:
                raise ValueError(f"{name} has its own field above: set it there.")
            tuning[name] = value.strip()
        new = copy.deepcopy(local)
        new.listen = check_listen(self.listen.text()) or "127.0.0.1:11434"
        new.models_dir = check_models_dir(self.models_dir.text())
        new.tuning = tuning
        new.https_proxy = check_proxy(self.https_proxy.text())
        new.noprune = self.noprune.isChecked()
        return new

    def apply_to(self, settings: Settings) -> None:
        """Put this page's values into `settings.local`; ValueError when a field is wrong."""
        settings.local = self.result(settings.local)

    def link(self, listen: QLineEdit, models_dir: QLineEdit) -> None:
        """Mirror another page's listen address and models folder (one setting, two places)."""
        for mine, theirs in ((self.listen, listen), (self.models_dir, models_dir)):
            mine.setText(theirs.text())
            theirs.textChanged.connect(lambda text, f=mine: _mirror(f, text))
            mine.textChanged.connect(lambda text, f=theirs: _mirror(f, text))

    # ---- behaviour ------------------------------------------------------

    def _update_kv(self) -> None:
        """Ollama uses a quantized cache only with flash attention: offer it only then."""
        on = self.flash.currentData() == "1"
        self.kv_cache.setEnabled(on)
        if not on:
            self.kv_cache.setCurrentIndex(0)
            self.kv_cache.setToolTip("Turn on flash attention to choose a quantized cache.")

    def _flag_unknown(self) -> None:
        names = [self._cell(r, 0).strip() for r in range(self.extra.rowCount())]
        unknown = [n for n in names if is_unknown_ollama(n)]
        self.unknown.setVisible(bool(unknown))
        self.unknown.setText(
            "Ollama does not know "
            + ", ".join(unknown)
            + " — check the spelling (it will be passed on, but has no effect)."
            if unknown
            else ""
        )

    def _cell(self, row: int, column: int) -> str:
        item = self.extra.item(row, column)
        return item.text() if item is not None else ""

    def _add_extra_row(self, name: str = "", value: str = "", *, select: bool = True) -> None:
        row = self.extra.rowCount()
        self.extra.insertRow(row)
        self.extra.setItem(row, 0, QTableWidgetItem(name))
        self.extra.setItem(row, 1, QTableWidgetItem(value))
        if select:
            self.extra.setCurrentCell(row, 0)
            self.extra.setFocus()

    def _remove_extra_row(self) -> None:
        row = self.extra.currentRow()
        if row >= 0:
            self.extra.removeRow(row)
            self._flag_unknown()


def _mirror(field: QLineEdit, text: str) -> None:
    if field.text() != text:  # stops the echo between the two fields
        field.setText(text)


def _flag(value: str) -> str:
    """A stored flash-attention value as the combo's data ("", "1" or "0")."""
    parsed = parse_bool(value) if value else None
    return "" if parsed is None else ("1" if parsed else "0")
