"""A span of bars being rewritten, drawn over the roll: the notes there now dimmed under a band, and
the variation on show in a colour of its own (the roll's notes are not touched until one is kept).
Times are the roll's ticks; rows as in view.py (row 0 = MIDI 127)."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem

from app.pianoroll.model import Note
from app.pianoroll.notes import ROWS, note_rect

BAND_COLOR = QColor(43, 45, 49, 175)  # the roll's background, most of the way: the notes there now show faintly
EDGE_COLOR = QColor("#3fbf9f")
VARIATION_COLOR = QColor("#3fbf9f")  # neither the seed's blue, a take's orange nor the selection's yellow


class SpanOverlay(QGraphicsItem):
    """The span [start, end) and the notes of one variation, over the roll's notes."""

    def __init__(self):
        super().__init__()
        self.start = self.end = 0
        self.notes: list[Note] = []
        self.setZValue(5)  # over the notes, under the playhead
        self.setVisible(False)

    def show_span(self, start: int, end: int) -> None:
        self.prepareGeometryChange()
        self.start, self.end = start, end
        self.notes = []
        self.setVisible(True)
        self.update()

    def set_notes(self, notes: list[Note]) -> None:
        self.notes = list(notes)
        self.update()

    def clear(self) -> None:
        self.notes = []
        self.setVisible(False)

    def boundingRect(self) -> QRectF:
        return QRectF(self.start, 0, max(1, self.end - self.start), ROWS)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        band = self.boundingRect()
        painter.fillRect(band.intersected(option.exposedRect.adjusted(-2, -2, 2, 2)), BAND_COLOR)
        edge = QPen(EDGE_COLOR, 2, Qt.PenStyle.DashLine)
        edge.setCosmetic(True)
        painter.setPen(edge)
        painter.drawLine(band.topLeft(), band.bottomLeft())
        painter.drawLine(band.topRight(), band.bottomRight())
        if not self.notes:
            return
        painter.setPen(QPen(QColor(0, 0, 0, 110), 0))
        painter.setBrush(QBrush(VARIATION_COLOR))
        painter.drawRects([note_rect(n.start, n.duration, n.pitch) for n in self.notes])
