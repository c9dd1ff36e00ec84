"""The main window driven through its actions: shortcuts, settings, session, project, seed, export."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import symusic
from conftest import cello_midi_files
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QKeySequence
from PySide6.QtWidgets import QMessageBox

from app.pianoroll.commands import delete_notes
from app.pianoroll.model import GENERATED, Meter, Note


def shortcut(action) -> str:
    return action.shortcut().toString(QKeySequence.SequenceFormat.PortableText)


def test_standard_shortcuts(make_window):
    window = make_window()
    a = window.actions
    assert shortcut(a.play) == "Space"
    assert shortcut(a.open) == "Ctrl+O"
    assert shortcut(a.save) == "Ctrl+S"
    assert shortcut(a.export_midi) == "Ctrl+E"
    assert shortcut(window.undo_action) == "Ctrl+Z"
    assert "Ctrl+Shift+Z" in [s.toString(QKeySequence.SequenceFormat.PortableText) for s in window.redo_action.shortcuts()]


def test_edits_undo_through_the_edit_menu_actions(make_window):
    window = make_window()
    view = window.roll.view
    view.set_selection(())
    window.model.set_seed([Note(0, 60, 480), Note(480, 62, 480)])
    view.select_all()
    window.actions.delete.trigger()
    assert len(window.model) == 0
    window.undo_action.trigger()
    assert len(window.model) == 2
    window.redo_action.trigger()
    assert len(window.model) == 0


def test_settings_and_session_survive_a_restart(make_window, qtbot, tmp_path):
    window = make_window()
    window.show()
    window.resize(701, 501)
    window.model.set_seed([Note(0, 60, 480), Note(480, 64, 480)])
    take = window.model.new_take()
    window.model.add_notes([Note(960, 67, 480, role=GENERATED, take=take)])
    window.generation_panel.temperature.setValue(0.7)
    window.transport.set_port("FLUID Synth")
    window.documents.add_recent(str(tmp_path / "song.partita"))
    window.close()

    again = make_window()
    assert again.size().width() == 701
    assert again.recent_files == [str(tmp_path / "song.partita")]
    assert again.transport.port == "FLUID Synth"
    assert [n.pitch for n in again.model.seed_notes()] == [60, 64]
    assert again.model.takes == ["Take 1"] and [n.pitch for n in again.model.take_notes(0)] == [67]
    assert again.generation_panel.temperature.value() == 0.7


def test_autosave_happens_without_closing(make_window, qtbot):
    """A kill leaves the last state: the autosave is written a moment after each change."""
    window = make_window()
    window.model.set_seed([Note(0, 72, 240)])
    qtbot.waitUntil(window.session_path.exists, timeout=3000)
    again = make_window()  # the first window was never closed: as after a crash
    assert [n.pitch for n in again.model.seed_notes()] == [72]


def test_damaged_session_is_set_aside_with_a_message(make_window, qtbot):
    window = make_window(restore_session=False)
    window.session_path.parent.mkdir(parents=True, exist_ok=True)
    window.session_path.write_text("{ not json")
    errors = []
    again = make_window(restore_session=False)
    again.errorShown.connect(errors.append)
    assert not again.restore_session()
    assert errors and "could not be restored" in errors[0]
    assert len(list(window.session_path.parent.glob("session.json.broken-*"))) == 1
    assert not window.session_path.exists()


def test_project_save_and_open(make_window, tmp_path):
    window = make_window(restore_session=False)
    window.model.set_seed([Note(0, 50, 960, velocity=99)])
    path = tmp_path / "piece.partita"
    assert window.documents.save_to(path)
    other = make_window(restore_session=False)
    other.open_file(str(path))
    assert [(n.pitch, n.velocity) for n in other.model.seed_notes()] == [(50, 99)]
    assert other.windowTitle().startswith("piece.partita")


def test_opening_a_broken_project_shows_what_to_do(make_window, tmp_path, qtbot):
    window = make_window(restore_session=False)
    path = tmp_path / "broken.partita"
    path.write_text("[]")
    with qtbot.waitSignal(window.errorShown) as blocker:
        window.open_file(str(path))
    assert "not a Partita project" in blocker.args[0]
    box = window.findChild(QMessageBox, "errorDialog")
    assert box is not None and "Choose a file saved by Partita" in box.informativeText()


def test_dropping_a_midi_file_on_the_roll_makes_it_the_seed(make_window, qtbot):
    midi = cello_midi_files(1)[0]
    window = make_window(restore_session=False)
    window.show()
    qtbot.waitExposed(window)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(midi))])
    viewport = window.roll.view.viewport()
    drop = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                      Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.seed_loader.finished, timeout=10000):
        window.roll.view.dropEvent(drop)
    expected = sum(len(t.notes) for t in symusic.Score(str(midi)).tracks)
    assert len(window.model.seed_notes()) == expected > 100
    assert window.recent_files[0] == str(midi)
    assert viewport is not None
    window.undo_stack.undo()  # the file replaced the seed: undo brings the old (empty) one back
    assert window.model.seed_notes() == []


def test_new_project_asks_before_discarding_unsaved_notes(make_window, tmp_path, qtbot):
    window = make_window(restore_session=False)
    window.model.set_seed([Note(0, 60, 480)])
    take = window.model.new_take()
    window.model.add_notes([Note(480, 62, 480, role=GENERATED, take=take)])
    asked = []
    window.confirm = lambda title, question: asked.append(question) or False
    window.actions.new.trigger()
    assert asked == ["Discard the seed (1 note) and 1 take? They are not saved in a project, and this cannot be "
                     "undone."]
    assert len(window.model) == 2  # the user said no
    window.confirm = lambda title, question: asked.append(question) or True
    window.actions.new.trigger()
    assert len(window.model) == 0 and window.model.takes == []
    window.model.set_seed([Note(0, 60, 480)])
    assert window.documents.save_to(tmp_path / "saved.partita") and window.windowTitle() == "saved.partita — Partita"
    take = window.model.new_take()  # a take the model writes: no undo step, still a change
    window.model.add_notes([Note(480, 62, 480, role=GENERATED, take=take)])
    qtbot.waitUntil(lambda: window.windowTitle() == "saved.partita • — Partita", timeout=2000)
    window.confirm = lambda title, question: asked.append(question) or False
    window.actions.new.trigger()
    assert asked[-1] == ("Discard the seed (1 note) and 1 take? They are changed since saved.partita was saved, "
                         "and this cannot be undone.") and len(window.model) == 2
    assert window.documents.save_to(tmp_path / "saved.partita")
    window.actions.previous_take.trigger()  # looking at another take changes nothing
    window.undo_stack.push(delete_notes(window.model, [i for i, _ in window.model.items()][:1]))
    window.undo_stack.undo()  # back to what was saved
    qtbot.waitUntil(lambda: not window.documents.title_timer.isActive(), timeout=2000)  # the title's refresh has run
    assert window.windowTitle() == "saved.partita — Partita"
    window.actions.new.trigger()  # saved as it is: nothing to ask
    assert len(asked) == 3 and len(window.model) == 0


def test_unsaved_changes_survive_a_restart_as_unsaved(make_window, tmp_path):
    window = make_window(restore_session=False)
    window.model.set_seed([Note(0, 60, 480)])
    assert window.documents.save_to(tmp_path / "p.partita")
    window.model.set_seed([Note(0, 60, 480), Note(480, 62, 480)])  # not saved to p.partita
    window.autosave()
    again = make_window(restore_session=True)
    asked = []
    again.confirm = lambda title, question: asked.append(question) or False
    again.actions.new.trigger()
    assert asked and len(again.model) == 2


def test_unreadable_seed_file_gives_an_error_dialog(make_window, qtbot, tmp_path):
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"not midi at all")
    window = make_window(restore_session=False)
    with qtbot.waitSignal(window.errorShown, timeout=5000) as blocker:
        window.open_file(str(bad))
    assert "bad.mid" in blocker.args[0] and "MIDI" in blocker.args[0]


def test_export_midi_writes_seed_and_take(make_window, tmp_path, monkeypatch, qtbot):
    window = make_window(restore_session=False)
    window.model.set_seed([Note(0, 60, 480)])
    take = window.model.new_take()
    window.model.add_notes([Note(480, 62, 480, role=GENERATED, take=take)])
    target = tmp_path / "out.mid"
    monkeypatch.setattr("app.documents.QFileDialog.getSaveFileName", lambda *a, **k: (str(target), ""))
    with qtbot.waitSignal(window.exporter.finished, timeout=10000):
        window.actions.export_midi.trigger()
    score = symusic.Score(str(target))
    assert [n.pitch for n in score.tracks[0].notes] == [60, 62]
    typed = tmp_path / "no-extension"  # a name typed without its extension gets one
    monkeypatch.setattr("app.documents.QFileDialog.getSaveFileName", lambda *a, **k: (str(typed), ""))
    with qtbot.waitSignal(window.exporter.finished, timeout=10000):
        window.actions.export_midi.trigger()
    assert typed.with_suffix(".mid").exists() and not typed.exists()


def test_play_sends_notes_and_moves_the_playhead(make_window, qtbot):
    window = make_window(restore_session=False)
    window.model.set_seed([Note(0, 60, 120), Note(120, 62, 120), Note(240, 64, 120)])
    window.transport_bar.tempo.setValue(400)  # fast: the test takes a fraction of a second
    window.actions.play.trigger()
    assert window.transport.playing
    qtbot.waitUntil(lambda: window.roll.view.playhead.x() > 0, timeout=3000)
    qtbot.waitUntil(lambda: not window.actions.play.isChecked(), timeout=5000)  # finished by itself
    notes_on = [m.note for _, m in window.outputs[0].sent if m.type == "note_on" and m.velocity > 0]
    assert notes_on == [60, 62, 64]


def test_about_box_lists_versions(make_window, qtbot, monkeypatch):
    shown = {}
    monkeypatch.setattr("app.mainwindow.QMessageBox.about", lambda parent, title, text: shown.update(text=text))
    window = make_window(restore_session=False)
    window.actions.about.trigger()
    assert "PySide6" in shown["text"] and "torch" in shown["text"]


def test_ctrl_wheel_zooms_the_roll(make_window, qtbot):
    from PySide6.QtCore import QPointF as P
    from PySide6.QtGui import QWheelEvent

    window = make_window(restore_session=False)
    view = window.roll.view
    before = view.pixels_per_quarter
    event = QWheelEvent(P(100, 100), P(100, 100), QPoint(0, 0), QPoint(0, 120), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.ControlModifier, Qt.ScrollPhase.NoScrollPhase, False)
    view.wheelEvent(event)
    assert view.pixels_per_quarter > before


def test_export_musicxml_and_open_in_musescore(make_window, tmp_path, monkeypatch, qtbot):
    window = make_window(restore_session=False)
    window.model.set_seed([Note(i * 480, 48 + i, 480) for i in range(4)])
    take = window.model.new_take()
    window.model.add_notes([Note(1920 + i * 480, 55 + i, 480, role=GENERATED, take=take) for i in range(4)])
    target = tmp_path / "out.musicxml"
    monkeypatch.setattr("app.documents.QFileDialog.getSaveFileName", lambda *a, **k: (str(target), ""))
    with qtbot.waitSignal(window.exporter.finished, timeout=30000):
        window.actions.export_musicxml.trigger()  # in a worker: the window stays responsive
    text = target.read_text()
    assert "<score-partwise" in text and text.count("<note") >= 8

    opened = []
    monkeypatch.setattr("core.music.musescore.require_musescore", lambda *a, **k: Path("/usr/bin/mscore3"))
    monkeypatch.setattr("core.music.musescore.open_in_musescore",  # returns the process, which the window reaps
                        lambda path, exe=None: opened.append(Path(path)) or SimpleNamespace(wait=lambda: 0))
    with qtbot.waitSignal(window.exporter.finished, timeout=30000):
        window.actions.open_musescore.trigger()
    assert opened and opened[0].exists() and "<score-partwise" in opened[0].read_text()


def test_open_in_musescore_without_musescore_says_where_to_get_it(make_window, monkeypatch, qtbot):
    from core.music.musescore import MuseScoreNotFound

    def missing(*args, **kwargs):
        raise MuseScoreNotFound("MuseScore was not found. Install MuseScore 4 from https://musescore.org/download")

    monkeypatch.setattr("core.music.musescore.require_musescore", missing)
    window = make_window(restore_session=False)
    window.model.set_seed([Note(0, 60, 480)])
    with qtbot.waitSignal(window.errorShown) as blocker:
        window.actions.open_musescore.trigger()
    assert "musescore.org" in blocker.args[0]


def test_next_and_previous_take_actions(make_window):
    window = make_window(restore_session=False)
    for _ in range(2):
        window.model.new_take()
    window.model.set_current_take(0)
    window.actions.next_take.trigger()
    assert window.model.current_take == 1
    window.actions.previous_take.trigger()
    window.actions.previous_take.trigger()
    assert window.model.current_take == -1  # the seed alone
    assert window.roll.take_box.currentText() == "Seed only"


def test_the_last_corpus_is_reopened_on_restart(make_window, qtbot, tmp_path):
    from conftest import cello_midi_files

    folder = tmp_path / "corpus"
    folder.mkdir()
    for path in cello_midi_files(2):
        (folder / path.name).write_bytes(path.read_bytes())
    window = make_window()
    with qtbot.waitSignal(window.corpus_panel.corpusImported, timeout=60000):
        window.corpus_panel.import_source(str(folder))
    window.close()

    again = make_window()
    with qtbot.waitSignal(again.corpus_panel.corpusImported, timeout=60000):
        pass  # the restore started the import; its table fills without the user asking
    assert again.corpus_panel.table.rowCount() == 2
    assert again.training_panel.data_edit.text() == str(folder)

    again.close()
    folder.rename(tmp_path / "moved")
    third = make_window()
    assert "no longer there" in third.corpus_panel.stats.text()


def test_a_synth_without_a_sound_device_says_so_not_start_a_midi_server(make_window, qtbot):
    from core.midi.synth import SynthUnavailable

    window = make_window(restore_session=False)
    window.model.set_seed([Note(0, 60, 480)])

    def no_sound():
        raise SynthUnavailable('FluidSynth could not start: Failed to open the "default" audio device')

    window.transport._open_output = no_sound
    with qtbot.waitSignal(window.errorShown) as blocker:
        window.actions.play.trigger()
    assert blocker.args[0].startswith("The built-in synth cannot sound: FluidSynth could not start")
    box = window.findChild(QMessageBox, "errorDialog")
    assert "sound output" in box.informativeText() and "jackd" not in box.informativeText()


def test_the_window_fits_a_laptop_screen_of_768_pixels(make_window):
    window = make_window(restore_session=False)
    window.show()
    assert window.minimumSizeHint().height() <= 700 and window.minimumSizeHint().width() <= 1280


def test_a_damaged_project_is_named_in_its_error(make_window, qtbot, tmp_path):
    path = tmp_path / "song.partita"
    path.write_text('{"format": "partita-project", "version": 1, "notes": [{"start": "x"}]}')
    window = make_window(restore_session=False)
    with qtbot.waitSignal(window.errorShown) as blocker:
        window.open_file(str(path))
    assert blocker.args[0].startswith("song.partita: "), blocker.args[0]


def test_a_restored_session_shows_its_notes(make_window, qtbot):
    window = make_window(restore_session=False)
    window.model.set_seed([Note(i * 480, 36 + i % 5, 480) for i in range(32)])  # low cello notes
    window.autosave()
    again = make_window(restore_session=True)
    again.show()
    qtbot.waitExposed(again)

    def shows_the_notes():  # once the first fit has run
        shown = again.roll.view.visible_scene_rect()
        return shown.top() <= 127 - 40 and shown.bottom() >= 127 - 36

    qtbot.waitUntil(shows_the_notes, timeout=2000)


def test_export_audio_renders_the_seed_and_take_to_wav(make_window, tmp_path, monkeypatch, qtbot):
    import wave

    from core.midi.synth import find_fluidsynth, find_soundfont

    if find_fluidsynth() is None or find_soundfont() is None:
        pytest.skip("needs fluidsynth and a General MIDI SoundFont (scripts/bootstrap installs them)")
    window = make_window(restore_session=False)
    window.model.set_seed([Note(0, 60, 960)])
    take = window.model.new_take()
    window.model.add_notes([Note(960, 64, 960, role=GENERATED, take=take)])
    target = tmp_path / "take"  # typed without its extension
    monkeypatch.setattr("app.documents.QFileDialog.getSaveFileName", lambda *a, **k: (str(target), ""))
    with qtbot.waitSignal(window.exporter.finished, timeout=60000):
        window.actions.export_wav.trigger()
    with wave.open(str(target.with_suffix(".wav"))) as audio:
        seconds = audio.getnframes() / audio.getframerate()
    tempo = window.model.meter.tempo_qpm
    assert seconds >= 4 * 60 / tempo  # two half notes of music, at least


def test_play_as_it_is_written_starts_where_a_continuation_leaves_the_seed(make_window, monkeypatch):
    window = make_window(restore_session=False)
    window.model.set_seed([Note(0, 60, 480), Note(3840, 72, 480)])
    window.generation_panel.play_while.setChecked(True)
    started = []
    monkeypatch.setattr(window.transport, "play", lambda score, from_tick=0: started.append(from_tick))
    window.generation_panel._cut = 960  # as Continue from here sets it
    window._stream_playback(True)
    window.generation_panel._cut = None  # a plain Generate: after the whole seed
    window._stream_playback(True)
    assert started == [960, 4320]


def test_a_wav_export_without_the_synth_says_what_to_install(make_window, tmp_path, monkeypatch, qtbot):
    from core.midi.synth import SynthUnavailable

    def missing(*args, **kwargs):
        raise SynthUnavailable("the fluidsynth program is not installed (apt install fluidsynth)")

    monkeypatch.setattr("core.midi.synth.render_wav", missing)
    monkeypatch.setattr("app.documents.QFileDialog.getSaveFileName", lambda *a, **k: (str(tmp_path / "t.wav"), ""))
    window = make_window(restore_session=False)
    window.model.set_seed([Note(0, 60, 480)])
    with qtbot.waitSignal(window.errorShown, timeout=10000) as blocker:
        window.actions.export_wav.trigger()
    assert blocker.args[0] == "Export failed: the fluidsynth program is not installed (apt install fluidsynth)"
    assert "FluidSynth" in window.findChild(QMessageBox, "errorDialog").informativeText()


def test_a_restored_session_with_takes_says_so_in_the_generate_panel(make_window):
    window = make_window(restore_session=False)
    window.model.set_seed([Note(0, 60, 480)])
    take = window.model.new_take()
    window.model.add_notes([Note(480, 62, 480, role=GENERATED, take=take)])
    window.autosave()
    again = make_window(restore_session=True)
    assert again.generation_panel.info.text() == "1 take(s) from your last session; Generate writes more."
    assert again.generation_panel.model_box.minimumSizeHint().width() > 150  # run names can be told apart


def test_a_piece_with_a_pickup_counts_its_bars_from_0_and_keeps_counting_so_when_reopened(make_window, tmp_path):
    window = make_window(restore_session=False)
    window.model.set_seed([Note(1440, 50, 480), Note(1920, 52, 480)], Meter(first_bar=0))
    window.set_playhead(0)
    assert window.position_label.text() == "bar 0 beat 1"  # as the score numbers it, like the ruler
    window.set_playhead(1920 + 480)
    assert window.position_label.text() == "bar 1 beat 2"
    path = tmp_path / "pickup.partita"
    assert window.documents.save_to(path)
    other = make_window(restore_session=False)
    other.open_file(str(path))
    assert other.model.meter.first_bar == 0
