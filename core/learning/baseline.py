"""The n-gram a training run has to beat, scored on the run's own validation windows.

A transformer that cannot beat a smoothed 4-gram on the same tokens has learned nothing a
count table would not (issue 17). `ngram_baseline` prepares a run's data as `core.learning.training.train`
does (the same TrainConfig: corpus, split, tokenizer, key mode, transpositions; a fine-tune's
tokenizer is its base model's, a resumed run's its own), fits `NGramModel` on the training
pieces at every transposition the model sees, and scores it on exactly the validation windows
a validation pass scores (`evaluation_windows`): its loss per note compares with
`EvalResult.loss_per_note` directly. `core.judging.evaluation.learning_figures` fits and scores the same
way on a finished run's held-out pieces.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.judging.metrics.ngram import NGramModel

ORDER = 4  # the baseline the issue names: a 4-gram


@dataclass(frozen=True)
class NGramBaseline:
    """An n-gram's figures on a run's validation windows (nats; a note = one Pitch written)."""

    order: int
    loss: float  # cross-entropy per token
    loss_per_note: float  # summed cross-entropy over the notes the targets write
    per_type: dict  # token type -> loss per token of that type
    tokens: int
    notes: int
    validation_pieces: int

    @property
    def name(self) -> str:
        return f"{self.order}-gram"


def training_sequences(pieces: Sequence, tokenizer, max_shift: int) -> list[list[int]]:
    """Model ids of the training pieces at every transposition training draws from (BPE pieces
    carry theirs encoded already): what the n-gram counts."""
    sequences = []
    for piece in pieces:
        if piece.variants is not None:
            sequences += [ids.tolist() for ids, _ in piece.variants.values()]
            continue
        for shift in piece.shifts if max_shift else [0]:
            sequences.append(tokenizer.transpose_ids(piece.ids, shift).tolist())
    return sequences


def score_windows(ngram: NGramModel, tokenizer, x, y) -> tuple:
    """The n-gram's TokenScores on evaluation windows (x, y: (N, T) tensors, targets IGNORE-padded),
    and the number of notes their targets write. Each window is scored from its own first token,
    as the transformer sees it."""
    from core.learning.dataset import IGNORE

    windows = []
    for row_x, row_y in zip(x.numpy(), y.numpy(), strict=True):
        targets = row_y[row_y != IGNORE]
        if len(targets):
            windows.append([int(row_x[0]), *targets.tolist()])
    scores = ngram.evaluate(windows, token_type=tokenizer.token_type)
    notes = sum(int(tokenizer.notes_per_token[window[1:]].sum()) for window in windows)
    return scores, notes


def ngram_baseline(config, *, resume: bool = False, order: int = ORDER) -> NGramBaseline | None:
    """The n-gram's figures on the validation windows of the run `config` describes; None when
    the run has no validation pieces (a corpus of fewer than 3 pieces)."""
    from core.learning.dataset import evaluation_windows
    from core.learning.training import prepare_data, run_setup

    setup = run_setup(config, resume=resume)
    config = setup.config
    data = prepare_data(config, setup.tokenizer_settings)
    tokenizer = data.tokenizer
    x, y = evaluation_windows(data.validation, tokenizer, setup.shape.block_size, config.eval_windows)
    if not len(x):
        return None
    ngram = NGramModel(order, len(tokenizer)).fit(training_sequences(data.train, tokenizer, config.max_transpose))
    scores, notes = score_windows(ngram, tokenizer, x, y)
    return NGramBaseline(order, scores.loss, scores.loss * scores.tokens / notes if notes else float("nan"),
                         {kind: loss for kind, (loss, _) in scores.per_type.items()}, scores.tokens, notes,
                         len(data.validation))
