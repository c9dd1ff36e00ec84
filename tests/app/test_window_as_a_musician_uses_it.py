"""Issue 20: the window as a musician uses it (takes that belong to their seed, shortcuts that fire,
file dialogs that start in the right place, no zombie MuseScore)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from app.pianoroll.model import GENERATED, Note

ROOT = Path(__file__).resolve().parents[2]


def shared_shortcuts(actions) -> dict[str, list[str]]:
    """Key sequences set on more than one action, or twice on one (Qt fires neither then)."""
    owners: dict[str, list[str]] = {}
    for action in actions:
        for sequence in action.shortcuts():
            owners.setdefault(sequence.toString(QKeySequence.SequenceFormat.PortableText), []).append(
                action.text().replace("&", ""))
    return {key: names for key, names in owners.items() if len(names) > 1}


def test_no_two_actions_share_a_shortcut(make_window):
    window = make_window(restore_session=False)
    assert shared_shortcuts(window.actions.all() + [window.undo_action, window.redo_action]) == {}
    assert "Ctrl+Shift+Z" in [s.toString(QKeySequence.SequenceFormat.PortableText)
                              for s in window.redo_action.shortcuts()]


_ON_X11 = """
import json
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QApplication, QMainWindow
from app.actions import Actions
from tests.app.test_window_as_a_musician_uses_it import shared_shortcuts
app = QApplication([])
window = QMainWindow()
actions = Actions(window)
undo, redo = actions.undo_redo(QUndoStack(window))
print(json.dumps(shared_shortcuts(actions.all() + [undo, redo])))
"""


@pytest.mark.skipif(not shutil.which("xvfb-run"), reason="needs Xvfb: X11's standard keys differ from offscreen's")
def test_no_two_actions_share_a_shortcut_on_x11():
    """On X11 StandardKey.Redo is Ctrl+Shift+Z itself (offscreen makes it Ctrl+Y): Redo set both ways
    was ambiguous there and did nothing."""
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "PYTHONPATH": str(ROOT)}
    env.pop("XDG_CURRENT_DESKTOP", None)
    done = subprocess.run(["xvfb-run", "-a", sys.executable, "-c", _ON_X11], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {}


def write_midi(path: Path, pitches: list[int]) -> Path:
    """A one-track MIDI file of quarter notes."""
    import symusic

    score = symusic.Score(480)
    track = symusic.Track("piano", 0)
    for i, pitch in enumerate(pitches):
        track.notes.append(symusic.Note(i * 480, 480, pitch, 80))
    score.tracks.append(track)
    score.dump_midi(str(path))
    return path


def with_a_take(window) -> None:
    """An old G-major seed and a take written for it."""
    window.model.set_seed([Note(0, 67, 480), Note(480, 71, 480)])
    take = window.model.new_take()
    window.model.add_notes([Note(960 + i * 480, 74 + i, 480, role=GENERATED, take=take) for i in range(3)])


def test_opening_a_music_file_starts_a_clean_set_of_takes(make_window, qtbot, tmp_path, monkeypatch):
    window = make_window(restore_session=False)
    with_a_take(window)
    seed = write_midi(tmp_path / "Prelude.mid", [50, 57, 53, 52, 53])
    monkeypatch.setattr("app.documents.QFileDialog.getOpenFileName", lambda *a, **k: (str(seed), ""))
    with qtbot.waitSignal(window.seed_loader.finished, timeout=10000):
        window.actions.open.trigger()
    assert [n.pitch for n in window.model.seed_notes()] == [50, 57, 53, 52, 53]
    assert window.model.takes == [] and window.model.current_take == -1
    assert [n for _, n in window.model.items() if n.role == GENERATED] == []
    assert window.take_scores() == []  # nothing to judge
    shown = window.shown_score()  # what Play and Export get
    assert sorted(n.pitch for t in shown.tracks for n in t.notes) == [50, 52, 53, 53, 57]

    window.undo_stack.undo()  # the old seed comes back with its own take
    assert [n.pitch for n in window.model.seed_notes()] == [67, 71]
    assert window.model.takes == ["Take 1"] and window.model.current_take == 0
    assert [n.pitch for n in window.model.take_notes(0)] == [74, 75, 76]
    window.undo_stack.redo()
    assert window.model.takes == [] and len(window.model.seed_notes()) == 5


def test_takes_of_a_new_seed_stay_with_it_through_undo_and_redo(make_window, qtbot, tmp_path):
    window = make_window(restore_session=False)
    with_a_take(window)
    with qtbot.waitSignal(window.seed_loader.finished, timeout=10000):
        window.open_file(str(write_midi(tmp_path / "Prelude.mid", [50, 57])))
    take = window.model.new_take()  # written for the Prelude
    window.model.add_notes([Note(960, 62, 480, role=GENERATED, take=take)])
    window.undo_stack.undo()
    assert [n.pitch for n in window.model.take_notes(0)] == [74, 75, 76] and len(window.model.takes) == 1
    window.undo_stack.redo()
    assert [n.pitch for n in window.model.take_notes(0)] == [62] and len(window.model.takes) == 1


def test_a_new_seed_stops_a_take_still_being_written_for_the_old_one(make_window, qtbot, tmp_path):
    window = make_window(restore_session=False)
    with_a_take(window)

    def writing(cancel):  # a generation job that streams until it is stopped
        while not cancel():
            time.sleep(0.01)
            yield None

    runner = window.generation_panel.runner
    runner.start(writing)
    assert runner.running
    with qtbot.waitSignal(window.seed_loader.finished, timeout=10000):
        window.open_file(str(write_midi(tmp_path / "Prelude.mid", [50, 57])))
    qtbot.waitUntil(lambda: not runner.running, timeout=5000)


def test_file_open_shows_projects_and_music_files_at_first(make_window, monkeypatch):
    from core.music.scores import SUPPORTED_SUFFIXES

    asked = []
    monkeypatch.setattr("app.documents.QFileDialog.getOpenFileName",
                        lambda parent, caption, folder, filters, *a, **k: asked.append(filters) or ("", ""))
    make_window(restore_session=False).actions.open.trigger()
    first = asked[0].split(";;")[0]  # the filter the dialog starts with
    patterns = first[first.index("(") + 1:first.index(")")].split()
    assert {"*.partita", "*.mid", "*.musicxml", "*.mxl", "*.krn", "*.abc"} <= set(patterns)
    assert {f"*{suffix}" for suffix in SUPPORTED_SUFFIXES} <= set(patterns)


def test_new_forgets_the_old_report_tempo_and_status(make_window, qtbot):
    from app.panels.evaluation import ReportReady
    from app.pianoroll.model import Meter
    from core.judging.report.data import Report

    window = make_window(restore_session=False)
    window.model.set_meter(Meter(numerator=3, tempo_qpm=72))
    with_a_take(window)
    assert window.transport_bar.tempo.value() == 72
    report = Report(title="1 take(s) against 3 corpus pieces", training_pieces=["a"], sets={},
                    warnings=["1 piece flagged as a copy"])
    window.evaluation_panel.show_report(ReportReady(report, ()))
    window.generation_panel.info.setText("Done: 240 notes in 1 take(s).")
    window.statusBar().showMessage("Generated 240 notes", 10000)
    window.confirm = lambda title, question: True
    window.actions.new.trigger()

    assert len(window.model) == 0 and window.model.meter == Meter()
    assert window.transport_bar.tempo.value() == Meter().tempo_qpm
    panel = window.evaluation_panel
    assert panel.report is None and panel.table.rowCount() == 0 and not panel.warnings.text()
    assert "take(s) against" not in panel.progress.text()
    assert "240" not in window.generation_panel.info.text()
    assert "240" not in window.statusBar().currentMessage()


def zombie_children() -> list[int]:
    """This process's children that have exited but were never waited for."""
    zombies = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == "Z" and int(fields[1]) == os.getpid():
            zombies.append(int(stat.parent.name))
    return zombies


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_open_in_musescore_leaves_no_zombie_when_musescore_quits(make_window, qtbot, tmp_path, monkeypatch):
    from core.music.musescore import EXECUTABLE_NAMES

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    opened = tmp_path / "opened.txt"
    fake = bin_dir / "mscore"
    fake.write_text(f'#!/bin/sh\necho "$1" > "{opened}"\n')  # MuseScore, opened and closed at once
    fake.chmod(0o755)
    for name in EXECUTABLE_NAMES:  # whichever name the search tries first
        if name != "mscore":
            (bin_dir / name).symlink_to(fake)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("PARTITA_MUSESCORE", raising=False)
    assert zombie_children() == []
    window = make_window(restore_session=False)
    window.model.set_seed([Note(0, 60, 480), Note(480, 62, 480)])
    with qtbot.waitSignal(window.exporter.finished, timeout=30000):
        window.actions.open_musescore.trigger()
    qtbot.waitUntil(lambda: opened.exists() and opened.read_text().strip().endswith(".musicxml"), timeout=10000)
    qtbot.waitUntil(lambda: zombie_children() == [], timeout=5000)


def test_export_dialogs_name_the_seed_and_take_and_remember_their_folder(make_window, qtbot, tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / "Music").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_MUSIC_DIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    corpus = tmp_path / "corpus"  # the seed's folder: often read-only
    corpus.mkdir()
    window = make_window(restore_session=False)
    with qtbot.waitSignal(window.seed_loader.finished, timeout=10000):
        window.open_file(str(write_midi(corpus / "Prelude.mid", [50, 57])))
    for _ in range(2):
        take = window.model.new_take()
        window.model.add_notes([Note(960, 62, 480, role=GENERATED, take=take)])
    asked = []
    exports = tmp_path / "exports"
    exports.mkdir()

    def save_dialog(parent, caption, start, filters, *a, **k):
        asked.append((caption, Path(start), filters))
        return str(exports / Path(start).name), ""

    monkeypatch.setattr("app.documents.QFileDialog.getSaveFileName", save_dialog)
    with qtbot.waitSignal(window.exporter.finished, timeout=10000):
        window.actions.export_midi.trigger()
    caption, start, _ = asked[-1]
    assert caption == "Export MIDI" and start.name == "Prelude - take 2.mid"
    assert start.parent in (home / "Music", home) and start.parent != corpus
    assert (exports / "Prelude - take 2.mid").exists()

    window.actions.previous_take.trigger()  # take 1
    with qtbot.waitSignal(window.exporter.finished, timeout=30000):
        window.actions.export_musicxml.trigger()
    caption, start, filters = asked[-1]
    assert caption == "Export MusicXML" and "MUSICXML" not in filters
    assert start == exports / "Prelude - take 1.musicxml"  # where the last export went
    again = make_window(restore_session=False)  # a restart remembers the folder
    assert again.documents.export_dir() == exports


def test_each_take_says_its_model_temperature_and_seed(make_window, qtbot, monkeypatch):
    from core.composing.generation import TokenEvent
    from core.composing.grammar import StreamedNote

    def fake_job(cache, run_dir, prompt, settings, variations, best=False):
        def job(cancel):
            for variation in range(variations):
                yield TokenEvent(variation, 1, "Pitch_62", 1, (StreamedNote(0, 480, 62 + variation, 80, 0),))
        return job

    monkeypatch.setattr("app.panels.generation.generation_job", fake_job)
    window = make_window(restore_session=False)
    panel = window.generation_panel
    model = panel.model_box.itemData(panel.model_box.currentIndex())
    for temperature, seed in ((0.85, 42), (1.2, -1)):
        panel.temperature.setValue(temperature)
        panel.random_seed.setValue(seed)
        with qtbot.waitSignal(panel.runner.finished, timeout=10000):
            panel.generate()
    box = window.roll.take_box
    assert [box.itemText(i) for i in range(1, box.count())] == [
        f"Take 1: {model}, temperature 0.85, seed 42", f"Take 2: {model}, temperature 1.2, random seed"]
    assert "temperature 0.85" in box.itemData(1, Qt.ItemDataRole.ToolTipRole)
    window.autosave()
    again = make_window(restore_session=True)  # the session keeps what made each take
    assert again.model.take_abouts == [f"{model}, temperature 0.85, seed 42", f"{model}, temperature 1.2, random seed"]


def test_a_seed_read_in_part_says_so_in_the_status_bar(make_window, qtbot, tmp_path):
    """A kern file with two events music21 cannot parse opens with the notes it could read, and the
    status bar says what was left out (not a silent, shorter seed)."""
    seed = tmp_path / "broken.krn"
    seed.write_text("**kern\n*M4/4\n4c\n4d\n4e\n4f\n=\n4g\n4zz\n4x\n4cc\n*-\n")
    window = make_window(restore_session=False)
    with qtbot.waitSignal(window.seed_loader.finished, timeout=30000):
        window.open_file(str(seed))
    assert len(window.model.seed_notes()) == 6
    message = window.statusBar().currentMessage()
    assert "6 notes" in message and "broken.krn: read in part: Error in parsing event ('4zz')" in message
