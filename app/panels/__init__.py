"""Dockable panels of the main window: corpus, training, generation, evaluation, transport."""
