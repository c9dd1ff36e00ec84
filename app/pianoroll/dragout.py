"""Dragging notes out of the window as a `.mid` file, as a DAW drags a clip onto the desktop or
into another program: the file is written to a temporary folder and the drag carries its URL.

What is dragged: the selected notes, moved earlier by whole bars so the file starts at the bar
of the first one (its downbeats stay downbeats); with nothing selected, the take shown with its
seed, as File > Export > MIDI writes it (the seed alone when no take is shown).
Start a drag from the "MIDI" handle over the roll, or Alt+drag a selected note.
The temporary files live until Partita quits (a drop target may read them after the drop).
"""

from __future__ import annotations

import atexit
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QEvent, QMimeData, QObject, QPoint, Qt, QUrl
from PySide6.QtGui import QDrag
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from app.pianoroll.convert import score_from_notes
from app.pianoroll.model import Note

_folder: Path | None = None


def drag_folder() -> Path:
    """A folder of this run's dragged files, removed when Partita quits."""
    global _folder
    if _folder is None or not _folder.is_dir():
        _folder = Path(tempfile.mkdtemp(prefix="partita-drag-"))
        atexit.register(shutil.rmtree, _folder, True)
    return _folder


def safe_name(name: str) -> str:
    """`name` fit for a file name on every desktop (no slashes, colons or control characters)."""
    name = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', " ", name).strip(" .")
    return name or "Partita"


class MidiDragOut(QObject):
    """Writes what a drag carries and starts the drag. `name` and `program` are asked when a drag
    starts (the window sets them: the seed's name, its GM program)."""

    def __init__(self, view, parent: QObject | None = None):
        super().__init__(parent or view)
        self.view = view
        self.name: Callable[[], str] = self._default_name  # the file's name for the take shown
        self.program: Callable[[], int] = lambda: 0

    def _default_name(self) -> str:
        model = self.view.model
        take = model.current_take
        return "Partita" + (f" - {model.takes[take].lower()}" if take >= 0 else "")

    def notes_and_name(self) -> tuple[list[Note], str]:
        model = self.view.model
        shown = dict(model.visible_items())
        selected = [shown[i] for i in self.view.selection if i in shown]
        name = self.name()
        if selected:  # ("Prelude - take 2 - selection")
            bar = model.meter.bar_length
            shift = min(n.start for n in selected) // bar * bar
            return [replace(n, start=n.start - shift) for n in selected], f"{name} - selection"
        take = model.current_take
        return model.take_seed(take) + (model.take_notes(take) if take >= 0 else []), name

    def write(self) -> Path | None:
        """The `.mid` of what would be dragged now (None when the roll is empty)."""
        notes, name = self.notes_and_name()
        if not notes:
            return None
        path = drag_folder() / f"{safe_name(name)}.mid"
        score_from_notes(notes, self.view.model.meter, self.program()).dump_midi(str(path))
        return path

    def mime(self) -> QMimeData | None:
        path = self.write()
        if path is None:
            return None
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(path))])
        return mime

    def start(self, source: QWidget) -> Qt.DropAction:
        """Drag the file from `source` (returns what the drop target did; IgnoreAction when nothing to drag)."""
        mime = self.mime()
        if mime is None:
            return Qt.DropAction.IgnoreAction
        drag = QDrag(source)
        drag.setMimeData(mime)
        return drag.exec(Qt.DropAction.CopyAction)


class DragHandle(QLabel):
    """A small grip over the roll: drag it out of the window to get a `.mid` of the selection or take."""

    def __init__(self, drag_out: MidiDragOut, parent: QWidget | None = None):
        super().__init__("⠿ MIDI", parent)
        self.drag_out = drag_out
        self.setToolTip("Drag this out of the window (to the desktop, a DAW, a notation program) for a MIDI file\n"
                        "of the selected notes, or of the take shown with its seed when nothing is selected.\n"
                        "Alt+drag a selected note does the same.")
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        self.setStyleSheet("QLabel { padding: 1px 6px; border: 1px solid palette(mid); border-radius: 3px; }")
        self._pressed: QPoint | None = None

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._pressed = event.position().toPoint()

    def mouseMoveEvent(self, event) -> None:
        if self._pressed is not None and (event.position().toPoint() - self._pressed).manhattanLength() \
                >= QApplication.startDragDistance():
            self._pressed = None
            self.drag_out.start(self)

    def mouseReleaseEvent(self, event) -> None:
        self._pressed = None


class AltDragOut(QObject):
    """Alt+drag on a selected note in the roll starts a drag out instead of a move (an event filter
    on the view's viewport, so the view's own mouse editing is left as it is)."""

    def __init__(self, drag_out: MidiDragOut):
        super().__init__(drag_out)
        self.drag_out = drag_out
        self._pressed: QPoint | None = None
        drag_out.view.viewport().installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        kind = event.type()
        view = self.drag_out.view
        if kind == QEvent.Type.MouseButtonPress and event.button() == Qt.MouseButton.LeftButton \
                and event.modifiers() & Qt.KeyboardModifier.AltModifier:
            hit = view.note_at(view.mapToScene(event.position().toPoint()))
            if hit is not None and hit in view.selection:
                self._pressed = event.position().toPoint()
                return True
        elif kind == QEvent.Type.MouseMove and self._pressed is not None:
            if (event.position().toPoint() - self._pressed).manhattanLength() >= QApplication.startDragDistance():
                self._pressed = None
                self.drag_out.start(view.viewport())
            return True
        elif kind == QEvent.Type.MouseButtonRelease and self._pressed is not None:
            self._pressed = None
            return True
        return False
