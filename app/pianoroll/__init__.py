"""The piano roll: a note model (`model.py`), undo commands, the view and the composite widget."""
