"""Call and response: the musician plays a phrase, Partita answers in N bars, and so on.

The loop: listen (a `Recorder` fed by the input port); when nothing is held and nothing has
been played for `silence_ms`, the phrase is a prompt: quantize it at the duet's tempo
(estimated from the first phrase unless given), ask the reply generator for notes, play them
as they come (a streamed `Timeline`, so the first reply note sounds as soon as it is
sampled), then listen again. Every turn goes into one take (`Duet.take()`): two tracks, "you"
and "Partita", turns laid end to end on bar lines.

The recorder never stops: what the musician plays while Partita answers is the start of the
next call (a musician who comes in early is heard), except the reply's own notes coming back
through a looped-back route (output wired to input, a keyboard echoing what it receives),
which are recognised by pitch and time and dropped.

The generator is injected: any callable `(prompt: Score, bars: int, cancel) -> iterable of
notes` whose notes continue the prompt in the prompt's ticks (a list, or a lazy iterator for
streaming). `core.composing.generation.engine_reply_generator(loaded)` wraps the trained model's streaming generation;
tests pass simple functions. The duet keeps the reply's notes from the prompt's last onset to N
bars after the bar it is in (`reply_bounds`), whatever the generator writes.

Units: ticks at `tpq` for music, clock seconds for events as they happen.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import mido
import symusic

from core.midi.playback import Player, RealClock
from core.midi.recording import RecordedNote, Recorder, estimate_tempo, phrase_to_score
from core.midi.timeline import Timeline
from core.music.meter import bar_length

ReplyGenerator = Callable[[symusic.Score, int, Callable[[], bool]], Iterable]
ECHO_WINDOW_S = 0.05  # a note-on of a pitch the reply sent this recently is the reply coming back


class DuetError(RuntimeError):
    """The duet cannot go on (the output vanished); the message says why."""


@dataclass(frozen=True)
class Turn:
    who: str  # "you" or "Partita"
    notes: list[symusic.Note]  # ticks in the exchange's frame: the call's first downbeat is 0
    bars: int  # bars of the exchange once this turn is over (a reply ends the call's last bar + N)
    detected_at: float = 0.0  # clock seconds the call's closing silence was detected
    first_note_at: float | None = None  # clock seconds the first reply note was sent (replies)


def reply_bounds(prompt: symusic.Score, bars: int, one_bar: int) -> tuple[int, int]:
    """[earliest, end) ticks of a reply to `prompt`: from its last onset to `bars` bars after the
    bar its notes end in (a held last note keeps its bars, as `prompt_ids` counts them). The reply
    may finish the call's last bar, as the REMI model does. `one_bar`: ticks in a bar."""
    notes = [n for t in prompt.tracks for n in t.notes]
    last_onset = max((n.time for n in notes), default=0)
    last_bar = (max((n.time + n.duration for n in notes), default=1) - 1) // one_bar
    return last_onset, (last_bar + 1 + bars) * one_bar


def trim_reply(notes: Iterable, earliest: int, end: int) -> Iterable[symusic.Note]:
    """Notes starting inside [earliest, end), cut at `end` (ticks unchanged)."""
    for note in notes:
        time = int(note.time)
        if time < earliest or time >= end:
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
        self._recording = False  # see listen()
        self._reply_sent: dict[int, float] = {}  # pitch -> clock seconds the reply last sent its note-on
        self._echoes_held: set[int] = set()  # pitches whose echoed note-on was dropped (drop the off too)

    # -- hooks ------------------------------------------------------------------------------
    def listening(self) -> None: ...

    def phrase_detected(self, prompt: symusic.Score, seconds: float) -> None: ...

    def reply_note(self, pitch: int, velocity: int, seconds: float) -> None: ...

    def reply_finished(self, turn: Turn) -> None: ...

    def error(self, message: str) -> None: ...

    # -- input ------------------------------------------------------------------------------
    def feed(self, message: mido.Message, seconds: float | None = None) -> None:
        """Input callback: everything played is recorded (and echoed to thru), during a reply too;
        only the reply's own notes coming back are dropped."""
        if not self._is_echo(message, self.clock.now() if seconds is None else seconds):
            self.recorder.feed(message, seconds)

    def _is_echo(self, message: mido.Message, seconds: float) -> bool:
        if message.type == "note_on" and message.velocity > 0:
            sent = self._reply_sent.get(message.note)
            if sent is not None and 0.0 <= seconds - sent <= ECHO_WINDOW_S:
                self._echoes_held.add(message.note)
                return True
            return False
        if message.type in ("note_on", "note_off") and message.note in self._echoes_held:
            self._echoes_held.discard(message.note)
            return True
        return False

    # -- the loop ---------------------------------------------------------------------------
    def stop(self) -> None:
        self._stop.set()

    def listen(self) -> None:
        """Start recording (once). Call it before opening the input port: `run()` would otherwise
        start the recorder after the port, and a note played in between would be lost."""
        if not self._recording:
            self.recorder.start()
            self._recording = True

    def run(self, *, poll_s: float = 0.005) -> None:
        """Listen and answer until `stop()`; raises DuetError if the output goes away."""
        self.listen()
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
        one_bar = bar_length(self.tpq, *self.time_signature)
        earliest, end = reply_bounds(prompt, self.bars, one_bar)
        call_bars = end // one_bar - self.bars
        self.turns.append(Turn("you", list(prompt.tracks[0].notes), call_bars, detected))
        self.phrase_detected(prompt, detected)
        self._replying.set()
        try:
            turn = self._play_reply(prompt, earliest, end, end // one_bar, detected)
        finally:
            self._replying.clear()
        self.turns.append(turn)
        self.reply_finished(turn)
        return turn

    def _play_reply(self, prompt: symusic.Score, earliest: int, end: int, bars: int, detected: float) -> Turn:
        """Generate into a streamed timeline; playback starts at the first reply note as soon as it
        is written (a leading rest is not waited out: the pause already was the cue)."""
        timeline = Timeline(self.tpq, [(0, self.bpm)])
        timeline.add_program(0, 0, self.program)
        cancelled = threading.Event()
        first_written = threading.Event()  # set at the first note, or when generation ends
        failure: list[str] = []
        written: list[symusic.Note] = []  # the reply as generated (the timeline may move late notes)

        def write() -> None:
            try:
                raw = self.generate_reply(prompt, self.bars, cancelled.is_set)
                for note in trim_reply(raw, earliest, end):
                    written.append(note)
                    timeline.add_note(note.time, note.duration, note.pitch, note.velocity)
                    first_written.set()
                    if cancelled.is_set():
                        break
            except Exception as error:  # a failed generation is one lost reply, not a dead duet
                failure.append(f"reply generation failed: {error}")
            finally:
                timeline.close()
                first_written.set()

        first_sent: list[float] = []
        duet = self

        class ReplyPlayer(Player):
            def note_on(self, channel, pitch, velocity):
                now = duet.clock.now()
                first_sent.append(now)
                duet.reply_note(pitch, velocity, now)

        player = ReplyPlayer(_MarkedOutput(self.output, self._reply_sent, self.clock), timeline, clock=self.clock)
        writer = threading.Thread(target=write, name="partita-duet-writer", daemon=True)
        writer.start()
        while not first_written.wait(0.05):
            if self._stop.is_set():
                cancelled.set()
        if written and not cancelled.is_set():
            player.play(written[0].time)
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
        return Turn("Partita", notes, bars, detected, first_sent[0] if first_sent else None)

    # -- the take ---------------------------------------------------------------------------
    def take(self) -> symusic.Score:
        """The whole conversation as one Score: turns end to end on bar lines, two tracks."""
        return conversation_score(self.turns, bpm=self.bpm or 100.0, tpq=self.tpq,
                                  time_signature=self.time_signature, program=self.program)


class _MarkedOutput:
    """The duet's output, noting each note-on's pitch and time *before* sending it, so that an echo
    arriving at once through a looped-back route is already known when the input sees it."""

    def __init__(self, output, sent: dict[int, float], clock):
        self._output, self._sent, self._clock = output, sent, clock

    def send_bytes(self, data) -> None:
        if len(data) >= 3 and data[0] & 0xF0 == 0x90 and data[2] > 0:
            self._sent[data[1]] = self._clock.now()
        self._output.send_bytes(data)

    def __getattr__(self, name: str):
        return getattr(self._output, name)


def conversation_score(turns: list[Turn], *, bpm: float, tpq: int = 480,
                       time_signature: tuple[int, int] = (4, 4), program: int = 0) -> symusic.Score:
    """Calls on track "you", replies on track "Partita"; each exchange starts on a bar line after
    the previous one, and a reply sits in its call's frame (it may finish the call's last bar)."""
    score = symusic.Score(tpq)
    score.tempos.append(symusic.Tempo(0, float(bpm)))
    score.time_signatures.append(symusic.TimeSignature(0, *time_signature))
    tracks = {"you": symusic.Track(name="you", program=program),
              "Partita": symusic.Track(name="Partita", program=program)}
    one_bar = bar_length(tpq, *time_signature)
    offset = next_offset = 0
    exchange = 0
    for turn in turns:
        if turn.who == "you":
            offset, exchange = next_offset, exchange + 1
        first = min((n.time for n in turn.notes), default=0)
        score.markers.append(symusic.TextMeta(offset + first, f"{turn.who} {exchange}"))
        for note in turn.notes:
            tracks[turn.who].notes.append(symusic.Note(offset + note.time, note.duration, note.pitch, note.velocity))
        next_offset = max(next_offset, offset + max(1, turn.bars) * one_bar)
    score.tracks.extend(tracks.values())
    return score


def wait_for(condition: Callable[[], bool], timeout: float, poll_s: float = 0.01) -> bool:
    """Poll `condition` until true or `timeout` seconds pass (for tests and the CLI)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(poll_s)
    return condition()
