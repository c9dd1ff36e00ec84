"""The grammar's order of token types: REMI's as miditok states it, and Partita's own types."""

from __future__ import annotations


def test_the_music_s_own_order_is_miditok_s_with_partita_s_bar_header_after_the_meter():
    """core.composing.grammar.next_types derives REMI's rules from miditok's tokens_types_graph: what it
    allows (less a Pitch straight after the meter: the first note comes with its Position), and
    controls and chords between the meter and the first Position."""
    from core.composing.grammar import REMI_TYPES, next_types
    from core.learning.tokenizer import PartitaTokenizer, TokenizerSettings

    for settings in (TokenizerSettings(), TokenizerSettings(use_velocities=True),
                     TokenizerSettings(use_time_signatures=False), TokenizerSettings(use_controls=True)):
        tokenizer = PartitaTokenizer.create(settings)
        graph, rules = tokenizer.inner.tokens_types_graph, next_types(tokenizer)
        for kind in REMI_TYPES:
            if kind in graph:
                assert {t for t in rules[kind] if t in REMI_TYPES} <= graph[kind], kind
        opening = "TimeSig" if settings.use_time_signatures else "Bar"
        assert "Pitch" not in rules[opening] and ("Pitch" in graph[opening]) == settings.use_time_signatures
        assert rules[opening][:4] == ("Density", "Voices", "Low", "Chord")
        assert rules["Pitch"] == (("Velocity",) if settings.use_velocities else ("Duration",))


def test_the_order_of_a_vocabulary_with_meters_controls_and_chords():
    """The whole table for one vocabulary, as the hand-written table it replaced had it."""
    from core.composing.grammar import next_types
    from core.learning.tokenizer import PartitaTokenizer, TokenizerSettings

    rules = next_types(PartitaTokenizer.create(TokenizerSettings(use_controls=True, use_chords=True)))
    header = {"Density", "Voices", "Low", "Chord", "Position", "Bar"}
    assert {kind: set(types) for kind, types in rules.items()} == {
        None: {"Bar"}, "BOS": {"Bar"}, "Bar": {"TimeSig"}, "TimeSig": header,
        "Density": header - {"Density"}, "Voices": header - {"Density", "Voices"}, "Low": {"High"},
        "High": {"Chord", "Position", "Bar"}, "Chord": {"Chord", "Position", "Bar"}, "Position": {"Pitch"},
        "Pitch": {"Duration"}, "Duration": {"Pitch", "Position", "Bar", "EOS"}, "EOS": {"EOS"}}
    without_meters = next_types(PartitaTokenizer.create(TokenizerSettings(use_time_signatures=False,
                                                                          use_velocities=True)))
    assert set(without_meters["Bar"]) == header and without_meters["Pitch"] == ("Velocity",)
    assert without_meters["Velocity"] == ("Duration",)
