"""Composing with a trained model: the grammar mask, sampling, continuation, infill, sequences."""
