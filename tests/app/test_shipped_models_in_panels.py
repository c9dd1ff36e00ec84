"""The panels and the shipped models: style models chosen by name and proposed by the seed, the
instrument's voices and range, and training that fine-tunes the shipped base model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt


@pytest.fixture
def shipped_models_dir(tmp_path, monkeypatch):
    """A resources/models of config.json files only (enough to list, propose and describe):
    two style models and, with `base=True`, a base model for fine-tuning."""

    def make(base: bool = True) -> Path:
        folder = tmp_path / "models"
        models = {
            "bach-chorales": {"about": "Bach's chorales, four voices",
                              "instrument": {"max_voices": 4, "lowest": 36, "highest": 88}},
            "bach-cello-suites": {"about": "Bach's six cello suites, one line",
                                  "instrument": {"max_voices": 3, "lowest": 36, "highest": 81}},
        }
        if base:
            models["base"] = {"about": "thousands of pieces", "base_model": True, "train": {"key_mode": "normalize"},
                              "instrument": {"max_voices": 8, "lowest": 21, "highest": 108},
                              "model": {"n_layer": 6, "n_head": 8, "n_embd": 256, "dropout": 0.1, "block_size": 512}}
        for name, config in models.items():
            (folder / name).mkdir(parents=True)
            (folder / name / "config.json").write_text(json.dumps({"model": {}, "tokenizer": {}, **config}))
        monkeypatch.setattr("core.learning.checkpoint.SHIPPED_MODELS_DIR", folder)
        return folder

    return make


def _offered(box) -> list[tuple[str, str]]:
    return [(box.itemText(i), box.itemData(i, Qt.ItemDataRole.ToolTipRole) or "") for i in range(box.count())]


def test_the_model_list_offers_the_shipped_bach_chorales_by_name_with_what_it_learned_from(make_window):
    from core.learning.checkpoint import DEFAULT_MODEL_DIR, shipped_models

    if not (DEFAULT_MODEL_DIR / "config.json").exists():
        pytest.skip("this checkout has no shipped models (resources/models)")
    about = shipped_models()["bach-chorales"]
    assert about  # a line on what it learned from
    panel = make_window(restore_session=False).generation_panel
    assert ("bach-chorales", about) in _offered(panel.model_box)
    assert panel.run_dir == "bach-chorales" and panel.model_about.text() == about


def test_a_cello_seed_proposes_the_model_whose_instrument_fits_until_one_is_picked_by_hand(
        make_window, qtbot, shipped_models_dir, cello_midi_dir):
    from core.learning.checkpoint import suggest_model

    shipped_models_dir(base=True)
    window = make_window(restore_session=False)
    panel = window.generation_panel
    offered = _offered(panel.model_box)
    assert offered == [("bach-cello-suites", "Bach's six cello suites, one line"),
                       ("bach-chorales", "Bach's chorales, four voices"), ("Choose run folder…", "")]
    assert "base" not in [text for text, _ in offered]  # for fine-tuning only
    assert panel.run_dir == "bach-chorales"  # the default, before any seed
    statuses = []
    panel.status.connect(statuses.append)
    with qtbot.waitSignal(window.seed_loader.finished, timeout=30000):
        window.open_file(str(cello_midi_dir / "BWV1007_01_Prelude.mid"))
    proposed = suggest_model(window.seed_score())
    assert proposed == "bach-cello-suites"
    qtbot.waitUntil(lambda: panel.run_dir == proposed, timeout=5000)
    assert panel.model_about.text() == "Proposed for your seed. Bach's six cello suites, one line"
    assert statuses == ["Model bach-cello-suites proposed: its instrument fits the seed"]
    # the user picks the chorales by hand: a new seed no longer changes the model
    index = panel.model_box.findData("bach-chorales")
    panel.model_box.setCurrentIndex(index)
    panel.model_box.activated.emit(index)
    assert panel.model_about.text() == "Bach's chorales, four voices"
    window.model.set_seed(window.model.seed_notes()[:40])
    qtbot.waitUntil(lambda: not panel._seed_timer.isActive(), timeout=5000)  # the new seed has been looked at
    assert panel.run_dir == "bach-chorales" and len(statuses) == 1


def test_voices_and_range_reach_the_generation_settings(make_window, qtbot, shipped_models_dir, monkeypatch):
    from core.composing.generation import GenerationSettings

    shipped_models_dir(base=False)
    window = make_window(restore_session=False)
    panel = window.generation_panel
    assert panel.voices.text() == "model's: 4"  # the chorales' own limits, read from the model
    assert panel.pitch_range.placeholderText() == "model's: C2-E6"
    panel.model_box.setCurrentIndex(panel.model_box.findData("bach-cello-suites"))
    assert panel.voices.text() == "model's: 3" and panel.pitch_range.placeholderText() == "model's: C2-A5"
    jobs = []

    def fake_job(cache, run_dir, prompt, settings, variations, best=False):
        jobs.append((run_dir, settings))
        return lambda cancel: iter(())

    monkeypatch.setattr("app.panels.generation.generation_job", fake_job)
    for voices, text, expected in ((1, "C3-C5", (1, (48, 72))), (0, " Bb1 - G4 ", (0, (34, 67))),
                                   (-1, "", (None, None))):
        panel.voices.setValue(voices)
        panel.pitch_range.setText(text)
        with qtbot.waitSignal(panel.runner.finished, timeout=10000):
            panel.generate()
        settings: GenerationSettings = jobs[-1][1]
        assert (settings.voices, settings.pitch_range) == expected
    assert panel.voices.textFromValue(0) == "no limit" and panel.voices.valueFromText("no limit") == 0
    panel.pitch_range.setText("G5-C2")
    with qtbot.waitSignal(window.errorShown) as blocker:
        panel.generate()
    assert blocker.args[0] == "Range: G5 is above C2." and len(jobs) == 3


def test_the_training_panel_fine_tunes_the_shipped_base_model_by_default(make_window, shipped_models_dir):
    shipped_models_dir(base=True)
    panel = make_window(restore_session=False).training_panel
    assert panel.start_from.currentText() == "base model (fine-tune)"
    config = panel.config()
    # the fine-tuning defaults (a gentler step, early stopping), the base's shape and key mode
    assert (config.init, config.learning_rate, config.patience, config.key_mode) == ("base", 3e-4, 3, "normalize")
    assert config.model_overrides == {} and (panel.layers.value(), panel.width.value()) == (6, 256)
    assert not panel.layers.isEnabled()
    panel.keys.setCurrentIndex(panel.keys.findData("transpose"))
    assert panel.config().key_mode == "transpose"
    panel.start_from.setCurrentIndex(panel.start_from.findData(""))  # scratch
    config = panel.config()
    assert (config.init, config.learning_rate, config.patience) == (None, 1e-3, 0)
    assert panel.layers.isEnabled() and panel.layers.value() == 4  # the tiny preset's, as before
    panel.learning_rate.setValue(2e-3)  # the user's own: fine-tuning keeps it
    panel.start_from.setCurrentIndex(panel.start_from.findData("base"))
    assert (panel.config().learning_rate, panel.config().patience) == (2e-3, 3)


def test_without_a_shipped_base_model_training_starts_from_scratch(make_window, shipped_models_dir):
    shipped_models_dir(base=False)
    panel = make_window(restore_session=False).training_panel
    assert [panel.start_from.itemText(i) for i in range(panel.start_from.count())] == ["scratch"]
    panel.keys.setCurrentIndex(panel.keys.findData("normalize"))
    config = panel.config()
    assert (config.init, config.learning_rate, config.patience, config.key_mode) == (None, 1e-3, 0, "normalize")


def test_the_training_panel_says_when_the_model_becomes_better_than_the_4gram(make_window):
    from core.learning.baseline import NGramBaseline
    from core.learning.training import EvalResult

    panel = make_window(restore_session=False).training_panel
    statuses = []
    panel.status.connect(statuses.append)
    panel._on_event(NGramBaseline(4, 1.5, 4.80, {"Pitch": 3.4}, 5894, 1867, 4))
    assert panel.baseline_label.text().startswith("4-gram on the 4 validation pieces: 4.80 nats per note")
    for step, per_note in ((100, 5.2), (200, 4.6), (300, 4.5)):
        panel._on_event(EvalResult(step, per_note / 3, 0.5, 2.0, 5894, {}, per_note))
        if step == 100:
            assert panel.baseline_label.text() == ("Not yet better than the 4-gram: 5.20 against 4.80 nats per "
                                                   "note at step 100.")
    assert panel.baseline_label.text() == "Better than the 4-gram now: 4.50 against 4.80 nats per note at step 300."
    crossed = [s for s in statuses if "better than the 4-gram now" in s]
    assert crossed == ["Step 200: the model is better than the 4-gram now (4.60 against 4.80 nats per note)"]


def test_instrument_and_start_from_choices_survive_a_restart(make_window, shipped_models_dir):
    shipped_models_dir(base=True)
    window = make_window()
    generation, training = window.generation_panel, window.training_panel
    generation.voices.setValue(2)
    generation.pitch_range.setText("C3-G5")
    training.start_from.setCurrentIndex(training.start_from.findData(""))
    training.keys.setCurrentIndex(training.keys.findData("normalize"))
    window.close()
    again = make_window()
    settings, config = again.generation_panel.settings(), again.training_panel.config()
    assert (settings.voices, settings.pitch_range) == (2, (48, 79))
    assert (config.init, config.key_mode, config.learning_rate) == (None, "normalize", 1e-3)


def test_an_imported_jazz_corpus_is_fine_tuned_from_the_jazz_base_and_notation_from_the_base(
        make_window, jazz_beats_dir, cello_midi_dir):
    """The shipped bases as they are: importing the Miles Davis solos (velocities, chord symbols)
    proposes jazz-base, whose vocabulary holds both; the cello suites propose base again; a user who
    chose scratch keeps it."""
    from core.music.corpus import import_corpus

    window = make_window(restore_session=False)
    panel = window.training_panel
    assert panel.init == "base"
    window.corpus_panel.corpus = import_corpus(str(jazz_beats_dir / "MilesDavis_So*.mid"))
    window.corpus_panel.corpusImported.emit(str(jazz_beats_dir / "MilesDavis_So*.mid"))
    assert panel.init == "jazz-base" and panel.start_from.currentText() == "jazz-base (fine-tune)"
    window.corpus_panel.corpus = import_corpus(str(cello_midi_dir / "BWV1007_0*.mid"))
    window.corpus_panel.corpusImported.emit(str(cello_midi_dir))
    assert panel.init == "base"
    panel.start_from.setCurrentIndex(panel.start_from.findData(""))  # scratch, by hand
    window.corpus_panel.corpusImported.emit(str(cello_midi_dir))
    assert panel.init is None
