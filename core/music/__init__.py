"""Music as Partita reads and writes it: scores from MIDI and notation, corpora, instruments and their limits, meters, chords, bar controls, notation for MuseScore, export. No torch, no model."""
