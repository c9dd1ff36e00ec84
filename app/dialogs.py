"""Error and information dialogs that say what happened and what to do, never a traceback.

Dialogs are opened window-modal without blocking (`open()`), so a worker's failure reported
while the user is dragging notes does not freeze anything, and tests can read them.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget


def show_error(parent: QWidget, what: str, todo: str = "", title: str = "Partita") -> QMessageBox:
    """`what` happened (one line, e.g. the engine's message); `todo` says how to fix it."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, what, QMessageBox.StandardButton.Ok, parent)
    if todo:
        box.setInformativeText(todo)
    box.setObjectName("errorDialog")
    box.open()
    return box
