"""Chord symbols and chord-aware tokens: a jazz model reads each bar's harmony before its notes
(core.music.chords, the Chord tokens of core.learning.tokenizer, the chord plan of core.composing.grammar)."""

from __future__ import annotations

import numpy as np
import pytest
import symusic

from core.composing.generation import GenerationSettings, chord_plan, grammar_for
from core.composing.grammar import replay
from core.judging.metrics.jazz import chord_tone_share, chords_from, jazz_figures
from core.learning.tokenizer import PartitaTokenizer, TokenizerSettings, settings_for
from core.music.chords import NC, Chord, parse_chord, parse_progression
from core.music.corpus import import_corpus, resolve_source

C, D, F, G, A, B = 0, 2, 5, 7, 9, 11


@pytest.mark.parametrize(("symbol", "chord"), [
    # WJazzD's spelling
    ("C-7", Chord(C, "min")), ("Fj7", Chord(F, "maj")), ("Bb7", Chord(10, "dom")), ("Am7b5", Chord(A, "hdim")),
    ("Ebo7", Chord(3, "dim")), ("G+7", Chord(G, "aug")), ("Fsus7913", Chord(F, "sus")), ("F79b", Chord(F, "dom")),
    ("Bb7/D", Chord(10, "dom")), ("C-j7", Chord(C, "min")), ("Bb", Chord(10, "maj")), ("F#-7", Chord(6, "min")),
    ("Cb7", Chord(B, "dom")), ("E7alt", Chord(4, "dom")), ("C69", Chord(C, "maj")), ("NC", NC),
    # the usual lead-sheet spelling
    ("Dm7", Chord(D, "min")), ("Cmaj7", Chord(C, "maj")), ("CΔ", Chord(C, "maj")), ("Bø", Chord(B, "hdim")),
    ("C°7", Chord(C, "dim")), ("Cmin7", Chord(C, "min")), ("G13", Chord(G, "dom")), ("Caug", Chord(C, "aug")),
])
def test_symbols_of_both_spellings_read_as_root_and_quality(symbol, chord):
    assert parse_chord(symbol) == chord


def test_a_symbol_that_is_not_a_chord_is_named_in_the_error():
    with pytest.raises(ValueError, match="H7"):
        parse_chord("H7")
    with pytest.raises(ValueError, match="qqq"):
        parse_chord("Cqqq")


def test_a_progression_shares_each_bar_between_its_chords():
    bars = parse_progression("Dm7 G7 | Cmaj7")
    assert bars == [[Chord(D, "min")] * 2 + [Chord(G, "dom")] * 2, [Chord(C, "maj")] * 4]
    assert parse_progression("Dm7 G7 Cmaj7") == [[Chord(D, "min")] * 4, [Chord(G, "dom")] * 4, [Chord(C, "maj")] * 4]
    assert parse_progression("C F G | C", beats_per_bar=4)[0] == [Chord(C, "maj"), Chord(F, "maj"), Chord(G, "maj"),
                                                                    Chord(G, "maj")]
    with pytest.raises(ValueError, match="bar 1 .* 5 chords for 4 beats"):
        parse_progression("C D E F G | C")


def _solo() -> symusic.Score:
    """Two bars of 4/4: F7 for a bar, then Bb7 and Cm7 for two beats each."""
    score = symusic.Score(480)
    score.time_signatures.append(symusic.TimeSignature(0, 4, 4))
    track = symusic.Track(program=56)
    for beat, pitch in enumerate([65, 69, 72, 75, 70, 74, 72, 75]):
        track.notes.append(symusic.Note(beat * 480, 240, pitch, 60 + 5 * beat))
    score.tracks.append(track)
    for tick, symbol in ((0, "chord:F7"), (1920, "chord:Bb7"), (2880, "chord:C-7"), (0, "form:A1 chorus:1")):
        score.markers.append(symusic.TextMeta(tick, symbol))
    return score


@pytest.fixture(scope="module")
def tokenizer() -> PartitaTokenizer:
    return PartitaTokenizer.create(TokenizerSettings(use_velocities=True, use_chords=True))


def test_each_bar_reads_its_chords_a_beat_at_a_time_after_its_meter(tokenizer):
    ids = tokenizer.encode(_solo())
    tokens = [tokenizer.tokens[i] for i in ids]
    bars = [i for i, token in enumerate(tokens) if token == "Bar_None"]
    assert tokens[bars[0] + 1] == "TimeSig_4/4"
    assert tokens[bars[0] + 2:bars[0] + 6] == ["Chord_5.dom"] * 4
    assert tokens[bars[1] + 2:bars[1] + 6] == ["Chord_10.dom"] * 2 + ["Chord_0.min"] * 2
    assert sum(token.startswith("Chord_") for token in tokens) == 8


def test_decoding_keeps_the_notes_and_writes_each_change_as_a_marker(tokenizer):
    score = tokenizer.decode(tokenizer.encode(_solo()), program=56)
    beat = score.tpq
    assert [note.pitch for note in score.tracks[0].notes] == [65, 69, 72, 75, 70, 74, 72, 75]
    assert [(m.time, m.text) for m in score.markers] == [(0, "chord:F7"), (4 * beat, "chord:Bb7"),
                                                         (6 * beat, "chord:Cm7")]
    assert chords_from(score, 4 * beat) == [(0, Chord(10, "dom")), (2 * beat, Chord(C, "min"))]


def test_transposing_moves_the_chord_roots_with_the_notes(tokenizer):
    ids = np.array(tokenizer.encode(_solo()))
    up = tokenizer.transpose_ids(ids, 2)
    assert tokenizer.chords_of(up.tolist())[0][2] == Chord(G, "dom")  # F7 -> G7
    assert tokenizer.chords_of(up.tolist())[-1][2] == Chord(D, "min")  # Cm7 -> Dm7


def test_a_score_without_chord_symbols_has_no_chord_tokens(tokenizer):
    plain = _solo()
    plain.markers = [m for m in plain.markers if not m.text.startswith("chord:")]
    assert not any(tokenizer.tokens[i].startswith("Chord_") for i in tokenizer.encode(plain))


def test_the_grammar_asks_for_none_or_a_chord_on_every_beat(tokenizer):
    grammar = grammar_for(tokenizer)
    ids = [tokenizer.bos_id] + tokenizer.encode(_solo())
    bar_two = [i for i, t in enumerate(ids) if tokenizer.tokens[t] == "Bar_None"][1]
    state = replay(grammar, ids[:bar_two + 2])  # Bar, TimeSig: chords may start, or notes
    allowed = state.allowed()
    assert allowed[grammar.is_chord].all() and allowed[grammar.is_position].any()
    state.feed(ids[bar_two + 2])  # one chord: three more must follow, nothing else
    assert state.allowed().nonzero().flatten().tolist() == grammar.is_chord.nonzero().flatten().tolist()
    for token in ids[bar_two + 3:bar_two + 6]:
        state.feed(token)
    assert not state.allowed()[grammar.is_chord].any()  # the bar's four beats have theirs


def test_a_typed_progression_is_what_the_new_bars_read(tokenizer):
    grammar = grammar_for(tokenizer)
    ids = [tokenizer.bos_id] + tokenizer.encode(_solo())
    seed = replay(grammar, ids)
    plan, none = chord_plan(tokenizer, ids, seed, GenerationSettings(bars=3, chords="D-7 G7 | Cj7"))
    assert not none
    assert sorted(plan) == [seed.bars + 1, seed.bars + 2, seed.bars + 3]  # repeated to the end
    assert [tokenizer.chord_of_id[i] for i in plan[seed.bars + 1]] == [Chord(D, "min")] * 2 + [Chord(G, "dom")] * 2
    assert plan[seed.bars + 3] == plan[seed.bars + 1]
    state = replay(grammar, ids)
    state.chord_plan = plan
    for token in (grammar.types.index("Bar"), grammar.timesig_ids[(4, 4)]):
        state.feed(token)
    for expected in plan[seed.bars + 1]:
        assert state.allowed().nonzero().flatten().tolist() == [expected]
        state.feed(expected)
    # a seed without chord symbols and no progression: the model writes none
    plain = [tokenizer.bos_id] + [i for i in ids[1:] if i not in tokenizer.chord_of_id]
    assert chord_plan(tokenizer, plain, replay(grammar, plain), GenerationSettings())[1] is True


def test_chord_tone_share_counts_notes_on_the_changes_and_skips_no_chord():
    chords = [(0, Chord(F, "dom")), (960, NC)]
    pitches, onsets = np.array([65, 69, 66, 60, 61]), np.array([0, 240, 480, 720, 960])
    assert chord_tone_share(pitches, onsets, chords) == 3 / 4  # F, A, C in F7; F# not; under NC not counted


def test_jazz_figures_of_a_real_miles_davis_passage(jazz_beats_dir):
    from core.judging.evaluation import EvaluationSettings, real_continuation

    score = symusic.Score(str(jazz_beats_dir / "MilesDavis_Walkin.mid"))
    passage = real_continuation(score, EvaluationSettings(prompt_bars=4, bars=8))
    figures = jazz_figures(passage, chords_from(passage), 8)
    assert figures["polyphonic_time"] == 0  # a trumpet: one line
    assert 0.55 < figures["swing"] < 0.7  # swung, not straight
    assert 0.5 < figures["chord_tones"] < 0.65  # the 0.57 for these bars
    assert 0.3 < figures["silence"] < 0.6  # Miles's space
    assert figures["velocity_spread"] > 5  # dynamics, not flattened


def test_miles_davis_swings_his_eighths(jazz_beats_dir):
    from core.judging.metrics.jazz import swing_places

    places = []
    for path in sorted(jazz_beats_dir.glob("MilesDavis_*.mid")):
        score = symusic.Score(str(path))
        onsets = np.array(sorted(note.time for track in score.tracks for note in track.notes))
        places += swing_places(onsets, score.tpq)
    assert len(places) == 1294 and round(float(np.mean(places)), 2) == 0.58
    straight = swing_places(np.arange(0, 480 * 8, 240), 480)  # eighths on the grid
    assert straight == [0.5] * 8


def test_a_corpus_of_some_files_of_a_folder(jazz_beats_dir):
    name, miles = resolve_source(str(jazz_beats_dir / "MilesDavis_*.mid"))
    assert name == "wjazzd-beats/MilesDavis_*.mid" and len(miles) == 19
    _, others = resolve_source(str(jazz_beats_dir), exclude=["MilesDavis_*"])
    assert len(others) == 437 and not any(path.name.startswith("MilesDavis") for path in others)
    with pytest.raises(FileNotFoundError, match="no music file matches"):
        resolve_source(str(jazz_beats_dir / "Nobody_*.mid"))
    corpus = import_corpus(str(jazz_beats_dir / "MilesDavis_So*.mid"))
    settings = settings_for([piece.score for piece in corpus.pieces])
    assert settings.use_chords and settings.use_velocities  # chord markers and performed dynamics


@pytest.mark.parametrize("progression", ["", "Dm7 G7 | Cmaj7"])
def test_random_walks_through_the_mask_always_decode_with_whole_bars_of_chords(tokenizer, progression):
    import random

    from core.music.limits import InstrumentLimits

    grammar = grammar_for(tokenizer)
    ids = [tokenizer.bos_id] + tokenizer.encode(_solo())
    seed = replay(grammar, ids)
    plan, none = chord_plan(tokenizer, ids, seed, GenerationSettings(bars=6, chords=progression))
    rng = random.Random(7)
    for _ in range(30):
        state = replay(grammar, ids, InstrumentLimits(1, 52, 90))
        state.chord_plan, state.no_chords = plan, none
        walk = list(ids)
        for _ in range(120):
            token = rng.choice(state.allowed(keep_meter=True).nonzero().flatten().tolist())  # 4/4 bars
            state.feed(token)
            walk.append(token)
            if state.finished:
                break
        score = tokenizer.decode(walk, program=56)  # never raises
        notes = sorted((n.time, n.time + n.duration) for n in score.tracks[0].notes)
        assert all(end <= start for (_, end), (start, _) in zip(notes[:-1], notes[1:], strict=True))  # one line
        per_bar = {}
        for bar, _, chord in tokenizer.chords_of(walk[len(ids):]):
            per_bar.setdefault(bar, []).append(chord)
        assert all(len(chords) == 4 for bar, chords in per_bar.items() if bar != max(per_bar)), per_bar
        if progression:
            assert all(chords == parse_progression(progression)[bar % 2][:len(chords)]
                       for bar, chords in per_bar.items()), per_bar


def test_a_corpus_is_fine_tuned_from_the_base_whose_vocabulary_fits_it(jazz_beats_dir, cello_midi_dir):
    from core.learning.checkpoint import matching_base

    miles = import_corpus(str(jazz_beats_dir / "MilesDavis_So*.mid"))
    cello = import_corpus(str(cello_midi_dir / "BWV1007_0*.mid"))
    assert matching_base(piece.score for piece in miles.pieces) == "jazz-base"  # velocities and chords
    assert matching_base(piece.score for piece in cello.pieces) == "base"  # notation


def test_bars_a_seeds_last_note_is_held_into_keep_the_seeds_last_chord(tokenizer):
    from core.composing.generation import prompt_ids
    from core.learning.checkpoint import LoadedModel  # noqa: F401  (prompt_ids reads only .tokenizer)

    score = _solo()
    score.tracks[0].notes[-1].duration = 480 * 6  # the last note (bar 2, beat 4) rings through bar 3 into bar 4

    class Loaded:
        pass

    loaded = Loaded()
    loaded.tokenizer = tokenizer
    ids = prompt_ids(loaded, score, None)
    per_bar = {}
    for bar, _, chord in tokenizer.chords_of(ids):
        per_bar.setdefault(bar, []).append(chord)
    assert sorted(per_bar) == [0, 1, 2, 3]
    assert per_bar[2] == per_bar[3] == [Chord(C, "min")] * 4  # the seed ends on Cm7, and so do they
