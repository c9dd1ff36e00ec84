"""The velocity lane under the roll: a stem per note shown, as tall as the note is loud (1-127).

Dragging a stem up or down sets that note's velocity; when the note is selected, every selected
note moves by the same amount (each kept within 1-127), so a phrase's shape is kept. The drag is
previewed in the lane and becomes one undo step on release. Only notes the roll shows (the seed
and the current take) have stems, so no other take's velocity can be changed here.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QWidget

from app.pianoroll import commands
from app.pianoroll.model import SEED
from app.pianoroll.notes import GENERATED_COLOR, ROWS, SEED_COLOR, SELECTED_COLOR
from app.pianoroll.view import PianoRollView

LANE_HEIGHT = 64  # pixels
PAD = 4  # pixels above velocity 127 and below velocity 0
HIT_PX = 5  # how near a stem (in pixels, across) a press must be to grab it


class VelocityLane(QWidget):
    """Velocities of the notes a `PianoRollView` shows, lined up with its columns, edited by dragging."""

    def __init__(self, view: PianoRollView, parent: QWidget | None = None):
        super().__init__(parent)
        self.view = view
        self.setFixedHeight(LANE_HEIGHT)
        self.setMouseTracking(True)
        self.setToolTip("Velocity: drag a note's stem up or down (the selected notes move together)")
        self._drag: dict | None = None  # {"ids": [...], "origin": {id: velocity}, "grabbed": id}
        self.preview: dict[int, int] = {}  # id -> velocity shown while dragging
        view.viewChanged.connect(self.update)
        view.selectionChanged.connect(self.update)
        view.model.notesChanged.connect(self.update)
        view.model.takesChanged.connect(self.update)

    # geometry
    def x_of(self, tick: float) -> float:
        return self.view.mapFromScene(QPointF(tick, 0)).x() + self.view.viewport().x()

    def y_of(self, velocity: float) -> float:
        return self.height() - PAD - velocity / 127 * (self.height() - 2 * PAD)

    def velocity_at(self, y: float) -> int:
        return max(1, min(127, round((self.height() - PAD - y) / max(1, self.height() - 2 * PAD) * 127)))

    def stems(self) -> list[tuple[float, int, str, int]]:
        """(x, note id, role, velocity) of each note starting in view, left to right."""
        visible = self.view.visible_scene_rect()
        model = self.view.model
        out = []
        for start, _end, _pitch, role, note_id in self.view.notes_item.notes_in(QRectF(visible.left(), 0,
                                                                                       visible.width(), ROWS)):
            if start < visible.left():
                continue
            velocity = self.preview.get(note_id, model.note(note_id).velocity)
            out.append((self.x_of(start), note_id, role, velocity))
        return out

    def stem_at(self, x: float, y: float) -> int | None:
        """The note whose stem is nearest (x, y): a selected one first among stems within reach."""
        near = [s for s in self.stems() if abs(s[0] - x) <= HIT_PX]
        if not near:
            return None
        selection = self.view.selection
        near.sort(key=lambda s: (s[1] not in selection, abs(self.y_of(s[3]) - y)))
        return near[0][1]

    # painting
    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#26272b"))
        painter.setPen(QPen(QColor("#3c3f45"), 1))
        for level in (32, 64, 96, 127):
            y = self.y_of(level)
            painter.drawLine(QPointF(0, y), QPointF(self.width(), y))
        selection = self.view.selection
        for x, note_id, role, velocity in self.stems():
            colour = SELECTED_COLOR if note_id in selection else SEED_COLOR if role == SEED else GENERATED_COLOR
            top = self.y_of(velocity)
            painter.setPen(QPen(colour, 2))
            painter.drawLine(QPointF(x, self.height() - PAD), QPointF(x, top))
            painter.setBrush(colour)
            painter.drawEllipse(QPointF(x, top), 3, 3)

    # editing
    def mousePressEvent(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        pos = event.position()
        grabbed = self.stem_at(pos.x(), pos.y())
        if grabbed is None:
            return
        selection = self.view.selection
        ids = sorted(selection) if grabbed in selection else [grabbed]
        model = self.view.model
        self._drag = {"ids": ids, "grabbed": grabbed, "origin": {i: model.note(i).velocity for i in ids}}
        self._drag_to(pos.y())
        event.accept()

    def mouseMoveEvent(self, event) -> None:
        if self._drag is not None:
            self._drag_to(event.position().y())
            return
        grabbed = self.stem_at(event.position().x(), event.position().y())
        self.setCursor(Qt.CursorShape.SizeVerCursor if grabbed is not None else Qt.CursorShape.ArrowCursor)

    def _drag_to(self, y: float) -> None:
        drag = self._drag
        delta = self.velocity_at(y) - drag["origin"][drag["grabbed"]]
        self.preview = {i: max(1, min(127, v + delta)) for i, v in drag["origin"].items()}
        self.update()

    def mouseReleaseEvent(self, event) -> None:
        if self._drag is None:
            return super().mouseReleaseEvent(event)
        model = self.view.model
        new = {i: replace(model.note(i), velocity=v) for i, v in self.preview.items()
               if model.note(i).velocity != v}
        self._drag, self.preview = None, {}
        if new:
            self.view.undo_stack.push(commands.replace_notes(model, "Velocity", new))
        self.update()
