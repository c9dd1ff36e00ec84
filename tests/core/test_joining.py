"""The join guide: through an infill's last bar, new notes are drawn towards the first notes after
the span (core.composing.joining), more the later they start; elsewhere it adds nothing."""

from __future__ import annotations

import symusic
import torch

from core.composing.grammar import grammar_for, replay
from core.composing.joining import FREE, NATS_PER_SEMITONE, JoinGuide, next_onset_pitches
from core.learning.tokenizer import PartitaTokenizer


def state_in_bar(tokenizer: PartitaTokenizer, bars: int, position: int):
    """A grammar state `bars` bar lines in, at onset `position` of the last (4/4)."""
    grammar = grammar_for(tokenizer)
    vocab = tokenizer.inner.vocab
    ids = [tokenizer.bos_id]
    for _ in range(bars):
        ids += [vocab["Bar_None"], vocab["TimeSig_4/4"]]
    ids.append(vocab[f"Position_{position}"])
    return grammar, replay(grammar, ids)


def test_the_last_bar_leans_towards_the_next_onset_more_the_later_a_note_starts():
    tokenizer = PartitaTokenizer.create()
    grammar, early = state_in_bar(tokenizer, 3, 0)
    _, late = state_in_bar(tokenizer, 3, early.positions_per_bar - 1)
    guide = JoinGuide(grammar, last_bar=3, targets=[62])
    ids, early_bias = guide.bias(early, torch.Generator())
    _, late_bias = guide.bias(late, torch.Generator())
    by_pitch = {pitch: index for index, pitch in enumerate(sorted(grammar.pitch_ids))}
    assert torch.equal(ids, torch.tensor([grammar.pitch_ids[p] for p in sorted(grammar.pitch_ids)]))
    assert late_bias[by_pitch[62 + FREE]] == 0 and late_bias[by_pitch[62 - FREE]] == 0  # near: free
    assert late_bias[by_pitch[74]] == -NATS_PER_SEMITONE * (12 - FREE)  # an octave up, on the last position
    assert 0 > early_bias[by_pitch[74]] > late_bias[by_pitch[74]] / 100  # barely at the bar line
    _, other_bar = state_in_bar(tokenizer, 2, 0)
    assert guide.bias(other_bar, torch.Generator()) is None  # not the span's last bar: nothing


def test_the_next_onset_is_the_first_at_or_after_the_span_s_end():
    score = symusic.Score(480)
    track = symusic.Track()
    track.notes.extend([symusic.Note(0, 480, 60, 80), symusic.Note(1920, 480, 55, 80), symusic.Note(1920, 480, 67, 80),
                        symusic.Note(2400, 480, 40, 80)])
    score.tracks.append(track)
    assert next_onset_pitches(score, 1920) == [55, 67]
    assert next_onset_pitches(score, 1921) == [40]
    assert next_onset_pitches(score, 5000) == []


def test_join_out_of_range_is_refused_before_any_work(capsys, tmp_path):
    from core.cli import main

    assert main(["infill", str(tmp_path / "none.mid"), "--bars", "2", "--out", str(tmp_path / "o.mid"),
                 "--join", "-1"]) == 2
    assert "--join must be 0 to 10" in capsys.readouterr().err


def test_a_merged_token_pays_for_each_of_its_notes_as_late_as_its_last_position():
    import numpy as np

    base = PartitaTokenizer.create()
    vocab = base.inner.vocab
    quarter = vocab["Duration_1.0.24"]
    bar = [vocab["Bar_None"], vocab["TimeSig_4/4"], vocab["Position_48"], vocab["Pitch_74"], quarter, vocab["Pitch_50"], quarter]
    tokenizer = base.train_bpe(len(base) + 12, [np.array(bar * 40)])
    grammar, state = state_in_bar(tokenizer, 3, 0)
    merged = next(i for i, e in enumerate(tokenizer.expansions)
                  if vocab["Position_48"] in e and vocab["Pitch_74"] in e and vocab["Pitch_50"] in e)
    ids, bias = JoinGuide(grammar, last_bar=3, targets=[62]).bias(state, torch.Generator())
    through = (48 + 1) / state.positions_per_bar
    expected = -NATS_PER_SEMITONE * ((12 - FREE) + (12 - FREE)) * through**2  # an octave above and below
    assert torch.isclose(bias[ids.tolist().index(merged)], torch.tensor(expected))


def test_an_infill_pulls_as_asked_else_as_its_model_was_fitted_else_by_default():
    from types import SimpleNamespace

    from core.composing.generation import GenerationSettings
    from core.composing.infill import join_pull

    fitted = SimpleNamespace(config={"generation": {"sequences": 0.3, "join": 0.1}})
    plain = SimpleNamespace(config={})
    assert join_pull(fitted, GenerationSettings()) == 0.1  # the shipped cello model's own
    assert join_pull(fitted, GenerationSettings(join=0.0)) == 0.0  # --join 0: off, whatever the model says
    assert join_pull(plain, GenerationSettings()) == NATS_PER_SEMITONE
    assert join_pull(plain, GenerationSettings(join=2.0)) == 2.0
