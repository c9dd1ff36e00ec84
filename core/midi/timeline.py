"""What the player plays: MIDI events in ticks, a tempo map, and a take that may still grow.

`Timeline` holds note-on/off, program change and tempo events sorted by tick. It can be built
from a whole `symusic.Score`, or filled note by note while a take is being generated
(streaming): the player plays what is there and waits for more until `close()`.

Streaming a take while the model writes it (the GUI's "play as it composes")::

    timeline = Timeline(loaded.tokenizer.ticks_per_quarter, [(0, bpm)])
    timeline.add_program(0, 0, program)
    player = Player(output, timeline)
    player.play()
    for event in stream_generation(loaded, prompt, settings):
        for note in event.notes:
            timeline.add_note(note.time, note.duration, note.pitch, note.velocity or 80)
    timeline.close()  # the player finishes after the last note instead of waiting for more

Units: ticks (the score's resolution, `tpq` per quarter note) everywhere here; `TempoMap`
converts ticks to *score seconds* (before the player's tempo factor).
"""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass

import symusic

DRUM_CHANNEL = 9  # General MIDI percussion (0-based)
# Order of events at one tick: tempo and programs first, then note-offs before note-ons, so a
# repeated pitch is released before it is struck again.
ORDER_TEMPO, ORDER_PROGRAM, ORDER_NOTE_OFF, ORDER_NOTE_ON = 0, 1, 2, 3


@dataclass(frozen=True)
class Event:
    tick: int
    order: int  # one of the ORDER_* constants
    data: tuple[int, ...] = ()  # MIDI bytes; empty for a tempo event
    bpm: float = 0.0  # tempo events only (quarter notes per minute)

    @property
    def is_note_on(self) -> bool:
        return self.order == ORDER_NOTE_ON

    @property
    def is_note_off(self) -> bool:
        return self.order == ORDER_NOTE_OFF


class TempoMap:
    """Ticks <-> score seconds under piecewise-constant tempos."""

    def __init__(self, tpq: int, tempos: list[tuple[int, float]] | None = None):
        if tpq <= 0:
            raise ValueError(f"ticks per quarter must be positive, not {tpq}")
        self.tpq = tpq
        changes = sorted((max(0, int(t)), float(b)) for t, b in (tempos or []) if b > 0)
        if not changes or changes[0][0] > 0:
            changes.insert(0, (0, changes[0][1] if changes else 120.0))
        self.ticks = [t for t, _ in changes]
        self.bpms = [b for _, b in changes]
        self.starts = [0.0]  # score seconds at each change
        for i in range(1, len(changes)):
            span = self.ticks[i] - self.ticks[i - 1]
            self.starts.append(self.starts[-1] + span * 60.0 / (self.bpms[i - 1] * tpq))

    def seconds(self, tick: float) -> float:
        i = max(0, bisect.bisect_right(self.ticks, tick) - 1)
        return self.starts[i] + (tick - self.ticks[i]) * 60.0 / (self.bpms[i] * self.tpq)

    def tick_at(self, seconds: float) -> float:
        i = max(0, bisect.bisect_right(self.starts, seconds) - 1)
        return self.ticks[i] + (seconds - self.starts[i]) * self.bpms[i] * self.tpq / 60.0


class Timeline:
    """Events sorted by (tick, order); thread-safe; may grow until `close()`.

    The player protects the events it has already passed (`protect(index)`): a note added
    behind that point (generation fell behind) is placed at the point instead, so it sounds
    at once rather than being skipped or replayed.
    """

    def __init__(self, tpq: int = 480, tempos: list[tuple[int, float]] | None = None):
        self.tempo_map = TempoMap(tpq, tempos)
        self.tpq = tpq
        self.lock = threading.RLock()
        self._listeners: list = []  # called (no arguments) whenever events arrive or it closes
        self._events: list[Event] = []
        self._keys: list[tuple[int, int, int]] = []  # (tick, order, serial) parallel to _events
        self._serial = 0
        self._protected = 0
        self.closed = False
        for tick, bpm in zip(self.tempo_map.ticks, self.tempo_map.bpms, strict=True):
            self._insert(Event(tick, ORDER_TEMPO, (), bpm))

    @classmethod
    def from_score(cls, score: symusic.Score, *, close: bool = True) -> Timeline:
        """Every track on its own channel (drums on 10), with its program; closed unless asked."""
        timeline = cls(score.tpq, [(t.time, t.qpm) for t in score.tempos])
        for track, channel in zip(score.tracks, assign_channels(score), strict=True):
            timeline.add_program(0, channel, track.program)
            timeline.add_notes(track.notes, channel)
        if close:
            timeline.close()
        return timeline

    def add_listener(self, listener) -> None:
        """Call `listener()` whenever events are added or the timeline closes (from that thread)."""
        self._listeners.append(listener)

    def _grew(self) -> None:
        for listener in list(self._listeners):
            listener()

    def __len__(self) -> int:
        with self.lock:
            return len(self._events)

    def get(self, index: int) -> Event | None:
        with self.lock:
            return self._events[index] if index < len(self._events) else None

    def index_at(self, tick: float) -> int:
        """Index of the first event at or after `tick`."""
        with self.lock:
            return bisect.bisect_left(self._keys, (tick, -1, -1))

    def protect(self, index: int) -> None:
        with self.lock:
            self._protected = index

    @property
    def end_tick(self) -> int:
        with self.lock:
            return self._keys[-1][0] if self._keys else 0

    def add_note(self, time: int, duration: int, pitch: int, velocity: int, channel: int = 0) -> None:
        if not (0 <= pitch <= 127 and 0 <= channel <= 15):
            raise ValueError(f"note out of MIDI range: pitch {pitch}, channel {channel}")
        velocity = max(1, min(127, int(velocity)))
        with self.lock:
            self._insert(Event(int(time), ORDER_NOTE_ON, (0x90 | channel, pitch, velocity)))
            self._insert(Event(int(time) + max(1, int(duration)), ORDER_NOTE_OFF, (0x80 | channel, pitch, 0)))
        self._grew()

    def add_notes(self, notes, channel: int = 0) -> None:
        """Add symusic Notes (or anything with time, duration, pitch, velocity)."""
        with self.lock:
            for note in notes:
                self.add_note(note.time, note.duration, note.pitch, note.velocity, channel)

    def add_program(self, tick: int, channel: int, program: int) -> None:
        with self.lock:
            self._insert(Event(int(tick), ORDER_PROGRAM, (0xC0 | channel, int(program) & 0x7F)))
        self._grew()

    def close(self) -> None:
        """No more events will come: the player may finish at the last one."""
        self.closed = True
        self._grew()

    def programs_at(self, tick: float) -> list[tuple[int, ...]]:
        """Program changes in force at `tick`, one per channel (sent again after a seek)."""
        latest: dict[int, tuple[int, ...]] = {}
        with self.lock:
            for event in self._events[: self.index_at(tick + 1)]:
                if event.order == ORDER_PROGRAM:
                    latest[event.data[0] & 0x0F] = event.data
        return list(latest.values())

    def channels(self) -> set[int]:
        with self.lock:
            return {e.data[0] & 0x0F for e in self._events if e.data}

    def _insert(self, event: Event) -> None:
        key = (event.tick, event.order, self._serial)
        self._serial += 1
        index = bisect.bisect_right(self._keys, key)
        if index < self._protected:  # behind the playhead: play it next instead
            index = self._protected
            event = Event(self._keys[index - 1][0], event.order, event.data, event.bpm)
            key = (event.tick, event.order, key[2])
        self._keys.insert(index, key)
        self._events.insert(index, event)


def assign_channels(score: symusic.Score) -> list[int]:
    """One MIDI channel per track, skipping the drum channel for pitched tracks."""
    melodic = [c for c in range(16) if c != DRUM_CHANNEL]
    channels, next_melodic = [], 0
    for track in score.tracks:
        if track.is_drum:
            channels.append(DRUM_CHANNEL)
        else:
            channels.append(melodic[next_melodic % len(melodic)])
            next_melodic += 1
    return channels
