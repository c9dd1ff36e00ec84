"""Recording logic without ports: timestamps, thru, pairing, tempo estimate, quantize, seed."""

from __future__ import annotations

import random
from pathlib import Path

import mido
import pytest
import symusic

from core.midi.ports import CollectingOutput
from core.midi.recording import (
    RecordedNote,
    Recorder,
    estimate_tempo,
    pair_notes,
    phrase_to_score,
    quantize_notes,
    save_midi,
)


def performed(score: symusic.Score, bpm: float, *, jitter_s: float = 0.0, seed: int = 0) -> list[RecordedNote]:
    """The score's first track as a human might play it: seconds at `bpm`, onsets off by up to jitter."""
    rng = random.Random(seed)
    beat = 60.0 / bpm
    notes = []
    for note in score.tracks[0].notes:
        start = note.time / score.tpq * beat + rng.uniform(-jitter_s, jitter_s)
        end = (note.time + note.duration) / score.tpq * beat * 0.98 + rng.uniform(-jitter_s, jitter_s)
        notes.append(RecordedNote(start, max(start + 0.01, end), note.pitch, note.velocity))
    return notes


@pytest.fixture(scope="module")
def prelude_opening(cello_midi_dir: Path) -> symusic.Score:
    """The first four bars of the G major cello prelude (running sixteenths), at 480 tpq."""
    score = symusic.Score.from_file(str(cello_midi_dir / "BWV1007_01_Prelude.mid")).resample(480)
    track = max(score.tracks, key=lambda t: len(t.notes))
    first = track.notes[0].time
    opening = symusic.Score(480)
    kept = symusic.Track(program=42)
    for note in track.notes:
        if note.time - first < 4 * 4 * 480:
            kept.notes.append(symusic.Note(note.time - first, note.duration, note.pitch, note.velocity))
    opening.tracks.append(kept)
    assert len(kept.notes) == 64
    return opening


def test_recorder_timestamps_from_the_clock_and_echoes_to_thru():
    now = [100.0]
    thru = CollectingOutput(clock=lambda: now[0])
    recorder = Recorder(thru=thru, clock=lambda: now[0])
    recorder.start()
    recorder.feed(mido.Message("note_on", note=60, velocity=90), 100.5)
    recorder.feed(mido.Message("control_change", control=64, value=127), 100.6)
    recorder.feed(mido.Message("note_on", note=60, velocity=0), 101.0)  # running-status style off
    now[0] = 102.0
    notes = recorder.stop()
    assert notes == [RecordedNote(0.5, 1.0, 60, 90, 0)]
    assert [m.type for _, m in thru.sent] == ["note_on", "control_change", "note_on"]


def test_count_in_moves_the_origin_to_the_downbeat_after_it():
    now = [10.0]
    recorder = Recorder(clock=lambda: now[0], bpm=120, count_in_beats=4)
    recorder.start()  # no click output: the count-in only shifts the origin by 4 beats = 2 s
    recorder.feed(mido.Message("note_on", note=62, velocity=80), 12.25)
    recorder.feed(mido.Message("note_off", note=62), 12.5)
    assert recorder.stop() == [RecordedNote(0.25, 0.5, 62, 80, 0)]


def test_click_sends_count_in_and_beats_to_the_click_output():
    from core.midi.duet import wait_for

    output = CollectingOutput()
    beats = []

    class Counting(Recorder):
        def beat(self, index):
            beats.append(index)

    recorder = Counting(click_output=output, bpm=600, count_in_beats=2, click=True)  # 0.1 s a beat
    recorder.start()
    wait_for(lambda: len(beats) >= 3, timeout=5)  # ~0.2 s on an idle machine
    recorder.stop()
    assert beats[:3] == [0, 1, 2]
    pitches = [m.note for _, m in output.sent if m.type == "note_on"]
    assert pitches[:3] == [76, 77, 77] and all(m.channel == 9 for _, m in output.sent)


def test_silence_counts_only_when_nothing_is_held():
    now = [0.0]
    recorder = Recorder(clock=lambda: now[0])
    recorder.start()
    assert recorder.silence() is None
    recorder.feed(mido.Message("note_on", note=60, velocity=90), 1.0)
    now[0] = 3.0
    assert recorder.silence() is None  # a held note is not a pause
    recorder.feed(mido.Message("note_off", note=60), 3.0)
    now[0] = 3.7
    assert recorder.silence() == pytest.approx(0.7)


def test_pair_notes_matches_repeated_pitches_in_order_and_closes_held_notes():
    on, off = (lambda n, v=80: mido.Message("note_on", note=n, velocity=v)), (lambda n: mido.Message("note_off", note=n))
    events = [(0.0, on(60)), (0.1, on(60, 70)), (0.2, off(60)), (0.3, off(60)), (0.4, on(64))]
    notes = pair_notes(events, end_time=1.0)
    assert notes == [RecordedNote(0.0, 0.2, 60, 80), RecordedNote(0.1, 0.3, 60, 70), RecordedNote(0.4, 1.0, 64, 80)]


@pytest.mark.parametrize("bpm", [72.0, 100.0, 132.0])
def test_tempo_is_estimated_from_a_real_phrase_played_with_human_timing(prelude_opening, bpm):
    notes = performed(prelude_opening, bpm, jitter_s=0.012)
    assert estimate_tempo(notes) == pytest.approx(bpm, rel=0.02)


def test_quantize_recovers_the_written_rhythm_of_a_real_phrase(prelude_opening):
    notes = performed(prelude_opening, 90.0, jitter_s=0.02)
    quantized = quantize_notes(notes, 90.0, origin=notes[0].start)
    written = prelude_opening.tracks[0].notes
    assert [(n.time, n.pitch) for n in quantized] == [(n.time, n.pitch) for n in written]
    assert all(abs(q.duration - w.duration) <= 120 for q, w in zip(quantized, written, strict=True))


def test_phrase_becomes_a_one_track_seed_score_that_survives_a_midi_round_trip(prelude_opening, tmp_path):
    notes = performed(prelude_opening, 100.0, jitter_s=0.01)
    score = phrase_to_score(notes, program=42)
    assert score.tempos[0].qpm == pytest.approx(100.0, rel=0.02)
    assert (score.time_signatures[0].numerator, score.time_signatures[0].denominator) == (4, 4)
    assert len(score.tracks) == 1 and score.tracks[0].program == 42
    assert score.tracks[0].notes[0].time == 0 and len(score.tracks[0].notes) == 64
    path = tmp_path / "seed.mid"
    save_midi(score, path)
    again = symusic.Score.from_file(str(path))
    assert [n.pitch for n in again.tracks[0].notes] == [n.pitch for n in score.tracks[0].notes]


def test_too_few_notes_fall_back_to_the_default_tempo():
    assert estimate_tempo([RecordedNote(0.0, 0.5, 60, 80)]) == 100.0
    assert estimate_tempo([]) == 100.0
