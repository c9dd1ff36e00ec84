"""Judging music against a corpus: the metrics, the report and the evaluation of a run."""
