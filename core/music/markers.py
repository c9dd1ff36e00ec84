"""The markers Partita writes into a take (MIDI marker events), named and matched in one place.

A take marks where its seed ends and the model's notes begin (`CONTINUATION_MARKER`) and its last
bar line (`END_MARKER`, so a final bar of rests still counts as music). Generation writes them;
notation, export and the window read them, all through `is_marker`."""

from __future__ import annotations

CONTINUATION_MARKER = "continuation"  # at the tick where the seed ends and the continuation starts
END_MARKER = "end"  # at a take's last bar line


def is_marker(text: str, marker: str) -> bool:
    """Whether a marker event's `text` is `marker`: the whole text, in any case and with any space
    around it (a MIDI editor may capitalise it), never a word inside other text."""
    return text.strip().lower() == marker
