"""Learning a style: the tokenizer and the meters its vocabulary keeps, training windows, the
transformer, its one-token decode path and its CPU dropout-attention kernel, run settings and
training runs, checkpoints, the n-gram baseline, and the Hugging Face export."""
