"""The window's documents: opening music files and projects, saving, exporting, recent files,
and the autosaved session.

`Documents` is an object the main window owns (composed, not mixed in): it holds what the
documents are (`project_path`, `seed_name`, `recent_files`, the notes as last saved), runs the
jobs that read and write them, and keeps the window's title and the autosave timer. It uses the
window's model, panels and status bar through `window`, and asks the window's `confirm` before
notes that are not saved go.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path

import symusic
from PySide6.QtCore import QObject, QStandardPaths, QTimer
from PySide6.QtWidgets import QFileDialog

from app.pianoroll.commands import ReplaceSeed
from app.pianoroll.convert import chords_of, meter_of, notes_from_score
from app.pianoroll.model import GENERATED
from app.session import PROJECT_SUFFIX, ProjectError, read_project, restore_project, save_project
from app.workers import JobRunner
from core.music.scores import SUPPORTED_SUFFIXES, load_score

log = logging.getLogger(__name__)
MAX_RECENT = 10
AUTOSAVE_MS = 1000  # the session is saved this long after the last change
TITLE_MS = 250  # the title's unsaved mark follows changes at most this often (comparing reads every note)
MUSIC_FILTER = "Music files (" + " ".join(f"*{s}" for s in sorted(SUPPORTED_SUFFIXES)) + ")"
PROJECT_FILTER = f"Partita projects (*{PROJECT_SUFFIX})"
OPENABLE_FILTER = ("Projects and music files (" + " ".join(f"*{s}" for s in [PROJECT_SUFFIX, *sorted(SUPPORTED_SUFFIXES)])
                   + ")")  # File > Open's first filter: everything Partita opens


def load_seed(path: str):
    """Read a music file (in a worker: music21 can take seconds); returns (notes, meter, program,
    chords, what could not be read: "" when it was read whole)."""
    warnings: list[str] = []
    score = load_score(path, warnings=warnings)
    program = score.tracks[0].program if len(score.tracks) else 0
    return notes_from_score(score), meter_of(score), program, chords_of(score), "; ".join(warnings)


class Documents(QObject):
    """Open, save, export and autosave for `window` (a `MainWindow`), and what they leave behind:
    the project's path, the seed's name, the recent files, whether the notes are saved."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.model = window.model
        self.undo_stack = window.undo_stack
        self.project_path: Path | None = None
        self.seed_name = ""  # the stem of the music file the seed came from (names exports)
        self.recent_files: list[str] = []
        # What the notes were when the project was saved or opened (see `unsaved`)
        self._saved_content: tuple | None = self.model.content()
        self._pending_seed = ""  # the music file being read
        self._export_failure = ("", "")  # what the error dialog says of a failed export: (what, hint)

        self.seed_loader = JobRunner("seed", self)
        self.seed_loader.finished.connect(self._seed_loaded)
        self.seed_loader.failed.connect(lambda m: window.show_error(
            m, "Partita reads MIDI (.mid), MusicXML (.musicxml, .mxl, .xml), kern (.krn) and ABC (.abc)."))
        self.exporter = JobRunner("export", self)  # MusicXML of a long piece takes seconds
        self.exporter.finished.connect(self._exported)
        self.exporter.failed.connect(self._export_failed)
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setSingleShot(True)
        self.autosave_timer.setInterval(AUTOSAVE_MS)
        self.autosave_timer.timeout.connect(self.autosave)
        self.title_timer = QTimer(self)
        self.title_timer.setSingleShot(True)
        self.title_timer.setInterval(TITLE_MS)
        self.title_timer.timeout.connect(self.update_title)
        for signal in (self.model.notesChanged, self.model.takesChanged, self.model.meterChanged,
                       self.model.chordsChanged):
            signal.connect(self.autosave_timer.start)
            signal.connect(self.title_timer.start)

    # --- files -----------------------------------------------------------------------------
    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open a project or a music file", self._last_dir(),
                                              f"{OPENABLE_FILTER};;{PROJECT_FILTER};;{MUSIC_FILTER};;All files (*)")
        if path:
            self.open_file(path)

    def open_file(self, path: str) -> None:
        """A project replaces everything; a music file becomes the seed, without the old seed's
        takes (Undo brings the old seed back with them)."""
        path = str(path)
        if path.endswith(PROJECT_SUFFIX):
            if not self._may_discard(f"Open {Path(path).name}"):
                return
            try:  # checked whole before the model is touched: a damaged file leaves the work on screen
                panels = restore_project(self.model, read_project(Path(path)))
            except ProjectError as error:
                text = str(error)
                self.window.show_error(text if text.startswith(Path(path).name) else f"{Path(path).name}: {text}",
                                "Choose a file saved by Partita (*.partita); what is on screen is kept.")
                return
            self.window.generation_panel.stop()  # a take being written belongs to what was discarded
            dropped = self._restore_panels(panels)
            if dropped:
                log.warning("%s: settings not restored: %s", Path(path).name, ", ".join(dropped))
            self.undo_stack.clear()
            self.project_path = Path(path)
            self.add_recent(path)
            self._mark_saved()
            self.window.roll.view.zoom_to_fit()
            self.window.statusBar().showMessage(f"Opened {Path(path).name}", 5000)
            return
        if Path(path).is_dir():
            self.window.corpus_panel.import_source(path)
            self.window.bottom_tabs.setCurrentWidget(self.window.corpus_panel)
            return
        self.window.statusBar().showMessage(f"Reading {Path(path).name}…")
        self._pending_seed = path
        self.seed_loader.call(lambda: load_seed(path))

    def _seed_loaded(self, result) -> None:
        notes, meter, program, chords, partial = result
        path = self._pending_seed
        self.window.program = program
        self.seed_name = Path(path).stem
        self.undo_stack.push(ReplaceSeed(self.model, notes, meter, f"Open {Path(path).name}", chords))
        self._show_the_notes()
        self.add_recent(path)
        if partial:  # said until the next message: the seed lacks what could not be read
            self.window.statusBar().showMessage(f"Seed: {len(notes)} notes; {partial}")
        else:
            self.window.statusBar().showMessage(f"Seed: {Path(path).name}, {len(notes)} notes", 8000)

    def seed_recorded(self, score) -> None:
        """A phrase played on the keyboard becomes the seed (as a dropped file does)."""
        self.window.program = score.tracks[0].program if len(score.tracks) else self.window.program
        self.seed_name = "Recorded seed"
        self.undo_stack.push(ReplaceSeed(self.model, notes_from_score(score), meter_of(score), "Recorded seed"))
        self.window.roll.view.zoom_to_fit()

    def conversation_ready(self, score) -> None:
        """A duet: the musician's calls become the seed, Partita's replies a new take."""
        you = [t for t in score.tracks if t.name == "you"]
        partita = [t for t in score.tracks if t.name == "Partita"]
        if you:  # the calls become the seed (undoable: the seed before the duet comes back)
            self.seed_name = "Duet"
            self.undo_stack.push(ReplaceSeed(self.model, notes_from_score(_only(score, you[0])), meter_of(score),
                                             "Duet calls"))
        duets = sum(name.startswith("Duet") for name in self.model.takes)
        take = self.model.new_take(f"Duet {duets + 1}")
        if partita:
            self.model.add_notes(notes_from_score(_only(score, partita[0]), GENERATED, take))
        self.window.roll.view.zoom_to_fit()

    def new_project(self) -> None:
        """Start afresh, once the user agrees to lose what is not saved in a project."""
        if not self._may_discard("New project"):
            return
        self.window.generation_panel.stop()
        self.model.clear()  # tempo and time signature too
        self.window.program = 0
        self.undo_stack.clear()
        self.project_path = None
        self.seed_name = ""
        self._mark_saved()
        # nothing said about the old notes stays: its report, "Done: 240 notes", the status bar
        self.window.evaluation_panel.clear_report()
        self.window.generation_panel.say("New project: draw or drop a seed in the roll (or start from silence), "
                                         "then Generate.")
        self.window.statusBar().showMessage("New project", 5000)

    @property
    def unsaved(self) -> bool:
        """Whether the notes differ from what the project held when saved or opened (streamed takes,
        recorded seeds and edits alike; switching takes, or undoing back to it, is no change)."""
        return self.model.content() != self._saved_content

    def _mark_saved(self, saved: bool = True) -> None:
        """The notes as they are now are (or, with False, are not) what the project holds."""
        self._saved_content = self.model.content() if saved else None
        self.update_title()

    def _may_discard(self, title: str) -> bool:
        """Whether the notes on screen may go: saved in the project as they are, or the user agrees."""
        if not len(self.model) or not self.unsaved:
            return True
        takes, seed = len(self.model.takes), len(self.model.seed_notes())
        parts = ([f"the seed ({seed} note{'s' if seed != 1 else ''})"] if seed else []) + ([f"{takes} take{'s' if takes != 1 else ''}"]
                                                                   if takes else [])
        where = "not saved in a project" if self.project_path is None else f"changed since {self.project_path.name} was saved"
        return self.window.confirm(title, f"Discard {' and '.join(parts)}? They are {where}, and this cannot be undone.")

    def save(self) -> bool:
        if self.project_path is None:
            return self.save_as()
        return self.save_to(self.project_path)

    def save_as(self) -> bool:
        path, _ = QFileDialog.getSaveFileName(self.window, "Save project", self._last_dir(), PROJECT_FILTER)
        if not path:
            return False
        if not path.endswith(PROJECT_SUFFIX):
            path += PROJECT_SUFFIX
        return self.save_to(Path(path))

    def save_to(self, path: Path) -> bool:
        try:
            save_project(path, self.model, self._panel_states())
        except OSError as error:
            self.window.show_error(f"Could not save {path.name}: {error.strerror or error}",
                            "Choose another folder (is this one read-only or the disk full?).")
            return False
        self.project_path = path
        self.undo_stack.setClean()
        self._saved_content = self.model.content()
        self.add_recent(str(path))
        self.update_title()
        self.window.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    def export(self, kind: str) -> None:
        """Write what is shown (or the take alone, Export > Take alone) as any of
        `core.music.export.FORMATS`, in a worker: notation of a long piece takes seconds, MuseScore more."""
        from app.exporting import TAKE_ONLY_NAME, export_files, missing_musescore
        from core.music.export import FORMATS

        form = FORMATS[kind]
        shown = self._export_source()
        if shown is None:
            return
        if form.engraved and (missing := missing_musescore()):  # said before a file name is asked for
            self.window.show_error(f"Cannot export {form.label}: {missing}", form.hint)
            return
        name = self.export_name(TAKE_ONLY_NAME if self.window.actions.export_take_only.isChecked() else "") + form.suffix
        path, _ = QFileDialog.getSaveFileName(self.window, f"Export {form.label}", str(self.export_dir() / name),
                                              form.file_filter)
        if not path:
            return
        self.window.settings.setValue("export/folder", str(Path(path).parent))
        if Path(path).suffix.lower() not in form.accepted:
            path += form.suffix  # a name typed without its extension
        score, seed_end = shown
        program = self.window.program

        def job() -> str:
            written = export_files(score, Path(path), kind, seed_end_tick=seed_end, program=program)
            return f"Exported {', '.join(str(p) for p in written)}"

        self._export_failure = ("Export failed", form.hint)
        self.window.statusBar().showMessage(f"Exporting {Path(path).name}…")
        self.exporter.call(job)

    def _export_source(self):
        """(score, seed_end_tick) that Export and MuseScore get: seed and take, or the take alone
        from the bar where it leaves its seed; None, said in a dialog or the status bar, when there
        is nothing to export or an export is still being written."""
        from app.exporting import take_only

        if not self.model.visible_items():
            self.window.show_error("Nothing to export: the roll is empty.", "Draw or load a seed, or generate a take first.")
            return None
        if self.exporter.running:
            self.window.statusBar().showMessage("An export is still being written: try again when it is done", 5000)
            return None
        score, seed_end = self.window.shown_score(), self.window.seed_end_tick()
        if not self.window.actions.export_take_only.isChecked():
            return score, seed_end
        if seed_end is None:
            self.window.show_error("Nothing to export: no take is shown, and File > Export > Take alone is on.",
                            "Show a take (View > Next take), or turn Take alone off to export the seed.")
            return None
        return take_only(score, seed_end), None  # (the cut carries the seed's end as its marker)

    def open_in_musescore(self) -> None:
        from app.exporting import open_in_musescore

        shown = self._export_source()
        if shown is None:
            return
        (score, seed_end), folder = shown, self.window.state_dir

        self._export_failure = ("Could not open MuseScore",
                                "Install MuseScore (3 or 4) or export MusicXML and open it yourself.")
        self.window.statusBar().showMessage("Writing the score for MuseScore…")
        self.exporter.call(lambda: open_in_musescore(score, folder, seed_end_tick=seed_end))

    def _exported(self, message: str) -> None:
        self.window.statusBar().showMessage(message, 8000)

    def _export_failed(self, message: str) -> None:
        self.window.statusBar().clearMessage()
        what, hint = self._export_failure
        self.window.show_error(f"{what}: {message}", hint)

    def export_dir(self) -> Path:
        """Where exports go: the folder of the last one, at first the user's Music folder (the seed's
        own folder is often read-only: a corpus, a download)."""
        last = str(self.window.settings.value("export/folder", "") or "")
        if last and Path(last).is_dir():
            return Path(last)
        music = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.MusicLocation)
        return Path(music) if music and Path(music).is_dir() else Path.home()

    def export_name(self, suffix: str) -> str:
        """The seed's name and the take shown, as "Prelude - take 2.mid"."""
        name = self.seed_name or (self.project_path.stem if self.project_path else "Partita")
        take = self.model.current_take
        if take >= 0 and self.model.take_notes(take):
            name += f" - {self.model.takes[take].lower()}"
        return name + suffix

    def _last_dir(self) -> str:
        return str(Path(self.recent_files[0]).parent) if self.recent_files else str(Path.home())

    def add_recent(self, path: str) -> None:
        if not path:
            return
        self.recent_files = [path] + [p for p in self.recent_files if p != path]
        self.recent_files = self.recent_files[:MAX_RECENT]
        self._rebuild_recent_menu()

    def set_recent_files(self, paths: list[str]) -> None:
        """The recent files as the settings keep them (newest first), listed in File > Open recent."""
        self.recent_files = list(paths)
        self._rebuild_recent_menu()

    def _rebuild_recent_menu(self) -> None:
        self.window.recent_menu.clear()
        for path in self.recent_files:
            action = self.window.recent_menu.addAction(Path(path).name)
            action.setStatusTip(path)
            action.triggered.connect(lambda _=False, p=path: self.open_file(p))
        self.window.recent_menu.setEnabled(bool(self.recent_files))

    def update_title(self) -> None:
        name = self.project_path.name if self.project_path else "Untitled"
        unsaved = len(self.model) and self.unsaved
        self.window.setWindowTitle(f"{name}{' •' if unsaved else ''} — Partita")

    # --- session ---------------------------------------------------------------------------
    def _panel_states(self) -> dict:
        return {"corpus": self.window.corpus_panel.state(), "training": self.window.training_panel.state(),
                "generation": self.window.generation_panel.state(), "program": self.window.program,
                "project": str(self.project_path or ""), "seed_name": self.seed_name}

    def _restore_panels(self, panels: dict) -> list[str]:
        """Give each panel the saved settings that fit it (of the type its own setting has now: a
        string where a spin box wants a number would stop the window); returns those left out."""
        dropped = []
        for key, panel in (("corpus", self.window.corpus_panel), ("training", self.window.training_panel),
                           ("generation", self.window.generation_panel)):
            saved = panels.get(key)
            if not isinstance(saved, dict):
                continue
            current = panel.state()
            fitting = {name: value for name, value in saved.items() if name in current and _fits(value, current[name])}
            dropped += [f"{key}.{name}" for name, value in saved.items()  # (null: the panel's default, quietly)
                        if name in current and name not in fitting and value is not None]
            try:
                panel.restore(fitting)
            except Exception as error:  # noqa: BLE001 (settings of the right kind a panel still cannot take,
                # a path too long to look up: the music is restored all the same, the panel keeps its own)
                log.warning("%s settings not restored: %s", key, error)
                dropped.append(f"{key} (its settings: {type(error).__name__})")
        program = panels.get("program", 0)
        self.window.program = program if isinstance(program, int) and 0 <= program <= 127 else 0
        seed_name = panels.get("seed_name", "")
        self.seed_name = seed_name if isinstance(seed_name, str) else ""
        return dropped

    @property
    def session_path(self) -> Path:
        return self.window.state_dir / "session.json"

    def autosave(self) -> None:
        try:  # the session also says whether its notes differ from the project's
            save_project(self.session_path, self.model, {**self._panel_states(), "unsaved": bool(self.unsaved)})
        except OSError as error:
            log.warning("autosave to %s failed: %s", self.session_path, error)

    def restore_session(self) -> bool:
        """Bring back the last session. One that cannot be restored (damaged, hostile, from a newer
        Partita, or failing anywhere on the way in) is moved aside as session.json.broken-<time>,
        the window starts empty and says so: a bad autosave must never stop every later start."""
        path = self.session_path
        if not path.exists() and not path.is_symlink():
            return False
        try:
            panels = restore_project(self.model, read_project(path))
            dropped = self._restore_panels(panels)
            project = panels.get("project")
            self.project_path = Path(project) if project else None
            self._mark_saved(not panels.get("unsaved", bool(len(self.model))))  # (older sessions do not say)
            self._show_the_notes()
        except Exception as error:  # whatever it was, the window starts
            if not isinstance(error, ProjectError):
                log.exception("restoring %s failed", path)
            self._session_not_restored(error)
            return False
        if dropped:
            log.warning("%s: settings left out, not of the right kind: %s", path.name, ", ".join(dropped))
        self.window.statusBar().showMessage("Restored your last session" + (
            f" (settings left out, not of the right kind: {', '.join(dropped)})" if dropped else ""), 8000)
        return True

    def _session_not_restored(self, error: Exception) -> None:
        """Start empty, move the session aside and say where it went."""
        self.model.clear()
        self.undo_stack.clear()
        self.project_path, self.seed_name, self.window.program = None, "", 0
        self._mark_saved()
        path = self.session_path
        reason = str(error) if isinstance(error, ProjectError) else f"{type(error).__name__}: {error}"[:300]
        aside = path.with_name(f"{path.name}.broken-{time.strftime('%Y%m%d-%H%M%S')}")
        n = 1
        while aside.exists():
            n += 1
            aside = aside.with_name(f"{path.name}.broken-{time.strftime('%Y%m%d-%H%M%S')}-{n}")
        try:
            path.replace(aside)
            kept = f"Partita starts empty; the file was kept as {aside.name} in {path.parent}."
        except OSError as move_error:
            kept = (f"Partita starts empty; the file could not be moved aside ({move_error.strerror or move_error}) "
                    "and will be replaced by the next autosave.")
        self.window.show_error(f"The last session could not be restored: {reason}", kept)

    def _show_the_notes(self) -> None:
        """Zoom the roll to the notes shown and centre it on their pitches."""
        notes = [n for _, n in self.model.visible_items()]
        self.window.roll.view.zoom_to_fit()
        if notes:
            self.window.roll.view.centerOn(self.window.roll.view.visible_scene_rect().center().x(),
                                    127 - (min(n.pitch for n in notes) + max(n.pitch for n in notes)) / 2)


def _fits(saved, current) -> bool:
    """Whether a saved panel setting may go to a panel whose setting is `current` now: the same kind
    of plain value, a number within what a spin box takes, text without NUL (paths), a list of text."""
    if isinstance(current, bool):
        return isinstance(saved, bool)
    if isinstance(current, int):
        return _small_int(saved)
    if isinstance(current, float):
        return _small_int(saved) or (isinstance(saved, float) and math.isfinite(saved) and abs(saved) < 2**31)
    if isinstance(current, list):
        return isinstance(saved, list) and len(saved) <= 1000 and all(_plain_text(item) for item in saved)
    if isinstance(current, str):
        return _plain_text(saved)
    return current is None and (saved is None or _plain_text(saved))


def _small_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**31


def _plain_text(value) -> bool:
    return isinstance(value, str) and len(value) <= 10_000 and "\0" not in value


def _only(score: symusic.Score, track: symusic.Track) -> symusic.Score:
    """A copy of `score`'s conductor data with just `track`."""
    out = symusic.Score(score.tpq)
    out.tracks.append(track.copy())
    return out
