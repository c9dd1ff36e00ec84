"""Music metrics: pure functions on `symusic.Score` (ticks at ``score.tpq``), numpy only.

* `muspy_metrics`: MusPy's ten per-piece metrics, exactly as MusPy defines them;
* `rhythm`, `key`, `harmony`, `structure`: rhythm, tonality, implied harmony, phrases,
  repeats and motifs;
* `piece.piece_metrics`: all of the above in one dict (quantizing performed MIDI first);
* `transitions`: pitch-class/interval/duration transition matrices and JS/KL distances;
* `mgeval`: Yang & Lerch's intra/inter-set distance distributions, KDE overlap and KL;
* `originality`: transposition-invariant plagiarism check naming the copied passage;
* `uniqueness`: how different the variations of one seed are;
* `style`: issue 17's style figures of a short passage (voices, leaps and steps, key, rests,
  bar sequences, copied runs), for `benchmarks/style_fidelity.py`;
* `ngram`: the smoothed n-gram baseline on token ids;
* `references`: pitch-shuffled, rhythm-shuffled and random-note versions of real music.
"""
