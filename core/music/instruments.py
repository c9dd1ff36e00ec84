"""Instrument names: one name per General MIDI program, for MIDI track names and score parts alike.

A generated take's MIDI track, its MusicXML part and a re-exported MIDI of it all call the
instrument the same ("Violoncello", not "Cello" in one and "Violoncello" in the other).
"""

from __future__ import annotations

# Names as a score prints them, for the instruments Partita's corpora use; the other programs
# take their General MIDI names (miditok's table: "Acoustic Guitar (nylon)", "Acoustic Bass").
SCORE_NAMES = {
    0: "Piano",
    6: "Harpsichord",
    40: "Violin",
    41: "Viola",
    42: "Violoncello",
    43: "Contrabass",
    56: "Trumpet",
    57: "Trombone",
    64: "Soprano Sax",
    65: "Alto Sax",
    66: "Tenor Sax",
    67: "Baritone Sax",
    70: "Bassoon",
    71: "Clarinet",
    73: "Flute",
}
# What `partita export --instrument` accepts: the score names and a few everyday ones.
INSTRUMENT_PROGRAMS = {name.lower(): program for program, name in SCORE_NAMES.items()} | {
    "cello": 42,
    "bass": 43,
    "sax": 65,
}


def program_name(program: int) -> str:
    """The name of a General MIDI program (0-based): 42 is "Violoncello", 24 "Acoustic Guitar (nylon)"."""
    if program in SCORE_NAMES:
        return SCORE_NAMES[program]
    from miditok.constants import MIDI_INSTRUMENTS  # imports torch: only for the rarer programs

    return MIDI_INSTRUMENTS[program]["name"] if 0 <= program < len(MIDI_INSTRUMENTS) else f"Program {program}"
