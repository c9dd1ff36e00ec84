"""The roll's notes: one `NotesItem` paints them all (those that intersect the exposed rectangle,
found by binary search over note starts), and the geometry every layer shares: a pitch's row
(row 0 = MIDI 127), a note's rectangle inset from it, and the colours of seed, take and selection."""

from __future__ import annotations

import bisect

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem

from app.pianoroll.model import SEED, Note, NoteModel

ROWS = 128
SIXTEENTHS_PER_QUARTER = 4
BLACK_KEYS = {1, 3, 6, 8, 10}
NOTE_MARGIN = 0.08  # of a pitch row (one scene unit tall) left empty above and below a note
NOTE_HEIGHT = 1 - 2 * NOTE_MARGIN  # in pitch rows: notes a semitone apart do not touch
OUTLINE_MIN_PIXELS = 4  # notes are outlined once a sixteenth is this wide on screen (colour only below)

SEED_COLOR = QColor("#3d7fd9")
GENERATED_COLOR = QColor("#e8893a")
SELECTED_COLOR = QColor("#f5d142")
DRAFT_COLOR = QColor(61, 127, 217, 140)


def row_of(pitch: int) -> int:
    return 127 - pitch


def pitch_at(y: float) -> int:
    return max(0, min(127, 127 - int(y // 1)))


def note_rect(start: float, duration: float, pitch: int) -> QRectF:
    """A note's rectangle in scene units (x in ticks, y in pitch rows), inset from its row."""
    return QRectF(start, row_of(pitch) + NOTE_MARGIN, duration, NOTE_HEIGHT)


class NotesItem(QGraphicsItem):
    """All notes in one item, painted from a start-sorted index."""

    def __init__(self, model: NoteModel):
        super().__init__()
        self.model = model
        self.selection: set[int] = set()
        self.offset = (0, 0)  # (ticks, semitones) preview of a move in progress
        self.resize_by = 0  # ticks added to selected notes' durations during a resize drag
        self.draft: Note | None = None  # note being drawn
        self._index: list[tuple[int, int, int, str, int]] | None = None  # (start, end, pitch, role, id)
        self._starts: list[int] = []
        self._rects: list[QRectF] = []  # parallel to _index: each note's rectangle in scene units
        self._longest = 0
        self._width = 0.0
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)

    def invalidate(self, width: float) -> None:
        self._index = None
        self._set_width(width)
        self.update()

    def add(self, notes: list[tuple[int, Note]], width: float) -> None:
        """Put new notes into the index in place (a take being streamed), instead of re-sorting
        every note shown: 11 -> well under 1 ms per streamed note beside a 5,000-note seed."""
        if self._index is not None:
            for note_id, n in notes:
                entry = (n.start, n.end, n.pitch, n.role, note_id)
                k = bisect.bisect_right(self._index, entry)
                self._index.insert(k, entry)
                self._starts.insert(k, n.start)
                self._rects.insert(k, note_rect(n.start, n.end - n.start, n.pitch))
                self._longest = max(self._longest, n.end - n.start)
        self._set_width(width)
        self.update()

    def _set_width(self, width: float) -> None:
        if width != self._width:
            self.prepareGeometryChange()
            self._width = width

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self._width, ROWS)

    def _ensure_index(self) -> None:
        """Sort the shown notes by start once per change; keep each note's rectangle ready."""
        if self._index is None:
            entries = sorted((n.start, n.end, n.pitch, n.role, i) for i, n in self.model.visible_items())
            self._index = entries
            self._starts = [e[0] for e in entries]
            self._rects = [note_rect(e[0], e[1] - e[0], e[2]) for e in entries]
            self._longest = max((e[1] - e[0] for e in entries), default=0)

    def _span(self, rect: QRectF) -> tuple[int, int]:
        """Index range of the notes that may intersect `rect` horizontally."""
        self._ensure_index()
        lo = bisect.bisect_left(self._starts, rect.left() - self._longest)
        hi = bisect.bisect_right(self._starts, rect.right())
        return lo, hi

    def notes_in(self, rect: QRectF) -> list[tuple[int, int, int, str, int]]:
        """Index entries whose rectangles intersect `rect` (scene coordinates)."""
        lo, hi = self._span(rect)
        x0 = rect.left()
        top_pitch, bottom_pitch = 127 - int(rect.top()), 127 - int(rect.bottom())
        return [e for e in self._index[lo:hi] if e[1] > x0 and bottom_pitch <= e[2] <= top_pitch]

    def paint(self, painter: QPainter, option, widget=None) -> None:
        exposed = option.exposedRect.adjusted(-2, -2, 2, 2)
        dt, dp = self.offset
        if (dt, dp) != (0, 0):
            exposed = exposed.united(exposed.translated(-dt, dp))
        lo, hi = self._span(exposed)
        x0 = exposed.left()
        top_pitch, bottom_pitch = 127 - int(exposed.top()), 127 - int(exposed.bottom())
        seed: list[QRectF] = []
        generated: list[QRectF] = []
        selected: list[QRectF] = []
        selection, index, rects = self.selection, self._index, self._rects
        for k in range(lo, hi):
            start, end, pitch, role, note_id = index[k]
            if end <= x0 or not bottom_pitch <= pitch <= top_pitch:
                continue
            if note_id in selection:
                end += self.resize_by
                selected.append(note_rect(start + dt, max(1, end - start), pitch + dp))
            elif role == SEED:
                seed.append(rects[k])
            else:
                generated.append(rects[k])
        # Level of detail: outlines only where notes are wide enough on screen to show them.
        pixels_per_tick = painter.worldTransform().m11()
        sixteenth = self.model.meter.ticks_per_quarter / SIXTEENTHS_PER_QUARTER  # ticks
        if pixels_per_tick * sixteenth >= OUTLINE_MIN_PIXELS:
            painter.setPen(QPen(QColor(0, 0, 0, 110), 0))
        else:
            painter.setPen(Qt.PenStyle.NoPen)
        for group, colour in ((seed, SEED_COLOR), (generated, GENERATED_COLOR), (selected, SELECTED_COLOR)):
            if group:
                painter.setBrush(QBrush(colour))
                painter.drawRects(group)
        if self.draft is not None:
            painter.setBrush(QBrush(DRAFT_COLOR))
            painter.drawRect(note_rect(self.draft.start, self.draft.duration, self.draft.pitch))
