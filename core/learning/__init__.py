"""Learning a style: the tokenizer and its vocabulary, training windows, the transformer and its one-token decode path, training runs, checkpoints, the n-gram baseline."""
