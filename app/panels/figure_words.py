"""The evaluation report's figures in words a musician reads: a plain label for each headline
row and a sentence or two on what it measures (issue 20, item 11: "JS", "mgeval overlap (mean
OA)" and "mgeval KL" meant nothing to a new user, and the tooltips only said which way is better).

Keyed by the row's `key` (`core.judging.report.data.HEADLINE_ROWS`' path, or learning.<figure>), so the
report's own labels may change without the words going stale; the technical name stays at the
end of each description for those who know it.
"""

from __future__ import annotations

from core.judging.metrics.originality import CopyThresholds

_COPY = CopyThresholds()
_DISTANCE = "0 = the same habits as the corpus, 1 = nothing in common"

# key -> (label, what the figure measures)
FIGURE_WORDS: dict[str, tuple[str, str]] = {
    "learning.loss": (
        "Surprise at unseen music (per token)",
        "How surprised the model is, on average, by each next token of corpus pieces it never trained on "
        "(0 would be certainty). The n-gram baseline column is a simple model that only counts which tokens "
        "followed the last few; a model that has learnt something scores lower. (Held-out cross-entropy, "
        "nats per token.)"),
    "learning.loss_per_note": (
        "Surprise at unseen music (per note)",
        "The same surprise added up over the tokens that write each note: comparable between models whose "
        "tokens differ (a merged vocabulary writes a note in fewer tokens). (Held-out cross-entropy, nats "
        "per note.)"),
    "learning.accuracy": (
        "Next token guessed right",
        "How often the model's most likely next token is the one the unseen corpus piece really has. "
        "(Held-out next-token accuracy.)"),
    "distances.style": (
        "Style distance from the corpus",
        f"How differently the pieces move from note to note than the corpus does: the mean of the four "
        f"distances below (scale steps, melodic steps, note lengths, place in the bar); {_DISTANCE}. "
        "(Mean Jensen-Shannon divergence, bits.)"),
    "distances.js_interval_transitions": (
        "Melodic steps, one after another",
        f"How differently each melodic step (up or down, in semitones) leads to the next one than in the "
        f"corpus; {_DISTANCE}. (Jensen-Shannon divergence of interval transitions, bits.)"),
    "distances.js_pitch_class_transitions": (
        "Scale degrees, one after another",
        f"How differently each scale degree, counted from the piece's key, moves to the next than in the "
        f"corpus; {_DISTANCE}. (Jensen-Shannon divergence of scale-degree transitions, bits.)"),
    "distances.js_duration_transitions": (
        "Note lengths, one after another",
        f"How differently each note value (sixteenth, eighth, quarter, ...) leads to the next than in the "
        f"corpus; {_DISTANCE}. (Jensen-Shannon divergence of duration transitions, bits.)"),
    "distances.js_metric_position_histogram": (
        "Where notes fall in the bar",
        f"How differently the notes' onsets spread over the bar (downbeats, off-beats, sixteenths) than in "
        f"the corpus; {_DISTANCE}. (Jensen-Shannon divergence of metric positions, bits.)"),
    "mgeval_summary.mean_overlap": (
        "Blends in with the corpus (overlap)",
        "How far these pieces lie from the corpus pieces, against how far the corpus pieces lie from each "
        "other, in six features (melodic step size, time between notes, use of scale degrees and note "
        "lengths and their successions): how much the two spreads of distances overlap, 1 = as alike as "
        "the corpus pieces are to each other, 0 = nothing alike. (Yang & Lerch's mgeval, mean overlapping "
        "area.)"),
    "mgeval_summary.mean_kl": (
        "Stands apart from the corpus (divergence)",
        "The same comparison as the overlap above, as a divergence: how much the distances from these "
        "pieces to the corpus differ from the distances among the corpus pieces; 0 = not at all. (Yang & "
        "Lerch's mgeval, mean Kullback-Leibler divergence, bits.)"),
    "metrics.scale_consistency": (
        "Notes in one scale",
        "The share of notes that fit the best-fitting major or minor scale. Compare with the held-out real "
        "column: the corpus's own music is rarely at 1. (Scale consistency.)"),
    "metrics.in_key_rate": (
        "Notes in the key",
        "The share of notes whose pitch class belongs to the piece's estimated key."),
    "metrics.quantized_groove_consistency": (
        "Same rhythm from bar to bar",
        "How alike neighbouring bars' rhythms are, on a grid of sixteenths and triplets: 1 = every bar has "
        "its notes in the same places. (Groove consistency.)"),
    "metrics.pitch_class_entropy": (
        "Variety of pitch classes (bits)",
        "How evenly the notes spread over the twelve pitch classes: 0 = one pitch class only, 3.58 = all "
        "twelve equally often. (Pitch-class entropy.)"),
    "metrics.duration_entropy": (
        "Variety of note lengths (bits)",
        "How evenly the notes spread over the note values (sixteenth, eighth, quarter, ...): 0 = one length "
        "only. (Duration entropy.)"),
    "metrics.chord_fit": (
        "Notes outline chords",
        "How much of the sounding time in each stretch of music is covered by the triad its notes imply: "
        "1 = every note belongs to the chord; random notes fit poorly. (Implied-chord fit.)"),
    "metrics.varied_repeat_rate": (
        "Bars that vary an earlier bar",
        "The share of bars that are not exact repeats but resemble an earlier bar in rhythm and melodic "
        "shape: how much the music develops its own ideas. (Varied repeat rate.)"),
    "originality.ngram_copy_rate": (
        f"Figures found in the corpus ({_COPY.n + 1}-note, share)",
        f"The share of the pieces' {_COPY.n + 1}-note figures (intervals and rhythm, in any key) that stand "
        "somewhere in the corpus the model learnt from. Scales and other short figures are shared by all "
        "music: compare with the held-out real column. (Copied n-grams.)"),
    "originality.longest_run_notes": (
        "Longest passage copied from the corpus (notes)",
        "The longest stretch, in notes of the top line, that follows one corpus piece note for note (in any "
        "key). Below the table: which take or piece it is in, its bars, and the corpus file and bars it "
        "copies."),
    "originality.flagged": (
        "Pieces flagged as copies",
        f"Pieces with a passage of {_COPY.run_notes} or more notes copied from the corpus, or with "
        f"{_COPY.rate:.0%} or more of their {_COPY.n + 1}-note figures found there."),
}


def figure_words(key: str, label: str) -> tuple[str, str]:
    """(plain label, what it measures) of a headline row; a row without words keeps its own label."""
    return FIGURE_WORDS.get(key, (label, ""))
