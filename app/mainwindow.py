"""The main window: piano roll in the centre, panels in docks, transport and tools toolbars.

The window wires panels to the roll and to each other; it owns no logic of its own beyond
that: notes live in `NoteModel`, jobs in the panels' `JobRunner`s, music in `core`, and files
(open, save, export, recent files) in the `Documents` it owns (`self.documents`).
Settings (geometry, dock layout, recent files, MIDI port, zoom) are read and written in one
pair of methods; the session (seed, takes, model, panel settings) autosaves a second after
every change and on close, and is restored on the next start.
"""

from __future__ import annotations

import logging
from pathlib import Path

import symusic
from PySide6.QtCore import QSettings, QSize, Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app.actions import Actions
from app.dialogs import ShortcutList, show_error
from app.documents import Documents
from app.fitting import keep_toolbar_in_view, scrollable
from app.notices import RestoredBar, restored_text
from app.pianoroll.commands import DeleteTake
from app.pianoroll.convert import score_from_notes
from app.pianoroll.model import GENERATED, Note, NoteModel
from app.pianoroll.widget import PianoRoll
from app.session import default_state_dir

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    errorShown = Signal(str)  # what happened (tests and logs listen)

    def __init__(self, settings: QSettings | None = None, state_dir: Path | None = None, *,
                 transport_output=None, live_input=None, restore_session: bool = True):
        super().__init__()
        self.setWindowTitle("Partita")
        self.setObjectName("partitaMainWindow")
        self.settings = settings or QSettings("Partita", "Partita")
        self.state_dir = Path(state_dir) if state_dir else default_state_dir()
        self.program = 0  # GM program of the seed (kept for playback and export)
        self.error_boxes: list[QMessageBox] = []

        self.model = NoteModel(self)
        self.undo_stack = QUndoStack(self)
        self.documents = Documents(self)  # open, save, export, recent files, the autosaved session
        self.seed_loader, self.exporter = self.documents.seed_loader, self.documents.exporter  # (their jobs)
        self.roll = PianoRoll(self.model, self.undo_stack, self)
        self.restored_bar = RestoredBar(self)  # over the roll: "Restored from your last session: …"
        central = QWidget(self)
        central_layout = QVBoxLayout(central)
        central_layout.setContentsMargins(0, 0, 0, 0)
        central_layout.setSpacing(0)
        central_layout.addWidget(self.restored_bar)
        central_layout.addWidget(self.roll, 1)
        self.setCentralWidget(central)
        self.actions = Actions(self)
        undo, redo = self.undo_action, self.redo_action = self.actions.undo_redo(self.undo_stack)
        self.actions.set_icons(undo, redo)
        self.recent_menu = self.actions.build_menus(self, undo, redo)

        self._build_panels(transport_output, live_input)
        from app.regenerating import Regenerator

        self.regenerator = Regenerator(self.roll, self.undo_stack, self.generation_panel, self)
        central_layout.insertWidget(1, self.regenerator.bar)  # its variations, over the roll
        self._build_toolbars()
        self._connect()

        self.position_label = QLabel(self)
        self.statusBar().addPermanentWidget(self.position_label)
        self.read_settings()
        restored = False
        if restore_session:
            restored = self.restore_session()
            resumable = self.training_panel.offer_resume()
            if resumable:
                self.statusBar().showMessage(f"Training run {Path(resumable).name} stopped early: "
                                             "Resume (Training tab) continues it", 10000)
        self.documents.update_title()
        if restored and len(self.model) and self.unsaved:  # Quit does not ask: the next start says so
            self.restored_bar.say(restored_text(len(self.model.seed_notes()), len(self.model.takes),
                                                self.project_path.name if self.project_path else None))
            self.statusBar().showMessage("Restored your last session", 8000)
        elif not restored:
            self.statusBar().showMessage("Ready. Draw a seed (D), drop a MIDI or MusicXML file on the roll, "
                                         "or just press Generate.", 8000)
        self.restored_bar.saveClicked.connect(self.documents.save)
        self.restored_bar.startAfreshClicked.connect(self.documents.new_project)
        self.windowTitleChanged.connect(self._hide_restored_when_saved)

    def _hide_restored_when_saved(self) -> None:
        """The restored notes are in a project now (saved), or gone (New): the bar has said its piece."""
        if not len(self.model) or not self.unsaved:
            self.restored_bar.hide()

    # --- documents (kept by `self.documents`) -----------------------------------------------
    @property
    def project_path(self) -> Path | None:
        """The project the notes were opened from or saved to (None: not saved in one)."""
        return self.documents.project_path

    @project_path.setter
    def project_path(self, path: Path | None) -> None:
        self.documents.project_path = path

    @property
    def seed_name(self) -> str:
        """The stem of the music file the seed came from (names exports)."""
        return self.documents.seed_name

    @seed_name.setter
    def seed_name(self, name: str) -> None:
        self.documents.seed_name = name

    @property
    def recent_files(self) -> list[str]:
        return self.documents.recent_files

    @property
    def unsaved(self) -> bool:
        return self.documents.unsaved

    @property
    def session_path(self) -> Path:
        return self.documents.session_path

    def open_file(self, path: str) -> None:
        """Open a project, a music file (the seed) or a folder (a corpus): `Documents.open_file`."""
        self.documents.open_file(path)

    def save(self) -> bool:
        return self.documents.save()

    def autosave(self) -> None:
        self.documents.autosave()

    def restore_session(self) -> bool:
        return self.documents.restore_session()

    def confirm(self, title: str, question: str) -> bool:
        """Ask whether to discard (tests replace this)."""
        answer = QMessageBox.question(self, title, question, QMessageBox.StandardButton.Discard
                                      | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Discard

    # --- building ------------------------------------------------------------------------
    def _build_panels(self, transport_output, live_input) -> None:
        from app.panels.corpus import CorpusPanel
        from app.panels.evaluation import EvaluationPanel
        from app.panels.generation import GenerationPanel
        from app.panels.live import LivePanel
        from app.panels.training import TrainingPanel
        from app.panels.transport import Transport

        self.corpus_panel = CorpusPanel(self)
        self.training_panel = TrainingPanel(self)
        self.generation_panel = GenerationPanel(self.model, self)
        self.generation_panel.prompt_provider = self.seed_score
        self.evaluation_panel = EvaluationPanel(self)
        self.evaluation_panel.takes_provider = self.take_scores
        self.evaluation_panel.model_provider = lambda: self.generation_panel.run_dir
        self.transport = Transport(self, output_factory=transport_output)
        self.live_panel = LivePanel(self.transport, self.generation_panel, self, input_factory=live_input)

        # the Generate panel scrolls its settings itself (its buttons stay in view); Training scrolls
        # as a whole: neither holds the window taller than a 768-pixel screen
        self.generate_dock = self._dock("Generate", self.generation_panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self.bottom_tabs = QTabWidget(self)
        self.bottom_tabs.setDocumentMode(True)
        self.bottom_tabs.addTab(self.corpus_panel, "Corpus")
        self.bottom_tabs.addTab(scrollable(self.training_panel), "Training")
        self.bottom_tabs.addTab(self.evaluation_panel, "Evaluation")
        self.bottom_tabs.addTab(self.live_panel, "Live")
        self.panels_dock = self._dock("Corpus · Training · Evaluation · Live", self.bottom_tabs,
                                      Qt.DockWidgetArea.BottomDockWidgetArea)
        self.actions.view_menu.addSeparator()
        self.actions.view_menu.addAction(self.generate_dock.toggleViewAction())
        self.actions.view_menu.addAction(self.panels_dock.toggleViewAction())

    def _dock(self, title: str, widget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title.replace(" ", "").replace("·", "_") + "Dock")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        return dock

    def _build_toolbars(self) -> None:
        from app.panels.transport import TransportBar

        a = self.actions
        file_bar = QToolBar("File", self)
        file_bar.setObjectName("fileBar")
        file_bar.addActions([a.open, a.save])
        file_bar.addSeparator()
        file_bar.addActions([self.undo_action, self.redo_action])
        self.addToolBar(file_bar)
        edit_bar = QToolBar("Edit", self)
        edit_bar.setObjectName("editBar")
        edit_bar.addActions([a.tool_select, a.tool_draw, a.snap])
        self.grid_box = QComboBox(self)
        for label, division in (("1/4", 1), ("1/8", 2), ("1/16", 4), ("1/32", 8), ("1/8 triplet", 3), ("1/16 triplet", 6)):
            self.grid_box.addItem(label, division)
        self.grid_box.setCurrentIndex(2)
        self.grid_box.setToolTip("Grid and snap resolution")
        self.grid_box.currentIndexChanged.connect(self._grid_chosen)
        edit_bar.addWidget(QLabel(" Grid ", self))
        edit_bar.addWidget(self.grid_box)
        edit_bar.addSeparator()
        edit_bar.addActions([a.zoom_out, a.zoom_in, a.zoom_fit])
        self.addToolBar(edit_bar)
        self.transport_bar = TransportBar(a, self)
        self.addToolBar(self.transport_bar)
        gen_bar = QToolBar("Generate", self)
        gen_bar.setObjectName("generateBar")
        gen_bar.addActions([a.generate, a.stop_generation, a.continue_here, a.regenerate])
        gen_bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.addToolBar(gen_bar)
        self.generate_bar = gen_bar
        for bar in (file_bar, edit_bar, self.transport_bar):
            bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)

    def _connect(self) -> None:
        a, view = self.actions, self.roll.view
        documents = self.documents
        a.new.triggered.connect(documents.new_project)
        a.open.triggered.connect(documents.open_dialog)
        a.save.triggered.connect(documents.save)
        a.save_as.triggered.connect(documents.save_as)
        for action, kind in ((a.export_midi, "midi"), (a.export_musicxml, "musicxml"), (a.export_wav, "wav"),
                             (a.export_pdf, "pdf"), (a.export_png, "png")):
            action.triggered.connect(lambda _=False, kind=kind: documents.export(kind))
        a.open_musescore.triggered.connect(documents.open_in_musescore)
        a.quit.triggered.connect(self.close)
        a.delete.triggered.connect(view.delete_selection)
        a.select_all.triggered.connect(view.select_all)
        a.tool_select.triggered.connect(lambda: setattr(view, "tool", view.SELECT))
        a.tool_draw.triggered.connect(lambda: setattr(view, "tool", view.DRAW))
        a.snap.toggled.connect(lambda on: setattr(view, "snap_enabled", on))
        a.clear_take.triggered.connect(self.delete_take)
        a.next_take.triggered.connect(lambda: self.model.set_current_take(self.model.current_take + 1))
        a.previous_take.triggered.connect(lambda: self.model.set_current_take(self.model.current_take - 1))
        a.zoom_in.triggered.connect(lambda: view.zoom_time(1.25))
        a.zoom_out.triggered.connect(lambda: view.zoom_time(0.8))
        a.zoom_fit.triggered.connect(view.zoom_to_fit)
        a.play.triggered.connect(self.toggle_play)
        a.rewind.triggered.connect(lambda: self.set_playhead(0, follow=True))  # the view goes there too
        a.loop.toggled.connect(self._loop_toggled)
        a.generate.triggered.connect(lambda: self.generation_panel.generate())
        a.stop_generation.triggered.connect(self.generation_panel.stop)
        a.continue_here.triggered.connect(self.continue_from_here)
        a.regenerate.triggered.connect(self.regenerator.regenerate)
        a.stop_generation.triggered.connect(self.regenerator.stop)
        self.regenerator.program = lambda: self.program
        self.regenerator.player = self.transport.play  # Play: a variation with the bars around it
        self.regenerator.failed.connect(self.show_error)
        self.regenerator.status.connect(lambda text: self.statusBar().showMessage(text, 10000))
        self.regenerator.runningChanged.connect(lambda _: self._selection_changed())
        self.roll.editor.barsChanged.connect(lambda _: self._selection_changed())
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.roll_menu = a.roll_menu(self)
        view.customContextMenuRequested.connect(lambda pos: self.roll_menu.popup(view.viewport().mapToGlobal(pos)))
        a.about.triggered.connect(self.about)
        a.shortcuts.triggered.connect(self.show_shortcuts)
        self.roll.editor.connect_actions(a, self.roll)  # copy, paste, quantize, transpose, nudge, velocity
        self.roll.editor.status.connect(lambda text: self.statusBar().showMessage(text, 5000))
        a.velocity_lane.toggled.connect(self.roll.show_velocity)
        self.roll.show_velocity(a.velocity_lane.isChecked())
        self.roll.drag_out.name = lambda: documents.export_name("")  # "Prelude - take 2.mid" dragged out
        self.roll.drag_out.program = lambda: self.program
        view.fileDropped.connect(self.open_file)
        view.selectionChanged.connect(self._selection_changed)
        self.roll.ruler.clicked.connect(self.set_playhead)
        self._selection_changed()

        for panel in (self.corpus_panel, self.training_panel, self.generation_panel, self.evaluation_panel,
                      self.live_panel):
            panel.failed.connect(self.show_error)
        self.live_panel.seedRecorded.connect(documents.seed_recorded)
        self.live_panel.conversationReady.connect(documents.conversation_ready)
        for panel in (self.training_panel, self.generation_panel, self.live_panel):
            panel.status.connect(lambda text: self.statusBar().showMessage(text, 10000))
        self.corpus_panel.corpusImported.connect(self._corpus_imported)
        self.corpus_panel.pieceActivated.connect(self.open_file)
        self.training_panel.runSaved.connect(lambda run: self.generation_panel.add_run(run))
        self.training_panel.runEnded.connect(lambda run: self.generation_panel.add_run(run, select=True))
        self.generation_panel.generatingChanged.connect(self._generating_changed)
        self.generation_panel.noteStreamed.connect(self._note_streamed)
        self.model.takesSwapped.connect(self.generation_panel.stop)  # its takes continue a seed now gone
        self.transport.positionChanged.connect(lambda tick: self.set_playhead(int(tick), from_player=True))
        self.transport.playingChanged.connect(self._playing_changed)
        self.transport.failed.connect(self.show_error)
        self.transport_bar.portChosen.connect(self.transport.set_port)
        self.transport_bar.tempoChosen.connect(self._tempo_chosen)
        self.model.meterChanged.connect(lambda: self.transport_bar.set_tempo(self.model.meter.tempo_qpm))

    # --- errors and messages ---------------------------------------------------------------
    def show_error(self, what: str, todo: str = "") -> None:
        """A dialog saying what happened and what to do (never a traceback)."""
        log.warning("%s %s", what, todo)
        self.error_boxes = [b for b in self.error_boxes if b.isVisible()][-3:]
        self.error_boxes.append(show_error(self, what, todo))
        self.statusBar().showMessage(what, 10000)
        self.errorShown.emit(what)

    def about(self) -> None:
        from core.commands.version import versions

        rows = "".join(f"<tr><td>{name}</td><td>&nbsp;{version}</td></tr>" for name, version in versions().items())
        QMessageBox.about(self, "About Partita",
                          "<h3>Partita</h3><p>A composition assistant that learns a composer's style from "
                          "symbolic music, continues your ideas, plays them and judges them.</p>"
                          f"<table>{rows}</table>")

    def show_shortcuts(self) -> None:
        pairs = []
        for action in self.actions.all() + [self.undo_action, self.redo_action]:
            keys = ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts())
            if keys:
                pairs.append((action.text().replace("&", ""), keys))
        pairs += [("Zoom in time / in pitch", "Ctrl+wheel / Ctrl+Shift+wheel"),
                  ("Select the bars swept", "Shift+drag on the ruler"),
                  ("Drag the selection out as MIDI", "Alt+drag a selected note")]
        box = ShortcutList(pairs, self)
        box.open()

    # --- seed, takes, prompt ---------------------------------------------------------------
    def seed_score(self):
        """The seed as a score for the engine (None when the roll holds no seed)."""
        seed = self.model.seed_notes()
        return score_from_notes(seed, self.model.meter, self.program, chords=self.model.seed_chords) if seed else None

    def take_scores(self) -> list[tuple[str, symusic.Score, int]]:
        """(name, seed + take score, tick where the take starts) for every non-empty take."""
        out = []
        for i, name in enumerate(self.model.takes):
            take = self.model.take_notes(i)
            if take:
                score = score_from_notes([*self.model.take_seed(i), *take], self.model.meter, self.program,
                                         chords=self.model.chords_with(i))
                out.append((name, score, self._take_start(i)))
        return out

    def shown_score(self):
        """Seed and current take as one score (what Play, Export and MuseScore get)."""
        take = self.model.current_take
        notes = self.model.take_seed(take) + (self.model.take_notes(take) if take >= 0 else [])
        return score_from_notes(notes, self.model.meter, self.program)

    def seed_end_tick(self) -> int | None:
        """Where the current take starts (None when no take is shown): marked in exports."""
        take = self.model.current_take
        return self._take_start(take) if take >= 0 and self.model.take_notes(take) else None

    def _take_start(self, take: int) -> int:
        """Where a take leaves its seed: its cut (Continue from here; the notes it carried over are
        the prompt's), or its first note."""
        cut = self.model.take_cut(take)
        return cut if cut is not None else min(n.start for n in self.model.take_notes(take))

    def delete_take(self) -> None:
        """Delete the current take (undoable, Ctrl+Z brings it back)."""
        if 0 <= self.model.current_take < len(self.model.takes):
            self.undo_stack.push(DeleteTake(self.model, self.model.current_take))

    def continue_from_here(self) -> None:
        """Prompt with what is shown up to the end of the selection; the new take keeps that part."""
        selection = self.roll.view.selection
        if not selection:
            self.show_error("Nothing is selected.", "Select the notes to continue from (drag a box around them).")
            return
        cut = max(self.model.note(i).end for i in selection)
        take = self.model.current_take
        shown = self.model.take_seed(take) + (self.model.take_notes(take) if take >= 0 else [])  # as it plays
        before = [n for n in shown if n.start < cut]
        prompt = score_from_notes([Note(n.start, n.pitch, min(n.duration, cut - n.start), n.velocity) for n in before],
                                  self.model.meter, self.program,
                                  chords=[c for c in self.model.visible_chords() if c.start < cut])
        carried = [n for n in before if n.role == GENERATED]  # a take continued from keeps its notes
        shown_cut = self.model.take_cut(self.model.current_take)  # the seed this take already left
        seed_cut = cut if shown_cut is None else min(cut, shown_cut)
        self.generation_panel.generate(prompt, cut=seed_cut, carried=carried)

    def _generating_changed(self, running: bool) -> None:
        if running:
            self.roll.view.start_following()
        self._stream_playback(running)
        self._selection_changed()

    def _selection_changed(self) -> None:
        """Enable what acts on the selection, and the writing actions while nothing is being written
        (Generate and Regenerate selection write one at a time; Stop stops either)."""
        has = bool(self.roll.view.selection)
        busy = self.generation_panel.running or self.regenerator.running
        self.actions.generate.setEnabled(not busy)
        self.generation_panel.allow_generate(not busy)
        self.actions.continue_here.setEnabled(has and not busy)
        self.actions.regenerate.setEnabled(not busy and self.roll.editor.selected_bars() is not None)
        self.actions.stop_generation.setEnabled(busy)
        self.actions.delete.setEnabled(has)

    def _grid_chosen(self) -> None:
        self.roll.view.grid_division = int(self.grid_box.currentData())
        self.roll.view.resetCachedContent()
        self.roll.view.viewport().update()

    def _corpus_imported(self, source: str) -> None:
        self.training_panel.corpus_imported(source, self.corpus_panel.corpus)
        self.evaluation_panel.set_corpus(self.corpus_panel.corpus, source)
        self.statusBar().showMessage(f"Corpus {source} imported; the Training panel will learn from it", 8000)

    # --- transport -------------------------------------------------------------------------
    def _stream_playback(self, starting: bool) -> None:
        """With "Play as it is written": play the take from the seed's end while it is generated."""
        from core.midi.timeline import Timeline

        if starting and self.generation_panel.plays_while_writing:
            meter = self.model.meter
            timeline = Timeline(meter.ticks_per_quarter, [(0, meter.tempo_qpm)])
            timeline.add_program(0, 0, self.program)
            self._live_timeline = timeline
            cut = self.generation_panel.cut  # Continue from here: the takes start at the cut
            seed_end = cut if cut is not None else max((n.end for n in self.model.seed_notes()), default=0)
            self.transport.play(timeline, seed_end)
        elif not starting and getattr(self, "_live_timeline", None) is not None:
            self._live_timeline.close()  # the player finishes what is there, then stops
            self._live_timeline = None

    def _note_streamed(self, note: Note) -> None:
        self.roll.view.follow(note)  # the take being written stays in view, unless the user looks elsewhere
        timeline = getattr(self, "_live_timeline", None)
        if timeline is not None:
            timeline.add_note(note.start, note.duration, note.pitch, note.velocity)

    def toggle_play(self) -> None:
        if self.transport.playing:
            self.transport.stop()
            return
        start = int(self.roll.view.playhead.x()) if self.roll.view.playhead.isVisible() else 0
        if start >= self.model.end_tick():
            start = 0
        if not self.model.visible_items():
            self.actions.play.setChecked(False)
            self.statusBar().showMessage("Nothing to play: the roll is empty", 5000)
            return
        self.transport.play(self.shown_score(), start)

    def set_playhead(self, tick: int, from_player: bool = False, follow: bool = False) -> None:
        """Move the playhead; the view scrolls to it when the player moves it or `follow` (Home)."""
        self.roll.view.set_playhead(tick, follow=from_player or follow)
        self.roll.ruler.update()
        meter = self.model.meter
        bar, rest = divmod(int(tick), meter.bar_length)
        self.position_label.setText(f"bar {meter.bar_number(bar)} beat {rest // meter.beat_ticks + 1}")

    def _playing_changed(self, playing: bool) -> None:
        self.actions.play.setChecked(playing)

    def _tempo_chosen(self, bpm: float) -> None:
        self.transport.tempo_bpm = bpm
        self.transport.set_tempo_factor(max(0.1, bpm / max(1.0, self.model.meter.tempo_qpm)))

    def _loop_toggled(self, on: bool) -> None:
        if not on:
            self.transport.set_loop(None)
            return
        selection = self.roll.view.selection
        notes = [self.model.note(i) for i in selection] or [n for _, n in self.model.visible_items()]
        if not notes:
            self.transport.set_loop(None)
            return
        bar = self.model.meter.bar_length
        start = min(n.start for n in notes) // bar * bar
        end = -(-max(n.end for n in notes) // bar) * bar
        self.transport.set_loop((start, end))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        keep_toolbar_in_view(self, self.generate_bar)  # Generate, Stop, Continue from here: never behind »

    # --- settings --------------------------------------------------------------------------
    def read_settings(self) -> None:
        s = self.settings
        geometry = s.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(first_size(self.screen()))
        state = s.value("window/state")
        if state is not None:
            self.restoreState(state)
        else:  # first start: give the panels room for the curves and the table
            self.resizeDocks([self.panels_dock], [max(330, self.height() * 2 // 5)], Qt.Orientation.Vertical)
            self.resizeDocks([self.generate_dock], [max(300, self.width() // 6)], Qt.Orientation.Horizontal)
        recent = s.value("files/recent", [])
        self.documents.set_recent_files([recent] if isinstance(recent, str) else list(recent or []))
        port = str(s.value("midi/output", "") or self.transport.port)
        self.transport_bar.refresh_ports(port, probe=False)
        self.transport.set_port(port)
        ppq = s.value("roll/pixels_per_quarter", type=float)
        pps = s.value("roll/pixels_per_semitone", type=float)
        if ppq and pps:
            self.roll.view.set_zoom(ppq, pps)
        self.bottom_tabs.setCurrentIndex(int(s.value("window/tab", 0, type=int)))
        self.actions.velocity_lane.setChecked(s.value("roll/velocity_lane", False, type=bool))

    def write_settings(self) -> None:
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("window/tab", self.bottom_tabs.currentIndex())
        s.setValue("files/recent", self.recent_files)
        s.setValue("midi/output", self.transport.port)
        s.setValue("roll/pixels_per_quarter", self.roll.view.pixels_per_quarter)
        s.setValue("roll/pixels_per_semitone", self.roll.view.pixels_per_semitone)
        s.setValue("roll/velocity_lane", self.actions.velocity_lane.isChecked())
        s.sync()

    def closeEvent(self, event) -> None:
        self.write_settings()
        self.autosave()
        self.transport.shutdown()
        self.generation_panel.runner.shutdown(5000)
        self.regenerator.runner.shutdown(5000)
        self.corpus_panel.runner.shutdown(5000)
        self.seed_loader.shutdown(5000)
        self.exporter.shutdown(30000)  # a file being written is finished, not cut
        if self.training_panel.runner.running:
            self.statusBar().showMessage("Stopping training and saving its checkpoint…")
        self.training_panel.runner.shutdown(60000)  # train() saves a checkpoint as it stops
        self.evaluation_panel.runner.shutdown(5000)
        self.live_panel.shutdown()
        super().closeEvent(event)



def first_size(screen) -> QSize:
    """The window's size at its first start: 1400 x 900, or the screen's free area where that is
    smaller (a 1366 x 768 laptop). The offscreen platform's 800 x 800 "screen" is no screen."""
    size = QSize(1400, 900)
    if screen is None or QGuiApplication.platformName() == "offscreen":
        return size
    free = screen.availableGeometry()
    return size.boundedTo(free.size()) if free.width() > 0 and free.height() > 0 else size
