"""Generation: the seed stays at the start, the requested bars come, streaming matches."""

from __future__ import annotations

import pytest

from core.composing.generation import (
    GenerationSettings,
    drain,
    generate,
    generate_variations,
    seed_end_of,
    stream_generation,
)
from core.composing.grammar import RemiGrammar, replay
from core.learning.checkpoint import load_model
from core.music.scores import load_score


@pytest.fixture(scope="module")
def loaded(trained_run):
    return load_model(trained_run[0])


@pytest.fixture(scope="module")
def seed(cello_xml_dir):
    return load_score(cello_xml_dir / "BWV1007_01_Prelude.mxl")


def test_continuation_keeps_the_seed_and_writes_the_requested_bars(loaded, seed):
    take = generate(loaded, seed, GenerationSettings(bars=3, prompt_bars=2, random_seed=1))
    score = take.score
    assert len(score.get_downbeats()) == 5  # 2 seed bars + 3 new ones
    bar = score.tpq * 4
    assert score.end() <= 5 * bar
    seed_notes = [(n.time * score.tpq // seed.tpq, n.pitch) for n in seed.tracks[0].notes if n.time < 2 * seed.tpq * 4]
    written = [(n.time, n.pitch) for n in score.tracks[0].notes]
    assert written[:len(seed_notes)] == seed_notes
    assert seed_end_of(score) == take.seed_end_tick >= 2 * bar - score.tpq
    assert len(written) > len(seed_notes)  # something was written after the seed
    # the file round-trips through MIDI with its marker
    import symusic

    again = symusic.Score.from_midi(score.dumps_midi())
    assert seed_end_of(again) == take.seed_end_tick


def test_same_seed_same_music_and_variations_differ(loaded, seed):
    settings = GenerationSettings(bars=2, prompt_bars=1, random_seed=7)
    a, b = generate(loaded, seed, settings), generate(loaded, seed, settings)
    assert a.ids == b.ids
    takes = generate_variations(loaded, seed, settings, 3)
    assert len({tuple(t.ids) for t in takes}) == 3
    for take in takes:
        assert len(take.score.get_downbeats()) == 3


def test_streamed_notes_are_the_notes_of_the_take(loaded):
    events = []
    sequences = drain(stream_generation(loaded, None, GenerationSettings(bars=2, random_seed=3)), events.append)
    streamed = [(n.time, n.pitch, n.duration) for e in events for n in e.notes]
    grammar = RemiGrammar(loaded.tokenizer)
    state = replay(grammar, sequences[0])
    assert streamed == [(n.time, n.pitch, n.duration) for n in state.notes]
    decoded = loaded.tokenizer.decode(sequences[0])
    assert sorted((n.time, n.pitch) for n in decoded.tracks[0].notes) == sorted((t, p) for t, p, _ in streamed)


def test_every_sampled_sequence_obeys_the_grammar(loaded):
    """Even at a high temperature (where an unmasked model writes nonsense), decoding is clean."""
    sequences = drain(stream_generation(loaded, None, GenerationSettings(bars=4, temperature=3.0, top_p=1.0, random_seed=5),
                                        variations=4))
    eos = loaded.tokenizer.eos_id
    bodies = [s[1:s.index(eos)] if eos in s else s[1:] for s in sequences]  # rows that end early pad with EOS
    errors = loaded.tokenizer.inner.tokens_errors(bodies)
    assert max(errors) == 0


def test_cancel_stops_the_stream(loaded):
    seen = []
    for event in stream_generation(loaded, None, GenerationSettings(bars=50, random_seed=1), cancel=lambda: len(seen) >= 10):
        seen.append(event)
    assert len(seen) == 10


def test_masks_and_draws_run_on_one_thread_and_the_caller_keeps_its_threads(loaded, seed, monkeypatch):
    """A token's CPU work is too small to share: built with two threads, BPE masks kept the other
    core spinning for the whole take (CPU time 1.4x wall). The caller's setting is restored."""
    import torch

    import core.composing.generation as generation

    seen = []
    allowed, draw = generation.ContinuationWriter.allowed, generation.sample_next_token
    monkeypatch.setattr(generation.ContinuationWriter, "allowed",
                        lambda self: seen.append(("mask", torch.get_num_threads())) or allowed(self))
    monkeypatch.setattr(generation, "sample_next_token",
                        lambda *a, **k: seen.append(("draw", torch.get_num_threads())) or draw(*a, **k))
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        for _ in stream_generation(loaded, seed, GenerationSettings(bars=1, prompt_bars=1, random_seed=2)):
            assert torch.get_num_threads() == 2  # between tokens, the caller's threads
    finally:
        torch.set_num_threads(previous)
    assert {kind for kind, _ in seen} == {"mask", "draw"} and {threads for _, threads in seen} == {1}


def test_variations_survive_the_window_sliding_when_rows_finish_at_different_times(loaded, seed):
    """Rows that end early keep the batch rectangular; the context (128 tokens) slides many times."""
    settings = GenerationSettings(bars=6, prompt_bars=2, random_seed=6)
    takes = generate_variations(loaded, seed, settings, 6)
    for take in takes:
        assert len(take.score.get_downbeats()) == 8
        assert take.ids.count(loaded.tokenizer.eos_id) == 1 and take.ids[-1] == loaded.tokenizer.eos_id


def test_the_continuation_never_adds_notes_to_the_seeds_last_chord(loaded, seed):
    """Even a model that wants nothing but more pitches starts the continuation at a later onset,
    and the take's marker sits where the seed's notes end."""
    import torch

    from core.learning.checkpoint import LoadedModel
    from core.learning.model import Transformer

    pitch_ids = torch.tensor(loaded.tokenizer.ids_of_type("Pitch"))

    class PitchLover(Transformer):
        def forward(self, *args, **kwargs):
            logits, loss = super().forward(*args, **kwargs)
            logits[..., pitch_ids] += 20.0
            return logits, loss

    model = PitchLover(loaded.model.config).eval()
    model.load_state_dict(loaded.model.state_dict())
    chordy = LoadedModel(model, loaded.tokenizer, loaded.config, loaded.run_dir, loaded.weights)
    take = generate(chordy, seed, GenerationSettings(bars=1, prompt_bars=2, random_seed=0))
    seed_state = replay(RemiGrammar(loaded.tokenizer), take.ids[:take.seed_tokens])
    last_onset = max(n.time for n in seed_state.notes)
    new_notes = take.score.tracks[0].notes[len(seed_state.notes):]
    assert new_notes and min(n.time for n in new_notes) > last_onset
    assert take.seed_end_tick == min([max(n.time + n.duration for n in seed_state.notes)] + [n.time for n in new_notes])


def test_a_take_from_scratch_is_marked_from_its_start(loaded):
    assert generate(loaded, None, GenerationSettings(bars=1, random_seed=2)).seed_end_tick == 0


def test_a_seed_cut_before_its_first_note_is_refused_with_the_bar_it_starts_in(loaded, seed):
    from core.composing.generation import SeedError

    late = seed.shift_time(3 * seed.tpq * 4)  # three bars of rest first (BWV 1007 is in 4/4)
    with pytest.raises(SeedError, match="first 2 bars of the seed hold no notes \\(its first note is in bar 4\\)"):
        generate(loaded, late, GenerationSettings(bars=1, prompt_bars=2, random_seed=0))


def test_bars_of_rest_that_close_the_seed_count_as_seed(loaded, seed):
    import symusic

    bar = seed.tpq * 4  # BWV 1007 is in 4/4
    two_bars_then_rests = seed.clip(0, 2 * bar, clip_end=True)
    two_bars_then_rests.tracks[0].notes.append(symusic.Note(5 * bar, seed.tpq, 60, 80))  # in bar 6, cut off below
    take = generate(loaded, two_bars_then_rests, GenerationSettings(bars=2, prompt_bars=4, random_seed=0))
    score = take.score
    assert len(score.get_downbeats()) == 6  # 4 seed bars (2 of them rests) + 2 new ones
    new_notes = score.tracks[0].notes[len(replay(RemiGrammar(loaded.tokenizer), take.ids[:take.seed_tokens]).notes):]
    # like any seed's last bar, the fourth is the continuation's to fill; the third stays silent
    assert new_notes and min(n.time for n in new_notes) >= 3 * score.tpq * 4


def test_prompt_bars_0_means_no_seed(loaded, seed):
    from core.composing.generation import prompt_ids

    assert prompt_ids(loaded, seed, 0) == [loaded.tokenizer.bos_id]


def test_a_takes_judged_part_starts_at_the_bar_of_its_first_new_note():
    """The seed ends mid-bar and the continuation opens a new bar: the seed's last bar is not
    judged as generated music."""
    import symusic

    from core.judging.evaluation import continuation

    take = symusic.Score(480)
    take.time_signatures.append(symusic.TimeSignature(0, 4, 4))
    track = symusic.Track()
    track.notes.extend([symusic.Note(0, 480, 55, 80), symusic.Note(1920, 480, 57, 80),  # the seed, 2 beats
                        symusic.Note(3840, 480, 60, 80)])  # the first new note, in bar 3
    take.tracks.append(track)
    judged = continuation(take, seed_end_tick=2400)
    assert [(n.time, n.pitch) for n in judged.tracks[0].notes] == [(0, 60)]


def test_evaluation_seeds_from_pieces_that_start_late_fall_back_to_no_seed(loaded, seed):
    """A jazz solo's first note may come after the bars evaluation gives as its seed."""
    from core.judging.evaluation import EvaluationSettings, generate_pieces, ngram_pieces
    from core.judging.metrics.ngram import NGramModel

    late = seed.shift_time(3 * seed.tpq * 4)
    settings = EvaluationSettings(generate=1, bars=1, prompt_bars=2)
    assert len(generate_pieces(loaded, [late], settings)) == 1
    ngram = NGramModel(2, len(loaded.tokenizer)).fit([[loaded.tokenizer.bos_id, *loaded.tokenizer.encode(seed)]])
    assert len(ngram_pieces(ngram, loaded, [late], 1, settings)) == 1


def test_a_streamed_note_held_past_the_last_bar_line_ends_at_it_as_in_the_take():
    """The decoded take ends such a note at the piece's last bar line; the stream (what the
    window shows, plays and exports) must too, or a take runs past the bars asked for."""
    from core.composing.generation import ContinuationWriter
    from core.learning.tokenizer import PartitaTokenizer

    tokenizer = PartitaTokenizer.create()
    vocab, tpq = tokenizer.inner.vocab, tokenizer.ticks_per_quarter
    seed = [vocab[t] for t in ("Bar_None", "TimeSig_4/4", "Position_0", "Pitch_60", "Duration_1.0.24")]
    grammar = RemiGrammar(tokenizer)
    writer = ContinuationWriter(grammar, seed, [], last_bar=1, keep_meter=True)  # only the rest of bar 1 to write
    for name in ("Position_72", "Pitch_64"):  # beat 4
        writer.write(vocab[name])
    _, notes = writer.write(vocab["Duration_4.0.4"])  # four beats: three past the bar line
    assert [(n.time, n.duration, n.pitch) for n in notes] == [(3 * tpq, tpq, 64)]
    longer = ContinuationWriter(grammar, seed, [], last_bar=2, keep_meter=True)  # one more bar: it fits
    for name in ("Position_72", "Pitch_64"):
        longer.write(vocab[name])
    _, notes = longer.write(vocab["Duration_4.0.4"])
    assert [(n.time, n.duration, n.pitch) for n in notes] == [(3 * tpq, 4 * tpq, 64)]
