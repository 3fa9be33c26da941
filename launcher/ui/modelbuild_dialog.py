"""The small dialog that names a model to build, copy or rename, and checks it before sending.

One dialog for four jobs: "Import GGUF" (a file, a name, optional system prompt,
template and parameters), "New model from" (an installed model instead of a
file), "Copy model" and "Rename model" (a name only). A bad name or parameter
keeps everything typed and says, next to the fields, what is wrong. It is
opened with `open()` (window-modal, the event loop keeps running) and answers
through `recipeChosen`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from launcher.core.modelimport import ModelRecipe
from launcher.core.modelnames import full_name, name_problem, parse_parameters

IMPORT, DERIVE, COPY, RENAME = "import", "derive", "copy", "rename"
_TITLES = {
    IMPORT: "Import GGUF",
    DERIVE: "New model from",
    COPY: "Copy model",
    RENAME: "Rename model",
}
_PARAMETERS_HINT = "One per line, e.g.\ntemperature 0.7\nnum_ctx 8192\nstop <|end|>"


class ModelRecipeDialog(QDialog):
    """Asks for what to build. See the module docstring.

    Args:
        mode: IMPORT, DERIVE, COPY or RENAME.
        taken: the installed models' names (a new name must not overwrite one).
        path: the GGUF file (IMPORT).
        models: the installed models to build on (DERIVE), the selected one first.
        source: the model copied or renamed (COPY, RENAME).

    Signals:
        recipeChosen(object): the checked ModelRecipe (`base` is the source for
            COPY and RENAME).
    """

    recipeChosen = Signal(object)

    def __init__(
        self,
        mode: str,
        taken: list[str],
        parent: QWidget | None = None,
        *,
        path: Path | None = None,
        models: list[str] | None = None,
        source: str = "",
    ) -> None:
        super().__init__(parent)
        self.mode = mode
        self.path = path
        self.source = source
        self._taken = {full_name(name) for name in taken}
        self.setWindowTitle(_TITLES[mode])
        self.setAccessibleName(f"{_TITLES[mode]} dialog")
        self.setWindowModality(Qt.WindowModality.WindowModal)

        form = QFormLayout()
        self.base = QComboBox(self)
        self.base.setAccessibleName("Base model")
        self.base.addItems(models or [])
        self.name = QLineEdit(self)
        self.name.setAccessibleName("New model name")
        self.name.setPlaceholderText("e.g. my-model or my-model:v2")
        self.system = QPlainTextEdit(self)
        self.system.setAccessibleName("System prompt")
        self.system.setPlaceholderText("Optional: who the model is and how it answers")
        self.template = QPlainTextEdit(self)
        self.template.setAccessibleName("Template")
        self.template.setPlaceholderText("Optional: the prompt template (Go template syntax)")
        self.parameters = QPlainTextEdit(self)
        self.parameters.setAccessibleName("Parameters")
        self.parameters.setPlaceholderText(_PARAMETERS_HINT)
        for box in (self.system, self.template, self.parameters):
            box.setTabChangesFocus(True)
            box.setMaximumHeight(90)
        if mode == IMPORT and path is not None:
            file_label = QLabel(path.name, self)
            file_label.setAccessibleName("GGUF file")
            file_label.setToolTip(str(path))
            file_label.setTextFormat(Qt.TextFormat.PlainText)
            form.addRow("File:", file_label)
            self.name.setText(_name_from_file(path))
        if mode == DERIVE:
            form.addRow(self._label("&Base model:", self.base), self.base)
        if mode in (COPY, RENAME):
            what = QLabel(source, self)
            what.setAccessibleName("Source model")
            what.setTextFormat(Qt.TextFormat.PlainText)
            form.addRow("Model:", what)
            self.name.setText(source.removesuffix(":latest") + ("-copy" if mode == COPY else ""))
        form.addRow(self._label("&Name:", self.name), self.name)
        if mode in (IMPORT, DERIVE):
            form.addRow(self._label("&System prompt:", self.system), self.system)
            form.addRow(self._label("&Parameters:", self.parameters), self.parameters)
        if mode == IMPORT:
            form.addRow(self._label("&Template:", self.template), self.template)
        used = {
            IMPORT: (self.system, self.parameters, self.template),
            DERIVE: (self.base, self.system, self.parameters),
        }
        for unused in {self.base, self.system, self.parameters, self.template} - set(
            used.get(mode, ())
        ):
            unused.hide()  # not in the form: it would float over it
        self.message = QLabel(self)
        self.message.setAccessibleName("Dialog message")
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        self.message.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText({IMPORT: "Import", DERIVE: "Create", COPY: "Copy", RENAME: "Rename"}[mode])
        ok.setAccessibleName(ok.text())
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAccessibleName("Cancel")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self.check_and_accept)
        self.buttons.rejected.connect(self.reject)
        self.name.textEdited.connect(lambda _text: self._say(""))
        self.name.selectAll()
        self.name.setFocus()

    def _label(self, text: str, buddy: QWidget) -> QLabel:
        label = QLabel(text, self)
        label.setBuddy(buddy)
        return label

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def problem(self) -> tuple[str, QWidget | None]:
        """What stops the recipe (for a person) and the field to fix; ("", None) when fine."""
        name = self.name.text().strip()
        if problem := name_problem(name):
            return problem, self.name
        if self.mode == RENAME and full_name(name) == full_name(self.source):
            return "Type a different name: that is the model's name now.", self.name
        if full_name(name) in self._taken:
            return (
                f"A model called {name} is installed already — pick another name "
                "(building or copying over it would replace it).",
                self.name,
            )
        if self.mode == DERIVE and not self.base.currentText():
            return "There is no installed model to build on — pull one first.", self.base
        try:
            parse_parameters(self.parameters.toPlainText())
        except ValueError as exc:
            return str(exc), self.parameters
        return "", None

    def recipe(self) -> ModelRecipe:
        name = self.name.text().strip()
        if self.mode in (COPY, RENAME):
            return ModelRecipe(name, base=self.source)
        return ModelRecipe(
            name,
            path=self.path if self.mode == IMPORT else None,
            base=self.base.currentText() if self.mode == DERIVE else "",
            system=self.system.toPlainText().strip(),
            template=self.template.toPlainText().strip() if self.mode == IMPORT else "",
            parameters=parse_parameters(self.parameters.toPlainText()),
        )

    def check_and_accept(self) -> None:
        """OK: keep the dialog and its text when something is wrong, and say what."""
        problem, field = self.problem()
        if problem:
            self._say(problem)
            if field is not None:
                field.setFocus()
            return
        self.recipeChosen.emit(self.recipe())
        self.accept()


def _name_from_file(path: Path) -> str:
    """A starting name from `Qwen2.5-7B-Instruct-Q4_K_M.gguf`: `qwen2.5-7b-instruct-q4_k_m`."""
    stem = "".join(c if c.isalnum() or c in "._-" else "-" for c in path.stem.lower())
    return stem.strip("-._")[:80] or "imported"


__all__ = ["COPY", "DERIVE", "IMPORT", "RENAME", "ModelRecipeDialog"]
