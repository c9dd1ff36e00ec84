"""Panels against the real engine: import the cello suites, train a tiny model and watch the
curves, cancel training, generate notes into the roll, stop generation, evaluate takes."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import CELLO_MIDI, cello_midi_files, tiny_config
from PySide6.QtWidgets import QApplication, QLabel

from app.pianoroll.model import GENERATED, Note
from core.learning.checkpoint import weights_path
from core.learning.training import TrainDone


def test_import_real_cello_suites_fills_table_and_stats(make_window, qtbot):
    cello_midi_files(1)
    window = make_window(restore_session=False)
    panel = window.corpus_panel
    with qtbot.waitSignal(panel.corpusImported, timeout=60000):
        panel.import_source(str(CELLO_MIDI))
    files = len(list(CELLO_MIDI.glob("*.mid")))
    assert panel.table.rowCount() >= files
    statuses = {panel.table.item(r, 1).text() for r in range(panel.table.rowCount())}
    assert "imported" in statuses
    for row in range(panel.table.rowCount()):  # every skipped file says why
        if panel.table.item(row, 1).text() == "skipped":
            assert panel.table.item(row, 7).text()
    assert "pieces imported" in panel.stats.text() and "notes" in panel.stats.text()
    assert "pitches C2–" in panel.stats.text()  # the cello's low C, by name
    assert window.training_panel.data_edit.text() == str(CELLO_MIDI)


def test_time_left_reads_as_a_duration():
    from app.panels.training import _eta

    assert [_eta(s) for s in (42, 921, 3900)] == ["42 s", "15 min 21 s", "1 h 05 min"]


def test_a_mistyped_folder_is_named_and_the_corpus_shown_stays(make_window, qtbot, tmp_path):
    good = cello_midi_files(1)[0]
    (tmp_path / good.name).write_bytes(good.read_bytes())
    window = make_window(restore_session=False)
    panel = window.corpus_panel
    with qtbot.waitSignal(panel.runner.finished, timeout=30000):
        panel.import_source(str(tmp_path))
    said = []
    panel.failed.connect(lambda message, hint: said.append(message))
    panel.import_source(str(tmp_path / "missing"))
    assert said == [f"{tmp_path / 'missing'}: no such folder or file."]
    assert panel.table.rowCount() == 1 and panel.corpus is not None and "Importing" not in panel.stats.text()


def test_skipped_files_show_their_reason(make_window, qtbot, tmp_path):
    (tmp_path / "broken.mid").write_bytes(b"garbage")
    good = cello_midi_files(1)[0]
    (tmp_path / good.name).write_bytes(good.read_bytes())
    (tmp_path / "z-copy.mid").write_bytes(good.read_bytes())
    window = make_window(restore_session=False)
    panel = window.corpus_panel
    with qtbot.waitSignal(panel.runner.finished, timeout=30000):
        panel.import_source(str(tmp_path))
    rows = {panel.table.item(r, 0).text(): (panel.table.item(r, 1).text(), panel.table.item(r, 7).text())
            for r in range(panel.table.rowCount())}
    assert rows["broken.mid"][0] == "skipped" and "MIDI" in rows["broken.mid"][1]
    assert rows[good.name][0] == "imported"
    assert rows["z-copy.mid"] == ("skipped", f"the same file as {good.name} (imported once)")


def test_training_a_tiny_model_draws_curves_and_lists_the_run(make_window, qtbot, tiny_data, tmp_path):
    window = make_window(restore_session=False)
    panel = window.training_panel
    done, kinds = [], []
    panel.runner.event.connect(lambda e: done.append(e) if isinstance(e, TrainDone) else None)
    panel.runner.event.connect(lambda e: kinds.append(type(e).__name__))
    with qtbot.waitSignal(panel.runner.finished, timeout=120000):
        panel.start(config=tiny_config(tiny_data, tmp_path / "run", steps=24))
    assert kinds[:2] == ["NGramBaseline", "TrainStarted"]  # the 4-gram to beat, scored before training
    assert panel.curves.baseline is not None  # drawn on the loss plot
    assert "better than the 4-gram" in panel.baseline_label.text()  # the last validation pass, judged
    panel.curves.refresh()
    assert panel.curves.buffer.count("train_loss") == 24
    assert panel.curves.buffer.count("val_loss") >= 2
    xs, ys = panel.curves.curves["train_loss"].getData()
    assert len(xs) == 24  # the plotted curve, not only the buffer
    assert done and not done[0].cancelled
    assert panel.progress.value() == 24
    assert window.generation_panel.model_box.findData(str(tmp_path / "run")) >= 0
    assert window.generation_panel.run_dir == str(tmp_path / "run")  # what Generate composes with now
    # the same curves reload from the run's metrics.jsonl
    assert panel.load_run_curves(tmp_path / "run") > 24
    assert panel.curves.buffer.count("train_loss") == 24
    # Start again on the same folder: the finished run is not overwritten
    said = []
    panel.failed.connect(lambda message, hint: said.append((message, hint)))
    before = (tmp_path / "run" / "config.json").read_bytes()
    panel.start(config=tiny_config(tiny_data, tmp_path / "run", steps=24))
    assert not panel.runner.running and "already holds a run" in said[0][0] and "Resume" in said[0][1]
    assert (tmp_path / "run" / "config.json").read_bytes() == before


def test_stopping_training_keeps_a_checkpoint_and_can_resume(make_window, qtbot, tiny_data, tmp_path):
    window = make_window(restore_session=False)
    panel = window.training_panel
    steps = []
    panel.runner.event.connect(lambda e: steps.append(e))
    panel.start(config=tiny_config(tiny_data, tmp_path / "run", steps=100000))
    qtbot.waitUntil(lambda: panel.curves.buffer.count("train_loss") >= 3, timeout=60000)
    with qtbot.waitSignal(panel.runner.finished, timeout=10000):
        panel.stop()
    last = [e for e in steps if isinstance(e, TrainDone)]
    assert last and last[0].cancelled
    assert weights_path(tmp_path / "run").exists()  # config.json and the weights it names
    assert panel.start_button.isEnabled() and not panel.stop_button.isEnabled()


def test_with_an_empty_run_folder_field_each_start_is_a_new_run_and_resume_the_last(make_window, tiny_data,
                                                                                  monkeypatch, tmp_path):
    window = make_window(restore_session=False)
    panel = window.training_panel
    panel.data_edit.setText(str(tiny_data))
    started = []
    monkeypatch.setattr(panel.runner, "start", lambda job: started.append(panel.run_dir))
    monkeypatch.setattr("app.panels.training.default_runs_dir", lambda: tmp_path)
    panel.start()
    assert panel.out_edit.text() == "" and Path(started[0]).parent == tmp_path  # a folder of its own
    Path(started[0]).mkdir()
    saved = {"model": {}, "tokenizer": {}, "train": {"data": str(tiny_data)}}  # the sections a run's config.json has
    (Path(started[0]) / "config.json").write_text(json.dumps(saved))
    panel.start(resume=True)
    assert started[1] == started[0]  # Resume: the run this window trained last
    panel.start()  # within the same second, too
    assert len(started) == 3 and started[2] != started[0] and Path(started[2]).parent == tmp_path



def test_a_run_that_stops_improving_stops_early_and_can_compose_with_its_best_weights(
        make_window, qtbot, tiny_data, tmp_path, monkeypatch):
    from dataclasses import replace

    from core.learning.training import EvalResult

    losses = {10: 3.0, 20: 3.5, 30: 3.6}  # validation as a run that overfits after step 10 reports it
    monkeypatch.setattr("core.learning.training.evaluate", lambda model, tokenizer, x, y, batch_size=16, step=0:
                        EvalResult(step, losses[step], 0.5, 20.0, 10, {}))
    window = make_window(restore_session=False)
    panel = window.training_panel
    panel.patience.setValue(1)
    assert panel.config().patience == 1  # the form's setting reaches the run
    statuses = []
    panel.status.connect(statuses.append)
    with qtbot.waitSignal(panel.runner.finished, timeout=120000):
        panel.start(config=replace(tiny_config(tiny_data, tmp_path / "run", steps=30), patience=1))
    assert panel.progress.format() == "run: stopped early at step 20"
    assert statuses[-1].endswith("the validation loss was lowest at step 10 (3.000): Generate can use those weights")
    generation = window.generation_panel
    generation.add_run(str(tmp_path / "run"), select=True)
    generation.bars.setValue(1)
    for best, weights in ((False, "step 20."), (True, "step 10, lowest validation loss 3.000 (last step 20).")):
        generation.best_weights.setChecked(best)
        with qtbot.waitSignal(generation.runner.finished, timeout=60000):
            window.actions.generate.trigger()
        assert generation.info.text().endswith(f"with the weights of {weights}")


def test_a_bpe_model_trains_from_the_form_and_streams_every_note_into_the_roll(make_window, qtbot, tiny_data,
                                                                                tmp_path):
    from dataclasses import replace

    window = make_window(restore_session=False)
    panel = window.training_panel
    panel.start_from.setCurrentIndex(panel.start_from.findData(""))  # scratch: a fine-tune has its base's
    panel.bpe.setValue(1000)
    assert panel.config().bpe_vocab_size == 1000  # the form's setting reaches the run
    with qtbot.waitSignal(panel.runner.finished, timeout=120000):
        panel.start(config=replace(tiny_config(tiny_data, tmp_path / "run", steps=10), bpe_vocab_size=900))
    generation = window.generation_panel
    generation.add_run(str(tmp_path / "run"), select=True)
    generation.bars.setValue(2)
    generation.random_seed.setValue(1)
    merged = []
    generation.runner.event.connect(lambda e: merged.append(len(getattr(e, "notes", ()))))
    with qtbot.waitSignal(generation.runner.finished, timeout=60000):
        window.actions.generate.trigger()
    notes = window.model.take_notes(window.model.current_take)
    assert notes and len(notes) == sum(merged)  # every note of every merged token reached the roll
    assert "Done: " in generation.info.text()


def test_generate_streams_notes_into_the_roll(make_window, qtbot, tiny_run):
    window = make_window(restore_session=False)
    window.model.set_seed([Note(0, 48, 480), Note(480, 55, 480), Note(960, 59, 480), Note(1440, 62, 480)])
    panel = window.generation_panel
    panel.add_run(str(tiny_run), select=True)
    panel.bars.setValue(2)
    panel.variations.setValue(2)
    panel.random_seed.setValue(7)
    # the tiny test model's corpus measures as one voice, and its barely trained durations then hold
    # a note over both bars: this test is about streaming, so without the instrument's limit
    panel.voices.setValue(0)
    counts = []
    window.model.notesChanged.connect(lambda: counts.append(len(window.model.take_notes(0))))
    with qtbot.waitSignal(panel.runner.finished, timeout=60000):
        window.actions.generate.trigger()
    assert window.model.takes == ["Take 1", "Take 2"]
    first = window.model.take_notes(0)
    assert first and all(n.role == GENERATED for n in first)
    assert len(set(counts)) > 2  # the take grew note by note, not all at once
    assert window.model.current_take == 0
    assert len(window.model.seed_notes()) == 4  # the seed is untouched


def test_stop_generation_cancels_at_once(make_window, qtbot, tiny_run):
    window = make_window(restore_session=False)
    panel = window.generation_panel
    panel.add_run(str(tiny_run), select=True)
    panel.bars.setValue(128)
    window.actions.generate.trigger()
    qtbot.waitUntil(lambda: len(window.model.take_notes(0)) >= 3, timeout=60000)
    window.actions.stop_generation.trigger()
    assert not panel.runner.running and panel.generate_button.isEnabled()
    count = len(window.model.take_notes(0))
    assert panel.runner.wait(60000)  # the cancelled job's thread is done: whatever it sent is queued
    QApplication.processEvents()
    assert len(window.model.take_notes(0)) == count  # late notes are dropped


def test_stopping_at_once_leaves_no_empty_takes(make_window, qtbot, tiny_run):
    window = make_window(restore_session=False)
    panel = window.generation_panel
    panel.add_run(str(tiny_run), select=True)
    panel.variations.setValue(3)
    window.actions.generate.trigger()
    window.actions.stop_generation.trigger()  # before the model has written a note
    assert all(window.model.take_notes(t) for t in range(len(window.model.takes)))


def test_deleting_a_take_while_the_model_writes_keeps_every_take_apart(make_window, qtbot, tiny_run):
    from app.pianoroll.model import Note

    window = make_window(restore_session=False)
    model = window.model
    old = model.new_take("Old")
    model.add_notes([Note(0, 60, 480, role=GENERATED, take=old)])
    panel = window.generation_panel
    panel.add_run(str(tiny_run), select=True)
    panel.variations.setValue(2)
    panel.bars.setValue(4)
    panel.random_seed.setValue(3)
    with qtbot.waitSignal(panel.runner.finished, timeout=60000):
        window.actions.generate.trigger()
        qtbot.waitUntil(lambda: len(model.take_notes(1)) >= 2, timeout=60000)
        model.set_current_take(0)
        window.actions.clear_take.trigger()  # "Old" goes; the two takes being written move down
    assert [name for name in model.takes] == ["Take 1", "Take 2"]
    assert all(n.take in (0, 1) for _, n in model.items() if n.role == GENERATED)  # no orphans
    panel.variations.setValue(1)
    with qtbot.waitSignal(panel.runner.finished, timeout=60000):
        window.actions.generate.trigger()
    assert model.takes == ["Take 1", "Take 2", "Take 3"]  # numbered on, never twice
    window.undo_stack.undo()  # the deletion
    assert model.takes[0] == "Old" and [n.pitch for n in model.take_notes(0)] == [60]


def test_generate_with_a_folder_that_is_not_a_run_explains(make_window, qtbot, tmp_path):
    window = make_window(restore_session=False)
    window.generation_panel.add_run(str(tmp_path), select=True)
    with qtbot.waitSignal(window.errorShown, timeout=10000) as blocker:
        window.actions.generate.trigger()
    assert "not a Partita run folder" in blocker.args[0]


def test_continue_from_here_prompts_with_the_selection(make_window, qtbot, tiny_run):
    window = make_window(restore_session=False)
    window.model.set_seed([Note(0, 60, 480), Note(480, 62, 480), Note(3840, 72, 480)])
    panel = window.generation_panel
    panel.add_run(str(tiny_run), select=True)
    panel.bars.setValue(1)
    panel.random_seed.setValue(3)
    prompts = []
    original = panel.generate
    panel.generate = lambda prompt=None, **options: (prompts.append(prompt), original(prompt, **options))
    first_two = [i for i, n in window.model.items() if n.pitch in (60, 62)]
    window.roll.view.set_selection(first_two)
    with qtbot.waitSignal(panel.runner.finished, timeout=60000):
        window.actions.continue_here.trigger()
    assert sorted(n.pitch for n in prompts[0].tracks[0].notes) == [60, 62]
    # the new take leaves the seed at the cut: the seed's later note is neither shown, played nor exported
    model = window.model
    assert model.take_cut(model.current_take) == 960
    shown = [(n.pitch, n.role) for _, n in model.visible_items()]
    assert (72, "seed") not in shown and (60, "seed") in shown
    assert 72 not in {n.pitch for n in window.shown_score().tracks[0].notes if n.time >= 3840}
    model.set_current_take(-1)
    assert (72, "seed") in [(n.pitch, n.role) for _, n in model.visible_items()]  # the seed itself is whole
    from app.session import project_data, restore_project

    again = type(model)()
    restore_project(again, project_data(model, {}))
    assert again.take_cuts == model.take_cuts == [960]
    # continuing again from a later note of that take: the seed stays left at 960, the take's notes
    # up to the new cut are carried over (they were the prompt), and the seed's 72 stays out
    model.set_current_take(0)
    model.add_notes([Note(2400, 65, 240, role=GENERATED, take=0)])
    window.roll.view.set_selection([i for i, n in model.items() if n.role == GENERATED and n.start == 2400])
    with qtbot.waitSignal(panel.runner.finished, timeout=60000):
        window.actions.continue_here.trigger()
    assert model.take_cut(model.current_take) == 960 and model.current_take == 1
    assert [n.start for n in model.take_seed(1)] == [0, 480]
    assert 2400 in [n.start for n in model.take_notes(1)]  # carried


def test_judge_takes_fills_the_report_table_and_figures(make_window, qtbot, tiny_data):
    window = make_window(restore_session=False)
    with qtbot.waitSignal(window.corpus_panel.corpusImported, timeout=60000):
        window.corpus_panel.import_source(str(tiny_data))
    window.model.set_seed([Note(i * 240, 48 + (i * 7) % 12, 240) for i in range(16)])
    for offset in (0, 5):
        take = window.model.new_take()
        window.model.add_notes([Note(3840 + i * 240, 50 + (i * 5 + offset) % 12, 240, role=GENERATED, take=take)
                                for i in range(32)])
    panel = window.evaluation_panel
    with qtbot.waitSignal(panel.runner.finished, timeout=120000):
        panel.judge_button.click()
    columns = [panel.table.horizontalHeaderItem(c).text() for c in range(panel.table.columnCount())]
    assert columns[0] == "generated" and "random notes" in columns
    labels = [panel.table.verticalHeaderItem(r).text() for r in range(panel.table.rowCount())]
    assert any("Style distance" in label and label.endswith("↓") for label in labels)  # which way is better
    assert panel.table.item(0, 0).text() not in ("", "–")
    flagged = next(r for r, label in enumerate(labels) if label.startswith("Pieces flagged as copies"))
    assert all("." not in panel.table.item(flagged, c).text() for c in range(panel.table.columnCount()))
    pictures = [w for w in panel.figures.findChildren(QLabel) if w.pixmap() is not None and not w.pixmap().isNull()]
    assert len(pictures) >= 2
    window.show()
    window.bottom_tabs.setCurrentWidget(panel)
    qtbot.waitUntil(lambda: pictures[0].width() > 0)
    viewport = panel.figures.parentWidget()  # the scroll area's viewport: what the user sees
    # each figure fits the panel whole, once the layout has settled
    qtbot.waitUntil(lambda: all(0 < p.pixmap().width() <= viewport.width() for p in pictures), timeout=2000)


def test_judge_takes_without_a_corpus_says_what_to_do(make_window, qtbot):
    window = make_window(restore_session=False)
    take = window.model.new_take()
    window.model.add_notes([Note(0, 60, 480, role=GENERATED, take=take)])
    with qtbot.waitSignal(window.errorShown) as blocker:
        window.evaluation_panel.judge_button.click()
    assert "no corpus" in blocker.args[0]


def test_per_token_type_curves_appear_on_request(qtbot):
    from app.panels.curves import TrainingCurves

    curves = TrainingCurves()
    qtbot.addWidget(curves)
    curves.add_record({"event": "EvalResult", "step": 10, "loss": 2.0, "accuracy": 0.4, "perplexity": 7.4,
                       "per_type": {"Pitch": {"loss": 3.0, "accuracy": 0.2}, "Bar": {"loss": 0.1, "accuracy": 0.99}}})
    curves.refresh()
    assert "type:loss:Pitch" not in curves.curves  # no curve until asked for (keeps the GUI thread free)
    curves.set_per_type(True)
    pitch = curves.curves["type:loss:Pitch"]
    assert pitch.isVisible() and pitch.getData()[1].tolist() == [3.0]
    labels = [label.text for _, label in curves.plots["loss"].legend.items]
    assert "Pitch" in labels
    curves.set_per_type(False)
    assert not pitch.isVisible()


def test_resume_continues_from_the_saved_step(make_window, qtbot, tiny_data, tmp_path):
    from dataclasses import replace

    window = make_window(restore_session=False)
    panel = window.training_panel
    config = tiny_config(tiny_data, tmp_path / "run", steps=10)
    with qtbot.waitSignal(panel.runner.finished, timeout=60000):
        panel.start(config=config)
    started = []
    panel.runner.event.connect(lambda e: started.append(e) if type(e).__name__ == "TrainStarted" else None)
    with qtbot.waitSignal(panel.runner.finished, timeout=60000):
        panel.start(resume=True, config=replace(config, steps=14))
    assert started and started[0].start_step == 10
    assert panel.curves.buffer.count("train_loss") == 14  # the earlier curve reloaded, then extended


def test_closing_the_window_during_training_keeps_a_checkpoint(make_window, qtbot, tiny_data, tmp_path):
    window = make_window(restore_session=False)
    panel = window.training_panel
    panel.start(config=tiny_config(tiny_data, tmp_path / "run", steps=100000))
    qtbot.waitUntil(lambda: panel.curves.buffer.count("train_loss") >= 2, timeout=60000)
    window.close()
    assert not panel.runner.running
    assert weights_path(tmp_path / "run").exists()
    from core.learning.checkpoint import read_config

    assert read_config(tmp_path / "run")["training"]["step"] >= 2


def test_first_generation_uses_the_shipped_default_model(make_window, qtbot):
    """A first-time user presses Generate with nothing chosen: the default model writes a take,
    or (in a checkout without it) a dialog says how to get one; never a silent nothing."""
    from core.learning.checkpoint import DEFAULT_MODEL_DIR, DEFAULT_MODEL_NAME

    window = make_window(restore_session=False)
    panel = window.generation_panel
    shipped = (DEFAULT_MODEL_DIR / "config.json").exists()
    assert panel.run_dir == (DEFAULT_MODEL_NAME if shipped else "")  # the shipped default is preselected
    panel.bars.setValue(1)
    panel.random_seed.setValue(0)
    if not (DEFAULT_MODEL_DIR / "config.json").exists():
        with qtbot.waitSignal(window.errorShown) as blocker:
            window.actions.generate.trigger()
        assert "default model is missing" in blocker.args[0]
        assert window.model.takes == []
        return
    with qtbot.waitSignal(panel.runner.finished, timeout=120000):
        window.actions.generate.trigger()
    assert window.model.take_notes(0)


def test_failed_generation_leaves_no_empty_take(make_window, qtbot, tmp_path):
    window = make_window(restore_session=False)
    window.generation_panel.add_run(str(tmp_path), select=True)
    with qtbot.waitSignal(window.errorShown, timeout=10000):
        window.actions.generate.trigger()
    assert window.model.takes == []


def test_play_as_it_is_written_sends_the_take_while_generating(make_window, qtbot, tiny_run):
    window = make_window(restore_session=False)
    window.model.set_seed([Note(0, 48, 480), Note(480, 55, 480)])
    window.transport_bar.tempo.setValue(400)
    panel = window.generation_panel
    panel.add_run(str(tiny_run), select=True)
    panel.bars.setValue(1)
    panel.random_seed.setValue(2)
    panel.play_while.setChecked(True)
    with qtbot.waitSignal(panel.runner.finished, timeout=60000):
        window.actions.generate.trigger()
    assert window.actions.play.isChecked() or window.outputs  # playback started with the generation
    qtbot.waitUntil(lambda: not window.actions.play.isChecked(), timeout=20000)
    played = [m.note for _, m in window.outputs[0].sent if m.type == "note_on" and m.velocity > 0]
    written = [n.pitch for n in window.model.take_notes(0)]
    assert written and sorted(played) == sorted(written)  # the take, not the seed


def test_full_model_report_runs_evaluate_run_with_the_chosen_model_and_corpus(make_window, qtbot, monkeypatch,
                                                                              tiny_data):
    import symusic

    from core.judging.report.data import GENERATED, compare_sets_to_training

    calls = []

    def fake_evaluate_run(model_dir, data, *, settings, progress, cancel):
        calls.append((model_dir, data))
        progress("learning figures")
        piece = symusic.Score(str(sorted(tiny_data.glob("*.mid"))[0]))
        report = compare_sets_to_training({GENERATED: [("g", piece)]}, [("t", piece)], use_music21=False)
        report.title = "fake report"
        return report

    monkeypatch.setattr("core.judging.evaluation.evaluate_run", fake_evaluate_run)
    window = make_window(restore_session=False)
    with qtbot.waitSignal(window.corpus_panel.corpusImported, timeout=60000):
        window.corpus_panel.import_source(str(tiny_data))
    window.generation_panel.add_run("/some/run", select=True)
    panel = window.evaluation_panel
    with qtbot.waitSignal(panel.runner.finished, timeout=60000):
        panel.full_button.click()
    assert calls == [("/some/run", str(tiny_data))]
    assert panel.progress.text() == "fake report"
    assert panel.table.rowCount() > 5


def test_an_unfinished_run_is_offered_for_resume_at_start(make_window, qtbot, tiny_data, tmp_path, monkeypatch):
    from core.learning.training import train
    from core.userdata import user_dirs

    run = user_dirs().runs / "killed"
    config = tiny_config(tiny_data, run, steps=50)
    events = train(config)
    for event in events:  # stop after the first checkpoint, as a kill would
        if type(event).__name__ == "CheckpointSaved":
            break
    events.close()
    window = make_window()
    assert window.training_panel.run_dir == str(run) and window.training_panel.out_edit.text() == ""
    assert window.training_panel.curves.buffer.count("train_loss") >= 10


def test_the_train_panel_names_pieces_whose_bar_lines_training_moves(make_window, qtbot):
    from core.learning.training_log import TrainStarted

    window = make_window(restore_session=False)
    panel = window.training_panel
    line = ("1 piece is in 5/2, a meter the vocabulary lacks, so training reads it in 4/4 bars "
            "(bar lines moved): broad.mid")
    panel._on_event(TrainStarted("run", 1000, 3, 1, 500, "cpu", 0, meter_warnings=(line,)))
    assert panel.meter_label.isVisibleTo(panel) and panel.meter_label.text() == line
    panel._on_event(TrainStarted("run", 1000, 3, 1, 500, "cpu", 0))  # the next run, in kept meters
    assert not panel.meter_label.isVisibleTo(panel)
