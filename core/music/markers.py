"""The markers Partita writes into a take (MIDI marker events), named and matched in one place.

A take marks where its seed ends and the model's notes begin (`CONTINUATION_MARKER`) and its last
bar line (`END_MARKER`, so a final bar of rests still counts as music). Generation writes them;
notation, export and the window read them, all through `is_marker`. A piece read from notation
whose score numbers its first (pickup) bar 0 says so at tick 0 (`PICKUP_MARKER`), so that bars
are counted as the score counts them (`first_bar_number`), in the piece and in the takes made of it."""

from __future__ import annotations

CONTINUATION_MARKER = "continuation"  # at the tick where the seed ends and the continuation starts
END_MARKER = "end"  # at a take's last bar line
PICKUP_MARKER = "pickup"  # at tick 0 of a piece whose score numbers its first bar 0


def is_marker(text: str, marker: str) -> bool:
    """Whether a marker event's `text` is `marker`: the whole text, in any case and with any space
    around it (a MIDI editor may capitalise it), never a word inside other text."""
    return text.strip().lower() == marker


def first_bar_number(score) -> int:
    """The number the piece's score gives its first bar: 0 where it marks a pickup numbered 0
    (`PICKUP_MARKER` at tick 0), else 1. `score` is a symusic.Score."""
    return 0 if any(int(m.time) == 0 and is_marker(m.text, PICKUP_MARKER) for m in score.markers) else 1
