"""Error and information dialogs that say what happened and what to do, never a traceback.

Dialogs are opened window-modal without blocking (`open()`), so a worker's failure reported
while the user is dragging notes does not freeze anything, and tests can read them.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QLabel,
    QMessageBox,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)


def show_error(parent: QWidget, what: str, todo: str = "", title: str = "Partita") -> QMessageBox:
    """`what` happened (one line, e.g. the engine's message); `todo` says how to fix it."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, what, QMessageBox.StandardButton.Ok, parent)
    if todo:
        box.setInformativeText(todo)
    box.setObjectName("errorDialog")
    box.open()
    return box


class ShortcutList(QDialog):
    """Help > Keyboard shortcuts: every shortcut in two columns, scrolled where the screen is short
    (a message box of one column was 894 px tall, past a 768-pixel screen)."""

    MAX_HEIGHT = 640

    def __init__(self, pairs: list[tuple[str, str]], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        cells = [f"<td>{what}</td><td>&nbsp;&nbsp;<b>{keys}</b>&nbsp;&nbsp;&nbsp;&nbsp;</td>" for what, keys in pairs]
        half = (len(cells) + 1) // 2
        right = cells[half:] + [""] * (half - len(cells[half:]))  # an odd count leaves the last cell empty
        rows = [f"<tr>{left}{right}</tr>" for left, right in zip(cells[:half], right, strict=True)]
        self.label = QLabel(f"<table>{''.join(rows)}</table>")
        self.label.setTextFormat(Qt.TextFormat.RichText)
        scroll = QScrollArea(self)
        scroll.setWidget(self.label)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok, self)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll)
        layout.addWidget(buttons)
        hint = self.label.sizeHint()
        self.resize(hint.width() + 48, min(hint.height() + 72, self.MAX_HEIGHT))

    def text(self) -> str:
        return self.label.text()
