"""Playback logic with a fake clock: what is sent, when, and what stop/seek/loop/tempo do."""

from __future__ import annotations

import threading

import pytest
import symusic

from core.midi.playback import FakeClock, Player, Schedule
from core.midi.ports import CollectingOutput, TeeOutput
from core.midi.timeline import TempoMap, Timeline


def scale_score(notes: int = 8, *, bpm: float = 120.0, tpq: int = 480, program: int = 42) -> symusic.Score:
    """Quarter-note scale from middle C, each note an eighth long: note i at i * 0.5 s at 120 bpm."""
    score = symusic.Score(tpq)
    score.tempos.append(symusic.Tempo(0, bpm))
    track = symusic.Track(program=program)
    for i in range(notes):
        track.notes.append(symusic.Note(i * tpq, tpq // 2, 60 + i, 90))
    score.tracks.append(track)
    return score


def play_to_end(music, **kwargs) -> tuple[CollectingOutput, FakeClock]:
    clock = FakeClock()
    output = CollectingOutput(clock=clock.now)
    player = Player(output, music, clock=clock, **kwargs)
    player.play()
    assert player.wait(5), "player thread did not finish"
    assert player.state == "finished"
    return output, clock


def note_ons(output: CollectingOutput) -> list[tuple[float, int]]:
    return [(round(t, 6), m.note) for t, m in output.sent if m.type == "note_on" and m.velocity > 0]


def test_every_note_is_sent_at_its_time_with_program_first():
    output, clock = play_to_end(scale_score())
    assert output.sent[0][1].type == "program_change" and output.sent[0][1].program == 42
    assert note_ons(output) == [(i * 0.5, 60 + i) for i in range(8)]
    offs = [(round(t, 6), m.note) for t, m in output.sent if m.type == "note_off"]
    assert offs == [(i * 0.5 + 0.25, 60 + i) for i in range(8)]
    assert clock.now() == pytest.approx(3.75)


def test_tempo_changes_in_the_score_move_later_notes_and_reach_the_hook():
    score = scale_score(4)
    score.tempos.append(symusic.Tempo(2 * 480, 60.0))  # from the third beat on, half as fast
    seen = []

    class Recording(Player):
        def tempo_changed(self, bpm):
            seen.append(bpm)

    clock = FakeClock()
    output = CollectingOutput(clock=clock.now)
    player = Recording(output, score, clock=clock)
    player.play()
    assert player.wait(5)
    assert note_ons(output) == [(0.0, 60), (0.5, 61), (1.0, 62), (2.0, 63)]
    assert seen == [120.0, 60.0]


def test_tempo_map_round_trips_ticks_and_seconds():
    tempo = TempoMap(480, [(0, 120.0), (960, 60.0)])
    assert tempo.seconds(960) == pytest.approx(1.0)
    assert tempo.seconds(1440) == pytest.approx(2.0)
    assert tempo.tick_at(2.0) == pytest.approx(1440)


def test_same_pitch_repeated_is_released_before_struck_again():
    score = scale_score(0)
    for i in range(3):
        score.tracks[0].notes.append(symusic.Note(i * 480, 480, 64, 80))  # legato repeats
    output, _ = play_to_end(score)
    kinds = [m.type for _, m in output.sent if m.type.startswith("note")]
    assert kinds == ["note_on", "note_off", "note_on", "note_off", "note_on", "note_off"]


def test_tracks_get_their_own_channels_and_drums_channel_10():
    score = scale_score(1)
    drums = symusic.Track(program=0, is_drum=True)
    drums.notes.append(symusic.Note(0, 100, 36, 100))
    score.tracks.append(drums)
    second = symusic.Track(program=0)
    second.notes.append(symusic.Note(0, 100, 48, 100))
    score.tracks.append(second)
    output, _ = play_to_end(score)
    channels = {m.note: m.channel for _, m in output.sent if m.type == "note_on"}
    assert channels == {60: 0, 36: 9, 48: 1}


def test_tempo_factor_scales_time_from_the_current_position():
    schedule = Schedule(Timeline.from_score(scale_score()))
    schedule.start(now=10.0)
    assert schedule.wall(480) == pytest.approx(10.5)
    schedule.set_tempo_factor(2.0, now=11.0)  # at tick 960 (one second in)
    assert schedule.position(11.0) == pytest.approx(960)
    assert schedule.wall(1920) == pytest.approx(11.5)  # the next two beats take half a second


def test_pause_releases_sounding_notes_and_resume_continues_from_the_same_place():
    schedule = Schedule(Timeline.from_score(scale_score()))
    schedule.start(now=0.0)
    sent = schedule.pop_due(0.1)  # program + first note-on
    assert any(e.is_note_on for e in sent)
    silence = schedule.pause(now=0.1)
    assert (0x80, 60, 0) in silence and (0xB0, 123, 0) in silence
    assert schedule.pop_due(100.0) == []  # nothing while paused
    schedule.start(now=50.0)
    assert schedule.position(50.0) == pytest.approx(0.1 * 2 * 480)
    assert schedule.wall(480) == pytest.approx(50.0 + 0.4)


def test_seek_jumps_and_sends_programs_again():
    schedule = Schedule(Timeline.from_score(scale_score()))
    schedule.start(now=0.0)
    schedule.pop_due(0.0)
    out = schedule.seek(3 * 480, now=0.0)
    assert (0x80, 60, 0) in out and (0xC0, 42) in out
    notes = [e.data[1] for e in schedule.pop_due(0.0) if e.is_note_on]
    assert notes == [63]


def test_loop_region_repeats_and_cuts_notes_held_across_its_end():
    score = scale_score(4)
    score.tracks[0].notes[1].duration = 960  # note 61 sounds across the loop end at tick 960 + 480
    schedule = Schedule(Timeline.from_score(score))
    schedule.set_loop(0, 960)
    schedule.start(now=0.0)
    onsets = []
    now = 0.0
    while now < 3.0:
        for item in schedule.pop_due(now):
            if not isinstance(item, tuple) and item.is_note_on:
                onsets.append((round(now, 6), item.data[1]))
            elif isinstance(item, tuple):
                assert item == (0x80, 61, 0)  # the wrap releases the held note
        now = schedule.next_due()
    assert onsets == [(0.0, 60), (0.5, 61), (1.0, 60), (1.5, 61), (2.0, 60), (2.5, 61)]


def test_stop_silences_sounding_notes_and_sends_all_notes_off():
    clock = FakeClock()
    output = CollectingOutput(clock=clock.now)
    score = scale_score(1)
    score.tracks[0].notes[0].duration = 480 * 100  # a long note
    gate = threading.Event()

    class Stopper(Player):
        def note_on(self, channel, pitch, velocity):
            gate.set()

    player = Stopper(output, score, clock=clock, check_interval_s=0.5)
    player.play()
    assert gate.wait(5)
    player.stop()
    assert player.wait(5)
    types = [(m.type, getattr(m, "note", None), getattr(m, "control", None)) for _, m in output.sent]
    assert ("note_off", 60, None) in types
    assert ("control_change", None, 123) in types
    assert player.state == "stopped"


def test_vanished_destination_ends_playback_with_an_error_and_releases_notes_where_ports_remain():
    clock = FakeClock()
    gone = CollectingOutput(clock=clock.now)
    still_there = CollectingOutput(clock=clock.now)
    score = scale_score(1)
    score.tracks[0].notes[0].duration = 480 * 100
    errors = []

    class Watched(Player):
        def note_on(self, channel, pitch, velocity):
            gone.destination_there = False  # the first port disappears right after the first note

        def error(self, message):
            errors.append(message)

    player = Watched(TeeOutput(outputs=[gone, still_there]), score, clock=clock, check_interval_s=0.25)
    player.play()
    assert player.wait(5)
    assert player.state == "error" and len(errors) == 1 and "vanished" in errors[0]
    on = [m.note for _, m in still_there.sent if m.type == "note_on"]
    off = [m.note for _, m in still_there.sent if m.type == "note_off"]
    assert on == [60] and off == [60]
    assert clock.now() < 1.0  # noticed within a check interval, not at the end of the note


def test_streaming_take_plays_notes_added_while_playing_and_waits_for_late_ones():
    timeline = Timeline(480, [(0, 120.0)])
    clock = FakeClock()
    output = CollectingOutput(clock=clock.now)
    arrived = threading.Event()

    class Feeder(Player):
        def note_on(self, channel, pitch, velocity):
            if pitch == 60:  # generation writes the next note only once playback has begun
                clock.advance(2.0)  # ... and is late by a second and a half
                timeline.add_note(480, 240, 62, 80)
                timeline.close()
                arrived.set()

    player = Feeder(output, timeline, clock=clock)
    timeline.add_note(0, 240, 60, 80)
    player.play()
    assert player.wait(5) and player.state == "finished"
    assert arrived.is_set()
    assert note_ons(output) == [(0.0, 60), (2.0, 62)]  # late note: played on arrival, not skipped


def test_streaming_with_generation_ahead_keeps_exact_timing():
    timeline = Timeline(480, [(0, 120.0)])
    clock = FakeClock()
    output = CollectingOutput(clock=clock.now)
    player = Player(output, timeline, clock=clock)
    timeline.add_note(0, 240, 60, 80)

    def generate():
        for i in range(1, 6):
            timeline.add_note(i * 480, 240, 60 + i, 80)
        timeline.close()

    generate()
    player.play()
    assert player.wait(5)
    assert note_ons(output) == [(i * 0.5, 60 + i) for i in range(6)]


def test_position_hook_reports_a_moving_playhead_in_ticks_and_seconds():
    positions = []

    class Playhead(Player):
        def position_changed(self, tick, seconds):
            positions.append((tick, seconds))

    clock = FakeClock()
    player = Playhead(CollectingOutput(clock=clock.now), scale_score(), clock=clock, position_interval_s=0.1)
    player.play()
    assert player.wait(5)
    ticks = [t for t, _ in positions]
    assert ticks == sorted(ticks) and ticks[-1] == pytest.approx(7 * 480 + 240)
    assert len(positions) > 30  # every 0.1 s over 3.75 s
    tick, seconds = positions[len(positions) // 2]
    assert seconds == pytest.approx(tick / 960)


def test_bad_loop_and_tempo_factor_are_refused_with_a_reason():
    schedule = Schedule(Timeline.from_score(scale_score()))
    with pytest.raises(ValueError, match="loop end"):
        schedule.set_loop(960, 480)
    with pytest.raises(ValueError, match="tempo factor"):
        schedule.set_tempo_factor(0, now=0.0)


def test_playing_from_elsewhere_while_playing_releases_what_sounds():
    schedule = Schedule(Timeline.from_score(scale_score()))
    schedule.start(now=0.0)
    schedule.pop_due(0.0)  # note 60 sounding
    out = schedule.start(now=0.1, tick=4 * 480)
    assert (0x80, 60, 0) in out and (0xC0, 42) in out
    assert schedule.start(now=0.2) == []  # already playing: nothing to do


def test_only_the_times_of_events_are_waited_for_precisely():
    """The clock spins (burns CPU) only for precise waits: those must be the notes' times, and the
    playhead's 50 reports a second must sleep instead (they took 12 % of a core when they spun)."""
    waits: list[tuple[float, bool]] = []

    class Watching(FakeClock):
        def wait_until(self, deadline, wake, precise=True):
            waits.append((deadline, precise))
            return super().wait_until(deadline, wake, precise)

    clock = Watching()
    output = CollectingOutput(clock=clock.now)
    player = Player(output, scale_score(4), clock=clock)  # notes every 0.5 s, each 0.25 s long
    player.play()
    assert player.wait(5) and player.state == "finished"
    precise = sorted({round(t, 6) for t, p in waits if p})
    assert precise == sorted({round(t, 6) for t, _ in output.sent if t > 0})  # note-ons and offs
    assert sum(not p for _, p in waits) > 50  # ~1.75 s of playhead reports every 20 ms
