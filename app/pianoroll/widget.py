"""The piano roll as one widget: keyboard on the left, bar ruler on top, the chord symbols under
it (when the roll has any), the view, and a take selector. The keyboard, ruler and chords follow
the view's scroll and zoom (`viewChanged`)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QUndoStack
from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QToolTip, QWidget

from app.pianoroll.dragout import AltDragOut, DragHandle, MidiDragOut
from app.pianoroll.editing import NoteEditor, RulerBarSelect
from app.pianoroll.model import GENERATED, ChordSymbol, NoteModel
from app.pianoroll.notes import BLACK_KEYS
from app.pianoroll.velocity import VelocityLane
from app.pianoroll.view import PianoRollView

NOTE_NAMES = ["C", "C♯", "D", "E♭", "E", "F", "F♯", "G", "A♭", "A", "B♭", "B"]
KEYBOARD_WIDTH = 64
RULER_HEIGHT = 22
CHORDS_HEIGHT = 18
CHORD_PAD = 3  # pixels between a change's line and its name, and before the next change


def note_name(pitch: int) -> str:
    """Scientific pitch name, middle C (MIDI 60) = C4."""
    return f"{NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"


class KeyboardWidget(QWidget):
    def __init__(self, view: PianoRollView, parent=None):
        super().__init__(parent)
        self.view = view
        self.setFixedWidth(KEYBOARD_WIDTH)
        view.viewChanged.connect(self.update)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#f4f4f2"))
        offset = self.view.viewport().y()  # the view's frame: keyboard rows line up with viewport rows
        row_height = self.view.pixels_per_semitone
        font = QFont(self.font())
        font.setPointSizeF(max(6.0, min(9.0, row_height * 0.6)))
        painter.setFont(font)
        for pitch in range(128):
            y = self.view.mapFromScene(QPointF(0, 127 - pitch)).y() + offset
            if y > self.height() or y + row_height < 0:
                continue
            rect = QRectF(0, y, self.width(), row_height)
            black = pitch % 12 in BLACK_KEYS
            painter.fillRect(rect.adjusted(0, 0, -(self.width() * 0.35 if black else 0), 0),
                             QColor("#26272b") if black else QColor("#f4f4f2"))
            painter.setPen(QPen(QColor("#b8b8b4"), 1))
            if pitch % 12 in (0, 5):
                painter.drawLine(QPointF(0, y + row_height), QPointF(self.width(), y + row_height))
            show_name = pitch % 12 == 0 or (row_height >= 13 and not black)
            if show_name:
                painter.setPen(QColor("#44464c") if not black else QColor("#dddddd"))
                painter.drawText(rect.adjusted(0, 0, -4, 0), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                                 note_name(pitch))
        painter.setPen(QPen(QColor("#8a8a86"), 1))
        painter.drawLine(self.width() - 1, 0, self.width() - 1, self.height())


class RulerWidget(QWidget):
    """Bar numbers over the roll; a click moves the playhead there."""

    clicked = Signal(int)  # tick

    def __init__(self, view: PianoRollView, parent=None):
        super().__init__(parent)
        self.view = view
        self.setFixedHeight(RULER_HEIGHT)
        self.selected_bars: tuple[int, int] | None = None  # marked (from 1, both included)
        view.viewChanged.connect(self.update)
        view.model.meterChanged.connect(self.update)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#3a3c41"))
        meter = self.view.model.meter
        if self.selected_bars is not None:
            first, last = self.selected_bars
            x0, x1 = (self.view.mapFromScene(QPointF(tick, 0)).x() + self.view.viewport().x()
                      for tick in ((first - 1) * meter.bar_length, last * meter.bar_length))
            painter.fillRect(QRectF(x0, 0, x1 - x0, self.height()), QColor(245, 209, 66, 90))  # the selection's yellow
        visible = self.view.visible_scene_rect()
        bar = meter.bar_length
        pixels_per_bar = bar * self.view.pixels_per_quarter / meter.ticks_per_quarter
        every = 1
        while pixels_per_bar * every < 36:
            every *= 2
        first = max(0, int(visible.left() // bar))
        painter.setPen(QColor("#d8d8d8"))
        index = first
        while index * bar <= visible.right():
            x = self.view.mapFromScene(QPointF(index * bar, 0)).x() + self.view.viewport().x()
            if index % every == 0:
                painter.drawLine(int(x), self.height() - 8, int(x), self.height())
                painter.drawText(int(x) + 3, self.height() - 8, str(meter.bar_number(index)))
            else:
                painter.drawLine(int(x), self.height() - 4, int(x), self.height())
            index += 1
        if self.view.playhead.isVisible():
            x = self.view.mapFromScene(QPointF(self.view.playhead.x(), 0)).x() + self.view.viewport().x()
            painter.setPen(QPen(QColor("#e0393e"), 2))
            painter.drawLine(int(x), 0, int(x), self.height())

    def mousePressEvent(self, event) -> None:
        tick = self.view.mapToScene(int(event.position().x()), 0).x()
        self.clicked.emit(max(0, int(tick)))


class ChordStrip(QWidget):
    """The chord symbols over the roll, each at the tick where it starts, as a lead sheet writes
    them over the staff. A name with no room before the next change is elided (its line still
    marks the change; hovering shows it whole); the chord sounding at the left edge stays in view."""

    def __init__(self, view: PianoRollView, parent=None):
        super().__init__(parent)
        self.view = view
        self.setFixedHeight(CHORDS_HEIGHT)
        font = QFont(self.font())
        font.setBold(True)
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.9))
        self.setFont(font)
        view.viewChanged.connect(self.update)
        view.model.chordsChanged.connect(self.update)
        view.model.takesChanged.connect(self.update)

    def labels(self) -> list[tuple[QRectF, str, ChordSymbol]]:
        """What is drawn, left to right: each change in view, the room it has (widget pixels, up to
        the next change) and its name as it fits there ("" when not even an elided one does)."""
        chords = self.view.model.visible_chords()
        offset = self.view.viewport().x()
        xs = [self.view.mapFromScene(QPointF(chord.start, 0)).x() + offset for chord in chords]
        metrics = self.fontMetrics()
        out = []
        for index, chord in enumerate(chords):
            right = xs[index + 1] if index + 1 < len(chords) else max(self.width(), xs[index]) + 1000
            if right <= 0 or xs[index] >= self.width():
                continue
            left = max(xs[index], 0)  # the chord sounding at the left edge: its name stays in view
            room = right - left - 2 * CHORD_PAD
            text = metrics.elidedText(chord.name, Qt.TextElideMode.ElideRight, room) if room > 0 else ""
            if text == "…":  # an ellipsis alone says nothing
                text = ""
            out.append((QRectF(left, 0, right - left, self.height()), text, chord))
        return out

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#2f3035"))
        offset = self.view.viewport().x()
        for rect, text, chord in self.labels():
            x = self.view.mapFromScene(QPointF(chord.start, 0)).x() + offset
            if x >= 0:
                painter.setPen(QPen(QColor("#7c7f88"), 1))
                painter.drawLine(x, 2, x, self.height() - 2)
            if text:
                painter.setPen(QColor("#f0d890"))
                painter.drawText(rect.adjusted(CHORD_PAD, 0, -CHORD_PAD, 0),
                                 Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            meter = self.view.model.meter
            for rect, _, chord in self.labels():
                if rect.contains(QPointF(event.pos())):
                    bar, rest = divmod(chord.start, meter.bar_length)
                    QToolTip.showText(event.globalPos(), f"{chord.name}: bar {meter.bar_number(bar)}, beat {rest // meter.beat_ticks + 1}",
                                      self)
                    return True
            QToolTip.hideText()
            return True
        return super().event(event)


class PianoRoll(QWidget):
    """Keyboard + ruler + view + velocity lane + take selector around one `NoteModel`, with the
    selection's editor (`editor`) and dragging out as MIDI (`drag_out`)."""

    def __init__(self, model: NoteModel, undo_stack: QUndoStack, parent=None):
        super().__init__(parent)
        self.model = model
        self.view = PianoRollView(model, undo_stack, self)
        self.keyboard = KeyboardWidget(self.view, self)
        self.ruler = RulerWidget(self.view, self)
        self.chords = ChordStrip(self.view, self)
        self.take_box = QComboBox(self)
        self.take_box.setToolTip("Which generated take to show beside the seed")
        self.take_box.setMinimumWidth(140)
        # "Take 1: bach-cello-suites, temperature 1, seed 1" whole where the header has room
        self.take_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.take_box.setMaximumWidth(460)
        self.take_box.currentIndexChanged.connect(self._take_chosen)
        self.info = QLabel(self)
        self.info.setStyleSheet("color: palette(mid);")
        self.editor = NoteEditor(self.view, parent=self)
        self.velocity = VelocityLane(self.view, self)
        self.drag_out = MidiDragOut(self.view, self)
        self.drag_handle = DragHandle(self.drag_out, self)
        self._alt_drag = AltDragOut(self.drag_out)
        self._ruler_select = RulerBarSelect(self.ruler, self.editor)

        header = QHBoxLayout()
        header.setContentsMargins(4, 2, 4, 2)
        header.addWidget(QLabel("Take:", self))
        header.addWidget(self.take_box)
        header.addStretch(1)
        header.addWidget(self.info)
        header.addWidget(self.drag_handle)

        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(0)
        grid.addLayout(header, 0, 0, 1, 2)
        corner = QWidget(self)
        corner.setFixedSize(KEYBOARD_WIDTH, RULER_HEIGHT)
        corner.setStyleSheet("background: #3a3c41;")
        grid.addWidget(corner, 1, 0)
        grid.addWidget(self.ruler, 1, 1)
        self.chords_corner = QLabel("Chords ", self)
        self.chords_corner.setFixedSize(KEYBOARD_WIDTH, CHORDS_HEIGHT)
        self.chords_corner.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.chords_corner.setStyleSheet("background: #2f3035; color: #a8aab0;")
        grid.addWidget(self.chords_corner, 2, 0)
        grid.addWidget(self.chords, 2, 1)
        grid.addWidget(self.keyboard, 3, 0)
        grid.addWidget(self.view, 3, 1)
        self.velocity_corner = QLabel("Velocity ", self)
        self.velocity_corner.setFixedWidth(KEYBOARD_WIDTH)
        self.velocity_corner.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.velocity_corner.setStyleSheet("background: #2f3035; color: #a8aab0;")
        grid.addWidget(self.velocity_corner, 4, 0)
        grid.addWidget(self.velocity, 4, 1)
        model.takesChanged.connect(self._refresh_takes)
        # the chord row takes room only when there are chords to show (a jazz seed, a chord-aware take)
        model.chordsChanged.connect(self._show_chords)
        model.takesChanged.connect(self._show_chords)
        # the counts are a pass over every note: at most 10 times a second, not once per streamed note
        self._info_timer = QTimer(self)
        self._info_timer.setSingleShot(True)
        self._info_timer.setInterval(100)
        self._info_timer.timeout.connect(self._refresh_info)
        model.notesChanged.connect(self._info_timer.start)
        model.meterChanged.connect(self._refresh_info)
        self.view.playhead.setVisible(False)
        self._refresh_takes()
        self._refresh_info()
        self._show_chords()

    def show_velocity(self, shown: bool) -> None:
        self.velocity.setVisible(shown)
        self.velocity_corner.setVisible(shown)

    def _show_chords(self) -> None:
        shown = bool(self.model.visible_chords())
        self.chords.setVisible(shown)
        self.chords_corner.setVisible(shown)

    def _refresh_takes(self) -> None:
        self.take_box.blockSignals(True)
        self.take_box.clear()
        self.take_box.addItem("Seed only")
        for take, name in enumerate(self.model.takes):
            about = self.model.take_about(take)  # which model and settings wrote it
            self.take_box.addItem(f"{name}: {about}" if about else name)
            self.take_box.setItemData(take + 1, f"{name}, written by {about}" if about else name,
                                      Qt.ItemDataRole.ToolTipRole)
        self.take_box.setCurrentIndex(self.model.current_take + 1)
        self.take_box.blockSignals(False)

    def _take_chosen(self, index: int) -> None:
        self.model.set_current_take(index - 1)

    def _refresh_info(self) -> None:
        meter = self.model.meter
        take = self.model.current_take
        seed = generated = 0
        for _, note in self.model.items():
            if note.role == GENERATED:
                generated += note.take == take
            else:
                seed += 1
        self.info.setText(f"{meter.numerator}/{meter.denominator}  ♩={meter.tempo_qpm:g}   "
                          f"seed {seed} notes" + (f", take {generated} notes" if take >= 0 else ""))
