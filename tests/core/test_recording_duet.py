"""Duet logic without ports: the reply's window, trimming, the take, and the real engine wired in."""

from __future__ import annotations

import mido
import pytest
import symusic

from core.composing.generation import engine_reply_generator
from core.midi.duet import Duet, Turn, conversation_score, reply_bounds, trim_reply
from core.midi.playback import FakeClock
from core.midi.ports import CollectingOutput
from core.midi.recording import RecordedNote


def played_phrase(bpm: float = 120.0) -> list[RecordedNote]:
    """Six quarter notes (a bar and a half at 4/4), as played: seconds, slightly off the beat."""
    beat = 60.0 / bpm
    return [RecordedNote(i * beat + (0.01 if i % 2 else -0.008), i * beat + 0.9 * beat, 60 + 2 * i, 80)
            for i in range(6)]


def test_reply_may_finish_the_calls_bar_then_runs_n_more_bars():
    score = symusic.Score(480)
    track = symusic.Track()
    track.notes.append(symusic.Note(0, 480, 60, 80))
    track.notes.append(symusic.Note(1920 + 480, 480 * 2, 62, 80))  # last onset in the second bar
    score.tracks.append(track)
    assert reply_bounds(score, 2, 1920) == (2400, 4 * 1920)
    assert reply_bounds(score, 1, 1920) == (2400, 3 * 1920)
    track.notes[-1].duration = 480 * 4  # held into the third bar: the reply comes after it
    assert reply_bounds(score, 1, 1920) == (2400, 4 * 1920)


def test_trim_keeps_the_window_and_cuts_notes_at_its_end():
    notes = [symusic.Note(t, 960, 60, 80) for t in (1000, 1920, 3840, 5280, 5760)]
    kept = list(trim_reply(notes, earliest=1920, end=5760))
    assert [(n.time, n.duration) for n in kept] == [(1920, 960), (3840, 960), (5280, 480)]


def test_answer_plays_only_the_reply_bars_and_keeps_the_conversation_as_one_take():
    clock = FakeClock()
    output = CollectingOutput(clock=clock.now)

    def long_winded(prompt, bars, cancel):  # quarter notes from the prompt's end for five bars
        return [symusic.Note(2880 + i * 480, 480, 72, 90) for i in range(20)]

    duet = Duet(long_winded, output, bars=2, bpm=120.0, clock=clock)
    turn = duet.answer(played_phrase(), detected=clock.now())
    # The call's six quarters end mid-bar 2: the reply finishes that bar (2 beats) and adds two.
    assert turn.who == "Partita" and turn.bars == 4 and len(turn.notes) == 10
    ons = [t for t, m in output.sent if m.type == "note_on"]
    assert len(ons) == 10 and ons[-1] - ons[0] == pytest.approx(9 * 0.5)  # ten quarters at 120 bpm
    take = duet.take()
    you, partita = take.tracks
    assert [n.pitch for n in you.notes] == [60, 62, 64, 66, 68, 70]
    assert [n.time for n in you.notes] == [i * 480 for i in range(6)]  # quantized to the beat
    assert min(n.time for n in partita.notes) == 2880  # right after the call, in the same bar
    assert [(m.time, m.text) for m in take.markers] == [(0, "you 1"), (2880, "Partita 1")]


def test_the_first_phrase_sets_the_tempo_when_none_is_given():
    clock = FakeClock()
    duet = Duet(lambda p, b, c: [], CollectingOutput(clock=clock.now), bars=1, clock=clock)
    duet.answer(played_phrase(bpm=90.0) * 1, detected=0.0)
    assert duet.bpm == pytest.approx(90.0, rel=0.03)


def test_playing_during_a_reply_starts_the_next_call():
    """A musician who comes in before Partita has finished is heard: the notes open the next call."""
    clock = FakeClock()
    thru = CollectingOutput(clock=clock.now)
    output = CollectingOutput(clock=clock.now)

    def reply_while_the_musician_comes_in(prompt, bars, cancel):
        yield symusic.Note(2880, 480, 72, 90)
        clock.advance(0.3)  # Partita is still writing when the musician plays two notes
        for pitch, at in ((55, clock.now()), (57, clock.now() + 0.25)):
            duet.feed(mido.Message("note_on", note=pitch, velocity=70), at)
            duet.feed(mido.Message("note_off", note=pitch, velocity=0), at + 0.2)
        yield symusic.Note(3360, 480, 74, 90)

    duet = Duet(reply_while_the_musician_comes_in, output, bars=1, bpm=120.0, thru=thru, clock=clock)
    duet.recorder.start()
    duet.answer(played_phrase(), detected=clock.now())
    assert [n.pitch for n in duet.recorder.notes()] == [55, 57]  # waiting as the next call
    assert [m.note for _, m in thru.sent if m.type == "note_on"] == [55, 57]  # and heard at once


def test_the_reply_coming_back_through_a_looped_route_is_not_recorded():
    """Output wired back to the input (or a keyboard echoing what it receives): no feedback loop."""
    clock = FakeClock()

    class LoopedBack(CollectingOutput):
        def send_bytes(self, data):
            super().send_bytes(data)
            duet.feed(mido.Message.from_bytes(list(data)), clock.now() + 0.003)  # back 3 ms later

    reply = [symusic.Note(2880 + i * 240, 240, 72 + i, 90) for i in range(4)]
    duet = Duet(lambda p, b, c: reply, LoopedBack(clock=clock.now), bars=1, bpm=120.0, clock=clock)
    duet.recorder.start()
    turn = duet.answer(played_phrase(), detected=clock.now())
    assert len(turn.notes) == 4
    assert duet.recorder.events == []
    duet.feed(mido.Message("note_on", note=72, velocity=80), clock.now() + 1.0)  # later, the same pitch: played
    assert len(duet.recorder.events) == 1


def test_a_failing_generator_costs_one_reply_not_the_duet():
    clock = FakeClock()
    errors = []

    class Watched(Duet):
        def error(self, message):
            errors.append(message)

    def broken(prompt, bars, cancel):
        raise RuntimeError("model exploded")

    duet = Watched(broken, CollectingOutput(clock=clock.now), bpm=120.0, clock=clock)
    turn = duet.answer(played_phrase(), detected=0.0)
    assert turn.notes == [] and errors == ["reply generation failed: model exploded"]


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="bars"):
        Duet(lambda p, b, c: [], CollectingOutput(), bars=0)
    with pytest.raises(ValueError, match="silence"):
        Duet(lambda p, b, c: [], CollectingOutput(), silence_ms=0)


def test_conversation_score_puts_each_exchange_after_the_previous_one():
    turns = [Turn("you", [symusic.Note(0, 480, 60, 80)], 1), Turn("Partita", [symusic.Note(1920, 480, 67, 80)], 3),
             Turn("you", [symusic.Note(480, 480, 62, 80)], 1)]
    score = conversation_score(turns, bpm=100.0)
    assert [n.time for n in score.tracks[0].notes] == [0, 3 * 1920 + 480]
    assert [n.time for n in score.tracks[1].notes] == [1920]


def test_engine_replies_fit_the_bars_asked_for(tmp_path):
    """The real engine, with a small random-weight model: wiring and bar count, not musicality."""
    torch = pytest.importorskip("torch")
    from core.composing.generation import GenerationSettings
    from core.learning.checkpoint import load_model, save_checkpoint
    from core.learning.model import ModelConfig, Transformer
    from core.learning.tokenizer import PartitaTokenizer

    torch.manual_seed(0)
    tokenizer = PartitaTokenizer.create()
    model = Transformer(ModelConfig(vocab_size=len(tokenizer), block_size=256, n_layer=1, n_head=2, n_embd=32))
    save_checkpoint(tmp_path, model, tokenizer, meta={})
    loaded = load_model(tmp_path)
    clock = FakeClock()
    output = CollectingOutput(clock=clock.now)
    # An untrained model writes notes densely: a token budget keeps the test to a second.
    generator = engine_reply_generator(loaded, GenerationSettings(random_seed=1, top_p=0.9, max_tokens=120))
    duet = Duet(generator, output, bars=1, bpm=120.0, clock=clock)
    turn = duet.answer(played_phrase(), detected=0.0)
    assert turn.notes, "the model wrote no notes in the reply bar"
    earliest = 5 * 480  # the call's last onset (six quarters); the reply ends one bar after its bar
    assert all(earliest <= n.time and n.time + n.duration <= 3 * 1920 for n in turn.notes)
    assert len([m for _, m in output.sent if m.type == "note_on"]) == len(turn.notes)


def test_notes_played_between_opening_the_port_and_running_are_kept():
    """The input may deliver a note before run() starts: listen() first, and run() keeps it."""
    clock = FakeClock()
    duet = Duet(lambda p, b, c: [], CollectingOutput(clock=clock.now), clock=clock)
    duet.listen()
    duet.feed(mido.Message("note_on", note=55, velocity=80), 0.1)  # the port is open, run() not yet
    duet.stop()
    duet.run()
    assert [n.pitch for n in duet.recorder.notes()] == [55]
