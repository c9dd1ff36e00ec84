"""Real-time playback: a scheduler thread that sends a score's MIDI events on time.

Three layers, each testable alone:

* `Timeline` (core/midi/timeline.py): note-on/off, program and tempo events sorted by tick, with a
  tempo map. Built from a whole `symusic.Score`, or filled note by note while a take is still
  being generated (streaming): the player plays what is there and waits for more until `close()`.
* `Schedule`: pure playhead arithmetic. Given the wall-clock time `now`, which events are due,
  when is the next one, where is the playhead; play/pause/seek/loop/tempo factor; which notes
  are sounding (so stop and panic can release them). No threads, no clock of its own.
* `Player`: a thread that drives a Schedule with an injectable `Clock` (sleep coarse on an
  event, then spin the last `fine_wait_s` on `perf_counter`) and sends to a mido-style output.
  It reports through hook methods (Frescobaldi's `midifile/player.py` style) that a Qt adapter
  overrides to emit signals.

Units: ticks (the score's `tpq` per quarter) for musical time; *score seconds* are seconds at
the score's own tempi; *wall seconds* are the clock's, after the player's tempo factor.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Protocol

import symusic

from core.midi.output import ALL_NOTES_OFF, all_notes_off, present
from core.midi.timeline import Event, Timeline

__all__ = ["Clock", "FakeClock", "Player", "RealClock", "Schedule", "Timeline"]





class Schedule:
    """The playhead over a Timeline as a pure function of wall time `now` (seconds).

    wall(tick) = anchor_wall + (score_seconds(tick) - score_seconds(anchor_tick)) / tempo_factor;
    every command re-anchors at the current position so the music never jumps.
    """

    def __init__(self, timeline: Timeline, *, tempo_factor: float = 1.0, late_tolerance_s: float = 0.05):
        self.timeline = timeline
        self.tempo_factor = _check_factor(tempo_factor)
        self.late_tolerance_s = late_tolerance_s  # starved this long: delay the music, don't rush
        self.cursor = 0  # index of the next event to send
        self.anchor_tick = 0.0
        self.anchor_wall = 0.0
        self.state = "stopped"  # stopped | playing | paused | finished
        self.loop: tuple[int, int] | None = None  # (start_tick, end_tick)
        self.sounding: dict[tuple[int, int], int] = {}  # (channel, pitch) -> note-ons not yet released
        self.starved = False  # ran out of events while the timeline is still growing
        self._paused_tick = 0.0

    # -- time arithmetic ---------------------------------------------------------------------
    def wall(self, tick: float) -> float:
        tempo = self.timeline.tempo_map
        return self.anchor_wall + (tempo.seconds(tick) - tempo.seconds(self.anchor_tick)) / self.tempo_factor

    def position(self, now: float) -> float:
        """Playhead in ticks; it stops at the last event while a streamed take is late, or at the end."""
        if self.state != "playing":
            return self._paused_tick if self.state == "paused" else self.anchor_tick
        tempo = self.timeline.tempo_map
        seconds = tempo.seconds(self.anchor_tick) + (now - self.anchor_wall) * self.tempo_factor
        tick = tempo.tick_at(seconds)
        if self.timeline.get(self.cursor) is None and (self.timeline.closed or self.starved):
            tick = min(tick, self.timeline.end_tick)  # waiting for generation: the playhead waits too
        return max(tick, self.anchor_tick)

    def _anchor(self, tick: float, now: float) -> None:
        self.anchor_tick, self.anchor_wall = tick, now

    # -- commands ---------------------------------------------------------------------------
    def start(self, now: float, tick: float | None = None) -> list[tuple[int, ...]]:
        """Play from `tick` (default: where paused or stopped). Returns program changes to send first."""
        if tick is None:
            if self.state == "playing":
                return []
            tick = {"paused": self._paused_tick, "stopped": self.anchor_tick}.get(self.state, 0.0)
        start = float(tick)
        released = self.silence(with_all_notes_off=False) if self.state == "playing" else []  # a jump
        self.cursor = self.timeline.index_at(start)
        self.timeline.protect(self.cursor)
        self._anchor(start, now)
        self.state = "playing"
        self.starved = False
        return released + (self.timeline.programs_at(start) if start > 0 else [])

    def pause(self, now: float) -> list[tuple[int, ...]]:
        if self.state != "playing":
            return []
        self._paused_tick = self.position(now)
        self.state = "paused"
        return self.silence()

    def seek(self, tick: float, now: float) -> list[tuple[int, ...]]:
        """Move the playhead; sounding notes are released, programs sent again."""
        tick = max(0.0, float(tick))
        out = self.silence(with_all_notes_off=False)
        if self.state == "playing":
            return out + self.start(now, tick)
        self._paused_tick = self.anchor_tick = tick
        self.cursor = self.timeline.index_at(tick)
        return out

    def set_tempo_factor(self, factor: float, now: float) -> None:
        """1.0 plays at the score's tempi, 2.0 twice as fast; the playhead stays where it is."""
        if self.state == "playing":
            self._anchor(self.position(now), now)
        self.tempo_factor = _check_factor(factor)

    def set_loop(self, start_tick: int | None, end_tick: int | None = None) -> None:
        if start_tick is None or end_tick is None:
            self.loop = None
        elif end_tick <= start_tick:
            raise ValueError(f"loop end {end_tick} must come after loop start {start_tick}")
        else:
            self.loop = (int(start_tick), int(end_tick))

    def stop(self) -> list[tuple[int, ...]]:
        """Stop and rewind to the start; returns the silencing messages."""
        self.state = "stopped"
        self.anchor_tick = self._paused_tick = 0.0
        return self.silence()

    def silence(self, *, with_all_notes_off: bool = True) -> list[tuple[int, ...]]:
        """Note-offs for every sounding note, then All Notes Off on every channel in use."""
        out = [(0x80 | ch, pitch, 0) for (ch, pitch), n in sorted(self.sounding.items()) for _ in range(n)]
        self.sounding.clear()
        if with_all_notes_off:
            out += [(0xB0 | ch, ALL_NOTES_OFF, 0) for ch in sorted(self.timeline.channels())]
        return out

    # -- the scheduler's questions ----------------------------------------------------------
    def next_due(self) -> float | None:
        """Wall time of the next thing to do (event or loop wrap), or None while there is none."""
        if self.state != "playing":
            return None
        event = self.timeline.get(self.cursor)
        candidates = []
        if event is not None:
            candidates.append(self.wall(event.tick))
        if self.loop is not None:
            candidates.append(self.wall(self.loop[1]))
        return min(candidates) if candidates else None

    def pop_due(self, now: float) -> list[Event | tuple[int, ...]]:
        """Everything due at `now`, in order: Events from the timeline, or raw silencing messages
        (tuples) at a loop wrap. Sets state "finished" after the last event of a closed timeline."""
        out: list[Event | tuple[int, ...]] = []
        while self.state == "playing":
            event = self.timeline.get(self.cursor)
            if self.loop is not None and (event is None or event.tick >= self.loop[1]):
                if self.wall(self.loop[1]) > now:
                    break
                wrap_wall = self.wall(self.loop[1])
                out += self.silence(with_all_notes_off=False)
                self.cursor = self.timeline.index_at(self.loop[0])
                self.timeline.protect(self.cursor)
                self._anchor(self.loop[0], wrap_wall)
                continue
            if event is None:
                if self.timeline.closed:
                    self.state = "finished"
                    self._anchor(self.timeline.end_tick, now)
                else:
                    self.starved = True
                break
            due = self.wall(event.tick)
            if self.starved and due < now - self.late_tolerance_s:
                self._anchor(event.tick, now)  # generation fell behind: resume from here, now
                due = now
            self.starved = False
            if due > now:
                break
            self.cursor += 1
            self.timeline.protect(self.cursor)
            self._track(event)
            out.append(event)
        return out

    def _track(self, event: Event) -> None:
        if not event.data:
            return
        key = (event.data[0] & 0x0F, event.data[1])
        if event.is_note_on:
            self.sounding[key] = self.sounding.get(key, 0) + 1
        elif event.is_note_off and self.sounding.get(key):
            self.sounding[key] -= 1
            if not self.sounding[key]:
                del self.sounding[key]


def _check_factor(factor: float) -> float:
    if not 0.05 <= factor <= 20:
        raise ValueError(f"tempo factor {factor} out of range (0.05 to 20)")
    return float(factor)


class Clock(Protocol):
    """Where the player gets time from; tests inject a fake one."""

    def now(self) -> float: ...

    def wait_until(self, deadline: float, wake: threading.Event, precise: bool = True) -> bool:
        """Return at `deadline` (False) or as soon as `wake` is set (True); `precise=False` allows
        a fraction of a millisecond late (a playhead report, not a note)."""
        ...


class RealClock:
    """`perf_counter` time; waits sleep coarse on an Event, then spin the last `fine_wait_s`.

    Sleeping alone wakes up to a millisecond late on a busy machine; spinning alone burns a
    core. The spin releases the GIL between reads (`time.sleep(0)`). Only notes are worth it: a
    wait for anything else (the playhead's 50 reports a second) sleeps, which took a looped
    playback from 12 % of a core to 1 % (measured 2026-11-25).
    """

    def __init__(self, fine_wait_s: float = 0.002):
        self.fine_wait_s = fine_wait_s

    def now(self) -> float:
        return time.perf_counter()

    def wait_until(self, deadline: float, wake: threading.Event, precise: bool = True) -> bool:
        remaining = deadline - time.perf_counter()
        if not precise:
            return wake.wait(max(remaining, 0.0))
        if remaining > self.fine_wait_s and wake.wait(remaining - self.fine_wait_s):
            return True
        while time.perf_counter() < deadline:
            if wake.is_set():
                return True
            time.sleep(0)
        return wake.is_set()


class FakeClock:
    """A clock that jumps straight to each deadline: playback runs instantly and exactly."""

    def __init__(self, start: float = 0.0):
        self.time = start

    def now(self) -> float:
        return self.time

    def advance(self, seconds: float) -> None:
        self.time += seconds

    def wait_until(self, deadline: float, wake: threading.Event, precise: bool = True) -> bool:
        if wake.is_set():
            return True
        self.time = max(self.time, deadline)
        return False


class Player:
    """Plays a Timeline (or Score) to an output in its own thread.

    Control (any thread): `play()`, `pause()`, `stop()`, `seek(tick)`, `set_loop(a, b)`,
    `set_tempo_factor(f)`, `panic()`, `wait(timeout)`.

    Hook methods, called on the player thread (override them; a Qt adapter emits a signal in
    each, and queued connections carry it to the GUI thread):

    * `position_changed(tick, seconds)`: the playhead, at most every `position_interval_s`
      while playing and after each command; `seconds` are score seconds.
    * `note_on(channel, pitch, velocity)`, `note_off(channel, pitch)`: as sent.
    * `tempo_changed(bpm)`: a tempo event of the score was passed (before the tempo factor).
    * `state_changed(state)`: "playing", "paused", "stopped", "finished" or "error".
    * `finished()`: the last event of a closed timeline was sent.
    * `error(message)`: sending failed or the destination vanished; playback has ended.

    The output needs `send_bytes(data)` and may have `destination_present()`, polled every
    `check_interval_s` so that a vanished port ends playback with an error, not silence
    forever; `present_outputs()` (TeeOutput) names the ones still there for the note-offs.
    """

    def __init__(self, output, music: Timeline | symusic.Score, *, clock: Clock | None = None,
                 tempo_factor: float = 1.0, position_interval_s: float = 0.02, check_interval_s: float = 0.25,
                 realtime_priority: int | None = 1):
        self.output = output
        self.timeline = music if isinstance(music, Timeline) else Timeline.from_score(music)
        self.schedule = Schedule(self.timeline, tempo_factor=tempo_factor)
        self.clock = clock or RealClock()
        self.position_interval_s = position_interval_s
        self.check_interval_s = check_interval_s
        self.realtime_priority = realtime_priority  # SCHED_FIFO priority to ask for; None: don't
        self.realtime = False  # whether the player thread got it
        self.error_message: str | None = None
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pending: list[tuple[int, ...]] = []  # messages from commands, sent by the thread
        self._quit = False
        self._announce = False
        self.timeline.add_listener(self._wake.set)

    # -- hooks (override) -------------------------------------------------------------------
    def position_changed(self, tick: float, seconds: float) -> None: ...

    def note_on(self, channel: int, pitch: int, velocity: int) -> None: ...

    def note_off(self, channel: int, pitch: int) -> None: ...

    def tempo_changed(self, bpm: float) -> None: ...

    def state_changed(self, state: str) -> None: ...

    def finished(self) -> None: ...

    def error(self, message: str) -> None: ...

    # -- control ----------------------------------------------------------------------------
    @property
    def state(self) -> str:
        return "error" if self.error_message else self.schedule.state

    def play(self, from_tick: float | None = None) -> None:
        """Start, or resume after pause; `from_tick` starts there instead."""
        with self._lock:
            if self.error_message:
                raise RuntimeError(f"player stopped on an error: {self.error_message}")
            if self.schedule.state == "finished" and from_tick is None:
                from_tick = 0
            self._pending += self.schedule.start(self.clock.now(), from_tick)
            self._announce = True
            if self._thread is None or not self._thread.is_alive():
                self._quit = False
                self._thread = threading.Thread(target=self._run, name="partita-player", daemon=True)
                self._thread.start()
        self._wake.set()

    def pause(self) -> None:
        self._command(lambda now: self.schedule.pause(now))

    def seek(self, tick: float) -> None:
        self._command(lambda now: self.schedule.seek(tick, now))

    def set_tempo_factor(self, factor: float) -> None:
        self._command(lambda now: self.schedule.set_tempo_factor(factor, now) or [])

    def set_loop(self, start_tick: int | None, end_tick: int | None = None) -> None:
        self._command(lambda now: self.schedule.set_loop(start_tick, end_tick) or [])

    def stop(self, timeout: float = 2.0) -> None:
        """Stop and silence (note-offs for sounding notes + All Notes Off); joins the thread."""
        with self._lock:
            self._quit = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        if thread is None or not thread.is_alive():
            with self._lock:
                leftovers = self._pending + (self.schedule.stop() if self.schedule.state != "stopped" else [])
                self._pending = []
            if leftovers and not self.error_message:
                self._send_all(leftovers)

    def panic(self) -> None:
        """Silence now, whatever the state: note-offs, All Notes Off, and stop."""
        self.stop()
        try:
            all_notes_off(self.output)
        except Exception as error:  # a vanished port: nothing left to silence
            self._fail(f"panic: {error}")

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end (finished, stopped or failed); True if it has."""
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def _command(self, change) -> None:
        with self._lock:
            self._pending += change(self.clock.now())
            self._announce = True
        self._wake.set()

    # -- the thread -------------------------------------------------------------------------
    def _run(self) -> None:
        # Only a real clock waits; a thread spinning on a fake one at real-time priority could
        # starve the very test that drives it.
        self.realtime = isinstance(self.clock, RealClock) and _ask_realtime(self.realtime_priority)
        next_report = next_check = self.clock.now()
        last_state = None
        try:
            while True:
                with self._lock:
                    self._wake.clear()
                    now = self.clock.now()
                    if self._quit:
                        out = self._pending + self.schedule.stop()
                        self._pending = []
                        self._send_all(out)
                        self.state_changed("stopped")
                        return
                    out: list = self._pending + self.schedule.pop_due(now)
                    self._pending = []
                    state = self.schedule.state
                    due = self.schedule.next_due()
                    announce, self._announce = self._announce, False
                self._send_all(out)
                changed = state != last_state
                if changed:
                    last_state = state
                    self.state_changed(state)
                now = self.clock.now()
                if announce or changed or (state == "playing" and now >= next_report):
                    tick = self.schedule.position(now)
                    self.position_changed(tick, self.timeline.tempo_map.seconds(tick))
                    next_report = now + self.position_interval_s
                if state == "finished":
                    self.finished()
                    return
                if now >= next_check:
                    next_check = now + self.check_interval_s
                    if not present(self.output):
                        name = getattr(self.output, "name", "output")
                        raise ConnectionError(f"output port {name!r} vanished (disconnected, or its MIDI server stopped)")
                deadline = min(next_check, next_report if state == "playing" else next_check)
                note_due = due is not None and due <= deadline
                if note_due:
                    deadline = due
                # new notes of a streamed take wake us; only a note's time is worth spinning for
                self.clock.wait_until(deadline, self._wake, precise=note_due)
        except Exception as error:  # any failure ends playback with a message, never a dead thread
            self._fail(str(error) or type(error).__name__)

    def _send_all(self, items: list) -> None:
        for item in items:
            if isinstance(item, Event):
                if item.data:
                    self.output.send_bytes(item.data)
                    if item.is_note_on:
                        self.note_on(item.data[0] & 0x0F, item.data[1], item.data[2])
                    elif item.is_note_off:
                        self.note_off(item.data[0] & 0x0F, item.data[1])
                elif item.bpm:
                    self.tempo_changed(item.bpm)
            else:
                self.output.send_bytes(item)
                if item[0] & 0xF0 == 0x80:
                    self.note_off(item[0] & 0x0F, item[1])

    def _fail(self, message: str) -> None:
        self.error_message = message
        with self._lock:
            leftovers = self.schedule.silence()
            self.schedule.state = "stopped"
        # Release what still sounds wherever a destination is still there.
        targets = self.output.present_outputs() if hasattr(self.output, "present_outputs") else (
            [self.output] if present(self.output) else [])
        for target in targets:
            try:
                for data in leftovers:
                    target.send_bytes(data)
            except Exception:
                pass
        self.state_changed("error")
        self.error(message)


def _ask_realtime(priority: int | None) -> bool:
    """Best effort: run the calling thread under SCHED_FIFO at `priority` (Linux; needs the
    rtprio limit that audio users get, or root). Priority 1 is above every ordinary thread but
    below JACK's own (about 10), so a busy machine delays events less and JACK not at all."""
    if priority is None or not hasattr(os, "sched_setscheduler"):
        return False
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))  # 0: this thread
    except (OSError, ValueError):
        return False
    return True
