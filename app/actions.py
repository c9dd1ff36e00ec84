"""Every QAction of the main window in one place, with standard shortcuts, and the menus.

Windows and panels connect to `Actions` attributes; nothing else creates actions, so the
shortcut list (Help > Keyboard shortcuts, and the menus) is this file.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QUndoStack
from PySide6.QtWidgets import QMainWindow, QMenu

Std = QKeySequence.StandardKey


def key_sequences(*keys: str | QKeySequence.StandardKey) -> list[QKeySequence]:
    """Each key once, a standard key as every binding the platform gives it: a sequence set twice on
    one action (Ctrl+Shift+Z beside StandardKey.Redo, which is Ctrl+Shift+Z on X11) is ambiguous to
    Qt, which then fires neither."""
    out: list[QKeySequence] = []
    for key in keys:
        for sequence in QKeySequence.keyBindings(key) if isinstance(key, Std) else [QKeySequence(key)]:
            if not sequence.isEmpty() and sequence not in out:
                out.append(sequence)
    return out


class Actions:
    def __init__(self, window: QMainWindow):
        self.window = window

        def make(text: str, shortcut=None, tip: str = "", checkable: bool = False) -> QAction:
            action = QAction(text, window)
            if shortcut is not None:
                if isinstance(shortcut, (list, tuple)):
                    action.setShortcuts(key_sequences(*shortcut))
                else:
                    action.setShortcut(QKeySequence(shortcut))
            if tip:
                action.setStatusTip(tip)
                action.setToolTip(f"{text.replace('&', '').rstrip('.…')}" + (
                    f" ({action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})"
                    if not action.shortcut().isEmpty() else "") + f"\n{tip}")
            action.setCheckable(checkable)
            return action

        # File
        self.new = make("&New project", Std.New, "Start again with an empty seed and no takes")
        self.open = make("&Open…", Std.Open, "Open a Partita project, or a MIDI/MusicXML file as the seed")
        self.save = make("&Save", Std.Save, "Save the project (seed, takes, model and settings)")
        self.save_as = make("Save &as…", Std.SaveAs, "Save the project under a new name")
        self.export_midi = make("Export &MIDI…", "Ctrl+E", "Write the seed and current take as a MIDI file")
        self.export_musicxml = make("Export Music&XML…", "Ctrl+Shift+E",
                                    "Write the seed and current take as MusicXML notation")
        self.export_wav = make("Export &audio (WAV)…", None,
                               "Render the seed and current take with the built-in synth to a WAV file "
                               "(any audio player opens it; no sound device needed)")
        self.export_pdf = make("Export &PDF…", None, "Engrave the seed and current take with MuseScore to a PDF")
        self.export_png = make("Export P&NG…", None,
                               "Engrave the seed and current take with MuseScore to PNG images (one a page)")
        # on for every export: the take from the bar where it leaves the seed, without the seed before it
        self.export_take_only = make("&Take alone", None, "Export only the take shown, from the bar where it "
                                     "leaves the seed (every export format, and Open in MuseScore)", checkable=True)
        self.open_musescore = make("Open in Muse&Score", "Ctrl+M", "Open the seed and current take in MuseScore")
        self.quit = make("&Quit", Std.Quit, "Close Partita (the session is kept)")
        # Edit (undo/redo come from the undo stack; see MainWindow)
        self.delete = make("&Delete notes", Std.Delete, "Delete the selected notes")
        self.select_all = make("Select &all", Std.SelectAll, "Select every note shown")
        self.tool_select = make("&Select tool", "S", "Click to select, drag to move, drag a right edge to resize",
                                checkable=True)
        self.tool_draw = make("D&raw tool", "D", "Click and drag in the roll to draw notes", checkable=True)
        self.tools = QActionGroup(window)
        self.tools.addAction(self.tool_select)
        self.tools.addAction(self.tool_draw)
        self.tool_select.setChecked(True)
        self.snap = make("S&nap to grid", "G", "Snap note starts and lengths to the grid", checkable=True)
        self.snap.setChecked(True)
        # Editing the selected notes (app/pianoroll/editing.py; their keys work while the roll has the focus)
        self.copy = make("&Copy", Std.Copy, "Copy the selected notes (Partita's notes and a MIDI file)")
        self.cut = make("Cu&t", Std.Cut, "Copy the selected notes and delete them")
        self.paste = make("&Paste", Std.Paste,
                          "Paste notes right after the selection, or at the playhead when nothing is selected")
        self.duplicate = make("D&uplicate", "Ctrl+D", "Copy the selected notes right after themselves")
        self.select_bars = make("Select &bars…", "Ctrl+Shift+B",
                                "Select every note that starts in a range of bars (or Shift+drag on the ruler)")
        self.quantize = make("&Quantize", "Q", "Move the selected notes' starts and ends to the nearest grid line "
                             "(the Grid chosen on the Edit toolbar)")
        self.transpose_up = make("Transpose up a semitone", "Up", "Move the selected notes a semitone higher")
        self.transpose_down = make("Transpose down a semitone", "Down", "Move the selected notes a semitone lower")
        self.octave_up = make("Transpose up an octave", "Shift+Up", "Move the selected notes an octave higher")
        self.octave_down = make("Transpose down an octave", "Shift+Down", "Move the selected notes an octave lower")
        self.nudge_later = make("Nudge later", "Right", "Move the selected notes a grid step later")
        self.nudge_earlier = make("Nudge earlier", "Left", "Move the selected notes a grid step earlier")
        self.nudge_bar_later = make("Nudge a bar later", "Shift+Right", "Move the selected notes a bar later")
        self.nudge_bar_earlier = make("Nudge a bar earlier", "Shift+Left", "Move the selected notes a bar earlier")
        self.louder = make("Louder", "Alt+Up", "Raise the selected notes' velocity by a tenth")
        self.softer = make("Softer", "Alt+Down", "Lower the selected notes' velocity by a tenth")
        self.set_velocity = make("Set &velocity…", "Ctrl+Shift+V", "Give the selected notes one velocity")
        self.scale_velocity = make("Scale velocity…", None, "Make the selected notes louder or softer by a percentage")
        self.clear_take = make("Delete &take", "Ctrl+Shift+Del", "Delete the take shown (Undo brings it back)")
        self.next_take = make("Ne&xt take", "Ctrl+PgDown", "Show the next take")
        self.previous_take = make("Pre&vious take", "Ctrl+PgUp", "Show the previous take (or the seed alone)")
        # View
        self.zoom_in = make("Zoom &in", Std.ZoomIn, "Zoom in time (Ctrl+wheel in the roll)")
        self.zoom_out = make("Zoom &out", Std.ZoomOut, "Zoom out in time (Ctrl+wheel in the roll)")
        self.zoom_fit = make("Zoom to &fit", "Ctrl+0", "Show the whole piece")
        # off at first: on a 768-pixel screen the roll needs every row it has
        self.velocity_lane = make("&Velocity lane", None, "Show the notes' velocities under the roll (drag to change)",
                                  checkable=True)
        # Transport
        self.play = make("&Play / Stop", "Space", "Play from the playhead, or stop", checkable=True)
        self.loop = make("&Loop", "L", "Loop the selected notes' span (or the whole piece)", checkable=True)
        self.rewind = make("&Rewind", "Home", "Move the playhead to the start")
        # Generate
        self.generate = make("&Generate", "Ctrl+Return", "Continue the seed with the chosen model")
        self.stop_generation = make("S&top generating", "Escape", "Stop generating at once")
        self.continue_here = make("&Continue from here", "Ctrl+Shift+Return",
                                  "Use the seed up to the end of the selection as the prompt")
        self.regenerate = make("&Regenerate selection", "Ctrl+R",
                               "Write the selected bars anew between the music around them: variations to "
                               "hear and keep one (the model must have learned infill)")
        self.regenerate.setIconText("Regenerate")  # the toolbar's word
        self.stop_generation.setEnabled(False)
        self.stop_generation.setIconText("Stop")  # the toolbar's word (the menu says it whole): room at 1366 px
        # Help
        self.about = make("&About Partita", None, "Versions of Partita and its libraries")
        self.shortcuts = make("&Keyboard shortcuts", Std.HelpContents, "List every shortcut")

    def undo_redo(self, stack: QUndoStack) -> tuple[QAction, QAction]:
        """Undo and Redo of the notes' undo stack (Redo: the platform's keys and Ctrl+Shift+Z, once each)."""
        undo = stack.createUndoAction(self.window, "&Undo")
        undo.setShortcut(Std.Undo)
        undo.setStatusTip("Undo the last edit of the notes")
        redo = stack.createRedoAction(self.window, "&Redo")
        redo.setShortcuts(key_sequences("Ctrl+Shift+Z", Std.Redo))
        redo.setStatusTip("Redo the edit just undone")
        return undo, redo

    def set_icons(self, undo, redo) -> None:
        """Painted icons for the toolbar actions (menus show them too)."""
        from app.icons import icon

        for action, name in ((self.open, "open"), (self.save, "save"), (undo, "undo"), (redo, "redo"),
                             (self.tool_select, "select"), (self.tool_draw, "draw"), (self.snap, "snap"),
                             (self.zoom_in, "zoom-in"), (self.zoom_out, "zoom-out"), (self.zoom_fit, "zoom-fit"),
                             (self.play, "play"), (self.rewind, "rewind"), (self.loop, "loop"),
                             (self.generate, "generate"), (self.stop_generation, "stop"),
                             (self.continue_here, "continue"), (self.regenerate, "regenerate")):
            action.setIcon(icon(name))

    def build_menus(self, window: QMainWindow, undo, redo) -> QMenu:
        """Fill the menu bar; returns the Open Recent submenu for the window to maintain."""
        bar = window.menuBar()
        file = bar.addMenu("&File")
        file.addActions([self.new, self.open])
        recent = file.addMenu("Open &recent")
        file.addActions([self.save, self.save_as])
        file.addSeparator()
        export = file.addMenu("&Export")
        export.addActions([self.export_midi, self.export_musicxml, self.export_wav, self.export_pdf,
                           self.export_png, self.open_musescore])
        export.addSeparator()
        export.addAction(self.export_take_only)
        file.addSeparator()
        file.addAction(self.quit)
        edit = bar.addMenu("&Edit")
        edit.addActions([undo, redo])
        edit.addSeparator()
        edit.addActions([self.cut, self.copy, self.paste, self.duplicate, self.delete])
        edit.addSeparator()
        edit.addActions([self.select_all, self.select_bars])
        edit.addSeparator()
        edit.addAction(self.quantize)
        pitch = edit.addMenu("Transp&ose")
        pitch.addActions([self.transpose_up, self.transpose_down, self.octave_up, self.octave_down])
        time = edit.addMenu("Nud&ge")
        time.addActions([self.nudge_later, self.nudge_earlier, self.nudge_bar_later, self.nudge_bar_earlier])
        velocity = edit.addMenu("&Velocity")
        velocity.addActions([self.louder, self.softer, self.set_velocity, self.scale_velocity])
        edit.addSeparator()
        edit.addActions([self.tool_select, self.tool_draw, self.snap])
        edit.addSeparator()
        edit.addAction(self.clear_take)
        view = bar.addMenu("&View")
        view.addActions([self.zoom_in, self.zoom_out, self.zoom_fit])
        view.addAction(self.velocity_lane)
        view.addSeparator()
        view.addActions([self.previous_take, self.next_take])
        self.view_menu = view
        transport = bar.addMenu("&Transport")
        transport.addActions([self.play, self.loop, self.rewind])
        generate = bar.addMenu("&Generate")
        generate.addActions([self.generate, self.continue_here, self.regenerate, self.stop_generation])
        help_menu = bar.addMenu("&Help")
        help_menu.addActions([self.shortcuts, self.about])
        return recent

    def roll_menu(self, parent) -> QMenu:
        """The piano roll's context menu: what acts on the selection, and writing."""
        menu = QMenu(parent)
        menu.addActions([self.regenerate, self.continue_here])
        menu.addSeparator()
        menu.addActions([self.cut, self.copy, self.paste, self.duplicate, self.delete])
        menu.addSeparator()
        menu.addActions([self.select_all, self.select_bars, self.quantize])
        return menu

    def all(self) -> list[QAction]:
        return [v for v in vars(self).values() if isinstance(v, QAction)]
