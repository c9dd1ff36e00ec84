"""Chords in the window: the seed's and the takes' chord symbols over the roll (kept in the note
model, saved with the session), and the Generate panel's Chords field for a chord-aware model."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF

from app.generating import take_about
from app.pianoroll.model import ChordSymbol, Meter, Note, NoteModel, chords_from
from app.session import project_data, restore_project

BAR = 1920  # ticks of a 4/4 bar at the roll's 480 per quarter


def _names(chords) -> list[tuple[int, str]]:
    return [(c.start, c.name) for c in chords]


@pytest.fixture
def roll(qtbot):
    from PySide6.QtGui import QUndoStack

    from app.pianoroll.widget import PianoRoll

    model, stack = NoteModel(), QUndoStack()
    widget = PianoRoll(model, stack)
    widget._stack = stack  # kept alive with the widget
    widget.resize(900, 500)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _run_folder(tmp_path: Path, name: str, chords: bool) -> str:
    """A run folder of a config.json only: enough for the panel to list the model and read whether
    it follows chords (the jobs are faked)."""
    folder = tmp_path / name
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model": {}, "tokenizer": {"use_chords": chords}}))
    return str(folder)


@pytest.fixture
def fake_jobs(monkeypatch) -> list:
    """Generation jobs that write nothing; the settings each was started with."""
    jobs = []

    def fake_job(cache, run_dir, prompt, settings, variations, best=False):
        jobs.append(settings)
        return lambda cancel: iter(())

    monkeypatch.setattr("app.panels.generation.generation_job", fake_job)
    return jobs


# --- the roll --------------------------------------------------------------------------------------
def test_the_roll_shows_the_seeds_chords_then_the_takes_own_from_where_it_leaves_the_seed(roll):
    model, strip = roll.model, roll.chords
    assert strip.isHidden()  # no chords, no chord row (a Bach seed keeps its room)
    notes = [Note(bar * BAR, 65, BAR) for bar in range(4)]
    model.set_seed(notes, chords=[ChordSymbol(0, "F7"), ChordSymbol(BAR, "Bb7"), ChordSymbol(2 * BAR, "F7"),
                                  ChordSymbol(3 * BAR, "Cm7")])
    assert not strip.isHidden() and not roll.chords_corner.isHidden()
    assert [text for _, text, _ in strip.labels()] == ["F7", "Bb7", "F7", "Cm7"]
    x = strip.view.mapFromScene(QPointF(BAR, 0)).x() + strip.view.viewport().x()
    assert [rect.left() for rect, text, _ in strip.labels() if text == "Bb7"] == [x]  # at its bar line
    # a take continued from bar 3 (Continue from here): the seed's chords up to the cut until it has its own
    take = model.new_take(cut=2 * BAR)
    assert _names(model.visible_chords()) == [(0, "F7"), (BAR, "Bb7")]
    # ... then its own from the cut: what it was decoded with over the whole piece, trimmed there
    decoded = [ChordSymbol(0, "F7"), ChordSymbol(BAR, "Bb7"), ChordSymbol(BAR + 960, "Gm7"),
               ChordSymbol(3 * BAR, "C7")]
    model.set_take_chords(take, chords_from(decoded, 2 * BAR))
    assert _names(model.take_chords(take)) == [(2 * BAR, "Gm7"), (3 * BAR, "C7")]
    assert _names(model.visible_chords()) == [(0, "F7"), (BAR, "Bb7"), (2 * BAR, "Gm7"), (3 * BAR, "C7")]
    assert [text for _, text, _ in strip.labels()] == ["F7", "Bb7", "Gm7", "C7"]
    model.set_current_take(-1)  # "Seed only": the seed's chords again
    assert [text for _, text, _ in strip.labels()] == ["F7", "Bb7", "F7", "Cm7"]
    model.set_seed(notes, chords=[])
    assert strip.isHidden()


def test_a_change_to_the_chord_already_sounding_is_not_shown_twice():
    model = NoteModel()
    model.set_seed([Note(0, 60, BAR)], chords=[ChordSymbol(0, "Dm7")])
    take = model.new_take()
    # the take's decode restates the seed's Dm7, then follows "Dm7 G7 | Cmaj7"
    model.set_take_chords(take, chords_from([ChordSymbol(0, "Dm7"), ChordSymbol(BAR + 960, "G7"),
                                             ChordSymbol(2 * BAR, "Cmaj7")], BAR))
    assert _names(model.visible_chords()) == [(0, "Dm7"), (BAR + 960, "G7"), (2 * BAR, "Cmaj7")]


def test_dense_chords_are_elided_to_the_room_before_the_next_change_never_overlapping(roll):
    names = ["Bbm7b5", "Ebo7", "Abmaj7", "Dbm7"]
    roll.model.set_seed([Note(0, 60, 8 * BAR)], chords=[ChordSymbol(beat * 480, names[beat % 4])
                                                         for beat in range(32)])
    metrics = roll.chords.fontMetrics()

    def drawn():
        labels = roll.chords.labels()
        for (rect, text, _), (after, _, _) in zip(labels, labels[1:], strict=False):
            assert rect.right() <= after.left()  # each name keeps to the room before the next change
            assert metrics.horizontalAdvance(text) <= rect.width()
        return [(text, chord.name) for _, text, chord in labels]

    roll.view.set_zoom(200.0, roll.view.pixels_per_semitone)  # a beat is 200 pixels: every name whole
    assert all(text == name for text, name in drawn())
    roll.view.set_zoom(30.0, roll.view.pixels_per_semitone)  # a beat narrower than "Bbm7b5"
    shown = drawn()
    assert any(text.endswith("…") for text, _ in shown)  # elided ...
    assert all(text == "" or text == name or text.endswith("…") and name.startswith(text[:-1])
               for text, name in shown)
    roll.view.set_zoom(4.0, roll.view.pixels_per_semitone)  # no room even for an elided name
    *crowded, last = drawn()
    assert {text for text, _ in crowded} == {""} and last == ("Dbm7", "Dbm7")  # the last has room to its right


def test_chords_are_saved_with_the_project_and_an_older_project_loads_without_them(qapp):
    model = NoteModel()
    model.set_seed([Note(0, 65, BAR), Note(BAR, 70, BAR)], Meter(numerator=4, denominator=4),
                   chords=[ChordSymbol(0, "F7"), ChordSymbol(BAR, "Bb7")])
    take = model.new_take()
    model.add_notes([Note(2 * BAR, 72, 480, role="generated", take=take)])
    model.set_take_chords(take, [ChordSymbol(2 * BAR, "Cm7"), ChordSymbol(2 * BAR + 960, "F7")])
    data = json.loads(json.dumps(project_data(model, {})))
    again = NoteModel()
    restore_project(again, data)
    assert again.content() == model.content()
    assert _names(again.visible_chords()) == [(0, "F7"), (BAR, "Bb7"), (2 * BAR, "Cm7"), (2 * BAR + 960, "F7")]
    for key in ("chords", "take_chords"):  # a project saved before chords were kept
        del data[key]
    restore_project(again, data)
    assert again.seed_chords == () and again.take_chords(0) == () and len(again.seed_notes()) == 2


# --- the window, with a WJazzD solo -----------------------------------------------------------------
def test_a_wjazzd_seed_brings_its_chords_to_the_roll_to_the_prompt_and_to_the_next_start(
        make_window, qtbot, jazz_beats_dir):
    window = make_window(restore_session=False)
    with qtbot.waitSignal(window.seed_loader.finished, timeout=30000):
        window.open_file(str(jazz_beats_dir / "MilesDavis_Walkin.mid"))
    chords = _names(window.model.seed_chords)
    # the file's chord:NC, chord:F7, chord:Bb7 ... chord:A-7 (WJazzD's spelling) at their beats
    assert chords[:4] == [(0, "NC"), (BAR, "F7"), (2 * BAR, "Bb7"), (3 * BAR, "F7")]
    assert (8 * BAR, "Am7") in chords and (8 * BAR + 960, "D7") in chords
    assert not window.roll.chords.isHidden()
    window.show()
    qtbot.waitExposed(window)
    window.roll.view.set_zoom(100.0, window.roll.view.pixels_per_semitone)
    window.roll.view.horizontalScrollBar().setValue(0)
    assert [text for _, text, _ in window.roll.chords.labels()][:3] == ["NC", "F7", "Bb7"]
    # what a chord-aware model reads: the seed with its chords as markers
    markers = [(m.time, m.text) for m in window.seed_score().markers]
    assert (BAR, "chord:F7") in markers and (8 * BAR, "chord:Am7") in markers
    window.undo_stack.undo()  # the seed before it (none): no chords, no chord row
    assert window.model.seed_chords == () and window.roll.chords.isHidden()
    window.undo_stack.redo()
    assert _names(window.model.seed_chords) == chords and not window.roll.chords.isHidden()
    window.autosave()
    window.close()
    again = make_window()  # the next start restores the session, chords and all
    assert _names(again.model.seed_chords) == chords


# --- the Generate panel -----------------------------------------------------------------------------
def test_a_typed_progression_reaches_the_generation_settings(make_window, qtbot, tmp_path, fake_jobs):
    window = make_window(restore_session=False)
    panel = window.generation_panel
    panel.add_run(_run_folder(tmp_path, "jazz", chords=True), select=True)
    assert panel.chords.isEnabled() and "Dm7 G7 | Cmaj7" in panel.chords.toolTip()
    for typed, expected in (("D-7 G7 | Cj7", "D-7 G7 | Cj7"), ("  Dm7  G7 |Cmaj7 ", "Dm7 G7 |Cmaj7"),
                            ("", "")):
        panel.chords.setText(typed)
        assert panel.chords_problem.isHidden()
        with qtbot.waitSignal(panel.runner.finished, timeout=10000):
            panel.generate()
        assert fake_jobs[-1].chords == expected
    panel.chords.setText("Dm7 G7 | Cmaj7")
    state = panel.state()
    panel.chords.clear()
    panel.restore(state)
    assert panel.chords.text() == "Dm7 G7 | Cmaj7"
    assert take_about("jazz", panel.settings()).endswith(", over Dm7 G7 | Cmaj7")  # the take says so


def test_a_progression_that_does_not_read_is_said_under_the_field_and_refused(make_window, qtbot, tmp_path,
                                                                              fake_jobs):
    window = make_window(restore_session=False)
    panel = window.generation_panel
    panel.add_run(_run_folder(tmp_path, "jazz", chords=True), select=True)
    panel.chords.setText("Dm7 G7 | Xq7")
    assert not panel.chords_problem.isHidden()
    assert "'Xq7' is not a chord symbol" in panel.chords_problem.text()
    with qtbot.waitSignal(window.errorShown) as blocker:
        panel.generate()
    assert blocker.args[0].startswith("Chords: 'Xq7' is not a chord symbol") and fake_jobs == []
    panel.chords.setText("Dm7 G7 C7 F7 Bb7 | Cmaj7")  # five chords in a 4/4 bar
    assert panel.chords_problem.text() == "bar 1 of the progression has 5 chords for 4 beats"
    with pytest.raises(ValueError, match="5 chords for 4 beats"):
        panel.settings()
    # in the seed's meter: a 6/8 seed has six beats to share
    window.model.set_seed([Note(0, 60, 480)], Meter(numerator=6, denominator=8))
    assert panel.chords_problem.isHidden()
    panel.chords.setText("Dm7 G7")
    assert panel.chords_problem.isHidden()
    with qtbot.waitSignal(panel.runner.finished, timeout=10000):
        panel.generate()
    assert fake_jobs[-1].chords == "Dm7 G7"


def test_the_chords_field_is_disabled_for_a_model_without_chords(make_window, qtbot, tmp_path, fake_jobs):
    window = make_window(restore_session=False)
    panel = window.generation_panel
    panel.add_run(_run_folder(tmp_path, "jazz", chords=True), select=True)
    panel.chords.setText("Dm7 G7 | Xq7")  # typed for the jazz model, then another model is chosen
    panel.add_run(_run_folder(tmp_path, "chorales", chords=False), select=True)
    assert not panel.chords.isEnabled()
    assert "not trained with chords" in panel.chords.toolTip()
    assert panel.chords_problem.isHidden()  # not this model's business
    with qtbot.waitSignal(panel.runner.finished, timeout=10000):
        panel.generate()
    assert fake_jobs[-1].chords == ""  # the model could not follow it: none is passed
    panel.model_box.setCurrentIndex(panel.model_box.findData(str(tmp_path / "jazz")))
    assert panel.chords.isEnabled() and not panel.chords_problem.isHidden()


# --- a real chord-aware model ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def chord_run(tmp_path_factory, jazz_beats_dir) -> Path:
    """A minute chord-aware model trained for a few steps on Miles Davis's So What (its WJazzD
    chord markers make the vocabulary chord-aware)."""
    from core.learning.training import TrainConfig, train

    out = tmp_path_factory.mktemp("runs") / "jazz"
    os.environ.setdefault("PARTITA_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "corpus-cache"))
    config = TrainConfig(data=str(jazz_beats_dir / "MilesDavis_So*.mid"), out=str(out), preset="tiny", steps=5,
                         batch_size=4, eval_every=5, eval_windows=4, warmup_steps=2, device="cpu",
                         model_overrides={"n_layer": 1, "n_head": 2, "n_embd": 32, "block_size": 64})
    for _ in train(config):
        pass
    return out


def test_a_take_of_a_chord_aware_model_brings_the_chords_it_followed_to_the_roll(make_window, qtbot, chord_run):
    window = make_window(restore_session=False)
    panel = window.generation_panel
    panel.add_run(str(chord_run), select=True)
    assert panel.chords.isEnabled()
    window.model.set_seed([Note(0, 62, 480), Note(480, 65, 480), Note(960, 69, 960)], Meter(),
                          chords=[ChordSymbol(0, "Dm7")])
    panel.bars.setValue(2)
    panel.random_seed.setValue(3)
    panel.chords.setText("D-7 G7 | Cj7")  # WJazzD's spelling
    with qtbot.waitSignal(panel.runner.finished, timeout=120000):
        panel.generate()
    take = window.model.current_take
    assert take == 0 and window.model.take_notes(take)
    # the take's own chords from where it leaves the seed (bar 2), in the usual spelling
    assert _names(window.model.take_chords(take)) == [(BAR, "Dm7"), (BAR + 960, "G7"), (2 * BAR, "Cmaj7")]
    assert _names(window.model.visible_chords()) == [(0, "Dm7"), (BAR + 960, "G7"), (2 * BAR, "Cmaj7")]
    window.show()
    qtbot.waitExposed(window)
    window.roll.view.zoom_to_fit()
    assert [text for _, text, _ in window.roll.chords.labels()] == ["Dm7", "G7", "Cmaj7"]
    assert window.model.take_about(take).endswith("over D-7 G7 | Cj7")
