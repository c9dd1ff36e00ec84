"""BPE: model tokens that stand for several base tokens of one bar. Lossless both ways, learned
from the training pieces only, and masked by the grammar so that every token it allows spells
base tokens the REMI grammar allows one by one."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from conftest import TINY

from core.composing.grammar import RemiGrammar
from core.learning.dataset import BatchSampler, tokenize_pieces
from core.learning.tokenizer import PartitaTokenizer, TokenizerSettings, settings_for
from core.music.corpus import import_corpus


@pytest.fixture(scope="module")
def trio(cello_trio):
    corpus = import_corpus(str(cello_trio))
    # (the base vocabulary of a BPE one: without controls, which BPE leaves out)
    base = PartitaTokenizer.create(replace(settings_for([p.score for p in corpus.pieces]), use_controls=False))
    pieces = tokenize_pieces(corpus.pieces, base, corpus.pitch_range, 0)
    bpe = base.train_bpe(900, [p.ids[1:-1] for p in pieces])
    return corpus, base, pieces, bpe


def test_bpe_is_lossless_shorter_and_saved_with_the_settings(trio):
    corpus, base, pieces, bpe = trio
    assert len(bpe) == 900 and bpe.bpe and not base.bpe
    again = PartitaTokenizer.create(TokenizerSettings.from_json(json.loads(json.dumps(bpe.settings.to_json()))))
    total = compressed = 0
    for piece in pieces:
        model_ids = again.to_model_ids(piece.ids)
        assert again.expand(model_ids) == piece.ids.tolist()  # BOS and EOS included
        assert np.array_equal(model_ids, bpe.to_model_ids(piece.ids))
        assert bpe.expansions[model_ids[1]][0] == base.inner.vocab["Bar_None"]  # a bar opens a token
        total, compressed = total + len(piece.ids), compressed + len(model_ids)
    assert total / compressed > 1.5, total / compressed
    merged = [e for e in bpe.expansions[len(base.tokens):]]
    assert merged and all(len(e) > 1 for e in merged)
    bar = base.inner.vocab["Bar_None"]
    assert all(bar not in e[1:] for e in merged)  # merges never cross a bar line
    assert bpe.settings_digest() == base.settings_digest()  # the cache of base ids is shared


def test_every_token_the_mask_allows_spells_base_tokens_the_grammar_allows(trio):
    _, base, pieces, bpe = trio
    grammar, base_grammar = RemiGrammar(bpe), RemiGrammar(base)
    rng = np.random.default_rng(0)
    for walk in range(6):
        seed = pieces[walk % len(pieces)].ids[: 40 + 30 * walk].tolist()
        state, check = grammar.new_state(), base_grammar.new_state()
        for token in seed:
            state.feed(token)
            check.feed(token)
        options = {"min_bars": check.bars + 3, "keep_meter": walk % 2 == 0}
        merged_used = 0
        for step in range(300):
            allowed = state.allowed(new_onset=step == 0, **options)
            base_allowed = check.allowed(new_onset=step == 0, **options)
            assert torch.equal(allowed[: len(base.tokens)], base_allowed)  # base tokens: the REMI mask
            choice = int(rng.choice(np.flatnonzero(allowed.numpy())))
            merged_used += choice >= len(base.tokens)
            for i, base_id in enumerate(bpe.expansions[choice]):
                mask = check.allowed(new_onset=step == 0 and i == 0, **options)
                assert mask[base_id], (walk, step, bpe.model_tokens[choice], base.tokens[base_id])
                check.feed(base_id)
            state.feed_model(choice)
            assert (state.position, state.bars, state.time_signature) == (check.position, check.bars,
                                                                           check.time_signature)
            if state.finished:
                break
        assert merged_used > 10  # the walk did use merged tokens


def test_transposed_copies_are_encoded_per_shift_and_windows_open_bars(trio):
    corpus, base, _, bpe = trio
    pieces = tokenize_pieces(corpus.pieces, bpe, corpus.pitch_range, 3)
    for piece in pieces:
        assert piece.variants is not None and sorted(piece.variants) == sorted(piece.shifts) and len(piece.shifts) > 1
        for shift, (ids, starts) in piece.variants.items():
            unshifted = bpe.expand(piece.variants[0][0])
            assert bpe.expand(ids) == base.transpose_ids(np.array(unshifted), shift).tolist()
            assert all(starts[0] == 0 and bpe.opens_bar[ids[s]] for s in starts[1:])
    sampler = BatchSampler(pieces, bpe, 64, 8, seed=0, augment=True, pack=True)
    x, _ = sampler.batch(0)
    assert int(x.max()) < len(bpe) and any(int(i) >= len(base.tokens) for i in x.flatten())


def test_a_bpe_run_trains_resumes_and_composes(tmp_path, cello_trio):
    from core.composing.generation import GenerationSettings, generate_variations, prompt_ids
    from core.learning.checkpoint import load_model
    from core.learning.training import TrainConfig, TrainDone, train

    def config(steps):
        return TrainConfig(data=str(cello_trio), out=str(tmp_path / "run"), model_overrides=TINY, steps=steps,
                           batch_size=4, eval_every=4, warmup_steps=2, bpe_vocab_size=900)

    list(train(config(4)))
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["tokenizer"]["bpe_vocab_size"] == 900 and saved["model"]["vocab_size"] == 900
    assert list(train(config(8), resume=True))[-1] == TrainDone(8, False, str(tmp_path / "run"),
                                                               *_best(tmp_path / "run"))
    loaded = load_model(tmp_path / "run")
    assert loaded.tokenizer.bpe and loaded.tokenizer.settings == PartitaTokenizer.create(
        TokenizerSettings.from_json(saved["tokenizer"])).settings
    prompt = import_corpus(str(cello_trio)).pieces[0].score
    takes = generate_variations(loaded, prompt, GenerationSettings(bars=3, prompt_bars=2, random_seed=3), 2)
    seed = prompt_ids(loaded, prompt, 2)
    for take in takes:
        assert len(take.score.get_downbeats()) == 5 and take.score.tracks[0].notes
        assert take.ids[: take.seed_tokens] == seed  # the seed's last bar, spelled again, is the seed's
    cut_short = generate_variations(loaded, prompt, GenerationSettings(bars=3, prompt_bars=2, random_seed=3, max_tokens=1))
    assert cut_short[0].ids[: cut_short[0].seed_tokens] == seed  # stopped while spelling it: the seed whole


def test_the_seed_s_last_bar_is_spelled_again_as_training_would_tokenise_it(trio):
    """A seed cut inside a bar: the model reads up to the bar line, then tokens that spell the rest
    of the seed (or all of it and go on): never the cut bar's own, untrained tokenisation."""
    from core.composing.generation import seed_for_model

    _, base, pieces, bpe = trio
    ids = pieces[0].ids.tolist()
    bar = base.inner.vocab["Bar_None"]
    bar_lines = [i for i, t in enumerate(ids) if t == bar]
    seed = ids[: bar_lines[3] + 2]  # three bars and a bar line with its meter (a bar of rest opened)
    read, respell = seed_for_model(bpe, seed)
    assert bpe.expand(read) == seed[: bar_lines[3]] and respell == seed[bar_lines[3]:]
    assert seed_for_model(base, seed) == (seed, [])
    grammar = RemiGrammar(bpe)
    state = grammar.new_state()
    for token in seed[: bar_lines[3]]:
        state.feed(token)
    mask = state.respelling(respell)
    allowed = [bpe.expansions[i] for i in np.flatnonzero(mask.numpy())]
    assert (respell[0],) in allowed and any(len(e) > len(respell) for e in allowed)  # on past the seed
    for spelled in allowed:
        common = min(len(spelled), len(respell))
        assert list(spelled[:common]) == respell[:common]


def _best(run):
    best = json.loads((run / "config.json").read_text())["training"]["best"]
    return best["step"], best["loss"]


def test_a_merge_that_sounds_one_pitch_twice_at_once_is_never_allowed():
    """Merged tracks hold unisons (two voices on one note): BPE learns them, the grammar refuses them."""
    base = PartitaTokenizer.create()
    vocab = base.inner.vocab
    bar_open = [vocab["Bar_None"], vocab["TimeSig_4/4"], vocab["Position_0"]]
    unison = [vocab["Pitch_59"], vocab["Duration_1.0.24"], vocab["Pitch_59"], vocab["Duration_1.0.24"]]
    bpe = base.train_bpe(len(base) + 12, [np.array((bar_open + unison) * 50)])
    doubled = [i for i, e in enumerate(bpe.expansions) if list(e).count(vocab["Pitch_59"]) == 2]
    assert doubled, "the merge this test is about was not learned"
    grammar = RemiGrammar(bpe)
    phrase = bar_open + unison
    for token in doubled:  # each where it was learned: after the base tokens before it in the phrase
        spelled = list(bpe.expansions[token])
        start = next(k for k in range(len(phrase)) if phrase[k:k + len(spelled)] == spelled)
        state = grammar.new_state()
        for base_id in phrase[:start]:
            state.feed(base_id)
        assert state.allowed()[spelled[0]]  # its first note (or bar line) alone would be fine
        assert not state.allowed()[token], bpe.model_tokens[token]


def test_no_note_starts_over_a_sounding_note_of_its_pitch_whole_or_merged():
    """A second note of a pitch while the first still sounds (two voices of a merged track in
    unison): a MIDI file cannot hold both. The grammar refuses it at the token's first position and
    at any later one inside a merged token."""
    base = PartitaTokenizer.create()
    vocab = base.inner.vocab
    opening = [vocab["Bar_None"], vocab["TimeSig_4/4"], vocab["Position_0"], vocab["Pitch_59"], vocab["Duration_2.0.24"]]
    state = RemiGrammar(base).new_state()
    for token in opening + [vocab["Position_24"]]:  # beat 2: the half note still sounds
        state.feed(token)
    allowed = state.allowed()
    assert not allowed[vocab["Pitch_59"]] and allowed[vocab["Pitch_60"]]
    state = RemiGrammar(base).new_state()
    for token in opening + [vocab["Position_48"]]:  # beat 3: it has ended
        state.feed(token)
    assert state.allowed()[vocab["Pitch_59"]]
    restrike = [vocab["Position_24"], vocab["Pitch_59"], vocab["Duration_1.0.24"]]
    bpe = base.train_bpe(len(base) + 12, [np.array((opening + restrike) * 50)])
    over = [i for i, e in enumerate(bpe.expansions) if len(e) > 1 and tuple(restrike[:2]) in zip(e, e[1:], strict=False)]
    assert over, "the merge this test is about was not learned"
    grammar = RemiGrammar(bpe)
    for token in over:
        spelled = list(bpe.expansions[token])
        phrase = opening + restrike
        start = next(k for k in range(len(phrase)) if phrase[k:k + len(spelled)] == spelled)
        state = grammar.new_state()
        for base_id in phrase[:start]:
            state.feed(base_id)
        assert state.allowed()[spelled[0]]  # its first token alone would be fine
        assert not state.allowed()[token], bpe.model_tokens[token]


def test_resuming_a_run_from_before_bpe_keeps_its_vocabulary(tmp_path, cello_trio, capsys):
    from core.cli import main

    run = tmp_path / "run"
    tiny = [f"--set={name}={value}" for name, value in TINY.items()]
    assert main(["train", "--data", str(cello_trio), "--out", str(run), "--steps", "2", "--eval-every", "2",
                 "--batch-size", "2", *tiny]) == 0
    config = json.loads((run / "config.json").read_text())
    del config["train"]["bpe_vocab_size"]  # as runs saved before BPE are
    (run / "config.json").write_text(json.dumps(config))
    assert main(["train", "--out", str(run), "--resume", "--steps", "4", "--bpe", "800"]) == 2
    assert "with --bpe 800: the run was started with 0" in capsys.readouterr().err  # named as the option
    assert main(["train", "--out", str(run), "--resume", "--steps", "4"]) == 0
    assert json.loads((run / "config.json").read_text())["model"]["vocab_size"] == config["model"]["vocab_size"]
    capsys.readouterr()
    assert main(["train", "--data", str(cello_trio), "--out", str(tmp_path / "bpe"), "--steps", "1",
                 "--batch-size", "2", "--bpe", "900", *tiny]) == 0
    assert ", 900 tokens (BPE) on cpu" in capsys.readouterr().out


def test_the_loss_per_note_counts_the_notes_each_target_writes(trio):
    """Per token, BPE and REMI losses do not compare; per note (a Pitch each) they do."""
    from core.learning.model import ModelConfig, Transformer
    from core.learning.training import evaluate

    _, base, _, bpe = trio
    two_notes = next(i for i, e in enumerate(bpe.expansions) if bpe.notes_per_token[i] == 2)
    pitch = base.inner.vocab["Pitch_60"]
    assert bpe.notes_per_token[pitch] == 1 and bpe.notes_per_token[base.inner.vocab["Bar_None"]] == 0
    torch.manual_seed(0)
    model = Transformer(ModelConfig(vocab_size=len(bpe), block_size=8, n_layer=1, n_head=2, n_embd=16))
    x = torch.tensor([[bpe.bos_id, pitch, two_notes, pitch]])
    y = torch.tensor([[pitch, two_notes, base.inner.vocab["Bar_None"], -100]])  # 3 targets, 3 notes
    result = evaluate(model, bpe, x, y)
    assert result.tokens == 3 and result.loss_per_note == pytest.approx(result.loss * 3 / 3)
    y[0, 2] = pitch  # 3 targets, 4 notes
    result = evaluate(model, bpe, x, y)
    assert result.loss_per_note == pytest.approx(result.loss * 3 / 4)


def test_no_position_is_offered_where_every_pitch_of_the_range_is_still_held():
    """A range of one pitch and a half note: a Position inside the half note could be followed by no
    pitch at all (the mask would be empty), so the next note's Position comes when it has ended."""
    from core.music.limits import InstrumentLimits

    base = PartitaTokenizer.create()
    vocab = base.inner.vocab
    state = RemiGrammar(base).new_state(InstrumentLimits(None, 60, 60))
    for token in [vocab["Bar_None"], vocab["TimeSig_4/4"], vocab["Position_0"], vocab["Pitch_60"], vocab["Duration_2.0.24"]]:
        state.feed(token)
    allowed = state.allowed()
    assert not allowed[vocab["Position_24"]] and allowed[vocab["Position_48"]]
    state.feed(vocab["Position_48"])
    allowed = state.allowed()
    assert allowed[vocab["Pitch_60"]] and allowed.sum() == 1
