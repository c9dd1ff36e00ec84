"""Editing the selected notes as a DAW's piano roll does: copy, cut, paste and duplicate through
the system clipboard, quantize to the grid, transpose, nudge, velocity, and selecting whole bars.

Each edit is one step on the roll's undo stack and touches only notes the roll shows (the seed
and the current take): another take's notes are never read or changed. Times are ticks at the
model's `ticks_per_quarter`.

Decisions a musician may ask about:
* Paste lands right after the selection (at the first grid line at or after its end), so
  pressing Ctrl+V again and again lays copies end to end; with nothing selected, at the playhead
  (the start when there is none). Duplicate (Ctrl+D) is copy + paste-after in one step.
* Pasted notes join the current take when they land where it has left the seed (its cut, else
  its first note, else the seed's end), otherwise the seed; duplicates keep their source's part.
* Quantize moves starts and ends to the nearest line of the grid chosen on the Edit toolbar
  (Grid: 1/4 ... 1/16 triplet; the lines the roll draws and snaps to), whether Snap is on or
  not; a note shorter than a grid step becomes one step long.
* Transpose moves the selection as a whole or not at all: a shift that would take a note
  outside MIDI 0-127 is refused, so intervals never collapse at the edges.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import replace

from PySide6.QtCore import QMimeData, QObject, Qt, Signal
from PySide6.QtGui import QAction, QClipboard, QGuiApplication
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QInputDialog, QSpinBox, QWidget

from app.pianoroll import commands
from app.pianoroll.model import GENERATED, SEED, TICKS_PER_QUARTER, Meter, Note, NoteModel

NOTES_MIME = "application/x-partita-notes"  # Partita's own: JSON, exact ticks and velocities
MIDI_MIMES = ("audio/midi", "audio/x-midi")  # a Standard MIDI File, for other applications
VELOCITY_STEP = 1.1  # Louder multiplies by this, Softer divides (each at least one step)


# --- pure note arithmetic ------------------------------------------------------------------
def quantized(note: Note, grid: int) -> Note:
    """`note` with its start and end on the nearest lines of a `grid`-tick grid (at least one step long)."""
    start = round(note.start / grid) * grid
    end = max(start + grid, round(note.end / grid) * grid)
    return replace(note, start=start, duration=end - start)


def transposed(notes: Mapping[int, Note], semitones: int) -> dict[int, Note] | None:
    """The notes `semitones` higher (lower when negative), or None when one would leave MIDI 0-127."""
    if not notes or not all(0 <= n.pitch + semitones <= 127 for n in notes.values()):
        return None
    return {i: replace(n, pitch=n.pitch + semitones) for i, n in notes.items()}


def with_velocity(note: Note, velocity: float) -> Note:
    return replace(note, velocity=max(1, min(127, round(velocity))))


def scaled_velocity(note: Note, factor: float) -> Note:
    """`note` `factor` times as loud, changed by at least one (so Louder from 126 reaches 127)."""
    velocity = note.velocity * factor
    if factor > 1:
        velocity = max(velocity, note.velocity + 1)
    elif factor < 1:
        velocity = min(velocity, note.velocity - 1)
    return with_velocity(note, velocity)


def ceil_to(ticks: int, grid: int) -> int:
    return -(-ticks // grid) * grid


def bar_range_ticks(meter: Meter, first_bar: int, last_bar: int) -> tuple[int, int]:
    """Bars `first_bar`..`last_bar` (counted from 1, both included, either order) as [start, end) ticks."""
    first, last = sorted((first_bar, last_bar))
    return (max(0, first - 1) * meter.bar_length, max(1, last) * meter.bar_length)


# --- the clipboard ---------------------------------------------------------------------------
def release_clipboard() -> None:
    """Take back what Partita put on the clipboard, before the application goes: PySide6 crashes at
    exit (a segmentation fault as the QApplication is destroyed) while the clipboard still holds
    mime data the process owns. Another program's clipboard is left alone."""
    clipboard = QGuiApplication.clipboard()
    if clipboard is None:
        return
    mime = clipboard.mimeData()
    if clipboard.ownsClipboard() or (mime is not None and mime.hasFormat(NOTES_MIME)):
        clipboard.clear()  # (ownsClipboard is False on platforms without a system clipboard: offscreen)


def notes_mime(notes: Iterable[Note], meter: Meter) -> QMimeData:
    """Clipboard data for `notes`: Partita's JSON (starts from 0 at the first note) and a MIDI file."""
    from app.pianoroll.convert import score_from_notes

    notes = sorted(notes, key=lambda n: (n.start, n.pitch))
    origin = notes[0].start if notes else 0
    data = {"ticks_per_quarter": meter.ticks_per_quarter,
            "notes": [[n.start - origin, n.pitch, n.duration, n.velocity] for n in notes]}
    mime = QMimeData()
    mime.setData(NOTES_MIME, json.dumps(data).encode())
    midi = bytes(score_from_notes([replace(n, start=n.start - origin) for n in notes], meter).dumps_midi())
    for kind in MIDI_MIMES:
        mime.setData(kind, midi)
    return mime


def notes_from_mime(mime: QMimeData | None) -> list[Note]:
    """The notes on the clipboard, the first starting at 0 and at the roll's resolution ([] when none):
    Partita's own, or any application's MIDI file."""
    from app.pianoroll.convert import notes_from_score, scale_ticks

    if mime is None:
        return []
    if mime.hasFormat(NOTES_MIME):
        try:
            data = json.loads(bytes(mime.data(NOTES_MIME).data()).decode())
            tpq = int(data["ticks_per_quarter"])
            notes = [Note(scale_ticks(int(s), tpq), max(0, min(127, int(p))), max(1, scale_ticks(int(d), tpq)),
                          max(1, min(127, int(v)))) for s, p, d, v in data["notes"]]
        except (ValueError, KeyError, TypeError, ZeroDivisionError):
            notes = []
    else:
        notes = []
        for kind in MIDI_MIMES:
            if mime.hasFormat(kind):
                import symusic

                try:
                    notes = notes_from_score(symusic.Score.from_midi(bytes(mime.data(kind).data())))
                except Exception:  # noqa: BLE001 (another application's bytes: unreadable is "nothing")
                    notes = []
                break
    if not notes:
        return []
    origin = min(n.start for n in notes)
    return sorted((replace(n, start=n.start - origin) for n in notes), key=lambda n: (n.start, n.pitch))


# --- the bar range dialog -------------------------------------------------------------------
def ask_bar_range(parent: QWidget | None, last_bar: int, first: int = 1, last: int = 1,
                  first_number: int = 1) -> tuple[int, int] | None:
    """Ask for bars to select (counted from 1, both included; shown as the score numbers them, from
    `first_number`); None when cancelled."""
    dialog = QDialog(parent)
    dialog.setWindowTitle("Select bars")
    form = QFormLayout(dialog)
    boxes = []
    shown = first_number - 1
    for label, value in (("From bar", first), ("To bar", last)):
        box = QSpinBox(dialog)
        box.setRange(1 + shown, max(1, last_bar) + shown)
        box.setValue(value + shown)
        form.addRow(label, box)
        boxes.append(box)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, dialog)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    form.addRow(buttons)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return boxes[0].value() - shown, boxes[1].value() - shown


# --- the editor ------------------------------------------------------------------------------
class NoteEditor(QObject):
    """The edits of the selection of one `PianoRollView`, each one undo step on its stack."""

    status = Signal(str)  # what an edit did or why it did nothing (the status bar shows it)
    barsChanged = Signal(object)  # (first, last): the bars selected as bars (ruler, Select bars), or None

    def __init__(self, view, clipboard: QClipboard | None = None, parent: QObject | None = None):
        super().__init__(parent or view)
        self.view = view
        self.model: NoteModel = view.model
        self._clipboard = clipboard
        self._bars: tuple[int, int] | None = None  # bars selected as bars, until the selection changes
        self._selecting_bars = False
        view.selectionChanged.connect(self._selection_changed)

    @property
    def clipboard(self) -> QClipboard:
        return self._clipboard or QGuiApplication.clipboard()

    @property
    def grid(self) -> int:
        """The grid step in ticks: the Edit toolbar's Grid (what the roll draws and snaps to)."""
        return self.view.snap_ticks

    def selected(self) -> dict[int, Note]:
        """The selected notes the roll shows (never another take's), by id."""
        model = self.model
        shown = dict(model.visible_items())
        return {i: shown[i] for i in self.view.selection if i in shown}

    def _push(self, command) -> None:
        self.view.undo_stack.push(command)

    # clipboard
    def copy(self) -> bool:
        notes = self.selected()
        if not notes:
            self.status.emit("Nothing selected to copy")
            return False
        self.clipboard.setMimeData(notes_mime(notes.values(), self.model.meter))
        self.status.emit(f"Copied {len(notes)} note{'s' * (len(notes) != 1)}")
        return True

    def cut(self) -> None:
        notes = self.selected()
        if self.copy():
            self._push(commands.ChangeNotes(self.model, "Cut notes", notes, {}))
            self.view.set_selection(())

    def paste_target(self) -> int:
        """Where pasted notes begin: right after the selection (on the grid), else at the playhead."""
        selected = self.selected()
        if selected:
            return ceil_to(max(n.end for n in selected.values()), self.grid)
        playhead = self.view.playhead
        return max(0, int(playhead.x())) if playhead.isVisible() else 0

    def take_start(self) -> int | None:
        """Where the shown take leaves the seed (None: no take is shown)."""
        model, take = self.model, self.model.current_take
        if take < 0:
            return None
        cut = model.take_cut(take)
        if cut is not None:
            return cut
        own = model.take_notes(take)
        if own:
            return min(n.start for n in own)
        return max((n.end for n in model.seed_notes()), default=0)

    def part_at(self, tick: int) -> dict:
        """The part a note placed at `tick` joins: the shown take from where it starts, else the seed."""
        start = self.take_start()
        if start is not None and tick >= start:
            return {"role": GENERATED, "take": self.model.current_take}
        return {"role": SEED, "take": 0}

    def paste(self) -> None:
        notes = notes_from_mime(self.clipboard.mimeData())
        if not notes:
            self.status.emit("Nothing to paste: copy some notes first")
            return
        at = self.paste_target()
        scale = self.model.meter.ticks_per_quarter / TICKS_PER_QUARTER  # the clipboard is at the roll's 480
        placed = [replace(n, start=at + round(n.start * scale), duration=max(1, round(n.duration * scale)))
                  for n in notes]
        placed = [replace(n, **self.part_at(n.start)) for n in placed]
        command = commands.add_notes(self.model, placed, "Paste notes")
        self._push(command)
        self.view.set_selection(command.new.keys())

    def duplicate(self) -> None:
        notes = self.selected()
        if not notes:
            self.status.emit("Nothing selected to duplicate")
            return
        start = min(n.start for n in notes.values())
        offset = ceil_to(max(n.end for n in notes.values()) - start, self.grid)
        copies = [replace(n, start=n.start + offset) for n in notes.values()]
        command = commands.add_notes(self.model, copies, "Duplicate notes")
        self._push(command)
        self.view.set_selection(command.new.keys())

    # timing and pitch
    def quantize(self) -> None:
        notes = self.selected()
        new = {i: quantized(n, self.grid) for i, n in notes.items()}
        new = {i: n for i, n in new.items() if n != notes[i]}
        if new:
            self._push(commands.replace_notes(self.model, "Quantize", new))
        self.status.emit(f"Quantized {len(new)} of {len(notes)} notes to the grid" if notes else "Nothing selected")

    def transpose(self, semitones: int) -> None:
        notes = self.selected()
        new = transposed(notes, semitones)
        if new is None:
            if notes:
                self.status.emit("Not transposed: a note would go beyond the MIDI range (0-127)")
            return
        self._push(commands.replace_notes(self.model, "Transpose", new))

    def nudge(self, ticks: int) -> None:
        """Move the selection later (earlier when negative), never before the start."""
        self.view.shift_selection(ticks)

    # velocity
    def set_velocity(self, velocity: int) -> None:
        notes = self.selected()
        new = {i: with_velocity(n, velocity) for i, n in notes.items() if n.velocity != velocity}
        if new:
            self._push(commands.replace_notes(self.model, "Set velocity", new))

    def scale_velocity(self, factor: float, text: str = "Scale velocity") -> None:
        notes = self.selected()
        new = {i: scaled_velocity(n, factor) for i, n in notes.items()}
        new = {i: n for i, n in new.items() if n != notes[i]}
        if new:
            self._push(commands.replace_notes(self.model, text, new))

    def ask_velocity(self) -> None:
        notes = self.selected()
        if not notes:
            return
        mean = round(sum(n.velocity for n in notes.values()) / len(notes))
        value, ok = QInputDialog.getInt(self.view, "Set velocity", "Velocity of the selected notes (1-127):",
                                        mean, 1, 127)
        if ok:
            self.set_velocity(value)

    def ask_scale(self) -> None:
        if not self.selected():
            return
        percent, ok = QInputDialog.getInt(self.view, "Scale velocity",
                                          "Percent of each note's velocity (louder above 100):", 100, 1, 400)
        if ok:
            self.scale_velocity(percent / 100)

    # selecting
    def select_bars(self, first_bar: int, last_bar: int) -> None:
        """Select every shown note that starts in bars `first_bar`..`last_bar` (from 1, both included)."""
        start, end = bar_range_ticks(self.model.meter, first_bar, last_bar)
        self._selecting_bars = True
        try:
            self.view.set_selection(i for i, n in self.model.visible_items() if start <= n.start < end)
        finally:
            self._selecting_bars = False
        bars = (min(first_bar, last_bar), max(first_bar, last_bar))
        if bars != self._bars:
            self._bars = bars
            self.barsChanged.emit(bars)

    def selected_bars(self) -> tuple[int, int] | None:
        """The bars selected (from 1, both included): those swept on the ruler or chosen with Select
        bars (empty bars too), else the bars the selected notes start in; None when nothing is."""
        if self._bars is not None:
            return self._bars
        notes = self.selected()
        if not notes:
            return None
        bar = self.model.meter.bar_length
        return min(n.start for n in notes.values()) // bar + 1, max(n.start for n in notes.values()) // bar + 1

    def _selection_changed(self) -> None:
        """A selection made otherwise (a click, a box, Select all) ends the bars selected as bars."""
        if not self._selecting_bars and self._bars is not None:
            self._bars = None
            self.barsChanged.emit(None)

    def ask_bars(self) -> None:
        bar = self.model.meter.bar_length
        last_bar = max(1, ceil_to(self.model.end_tick(), bar) // bar)
        playhead = self.view.playhead
        here = int(playhead.x()) // bar + 1 if playhead.isVisible() else 1
        chosen = ask_bar_range(self.view, max(last_bar, here), here, here, self.model.meter.first_bar)
        if chosen is not None:
            self.select_bars(*chosen)

    # wiring
    def connect_actions(self, actions, roll: QWidget) -> None:
        """Wire the editing actions of `actions` (app.actions.Actions); their keys work while the roll
        (view, velocity lane) has the focus, so arrows and Ctrl+C still serve the panels' own fields."""
        a = actions  # (the grid and the bar are read when triggered: either may change)
        wiring = {
            a.copy: self.copy, a.cut: self.cut, a.paste: self.paste, a.duplicate: self.duplicate,
            a.quantize: self.quantize,
            a.transpose_up: lambda: self.transpose(1), a.transpose_down: lambda: self.transpose(-1),
            a.octave_up: lambda: self.transpose(12), a.octave_down: lambda: self.transpose(-12),
            a.nudge_later: lambda: self.nudge(self.grid), a.nudge_earlier: lambda: self.nudge(-self.grid),
            a.nudge_bar_later: lambda: self.nudge(self.model.meter.bar_length),
            a.nudge_bar_earlier: lambda: self.nudge(-self.model.meter.bar_length),
            a.louder: lambda: self.scale_velocity(VELOCITY_STEP, "Louder"),
            a.softer: lambda: self.scale_velocity(1 / VELOCITY_STEP, "Softer"),
            a.set_velocity: self.ask_velocity, a.scale_velocity: self.ask_scale, a.select_bars: self.ask_bars,
        }
        for action, slot in wiring.items():
            action.triggered.connect(slot)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            roll.addAction(action)
        self._needs_selection: list[QAction] = [action for action in wiring
                                                if action not in (a.paste, a.select_bars)]
        self.view.selectionChanged.connect(self._enable)
        self._enable()

    def _enable(self) -> None:
        """Selection edits only with a selection: with none, the arrows scroll the roll as before."""
        has = bool(self.view.selection)
        for action in self._needs_selection:
            action.setEnabled(has)


class RulerBarSelect(QObject):
    """Shift+drag (or Shift+click) on the bar ruler selects every shown note starting in the bars
    swept; a plain click still moves the playhead (an event filter: the ruler is left as it is)."""

    def __init__(self, ruler: QWidget, editor: NoteEditor):
        super().__init__(ruler)
        self.ruler, self.editor = ruler, editor
        self._first: int | None = None  # the bar (from 1) the drag began in
        ruler.installEventFilter(self)
        editor.barsChanged.connect(self._show_bars)  # the ruler marks the bars selected

    def bar_at(self, x: float) -> int:
        view = self.editor.view
        tick = max(0.0, view.mapToScene(int(x) - view.viewport().x(), 0).x())
        return int(tick // self.editor.model.meter.bar_length) + 1

    def eventFilter(self, watched, event) -> bool:
        from PySide6.QtCore import QEvent

        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress and event.button() == Qt.MouseButton.LeftButton \
                and event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self._first = self.bar_at(event.position().x())
            self.editor.select_bars(self._first, self._first)
            return True
        if kind == QEvent.Type.MouseMove and self._first is not None:
            self.editor.select_bars(self._first, self.bar_at(event.position().x()))
            return True
        if kind == QEvent.Type.MouseButtonRelease and self._first is not None:
            self.editor.select_bars(self._first, self.bar_at(event.position().x()))
            self._first = None
            return True
        return False

    def _show_bars(self, bars: tuple[int, int] | None) -> None:
        self.ruler.selected_bars = bars
        self.ruler.update()
