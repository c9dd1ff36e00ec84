"""Recording a phrase from a MIDI input, and turning it into a seed (a `symusic.Score`).

`Recorder` timestamps what an input port delivers (wall seconds from an injectable clock),
echoes it to a thru output so the player hears themselves, and can click a count-in and a
metronome. Its `feed(message, seconds)` is the whole recording logic, so tests drive it
without ports.

Then the pure part: pair note-ons with note-offs (`pair_notes`), estimate the tempo from the
playing (`estimate_tempo`), snap to a grid (`quantize_notes`) and build the seed Score
(`phrase_to_score`). Quantizing matters beyond neatness: the tokenizer's grid and MuseScore 4
(which no longer quantizes on import) both want clean onsets.

Units: seconds for what was played; ticks (`tpq` per quarter) for the Score; bpm in quarters
per minute.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import mido
import symusic

from core.atomic import atomic_write_bytes

DEFAULT_BPM = 100.0
CLICK_CHANNEL = 9  # General MIDI percussion
CLICK_ACCENT, CLICK_BEAT = 76, 77  # hi / low wood block


@dataclass(frozen=True)
class RecordedNote:
    start: float  # seconds from the recording's origin (the downbeat after any count-in)
    end: float
    pitch: int
    velocity: int
    channel: int = 0


class Recorder:
    """Collects note events from an input with timestamps; thru and click are optional.

    Use `recorder.feed` as (or from) the input port's callback: `open_input(name,
    callback=recorder.feed, clock=recorder.clock)`. Hook methods, called on the thread that
    delivers the message (override them, a Qt adapter emits signals):

    * `note_on(pitch, velocity, seconds)`, `note_off(pitch, seconds)`: as played, `seconds`
      from the origin (negative during a count-in).
    * `beat(index)`: a click was sent; index counts from 0 at the first count-in beat.
    """

    def __init__(self, *, thru=None, clock: Callable[[], float] | None = None, bpm: float = DEFAULT_BPM,
                 count_in_beats: int = 0, click: bool = False, click_output=None, beats_per_bar: int = 4):
        self.thru = thru  # output that echoes everything played (or None)
        self.clock = clock or time.perf_counter
        self.bpm = bpm
        self.count_in_beats = count_in_beats
        self.click = click
        self.click_output = click_output if click_output is not None else thru
        self.beats_per_bar = beats_per_bar
        self.origin = 0.0  # clock time of the recording's start (after count-in)
        self.events: list[tuple[float, mido.Message]] = []  # (seconds from origin, message)
        self.held: dict[tuple[int, int], float] = {}  # (channel, pitch) -> start seconds
        self.last_event: float | None = None  # clock time of the last note event
        self._lock = threading.Lock()
        self._stop_click = threading.Event()
        self._click_thread: threading.Thread | None = None
        self.thru_error: str | None = None

    # -- hooks ------------------------------------------------------------------------------
    def note_on(self, pitch: int, velocity: int, seconds: float) -> None: ...

    def note_off(self, pitch: int, seconds: float) -> None: ...

    def beat(self, index: int) -> None: ...

    # -- recording --------------------------------------------------------------------------
    def start(self) -> None:
        """Start now; with a count-in, the origin is the downbeat after it."""
        beat = 60.0 / self.bpm
        now = self.clock()
        with self._lock:
            self.origin = now + self.count_in_beats * beat
            self.events.clear()
            self.held.clear()
            self.last_event = None
        if (self.count_in_beats or self.click) and self.click_output is not None:
            self._stop_click.clear()
            self._click_thread = threading.Thread(target=self._run_click, args=(now,), daemon=True,
                                                  name="partita-click")
            self._click_thread.start()

    def feed(self, message: mido.Message, seconds: float | None = None) -> None:
        """Record one message that arrived at clock time `seconds` (default: now)."""
        if seconds is None:
            seconds = self.clock()
        if self.thru is not None and self.thru_error is None:
            try:
                self.thru.send(message)
            except Exception as error:  # a vanished thru port must not stop the recording
                self.thru_error = str(error)
        if message.type not in ("note_on", "note_off"):
            return
        at = seconds - self.origin
        key = (message.channel, message.note)
        with self._lock:
            self.events.append((at, message))
            self.last_event = seconds
            if message.type == "note_on" and message.velocity > 0:
                self.held[key] = at
            else:
                self.held.pop(key, None)
        if message.type == "note_on" and message.velocity > 0:
            self.note_on(message.note, message.velocity, at)
        else:
            self.note_off(message.note, at)

    def silence(self, now: float | None = None) -> float | None:
        """Seconds since the last note event with nothing held; None while playing or before."""
        with self._lock:
            if self.held or self.last_event is None:
                return None
            return (self.clock() if now is None else now) - self.last_event

    def stop(self) -> list[RecordedNote]:
        """Stop the click and return the notes played (held notes end now)."""
        self._stop_click.set()
        if self._click_thread is not None:
            self._click_thread.join(1.0)
        return self.notes()

    def notes(self, now: float | None = None) -> list[RecordedNote]:
        end = (self.clock() if now is None else now) - self.origin
        with self._lock:
            return pair_notes(self.events, end_time=end)

    def clear(self) -> None:
        """Forget what was played (the duet does this after taking a phrase as a prompt)."""
        with self._lock:
            self.events.clear()
            self.held.clear()
            self.last_event = None

    def _run_click(self, start: float) -> None:
        beat = 60.0 / self.bpm
        index = 0
        while True:
            due = start + index * beat
            if index >= self.count_in_beats and not self.click:
                return
            if self._stop_click.wait(max(0.0, due - self.clock())):
                return
            pitch = CLICK_ACCENT if index % self.beats_per_bar == 0 else CLICK_BEAT
            try:
                self.click_output.send(mido.Message("note_on", channel=CLICK_CHANNEL, note=pitch, velocity=100))
                self.click_output.send(mido.Message("note_off", channel=CLICK_CHANNEL, note=pitch, velocity=0))
            except Exception:
                return  # the click is a courtesy; a vanished port ends it quietly
            self.beat(index)
            index += 1


def pair_notes(events: Iterable[tuple[float, mido.Message]], *, end_time: float | None = None) -> list[RecordedNote]:
    """Match each note-on with the next note-off of its pitch and channel (first in, first out).

    A note-on with velocity 0 is a note-off. Notes still held end at `end_time` (or at the
    last event). Sorted by start, then pitch.
    """
    events = sorted(events, key=lambda item: item[0])
    if end_time is None:
        end_time = events[-1][0] if events else 0.0
    open_notes: dict[tuple[int, int], list[tuple[float, int]]] = {}
    notes = []
    for at, message in events:
        if message.type not in ("note_on", "note_off"):
            continue
        key = (message.channel, message.note)
        if message.type == "note_on" and message.velocity > 0:
            open_notes.setdefault(key, []).append((at, message.velocity))
        elif open_notes.get(key):
            start, velocity = open_notes[key].pop(0)
            notes.append(RecordedNote(start, at, key[1], velocity, key[0]))
    for (channel, pitch), starts in open_notes.items():
        for start, velocity in starts:
            notes.append(RecordedNote(start, max(start, end_time), pitch, velocity, channel))
    return sorted(notes, key=lambda n: (n.start, n.pitch))


def _distinct_onsets(notes: Iterable[RecordedNote], chord_window: float = 0.04) -> list[float]:
    onsets: list[float] = []
    for start in sorted(n.start for n in notes):
        if not onsets or start - onsets[-1] > chord_window:
            onsets.append(start)
    return onsets


def estimate_tempo(notes: list[RecordedNote], *, low: float = 60.0, high: float = 180.0,
                   default: float = DEFAULT_BPM) -> float:
    """The tempo (quarter bpm) that best explains the onsets, assuming a binary meter.

    The cluster of shortest inter-onset intervals gives the tatum (the fastest regular
    note); the beat is 1, 2 or 4 tatums, whichever lands in [low, high] nearest 100 bpm; then
    the bpm is refined within +/-6% to minimise the onsets' distance to a sixteenth grid.
    Octave errors (half or double tempo) are inherent to the problem: pass the tempo when known.
    """
    onsets = _distinct_onsets(notes)
    intervals = [b - a for a, b in zip(onsets, onsets[1:], strict=False) if b - a > 0.06]
    if len(intervals) < 2:
        return default
    intervals.sort()
    fast = intervals[len(intervals) // 10]  # a low percentile: robust to a few grace notes
    tatum = statistics.median([i for i in intervals if i <= 1.5 * fast])  # the fastest cluster
    beats = [60.0 / (tatum * k) for k in (1, 2, 4)]
    in_range = [bpm for bpm in beats if low <= bpm <= high] or [min(max(beats[0], low), high)]
    guess = min(in_range, key=lambda bpm: abs(bpm - 100.0))
    best, best_error = guess, float("inf")
    for step in range(-60, 61):
        bpm = guess * (1 + step / 1000.0)
        grid = 60.0 / bpm / 4  # seconds per sixteenth
        error = sum(abs(((t - onsets[0]) / grid) - round((t - onsets[0]) / grid)) * grid for t in onsets)
        if error < best_error - 1e-9:
            best, best_error = bpm, error
    return round(best, 1)


def quantize_notes(notes: list[RecordedNote], bpm: float, *, tpq: int = 480, grid: int = 4,
                   origin: float = 0.0) -> list[symusic.Note]:
    """Snap onsets and durations to `grid` divisions of a beat (4: sixteenths) at `bpm`.

    Time `origin` (seconds) becomes tick 0; a note shorter than one grid step lasts one step;
    a note is cut where the next note of the same pitch begins; two strikes of one pitch that
    snap onto one grid point become one note.
    """
    step = tpq // grid  # ticks per grid division
    beat = 60.0 / bpm

    def to_ticks(seconds: float) -> int:
        return round(seconds / beat * tpq / step) * step

    out = []
    for note in notes:
        start = max(0, to_ticks(note.start - origin))
        length = max(step, to_ticks(note.end - origin) - start)
        out.append(symusic.Note(start, length, note.pitch, note.velocity))
    out.sort(key=lambda n: (n.time, n.pitch))
    kept: list[symusic.Note] = []
    last_by_pitch: dict[int, symusic.Note] = {}
    for note in out:
        previous = last_by_pitch.get(note.pitch)
        if previous is not None and previous.time == note.time:
            continue  # a double strike snapped onto one grid point: keep the first
        if previous is not None and previous.time + previous.duration > note.time:
            previous.duration = note.time - previous.time
        last_by_pitch[note.pitch] = note
        kept.append(note)
    return kept


def phrase_to_score(notes: list[RecordedNote], *, bpm: float | None = None, tpq: int = 480, grid: int = 4,
                    program: int = 0, time_signature: tuple[int, int] = (4, 4),
                    origin: float | None = None) -> symusic.Score:
    """A quantized one-track Score from played notes: the seed for generation.

    Without `origin`, the first onset is taken as a downbeat (a pickup is then shifted onto
    the beat); with a count-in, the recording's origin (0.0) is the downbeat. Without `bpm`,
    the tempo is estimated from the playing.
    """
    if bpm is None:
        bpm = estimate_tempo(notes)
    if origin is None:
        origin = min((n.start for n in notes), default=0.0)
    score = symusic.Score(tpq)
    score.tempos.append(symusic.Tempo(0, float(bpm)))
    score.time_signatures.append(symusic.TimeSignature(0, *time_signature))
    track = symusic.Track(name="played", program=program)
    for note in quantize_notes(notes, bpm, tpq=tpq, grid=grid, origin=origin):
        track.notes.append(note)
    score.tracks.append(track)
    return score


def save_midi(score: symusic.Score, path) -> None:
    """Write a Score as a Standard MIDI File, atomically."""
    atomic_write_bytes(path, bytes(score.dumps_midi()))
