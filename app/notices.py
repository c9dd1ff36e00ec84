"""The bar over the roll that says a session was restored with edits no project holds.

Partita keeps the session itself (autosaved a second after each change and on quit), so Quit
never asks; instead the next start says, where the musician looks, that what they see came back
from last time and is not saved in a project, with Save and Start afresh at hand.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QToolButton, QWidget


def restored_text(seed_notes: int, takes: int, project: str | None) -> str:
    """What came back, in words: "Restored from your last session: the seed (32 notes) and 2 takes,
    not saved in a project.\""""
    parts = ([f"the seed ({seed_notes} note{'s' if seed_notes != 1 else ''})"] if seed_notes else []) + (
        [f"{takes} take{'s' if takes != 1 else ''}"] if takes else [])
    what = " and ".join(parts) or "your edits"
    where = f"changed since {project} was saved" if project else "not saved in a project"
    return f"Restored from your last session: {what}, {where}."


class RestoredBar(QFrame):
    """"Restored from your last session: …" with Save, Start afresh and a close button."""

    saveClicked = Signal()
    startAfreshClicked = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("restoredBar")
        self.setStyleSheet("#restoredBar { background: #fff4ce; border-bottom: 1px solid #e0c36a; }"
                           "#restoredBar QLabel { color: #3b3000; }")
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.save_button = QPushButton("Save…", self)
        self.save_button.setToolTip("Save them in a project file")
        self.afresh_button = QPushButton("Start afresh", self)
        self.afresh_button.setToolTip("Discard them and begin a new project (asks first)")
        self.close_button = QToolButton(self)
        self.close_button.setText("✕")
        self.close_button.setToolTip("Keep working on them (they stay in the session as before)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.save_button)
        layout.addWidget(self.afresh_button)
        layout.addWidget(self.close_button)
        self.save_button.clicked.connect(self.saveClicked)
        self.afresh_button.clicked.connect(self.startAfreshClicked)
        self.close_button.clicked.connect(self.hide)
        self.hide()

    def say(self, text: str) -> None:
        self.label.setText(text)
        self.show()
