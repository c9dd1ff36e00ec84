"""Subcommands of the `partita` command line; see `core.cli`."""

# core.midi_ports.BACKENDS' names, so that building the parser (`partita train --help`) never
# needs python-rtmidi; tests/core/test_playback_ports.py checks that the two agree.
MIDI_BACKENDS = ("jack", "alsa", "coremidi", "winmm")
