"""A grand staff for a part that needs one: a chorale or a keyboard texture on two staves.

A four-part chorale on one staff needs ledger lines in every bar, whichever clef it takes (its
bass sits at G2, its soprano at G5), and its voices pile into one another. A part whose
instrument reads treble and bass clef alike (keyboards, voices, a program without clefs of its
own), that sounds more than one note at a time and whose notes spread over both clefs is written
on a grand staff instead, as a keyboard reduction of a chorale is: soprano and alto above, tenor
and bass below.

Which staff a note goes to: ranked among the notes sounding when it starts (itself included),
the upper half go up and the lower half down; the middle note of an odd number, and a note
alone, go by pitch (middle C and above up). Far from the middle the pitch decides alone: from A4
up always the upper staff, below F3 always the lower. A grace note goes with the nearest note
struck with it.
"""

from __future__ import annotations

from core.music.notation.quantize import QNote

MIDDLE_C = 60
# Which staff a note of a grand staff takes, whatever the notes beside it
ALWAYS_UPPER = 69  # A4 and above
ALWAYS_LOWER = 53  # below F3
UPPER_CLEFS = ("treble", "bass")  # home clef first; a clef change only where it saves ledger lines
LOWER_CLEFS = ("bass", "treble")

# When a part takes two staves: at least GRAND_CHORD_SHARE of its notes start while another note
# sounds, and at least GRAND_SPREAD_SHARE of them lie in each clef's own ground
GRAND_CHORD_SHARE = 0.2
GRAND_SPREAD_SHARE = 0.1
GRAND_LOW_BELOW = 57  # the bass clef's ground: below A3
GRAND_HIGH_FROM = 65  # the treble clef's: from F4 up


def wants_grand_staff(notes: tuple[QNote, ...], clefs: tuple[str, ...]) -> bool:
    """True when `notes`, read in `clefs` (the instrument's, `keys.clefs_for`), belong on two staves."""
    real = [n for n in notes if not n.grace]
    if set(clefs) != {"treble", "bass"} or len(real) < 8:
        return False
    share = GRAND_SPREAD_SHARE * len(real)
    low = sum(1 for n in real if n.pitch < GRAND_LOW_BELOW)
    high = sum(1 for n in real if n.pitch >= GRAND_HIGH_FROM)
    together = sum(1 for n, sounding in _sounding_at_onsets(real) if len(sounding) > 1)
    return low >= share and high >= share and together >= GRAND_CHORD_SHARE * len(real)


def split_staves(notes: tuple[QNote, ...]) -> tuple[tuple[QNote, ...], tuple[QNote, ...]]:
    """(upper staff's notes, lower staff's notes), each in the input's order."""
    real = [n for n in notes if not n.grace]
    upper_ids: set[int] = set()
    for note, sounding in _sounding_at_onsets(real):
        if _goes_up(note, sounding):
            upper_ids.add(id(note))
    upper, lower = [], []
    for note in notes:
        if note.grace:
            partner = min((n for n in real if n.onset == note.onset), key=lambda n: abs(n.pitch - note.pitch), default=None)
            up = id(partner) in upper_ids if partner is not None else note.pitch >= MIDDLE_C
        else:
            up = id(note) in upper_ids
        (upper if up else lower).append(note)
    return tuple(upper), tuple(lower)


def _goes_up(note: QNote, sounding: list[QNote]) -> bool:
    if note.pitch >= ALWAYS_UPPER:
        return True
    if note.pitch < ALWAYS_LOWER:
        return False
    ranked = sorted(sounding, key=lambda n: -n.pitch)  # two voices in unison: each its own rank
    rank = next(index for index, other in enumerate(ranked) if other is note)  # 0: the highest sounding
    if len(ranked) % 2 and rank == len(ranked) // 2:  # a note alone, or the middle one of three
        return note.pitch >= MIDDLE_C
    return rank < len(ranked) / 2


def _sounding_at_onsets(notes: list[QNote]):
    """(note, the notes sounding as it starts, itself and those struck with it included), by onset."""
    by_onset: dict = {}
    for note in notes:
        by_onset.setdefault(note.onset, []).append(note)
    held: list[QNote] = []
    for onset in sorted(by_onset):
        struck = by_onset[onset]
        held = [n for n in held if n.end > onset]
        sounding = held + struck
        for note in struck:
            yield note, sounding
        held = sounding
