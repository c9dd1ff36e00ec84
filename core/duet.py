"""Call and response: the musician plays a phrase, Partita answers in N bars, and so on.

The loop: listen (a `Recorder` fed by the input port); when nothing is held and nothing has
been played for `silence_ms`, the phrase is a prompt: quantize it at the duet's tempo
(estimated from the first phrase unless given), ask the reply generator for notes, play them
as they come (a streamed `Timeline`, so the first reply note sounds as soon as it is
sampled), then listen again. Every turn goes into one take (`Duet.take()`): two tracks, "you"
and "Partita", turns laid end to end on bar lines.

The generator is injected: any callable `(prompt: Score, bars: int, cancel) -> iterable of
notes` whose notes continue the prompt in the prompt's ticks (a list, or a lazy iterator for
streaming). `engine_reply_generator(loaded)` wraps the trained model's streaming generation;
tests pass simple functions. The duet keeps only the reply's N bars after the prompt's last
bar line, whatever the generator writes.

Units: ticks at `tpq` for music, clock seconds for events as they happen.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import mido
import symusic

from core.playback import Player, RealClock
from core.recording import RecordedNote, Recorder, estimate_tempo, phrase_to_score
from core.timeline import Timeline

ReplyGenerator = Callable[[symusic.Score, int, Callable[[], bool]], Iterable]


class DuetError(RuntimeError):
    """The duet cannot go on (the output vanished); the message says why."""


@dataclass(frozen=True)
class Turn:
    who: str  # "you" or "Partita"
    notes: list[symusic.Note]  # ticks from the turn's first downbeat
    bars: int  # length in whole bars
    detected_at: float = 0.0  # clock seconds: silence detected (calls) / reply asked for (replies)
    first_note_at: float | None = None  # clock seconds the first reply note was sent (replies)


def bar_length(tpq: int, time_signature: tuple[int, int]) -> int:
    """Ticks in one bar."""
    numerator, denominator = time_signature
    return tpq * 4 * numerator // denominator


def reply_window(prompt: symusic.Score, bar_ticks: int) -> int:
    """Tick of the first bar line at or after the prompt's last note ends (at least one bar)."""
    end = max((n.time + n.duration for t in prompt.tracks for n in t.notes), default=0)
    return max(1, math.ceil(end / bar_ticks)) * bar_ticks


def trim_reply(notes: Iterable, start: int, bars: int, bar_ticks: int) -> Iterable[symusic.Note]:
    """Notes inside [start, start + bars bars), shifted to start at 0 and cut at the end."""
    end = bars * bar_ticks
    for note in notes:
        time = int(note.time) - start
        if time < 0 or time >= end:
            continue
        duration = max(1, min(int(note.duration), end - time))
        yield symusic.Note(time, duration, int(note.pitch), int(note.velocity) or 80)


class Duet:
    """Listens on `feed` (use it as the input port's callback), answers on `output`.

    Hook methods (called from the duet's thread; a Qt adapter turns them into signals):
    `listening()`, `phrase_detected(prompt, seconds)`, `reply_note(pitch, velocity, seconds)`
    for each reply note-on as sent, `reply_finished(turn)`, `error(message)`.
    """

    def __init__(self, generate_reply: ReplyGenerator, output, *, bars: int = 2, silence_ms: float = 600,
                 bpm: float | None = None, time_signature: tuple[int, int] = (4, 4), program: int = 0,
                 tpq: int = 480, thru=None, clock=None):
        if bars < 1:
            raise ValueError(f"bars must be at least 1, not {bars}")
        if silence_ms <= 0:
            raise ValueError(f"silence must be positive, not {silence_ms} ms")
        self.generate_reply = generate_reply
        self.output = output
        self.bars = bars
        self.silence_s = silence_ms / 1000.0
        self.bpm = bpm  # None until the first phrase sets it
        self.time_signature = time_signature
        self.program = program
        self.tpq = tpq
        self.clock = clock or RealClock()
        self.recorder = Recorder(thru=thru, clock=self.clock.now)
        self.turns: list[Turn] = []
        self._replying = threading.Event()
        self._stop = threading.Event()

    # -- hooks ------------------------------------------------------------------------------
    def listening(self) -> None: ...

    def phrase_detected(self, prompt: symusic.Score, seconds: float) -> None: ...

    def reply_note(self, pitch: int, velocity: int, seconds: float) -> None: ...

    def reply_finished(self, turn: Turn) -> None: ...

    def error(self, message: str) -> None: ...

    # -- input ------------------------------------------------------------------------------
    def feed(self, message: mido.Message, seconds: float | None = None) -> None:
        """Input callback. While Partita answers, notes are echoed to thru but not recorded."""
        if self._replying.is_set():
            if self.recorder.thru is not None and message.type in ("note_on", "note_off"):
                self.recorder.thru.send(message)
            return
        self.recorder.feed(message, seconds)

    # -- the loop ---------------------------------------------------------------------------
    def stop(self) -> None:
        self._stop.set()

    def run(self, *, poll_s: float = 0.005) -> None:
        """Listen and answer until `stop()`; raises DuetError if the output goes away."""
        self.recorder.start()
        self.listening()
        while not self._stop.is_set():
            silence = self.recorder.silence()
            if silence is not None and silence >= self.silence_s:
                detected = self.clock.now()
                notes = self.recorder.notes()
                self.recorder.clear()
                if notes:
                    self.answer(notes, detected)
                    self.listening()
            self._stop.wait(poll_s)

    def answer(self, notes: list[RecordedNote], detected: float) -> Turn:
        """Turn a played phrase into a prompt, then generate and play the reply; returns it."""
        if self.bpm is None:
            self.bpm = estimate_tempo(notes)
        prompt = phrase_to_score(notes, bpm=self.bpm, tpq=self.tpq, program=self.program,
                                 time_signature=self.time_signature)
        bar_ticks = bar_length(self.tpq, self.time_signature)
        start = reply_window(prompt, bar_ticks)
        self.turns.append(Turn("you", list(prompt.tracks[0].notes), start // bar_ticks, detected))
        self.phrase_detected(prompt, detected)
        self._replying.set()
        try:
            turn = self._play_reply(prompt, start, bar_ticks, detected)
        finally:
            self._replying.clear()
        self.turns.append(turn)
        self.reply_finished(turn)
        return turn

    def _play_reply(self, prompt: symusic.Score, start: int, bar_ticks: int, detected: float) -> Turn:
        timeline = Timeline(self.tpq, [(0, self.bpm)])
        timeline.add_program(0, 0, self.program)
        cancelled = threading.Event()
        failure: list[str] = []
        written: list[symusic.Note] = []  # the reply as generated (the timeline may move late notes)

        def write() -> None:
            try:
                raw = self.generate_reply(prompt, self.bars, cancelled.is_set)
                for note in trim_reply(raw, start, self.bars, bar_ticks):
                    written.append(note)
                    timeline.add_note(note.time, note.duration, note.pitch, note.velocity)
                    if cancelled.is_set():
                        break
            except Exception as error:  # a failed generation is one lost reply, not a dead duet
                failure.append(f"reply generation failed: {error}")
            finally:
                timeline.close()

        played: list[tuple[float, mido.Message]] = []
        duet = self

        class ReplyPlayer(Player):
            def note_on(self, channel, pitch, velocity):
                now = duet.clock.now()
                played.append((now, mido.Message("note_on", note=pitch, velocity=velocity)))
                duet.reply_note(pitch, velocity, now)

            def note_off(self, channel, pitch):
                played.append((duet.clock.now(), mido.Message("note_off", note=pitch)))

        player = ReplyPlayer(self.output, timeline, clock=self.clock)
        writer = threading.Thread(target=write, name="partita-duet-writer", daemon=True)
        writer.start()
        player.play()
        while not player.wait(0.05):
            if self._stop.is_set():
                cancelled.set()
                player.stop()
        cancelled.set()
        writer.join(5.0)
        if failure:
            self.error(failure[0])
        if player.error_message:
            self.error(player.error_message)
            raise DuetError(player.error_message)
        notes = sorted(written, key=lambda n: (n.time, n.pitch))
        first = played[0][0] if played else None
        return Turn("Partita", notes, self.bars, detected, first)

    # -- the take ---------------------------------------------------------------------------
    def take(self) -> symusic.Score:
        """The whole conversation as one Score: turns end to end on bar lines, two tracks."""
        return conversation_score(self.turns, bpm=self.bpm or 100.0, tpq=self.tpq,
                                  time_signature=self.time_signature, program=self.program)


def conversation_score(turns: list[Turn], *, bpm: float, tpq: int = 480,
                       time_signature: tuple[int, int] = (4, 4), program: int = 0) -> symusic.Score:
    """Calls on track "you", replies on track "Partita", one after another, each on a bar line."""
    score = symusic.Score(tpq)
    score.tempos.append(symusic.Tempo(0, float(bpm)))
    score.time_signatures.append(symusic.TimeSignature(0, *time_signature))
    tracks = {"you": symusic.Track(name="you", program=program),
              "Partita": symusic.Track(name="Partita", program=program)}
    bar_ticks = bar_length(tpq, time_signature)
    offset = 0
    for number, turn in enumerate(turns, start=1):
        score.markers.append(symusic.TextMeta(offset, f"{turn.who} {(number + 1) // 2}"))
        for note in turn.notes:
            tracks[turn.who].notes.append(symusic.Note(offset + note.time, note.duration, note.pitch, note.velocity))
        offset += max(1, turn.bars) * bar_ticks
    score.tracks.extend(tracks.values())
    return score


def engine_reply_generator(loaded, settings=None) -> ReplyGenerator:
    """Replies from a trained model (`core.checkpoint.load_model`), streamed note by note."""
    from core.generation import GenerationSettings, stream_generation

    settings = settings or GenerationSettings()
    tokenizer_tpq = loaded.tokenizer.ticks_per_quarter

    def reply(prompt: symusic.Score, bars: int, cancel: Callable[[], bool]):
        scale = prompt.tpq / tokenizer_tpq  # tokenizer ticks -> prompt ticks
        chosen = replace(settings, bars=bars)
        for event in stream_generation(loaded, prompt, chosen, cancel=cancel):
            note = event.note
            if note is not None:
                yield symusic.Note(round(note.time * scale), max(1, round(note.duration * scale)),
                                   note.pitch, note.velocity or 80)

    return reply


def wait_for(condition: Callable[[], bool], timeout: float, poll_s: float = 0.01) -> bool:
    """Poll `condition` until true or `timeout` seconds pass (for tests and the CLI)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(poll_s)
    return condition()
