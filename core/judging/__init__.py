"""Judging music against a corpus: the metrics, the report, and the evaluation of a run and of
the window's takes (`evaluation.judge_takes`)."""
