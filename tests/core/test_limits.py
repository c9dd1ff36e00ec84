"""Instrument-true decoding: a style's range and voices, measured from its corpus and kept by the mask."""

from __future__ import annotations

import json

import numpy as np
import pytest
import symusic

from core.composing.generation import GenerationSettings, generate_variations, limits_for, stream_generation
from core.learning.checkpoint import load_model
from core.music.corpus import import_corpus
from core.music.limits import InstrumentLimits, measure, parse_range, simultaneous_notes


def new_notes(take):
    return [n for track in take.score.tracks for n in track.notes if n.time >= take.seed_end_tick]


def most_sounding(notes) -> int:
    counts = simultaneous_notes([(n.time, n.time + n.duration) for n in notes])
    return int(counts.max()) if len(counts) else 0


def test_simultaneous_notes_counts_the_notes_sounding_at_each_onset():
    # a held C, a D over it, then an E after both ended; a note ending where one starts does not overlap
    assert simultaneous_notes([(0, 100), (50, 100), (100, 150)]).tolist() == [1, 2, 1]


def test_ranges_read_as_musicians_write_them():
    assert parse_range("C2-G5") == (36, 79)
    assert parse_range("Bb2-F#4") == (46, 66)
    assert parse_range("40-60") == (40, 60)
    with pytest.raises(ValueError, match="not a range"):
        parse_range("C2")
    with pytest.raises(ValueError, match="above its highest"):
        InstrumentLimits(1, 60, 50)


def test_the_cello_suites_measure_as_a_cello_with_double_and_triple_stops(cello_midi_dir):
    limits = measure(p.score for p in import_corpus(cello_midi_dir).pieces)
    assert limits == InstrumentLimits(3, 36, 79)  # C2 (the open C string) to G5


@pytest.mark.parametrize("voices", [1, 2])
def test_no_take_sounds_more_notes_than_the_instrument_allows(cello_midi_dir, voices):
    """The shipped chorale model (four voices, BPE) made to write for a one- and a two-voice
    instrument over a cello seed, hot: not one onset with more notes sounding, seed notes held
    into the continuation included, and every pitch inside the range."""
    loaded = load_model("bach-chorales")
    seed = symusic.Score(str(cello_midi_dir / "BWV1008_01_Prelude.mid"))
    settings = GenerationSettings(bars=4, prompt_bars=3, random_seed=7, temperature=2.0, voices=voices, pitch_range=(36, 72))
    streamed = [[] for _ in range(3)]
    takes = generate_variations(loaded, seed, settings, 3, on_event=lambda e: streamed[e.variation].extend(e.notes))
    for take, stream in zip(takes, streamed, strict=True):
        notes = [n for track in take.score.tracks for n in track.notes]
        fresh = new_notes(take)
        assert fresh and all(36 <= n.pitch <= 72 for n in fresh)
        onsets = {n.time for n in fresh}
        spans = [(n.time, n.time + n.duration) for n in notes]
        assert max(sum(start <= t < end for start, end in spans) for t in onsets) <= voices
        assert sorted(n.pitch for n in stream) == sorted(n.pitch for n in fresh)


def test_a_model_keeps_its_corpus_limits_unless_the_user_overrides_them(trained_run):
    loaded = load_model(trained_run[0])
    assert limits_for(loaded) == InstrumentLimits.from_json(loaded.config["instrument"])
    assert limits_for(loaded).max_voices is not None
    assert limits_for(loaded, GenerationSettings(voices=0)).max_voices is None  # 0: no limit
    assert limits_for(loaded, GenerationSettings(voices=1, pitch_range=(40, 50))) == InstrumentLimits(1, 40, 50)


def test_a_remi_model_held_to_one_voice_writes_a_single_line(trained_run, cello_midi_dir):
    loaded = load_model(trained_run[0])
    seed = symusic.Score(str(cello_midi_dir / "BWV1007_04_Sarabande.mid"))  # chords in the seed
    for seed_number in range(3):
        take = generate_variations(loaded, seed, GenerationSettings(bars=3, prompt_bars=2, random_seed=seed_number,
                                                                    temperature=1.5, voices=1), 1)[0]
        notes = new_notes(take)
        assert notes and most_sounding(notes) == 1


@pytest.mark.parametrize(("key_mode", "home"), [("normalize", 7), ("tonic", 10)])
def test_key_normalised_models_compose_in_the_seeds_key(trained_run, tmp_path, cello_midi_dir, key_mode, home):
    """A model trained in C major / A minor (or C minor) answers a D minor seed in D minor: the seed
    is moved to A minor (or C minor) to compose, comes back unchanged, and the take's notes
    (streamed and decoded alike) are moved back to the seed's key."""
    from core.composing.generation import key_shift_for

    run = tmp_path / "normalised"
    run.mkdir()
    for path in trained_run[0].iterdir():
        (run / path.name).write_bytes(path.read_bytes())
    config = json.loads((run / "config.json").read_text())
    config["train"]["key_mode"] = key_mode
    (run / "config.json").write_text(json.dumps(config))
    loaded = load_model(run)
    seed = symusic.Score(str(cello_midi_dir / "BWV1008_02_Allemande.mid"))  # D minor
    assert key_shift_for(loaded, seed) % 12 == home  # D up a fifth to A, or down a tone to C
    settings = GenerationSettings(bars=2, prompt_bars=2, random_seed=3)
    streamed = [n for event in stream_generation(loaded, seed, settings) for n in event.notes]
    take = generate_variations(loaded, seed, settings, 1)[0]
    cut = seed.clip(0, int(seed.get_downbeats()[2]), clip_end=True)
    seed_pitches = sorted(n.pitch for n in cut.tracks[0].notes)
    kept = sorted(n.pitch for track in take.score.tracks for n in track.notes if n.time < take.seed_end_tick)
    assert kept == seed_pitches
    assert sorted(n.pitch for n in streamed) == sorted(n.pitch for n in new_notes(take))


def test_fine_tuning_starts_from_the_base_models_weights_and_tokenizer(trained_run, tmp_path, cello_trio):
    from core.learning.training import TrainConfig, TrainStarted, train

    out = tmp_path / "fine"
    events = list(train(TrainConfig(data=str(cello_trio), out=str(out), steps=1, eval_every=1, learning_rate=1e-12,
                                    min_learning_rate=0.0, warmup_steps=1000, init=str(trained_run[0]))))
    assert isinstance(events[0], TrainStarted)
    base, tuned = load_model(trained_run[0]), load_model(out)
    assert tuned.config["model"] == base.config["model"]
    assert tuned.tokenizer.settings == base.tokenizer.settings
    assert tuned.config["train"]["init"] == str(trained_run[0])
    for name, weight in base.model.state_dict().items():  # one step at a vanishing rate: the base's weights
        assert np.allclose(weight.numpy(), tuned.model.state_dict()[name].numpy(), atol=1e-6), name


def test_key_normalised_training_moves_each_piece_home_and_does_not_transpose_it_away(cello_trio, tmp_path):
    """The trio (G major Sarabande and Menuet I, G minor Menuet II) trains in C major / A minor:
    every piece is moved by its own key, and augmentation, which would move it out again, is off."""
    from core.learning.dataset import key_shift
    from core.learning.training import TrainConfig, augmentation, prepare_data

    config = TrainConfig(data=str(cello_trio), out=str(tmp_path / "run"), key_mode="normalize")
    assert augmentation(config) == 0 and augmentation(TrainConfig(data="x", out="y")) == 5
    data = prepare_data(config)
    assert all(piece.shifts == [0] for piece in data.train + data.validation)
    for piece in data.corpus.pieces:
        assert key_shift(piece.score) in (5, 2)  # G major -> C major (+5); G minor -> A minor (+2)
        assert key_shift(piece.score, tonic=True) == 5  # --key tonic: G major and G minor -> C major / minor
    assert augmentation(TrainConfig(data="x", out="y", key_mode="tonic")) == 0


def test_tonic_training_moves_minor_pieces_to_c_minor(cello_trio, tmp_path):
    """--key tonic trains the G minor Menuet II in C minor, a minor third above the A minor that
    --key normalize puts it in, and the G major movements in C major as normalize does."""
    from core.learning.training import TrainConfig, prepare_data

    relative, tonic = (prepare_data(TrainConfig(data=str(cello_trio), out=str(tmp_path / mode), key_mode=mode))
                       for mode in ("normalize", "tonic"))
    moved = {piece.name: piece for piece in tonic.train + tonic.validation}
    assert len(moved) == 3
    for piece in relative.train + relative.validation:
        apart = 3 if "MenuetII" in piece.name else 0
        assert np.array_equal(moved[piece.name].ids, relative.tokenizer.transpose_ids(piece.ids, apart)), piece.name


@pytest.mark.parametrize("voices", [1, 2, 4])
def test_every_token_the_mask_allows_keeps_the_limits_note_by_note(cello_midi_dir, voices):
    """Random walks through the BPE chorale model's mask from a cello seed: each allowed model
    token, stepped through base token by base token, keeps the range and the voices (the mask
    skips the stepping for tokens that cannot break them; this checks that shortcut too)."""
    import random

    from core.composing.generation import grammar_for, prompt_ids
    from core.composing.grammar import replay

    loaded = load_model("bach-chorales")
    grammar = grammar_for(loaded.tokenizer)
    seed_ids = prompt_ids(loaded, symusic.Score(str(cello_midi_dir / "BWV1008_01_Prelude.mid")), 3)
    limits = InstrumentLimits(voices, 36, 72)
    rng = random.Random(voices)
    for _ in range(60):
        state = replay(grammar, seed_ids, limits)
        for _ in range(40):
            allowed = state.allowed().nonzero().flatten().tolist()
            token = rng.choice(allowed)
            probe = state.copy()
            for base_id in grammar.expansions[token]:
                assert probe.fits_limits(base_id), (loaded.tokenizer.model_tokens[token], state.position)
                probe.feed(base_id)
            state.feed_model(token)
