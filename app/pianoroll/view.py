"""The piano roll view: x = ticks, y = pitch row (row 0 = MIDI 127), zoom by view transform.

Layers, bottom to top:
* the grid (key rows, beat and bar lines) is drawn in `drawBackground` and cached by Qt
  (`CacheBackground`): the static layer costs nothing while notes change or the playhead moves;
* one `NotesItem` (app/pianoroll/notes.py) paints only the notes that intersect the exposed rectangle, found by binary
  search over note starts (so 20,000 notes cost what the visible few hundred cost);
* the playhead, a cosmetic line item moved by `set_playhead`.

Editing (select, draw, move, resize, delete, snap) is done here in mouse handlers and turned
into undo commands on the model's `QUndoStack`; the selection is a set of note ids.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPen, QTransform, QUndoStack
from PySide6.QtWidgets import QGraphicsLineItem, QGraphicsScene, QGraphicsView

from app.pianoroll import commands
from app.pianoroll.model import Note, NoteModel
from app.pianoroll.notes import BLACK_KEYS, ROWS, NotesItem, pitch_at, row_of

MIN_BARS = 16  # the roll always shows at least this many bars, so there is room to draw
# Zoom in screen pixels: across per quarter note (a tick's width follows from the meter's ticks per
# quarter), down per semitone. At first, and the range the zoom stays within.
START_PIXELS_PER_QUARTER = 48.0
PIXELS_PER_QUARTER_RANGE = (1.92, 720.0)  # hundreds of bars across the screen .. a quarter wider than it
START_PIXELS_PER_SEMITONE = 14.0
PIXELS_PER_SEMITONE_RANGE = (5.0, 40.0)


class PianoRollView(QGraphicsView):
    """Shows a `NoteModel` and edits it through `undo_stack`."""

    selectionChanged = Signal()
    viewChanged = Signal()  # scrolled or zoomed: the keyboard and ruler follow
    fileDropped = Signal(str)
    zoomChanged = Signal(float, float)  # pixels per quarter note, pixels per semitone
    SELECT, DRAW = "select", "draw"

    def __init__(self, model: NoteModel, undo_stack: QUndoStack, parent=None):
        super().__init__(parent)
        self.model = model
        self.undo_stack = undo_stack
        self.tool = self.SELECT
        self.snap_enabled = True
        self.grid_division = 4  # grid lines (and snap) per quarter note
        self._sx = START_PIXELS_PER_QUARTER / model.meter.ticks_per_quarter  # pixels per tick
        self._sy = START_PIXELS_PER_SEMITONE  # pixels per semitone
        self._drag: dict | None = None
        self._rubber: QRectF | None = None

        self.setScene(QGraphicsScene(self))
        self.notes_item = NotesItem(model)
        self.scene().addItem(self.notes_item)
        self.playhead = QGraphicsLineItem(0, 0, 0, ROWS)
        pen = QPen(QColor("#e0393e"), 2)
        pen.setCosmetic(True)
        self.playhead.setPen(pen)
        self.playhead.setZValue(10)
        self.playhead.setVisible(False)
        self.scene().addItem(self.playhead)

        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.setAcceptDrops(True)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setToolTip("Draw (D) or select (S) notes; drag to move, drag a right edge to resize,\n"
                        "Delete removes, Ctrl+wheel zooms in time, Ctrl+Shift+wheel in pitch.\n"
                        "Drop a MIDI or MusicXML file here to make it the seed.")
        self.horizontalScrollBar().valueChanged.connect(self.viewChanged)
        self.verticalScrollBar().valueChanged.connect(self.viewChanged)
        self._following = False  # a take being written is kept in view (see follow)
        self._scrolling = False  # the view scrolls itself (not the user)
        self._fit_when_shown = False
        for bar in (self.horizontalScrollBar(), self.verticalScrollBar()):
            bar.actionTriggered.connect(self._user_moved_view)  # drags, clicks, wheel, keys; not setValue
        model.notesChanged.connect(self._notes_changed)
        model.meterChanged.connect(self._meter_changed)
        self._apply_transform()
        self._notes_changed()
        self.centerOn(0, row_of(64))

    # --- geometry ------------------------------------------------------------------------
    @property
    def pixels_per_quarter(self) -> float:
        return self._sx * self.model.meter.ticks_per_quarter

    @property
    def pixels_per_semitone(self) -> float:
        return self._sy

    def _apply_transform(self) -> None:
        self.setTransform(QTransform.fromScale(self._sx, self._sy))
        self.resetCachedContent()
        self.viewChanged.emit()
        self.zoomChanged.emit(self.pixels_per_quarter, self._sy)

    def _pixels_per_tick(self, pixels_per_quarter: float) -> float:
        """The view's horizontal scale for `pixels_per_quarter`, kept within the zoom's range."""
        low, high = PIXELS_PER_QUARTER_RANGE
        return max(low, min(high, pixels_per_quarter)) / self.model.meter.ticks_per_quarter

    @staticmethod
    def _pixels_per_semitone(pixels: float) -> float:
        low, high = PIXELS_PER_SEMITONE_RANGE
        return max(low, min(high, pixels))

    def zoom_time(self, factor: float) -> None:
        self._sx = self._pixels_per_tick(self.pixels_per_quarter * factor)
        self._apply_transform()

    def zoom_pitch(self, factor: float) -> None:
        self._sy = self._pixels_per_semitone(self._sy * factor)
        self._apply_transform()

    def set_zoom(self, pixels_per_quarter: float, pixels_per_semitone: float) -> None:
        self._sx = self._pixels_per_tick(pixels_per_quarter)
        self._sy = self._pixels_per_semitone(pixels_per_semitone)
        self._apply_transform()

    def zoom_to_fit(self) -> None:
        """Show the whole visible piece: its length across, its pitches from lowest to highest (with a
        semitone to spare each side, as far as the zoom allows; centred otherwise). A view not yet on
        screen has no size of its own: it fits when first shown."""
        if not self.isVisible():
            self._fit_when_shown = True
            return
        self._fit_when_shown = False
        end = max(self.model.end_tick(), self.model.meter.bar_length * 4)
        self._sx = self._pixels_per_tick((self.viewport().width() - 20) / end * self.model.meter.ticks_per_quarter)
        pitches = [n.pitch for _, n in self.model.visible_items()]
        if pitches:
            span = max(pitches) - min(pitches) + 3  # rows shown: a spare one above and below
            self._sy = self._pixels_per_semitone(self.viewport().height() / span)
        self._apply_transform()
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().minimum())
        if pitches:
            self.centerOn(self.visible_scene_rect().center().x(), row_of((min(pitches) + max(pitches)) / 2) + 0.5)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if getattr(self, "_fit_when_shown", False):  # (after the window's layout has settled)
            QTimer.singleShot(0, self.zoom_to_fit)

    # --- following a take being written -------------------------------------------------
    def start_following(self) -> None:
        """Keep the notes `follow` is given in view from now on, until the user scrolls or zooms."""
        self._following = True

    def follow(self, note: Note) -> None:
        """Scroll so `note` is in view (a streamed take's newest note), while following."""
        if not self._following:
            return
        visible = self.visible_scene_rect()
        margin = 0.1 * visible.width()
        self._scrolling = True
        try:
            if note.end > visible.right() - margin or note.start < visible.left():
                # its end three quarters across, or, for a note longer than that, its start near the left
                left = min(note.end - 0.75 * visible.width(), note.start - margin)
                self.horizontalScrollBar().setValue(int(left * self._sx))
            row = row_of(note.pitch)
            if row < visible.top() + 1 or row + 1 > visible.bottom() - 1:
                self.centerOn(self.visible_scene_rect().center().x(), row + 0.5)
        finally:
            self._scrolling = False

    def _user_moved_view(self, *_args) -> None:
        """The user scrolled or zoomed: the view stays where they put it."""
        if not self._scrolling:
            self._following = False
            self._fit_when_shown = False

    def _notes_changed(self, added: list[int] | None = None) -> None:
        """Add the notes `added` (the model only added those), or start over (None: any other change)."""
        meter = self.model.meter
        if added is not None:  # notes streamed in: nothing moved or went away
            model = self.model
            shown = [(i, model.note(i)) for i in added if model.is_visible(model.note(i))]
            end = max((n.end for _, n in shown), default=0)
            width = max(self.notes_item.boundingRect().width(), end + 4 * meter.bar_length)
            self.notes_item.add(shown, width)
        else:
            width = max(self.model.end_tick() + 4 * meter.bar_length, MIN_BARS * meter.bar_length)
            self.notes_item.invalidate(width)
            shown = self.notes_item.selection & {i for i, _ in self.model.visible_items()}  # hidden: not selected
            if shown != self.notes_item.selection:
                self.notes_item.selection = shown
                self.selectionChanged.emit()
        if self.sceneRect().width() != width:
            self.setSceneRect(QRectF(0, 0, width, ROWS))
            self.resetCachedContent()

    def _meter_changed(self) -> None:
        self.resetCachedContent()
        self._notes_changed()  # start over: every note's place in time may have changed
        self.viewport().update()

    def visible_scene_rect(self) -> QRectF:
        return self.mapToScene(self.viewport().rect()).boundingRect()

    # --- static layer --------------------------------------------------------------------
    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        painter.fillRect(rect, QColor("#2b2d31"))
        top, bottom = max(0, int(rect.top())), min(ROWS, int(rect.bottom()) + 1)
        black = QColor("#232428")
        for row in range(top, bottom):
            if (127 - row) % 12 in BLACK_KEYS:
                painter.fillRect(QRectF(rect.left(), row, rect.width(), 1), black)
        pen = QPen(QColor("#34363b"), 0)
        painter.setPen(pen)
        for row in range(top, bottom):
            if (127 - row) % 12 in (0, 5):  # lines under C and F
                painter.drawLine(QPointF(rect.left(), row + 1), QPointF(rect.right(), row + 1))
        meter = self.model.meter
        step = meter.ticks_per_quarter / self.grid_division
        while step * self._sx < 6:  # keep grid lines at least 6 px apart
            step *= 2
        levels = ((step, QColor("#303236")), (meter.beat_ticks, QColor("#3c3f45")), (meter.bar_length, QColor("#5c6068")))
        for spacing, color in levels:
            if spacing * self._sx < 4:
                continue
            painter.setPen(QPen(color, 0))
            first = int(rect.left() // spacing) * spacing
            x = first
            while x <= rect.right():
                painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
                x += spacing

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        if self._rubber is not None:
            painter.setPen(QPen(QColor("#f5d142"), 0, Qt.PenStyle.DashLine))
            painter.setBrush(QColor(245, 209, 66, 40))
            painter.drawRect(self._rubber)

    # --- playhead ------------------------------------------------------------------------
    def set_playhead(self, tick: int | None, follow: bool = True) -> None:
        """Move the playhead to `tick` (None hides it); scroll to keep it in view when following."""
        if tick is None:
            self.playhead.setVisible(False)
            return
        self.playhead.setVisible(True)
        self.playhead.setPos(tick, 0)
        if follow:
            visible = self.visible_scene_rect()
            if not visible.left() <= tick <= visible.right() - 0.1 * visible.width():
                self.horizontalScrollBar().setValue(int(tick * self._sx - 0.1 * self.viewport().width()))

    # --- selection -----------------------------------------------------------------------
    @property
    def selection(self) -> set[int]:
        return set(self.notes_item.selection)

    def set_selection(self, ids) -> None:
        self.notes_item.selection = set(ids)
        self.notes_item.update()
        self.selectionChanged.emit()

    def select_all(self) -> None:
        self.set_selection(i for i, _ in self.model.visible_items())

    def delete_selection(self) -> None:
        ids = [i for i in self.notes_item.selection if i in dict(self.model.items())]
        if ids:
            self.undo_stack.push(commands.delete_notes(self.model, ids))
            self.set_selection(())

    def transpose_selection(self, semitones: int) -> None:
        new = {}
        for note_id in self.notes_item.selection:
            note = self.model.note(note_id)
            new[note_id] = replace(note, pitch=max(0, min(127, note.pitch + semitones)))
        if new:
            self.undo_stack.push(commands.replace_notes(self.model, "Transpose", new))

    def shift_selection(self, ticks: int) -> None:
        """Move the selected notes in time (never before the start)."""
        notes = {i: self.model.note(i) for i in self.notes_item.selection}
        if not notes:
            return
        ticks = max(ticks, -min(n.start for n in notes.values()))
        if ticks:
            new = {i: replace(n, start=n.start + ticks) for i, n in notes.items()}
            self.undo_stack.push(commands.replace_notes(self.model, "Move notes", new))

    # --- snapping ------------------------------------------------------------------------
    @property
    def snap_ticks(self) -> int:
        return max(1, self.model.meter.ticks_per_quarter // self.grid_division)

    def snap(self, ticks: float) -> int:
        if not self.snap_enabled:
            return int(round(ticks))
        grid = self.snap_ticks
        return int(round(ticks / grid) * grid)

    def snap_floor(self, ticks: float) -> int:
        if not self.snap_enabled:
            return int(ticks)
        return int(ticks // self.snap_ticks) * self.snap_ticks

    # --- hit testing ---------------------------------------------------------------------
    def note_at(self, scene: QPointF) -> int | None:
        pitch = pitch_at(scene.y())
        hits = self.notes_item.notes_in(QRectF(scene.x(), row_of(pitch) + 0.5, 0.001, 0.001))
        hits = [e for e in hits if e[2] == pitch and e[0] <= scene.x() < e[1]]
        return hits[-1][4] if hits else None

    def _on_right_edge(self, note_id: int, scene: QPointF) -> bool:
        note = self.model.note(note_id)
        edge_ticks = max(6 / self._sx, 1)  # 6 pixels, in ticks
        return note.end - scene.x() <= min(edge_ticks, note.duration / 3)

    # --- mouse ---------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        scene = self.mapToScene(event.position().toPoint())
        hit = self.note_at(scene)
        shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if hit is not None:
            selection = set(self.notes_item.selection)
            if shift:
                selection ^= {hit}
            elif hit not in selection:
                selection = {hit}
            self.set_selection(selection)
            if hit in selection:
                kind = "resize" if self._on_right_edge(hit, scene) else "move"
                self._drag = {"kind": kind, "origin": scene}
        elif self.tool == self.DRAW:
            start = self.snap_floor(scene.x())
            self.notes_item.draft = Note(start, pitch_at(scene.y()), self.snap_ticks)
            self._drag = {"kind": "draw", "origin": scene}
            self.notes_item.update()
        else:
            if not shift:
                self.set_selection(())
            self._drag = {"kind": "rubber", "origin": scene, "base": set(self.notes_item.selection)}
            self._rubber = QRectF(scene, scene)
        event.accept()

    def mouseMoveEvent(self, event) -> None:
        scene = self.mapToScene(event.position().toPoint())
        if self._drag is None:
            hit = self.note_at(scene)
            cursor = Qt.CursorShape.ArrowCursor
            if hit is not None:
                cursor = Qt.CursorShape.SizeHorCursor if self._on_right_edge(hit, scene) else Qt.CursorShape.OpenHandCursor
            elif self.tool == self.DRAW:
                cursor = Qt.CursorShape.CrossCursor
            self.viewport().setCursor(cursor)
            return super().mouseMoveEvent(event)
        origin: QPointF = self._drag["origin"]
        kind = self._drag["kind"]
        if kind == "move":
            dt = self.snap(scene.x() - origin.x())
            dp = pitch_at(scene.y()) - pitch_at(origin.y())
            self.notes_item.offset = (dt, dp)
        elif kind == "resize":
            self.notes_item.resize_by = self.snap(scene.x() - origin.x())
        elif kind == "draw":
            draft = self.notes_item.draft
            end = max(draft.start + self.snap_ticks, self.snap(scene.x()))
            self.notes_item.draft = replace(draft, duration=end - draft.start)
        elif kind == "rubber":
            self._rubber = QRectF(origin, scene).normalized()
            hits = {e[4] for e in self.notes_item.notes_in(self._rubber)}
            self.notes_item.selection = self._drag["base"] | hits
            self.viewport().update()
        self.notes_item.update()

    def mouseReleaseEvent(self, event) -> None:
        if self._drag is None:
            return super().mouseReleaseEvent(event)
        kind, self._drag = self._drag["kind"], None
        item = self.notes_item
        if kind == "move" and item.offset != (0, 0):
            dt, dp = item.offset
            new = {}
            for note_id in item.selection:
                note = self.model.note(note_id)
                new[note_id] = replace(note, start=max(0, note.start + dt), pitch=max(0, min(127, note.pitch + dp)))
            self.undo_stack.push(commands.replace_notes(self.model, "Move notes", new))
        elif kind == "resize" and item.resize_by:
            new = {}
            for note_id in item.selection:
                note = self.model.note(note_id)
                new[note_id] = replace(note, duration=max(self.snap_ticks if self.snap_enabled else 1,
                                                          note.duration + item.resize_by))
            self.undo_stack.push(commands.replace_notes(self.model, "Resize notes", new))
        elif kind == "draw" and item.draft is not None:
            draft = item.draft
            item.draft = None
            command = commands.add_notes(self.model, [draft], "Draw note")
            self.undo_stack.push(command)
            self.set_selection(command.new.keys())
        elif kind == "rubber":
            self._rubber = None
            self.selectionChanged.emit()
            self.viewport().update()
        item.offset, item.resize_by, item.draft = (0, 0), 0, None
        item.update()

    def mouseDoubleClickEvent(self, event) -> None:
        scene = self.mapToScene(event.position().toPoint())
        if self.note_at(scene) is None and event.button() == Qt.MouseButton.LeftButton:
            note = Note(self.snap_floor(scene.x()), pitch_at(scene.y()), self.snap_ticks)
            command = commands.add_notes(self.model, [note], "Draw note")
            self.undo_stack.push(command)
            self.set_selection(command.new.keys())
            self._drag, self._rubber = None, None
            return
        super().mouseDoubleClickEvent(event)

    def wheelEvent(self, event) -> None:
        delta = event.angleDelta().y() or event.angleDelta().x()
        modifiers = event.modifiers()
        if modifiers & Qt.KeyboardModifier.ControlModifier:
            factor = 1.15 if delta > 0 else 1 / 1.15
            if modifiers & Qt.KeyboardModifier.ShiftModifier:
                self.zoom_pitch(factor)
            else:
                self.zoom_time(factor)
            self._user_moved_view()
            event.accept()
            return
        if modifiers & Qt.KeyboardModifier.ShiftModifier:
            bar = self.horizontalScrollBar()
            bar.setValue(bar.value() - delta)
            self._user_moved_view()
            event.accept()
            return
        super().wheelEvent(event)

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.delete_selection()
            return
        if event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down) and self.notes_item.selection:
            step = 12 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 1
            self.transpose_selection(step if event.key() == Qt.Key.Key_Up else -step)
            return
        if event.key() in (Qt.Key.Key_Left, Qt.Key.Key_Right) and self.notes_item.selection:
            step = self.model.meter.bar_length if event.modifiers() & Qt.KeyboardModifier.ShiftModifier \
                else self.snap_ticks
            self.shift_selection(step if event.key() == Qt.Key.Key_Right else -step)
            return
        super().keyPressEvent(event)

    # --- drag and drop -------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event) -> None:
        urls = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.fileDropped.emit(urls[0].toLocalFile())
            event.acceptProposedAction()
        else:
            super().dropEvent(event)
