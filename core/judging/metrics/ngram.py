"""A smoothed n-gram model on token ids: the baseline a transformer has to beat.

Interpolated absolute discounting (Ney et al. 1994; Kneser-Ney without continuation counts):

    P(w | h) = max(c(h, w) - D, 0) / c(h) + D * N1+(h .) / c(h) * P(w | h')

where h' drops the oldest token of h, and the recursion ends in a uniform distribution over
the vocabulary, so no token ever gets probability zero. Evaluated exactly like the
transformer: cross-entropy in nats per predicted token, perplexity, next-token accuracy
(argmax), overall and per token type.
"""

from __future__ import annotations

import math
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

DISCOUNT = 0.75
# Longest n-gram counted. Every training token adds a context of each length below the order:
# about 0.7 KB per token at order 4 and 2.2 KB at order 8 when contexts are new (measured on
# random tokens); an order of 100,000 grows as the square of a piece's length (issue 22). On
# music tokens (2-4 per note) an 8-gram already spans two or three notes.
MAX_ORDER = 8
# Next-token distributions (vocab_size floats each) kept while scoring, the least recently used dropped: the
# held-out tokens can hold ~100,000 distinct contexts, 300 MB at a vocabulary of 400.
CACHED_CONTEXTS = 4096


@dataclass(frozen=True)
class TokenScores:
    """Cross-entropy (nats/token), perplexity and next-token accuracy, overall and per token type."""

    loss: float
    perplexity: float
    accuracy: float
    tokens: int
    per_type: dict[str, tuple[float, float]] = field(default_factory=dict)  # type -> (loss, accuracy)

    def to_json(self) -> dict:
        return asdict(self)


class NGramModel:
    """Counts of every context of length 0..order-1 and the tokens that follow it."""

    def __init__(self, order: int, vocab_size: int, discount: float = DISCOUNT):
        if not 1 <= order <= MAX_ORDER:
            raise ValueError(f"n-gram order must be between 1 and {MAX_ORDER}, not {order}")
        self.order, self.vocab_size, self.discount = order, vocab_size, discount
        self.counts: list[dict[tuple, Counter]] = [defaultdict(Counter) for _ in range(order)]

    def fit(self, sequences: Sequence[Sequence[int]]) -> NGramModel:
        for sequence in sequences:
            tokens = [int(t) for t in sequence]
            for i, token in enumerate(tokens):
                for k in range(self.order):  # context length k
                    if i - k < 0:
                        break
                    self.counts[k][tuple(tokens[i - k:i])][token] += 1
        return self

    def distribution(self, context: Sequence[int]) -> np.ndarray:
        """(vocab_size,) probabilities of the next token after `context`."""
        prob = np.full(self.vocab_size, 1.0 / self.vocab_size)
        context = tuple(int(t) for t in context[max(0, len(context) - self.order + 1):])
        for k in range(0, min(len(context), self.order - 1) + 1):
            following = self.counts[k].get(context[len(context) - k:] if k else ())
            if not following:
                break  # a longer context that never occurred adds nothing
            total = sum(following.values())
            tokens = np.fromiter(following.keys(), dtype=np.int64)
            values = np.fromiter(following.values(), dtype=float)
            discounted = np.zeros(self.vocab_size)
            discounted[tokens] = np.maximum(values - self.discount, 0) / total
            prob = discounted + self.discount * len(following) / total * prob
        return prob

    def evaluate(self, sequences: Sequence[Sequence[int]],
                 token_type: Callable[[int], str] | None = None) -> TokenScores:
        """Score every token after the first of each sequence (as a causal model is scored)."""
        losses, hits, types = [], [], []
        cache: OrderedDict[tuple, np.ndarray] = OrderedDict()  # at most CACHED_CONTEXTS, least recent first
        for sequence in sequences:
            tokens = [int(t) for t in sequence]
            for i in range(1, len(tokens)):
                context = tuple(tokens[max(0, i - self.order + 1):i])
                prob = cache.get(context)
                if prob is None:
                    prob = cache[context] = self.distribution(context)
                    if len(cache) > CACHED_CONTEXTS:
                        cache.popitem(last=False)
                else:
                    cache.move_to_end(context)
                losses.append(-math.log(prob[tokens[i]]))
                hits.append(int(np.argmax(prob)) == tokens[i])
                types.append(token_type(tokens[i]) if token_type else "")
        if not losses:
            return TokenScores(math.nan, math.nan, math.nan, 0)
        losses_arr, hits_arr, types_arr = np.array(losses), np.array(hits), np.array(types)
        per_type = {}
        if token_type:
            for kind in sorted(set(types)):
                mask = types_arr == kind
                per_type[kind] = (float(losses_arr[mask].mean()), float(hits_arr[mask].mean()))
        loss = float(losses_arr.mean())
        return TokenScores(loss, math.exp(loss), float(hits_arr.mean()), len(losses), per_type)
