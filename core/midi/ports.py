"""MIDI ports: list, open by name or substring, virtual ports, and clear errors.

Ports follow mido's `ports.py` design: `mido.ports.BaseOutput` validates each message and
holds a lock around `_send`, subclasses only move bytes. The real ports sit on python-rtmidi
(the library behind mido's rtmidi backend) for every backend it was compiled with: ALSA, JACK,
CoreMIDI, Windows MM. We open rtmidi objects ourselves rather than through
`mido.open_output` for four reasons found on real JACK servers:

* opening by substring ("fluid" for "FLUID Synth (1234):midi_00") and naming our own ports;
* checking that the destination still exists (`RtMidiOutput.destination_present`) on the
  port's own client, without registering a new client in the JACK graph;
* libjack crashes (SIGSEGV) when a port is closed after its server died *and* a new client
  failed to connect in the meantime; mido's `close()` would then take the whole program down.
  We count failed connections per JACK server (and servers seen gone), and a port opened
  before one is dropped without `close_port()`;
* input is read from rtmidi's queue by our own thread, not by a Python callback on JACK's
  real-time thread (which waits for the GIL, makes JACK drop the client's MIDI on a busy
  machine, and loses notes), with rtmidi's own timestamps.

Nothing here blocks: rtmidi's calls return at once, so a missing or vanished port is always a
`PortError` with a one-line message, never a hang.
"""

from __future__ import annotations

import os
import re
import threading
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import mido
import mido.ports
import rtmidi

from core.midi.output import MidiOutput, present

CLIENT_NAME = "Partita"
VIRTUAL_OUTPUT = "Partita Out"  # what a DAW or synth connects to, to hear Partita
VIRTUAL_INPUT = "Partita In"  # what a keyboard (or a DAW) sends prompts to

# Our names for the backends, in the order we prefer them on a machine that has several.
BACKENDS: dict[str, int] = {
    "jack": rtmidi.API_UNIX_JACK,
    "alsa": rtmidi.API_LINUX_ALSA,
    "coremidi": rtmidi.API_MACOSX_CORE,
    "winmm": rtmidi.API_WINDOWS_MM,
}
# Backends where an application can create ports others connect to (not Windows MM).
VIRTUAL_CAPABLE = frozenset({"jack", "alsa", "coremidi"})

_HOW_TO_START = {
    "jack": "JACK server not running (start it with `jackd -d dummy` or qjackctl)",
    "alsa": "no ALSA sequencer (load the snd-seq kernel module, or use JACK)",
    "coremidi": "CoreMIDI unavailable",
    "winmm": "Windows MIDI unavailable",
}


class PortError(OSError):
    """A port that cannot be opened, was not found, or vanished; the message says which and why."""


@dataclass(frozen=True)
class PortInfo:
    backend: str  # key of BACKENDS
    name: str  # full name as the backend lists it, e.g. "recv:in" on JACK
    direction: str  # "input" (we can listen to it) or "output" (we can send to it)


@dataclass(frozen=True)
class PortListing:
    inputs: list[PortInfo] = field(default_factory=list)
    outputs: list[PortInfo] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)  # backend -> why it listed nothing


def compiled_backends() -> list[str]:
    """Backends this python-rtmidi build supports, in our order of preference."""
    compiled = set(rtmidi.get_compiled_api())
    return [name for name, api in BACKENDS.items() if api in compiled]


def default_backend() -> str:
    """The first compiled backend that answers (a running JACK server wins over ALSA)."""
    listing = list_ports()
    for name in compiled_backends():
        if name not in listing.problems:
            return name
    reasons = "; ".join(f"{name}: {why}" for name, why in listing.problems.items())
    raise PortError(f"no MIDI backend available ({reasons or 'python-rtmidi has none compiled'})")


# How many times a JACK client failed to connect, per server name. A port opened before a
# failure may belong to a server that died: see the module docstring, it must not be closed.
_jack_failures: dict[str, int] = {}
_lost_lock = threading.Lock()


def _jack_server_name() -> str:
    return os.environ.get("JACK_DEFAULT_SERVER", "default")


def _jack_socket(server: str) -> str | None:
    """The JACK server's request socket (jackd2 on Linux), if it is there now.

    A client of a server that stopped keeps a stale copy of the port graph, so asking it for
    ports says nothing; and trying a new client is what sets up the crash described in the
    module docstring. jackd removes this socket when it stops, so its presence is the check.
    """
    if not hasattr(os, "getuid"):
        return None
    path = f"/dev/shm/jack_{server}_{os.getuid()}_0"
    return path if os.path.exists(path) else None


def _jack_gone(port) -> bool:
    """True when the JACK server a port was opened on has stopped (and remembers it)."""
    socket = getattr(port, "_jack_socket", None)
    if port.backend != "jack" or socket is None or os.path.exists(socket):
        return False  # unknown layout (jack1, macOS): rely on the port listing alone
    with _lost_lock:
        _jack_failures[port._server] = _jack_failures.get(port._server, 0) + 1
    return True


def _jack_failure_count(server: str) -> int:
    with _lost_lock:
        return _jack_failures.get(server, 0)


def _release_rtmidi(port) -> None:
    """Close and free a port's rtmidi object, unless its JACK server may have died meanwhile."""
    rt, port._rt = getattr(port, "_rt", None), None
    if rt is None:
        return
    if port.backend == "jack" and _jack_failure_count(port._server) != port._failures_at_open:
        return  # close_port() could crash libjack here; merely dropping the object was found safe
    rt.close_port()
    rt.delete()


def _new_client(backend: str, kind: type, client_name: str = CLIENT_NAME):
    """An rtmidi MidiIn/MidiOut on `backend`, or PortError saying why the backend is unavailable."""
    if backend not in BACKENDS:
        raise PortError(f"unknown MIDI backend {backend!r}; choose from {', '.join(BACKENDS)}")
    if backend not in compiled_backends():
        raise PortError(f"MIDI backend {backend!r} is not compiled into python-rtmidi on this system")
    try:
        return kind(BACKENDS[backend], client_name)
    except (rtmidi.SystemError, rtmidi.RtMidiError) as error:
        if backend == "jack":
            with _lost_lock:
                server = _jack_server_name()
                _jack_failures[server] = _jack_failures.get(server, 0) + 1
        raise PortError(f"{backend}: {_HOW_TO_START[backend]} ({error})") from None


def list_ports(backend: str | None = None) -> PortListing:
    """Input and output ports of one backend, or of every compiled backend (without Partita's
    own outputs among the inputs)."""
    listing = PortListing()
    for name in [backend] if backend else compiled_backends():
        try:
            midi_in = _new_client(name, rtmidi.MidiIn, f"{CLIENT_NAME} list")
        except PortError as error:
            listing.problems[name] = str(error).split(": ", 1)[-1]
            continue
        try:
            midi_out = _new_client(name, rtmidi.MidiOut, f"{CLIENT_NAME} list")
        except PortError as error:  # the server went away between the two clients
            listing.problems[name] = str(error).split(": ", 1)[-1]
            continue
        inputs = midi_in.get_ports()
        own = _own_output_names(inputs)  # what Partita itself plays through is no input for it
        listing.inputs.extend(PortInfo(name, port, "input") for port in inputs if port not in own)
        listing.outputs.extend(PortInfo(name, port, "output") for port in midi_out.get_ports())
        midi_in.delete()
        midi_out.delete()
    return listing


def match_port(query: str, names: Iterable[str], direction: str, own: Iterable[str] = ()) -> int:
    """Index of the port called `query`, or the only one containing it (case-insensitive).

    `own`: names among `names` that this process's own ports have; never matched or offered.
    """
    names, own = list(names), set(own)
    others = [i for i, name in enumerate(names) if name not in own]
    if query in names and names.index(query) in others:
        return names.index(query)
    hits = [i for i in others if query.lower() in names[i].lower()]
    if len(hits) == 1:
        return hits[0]
    available = ", ".join(repr(names[i]) for i in others) or "none"
    if hits:
        matches = ", ".join(repr(names[i]) for i in hits)
        raise PortError(f"{direction} port name {query!r} is ambiguous: matches {matches}")
    if any(query.lower() in name.lower() for name in own):
        raise PortError(f"{direction} port {query!r} is Partita's own output: listening to it, Partita would "
                        f"hear itself (available: {available})")
    raise PortError(f"no {direction} port matching {query!r} (available: {available})")


# The outputs this process has open as Partita: an input never connects to them (the duet would answer itself).
_own_outputs: weakref.WeakSet = weakref.WeakSet()


def _own_output_names(names: Iterable[str]) -> set[str]:
    """The names among `names` (as a backend lists them) of ports that this process's open
    outputs have. A client's name is made unique by the backend: "Partita-01:Partita Out" under
    JACK, "Partita:Partita Out 130:0" under ALSA."""
    patterns = [re.compile(rf"{re.escape(out.client_name)}(-\d+)?:{re.escape(out.port_name)}( \d+:\d+)?")
                for out in list(_own_outputs) if not out.closed]
    return {name for name in names if any(pattern.fullmatch(name) for pattern in patterns)}


class RtMidiOutput(MidiOutput):
    """An output port: connected to an existing port (`name`) or virtual (others connect to us)."""

    def _open(self, backend: str = "jack", virtual: bool = False, client_name: str = CLIENT_NAME,
              port_name: str = VIRTUAL_OUTPUT, **_) -> None:
        self.backend = backend
        self.virtual = virtual
        self.client_name, self.port_name = client_name, port_name
        _connect(self, backend, virtual, client_name, port_name, rtmidi.MidiOut, "output")
        self._device_type = f"rtmidi/{backend}"
        if client_name == CLIENT_NAME:  # what Partita plays through (tests' stand-in keyboards have names of their own)
            _own_outputs.add(self)

    def _send_bytes(self, data) -> None:
        self._rt.send_message(data)

    def destination_present(self) -> bool:
        """False when the port we connected to has gone (or its server has); virtual ports: True.

        Asks this port's own client, so it registers nothing new in the JACK graph (cheap
        enough to call a few times a second from the playback thread).
        """
        if self.closed or _jack_gone(self):
            return False
        if self.virtual:
            return True
        with self._lock:
            return self.name in self._rt.get_ports()

    def _close(self) -> None:
        self._release()

    def _release(self) -> None:
        _release_rtmidi(self)


class RtMidiInput(mido.ports.BaseInput):
    """An input port that hands each message to `callback(message, seconds)`.

    rtmidi would call a Python callback from JACK's real-time thread, which then waits for
    the GIL; on a busy machine JACK declares the client late (xrun) and drops its MIDI. So
    messages stay in rtmidi's C++ queue and a small thread drains it every `poll_interval_s`.
    `seconds` is on the injected `clock` (a zero-argument function, default
    `time.perf_counter`): rtmidi's precise inter-message deltas, mapped onto the clock by the
    smallest observed offset, so polling adds no jitter to the timestamps.

    The callback runs on the polling thread: keep it short. Without a callback, messages
    queue up for `receive()`/`iter_pending()` as in mido.
    """

    _locking = True

    def _open(self, backend: str = "jack", virtual: bool = False, client_name: str = CLIENT_NAME,
              port_name: str = VIRTUAL_INPUT, callback: Callable | None = None,
              clock: Callable[[], float] | None = None, poll_interval_s: float = 0.001, **_) -> None:
        import time

        self.backend = backend
        self.virtual = virtual
        self.callback = callback
        self._clock = clock or time.perf_counter
        _connect(self, backend, virtual, client_name, port_name, rtmidi.MidiIn, "input")
        self._rt.ignore_types(sysex=True, timing=True, active_sense=True)
        self._device_type = f"rtmidi/{backend}"
        self.callback_error: str | None = None  # the last exception the callback raised
        self._stream_seconds = 0.0  # sum of rtmidi's deltas: the device's own time line
        self._offset: float | None = None  # clock seconds minus stream seconds (smallest seen)
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._poll, args=(poll_interval_s,), daemon=True,
                                        name=f"partita-midi-in {self.name}")
        self._poller.start()

    def _poll(self, interval: float) -> None:
        while not self._stop.wait(interval):
            rt = self._rt
            while rt is not None and not self._stop.is_set():
                event = rt.get_message()
                if event is None:
                    break
                data, delta = event
                now = self._clock()
                self._stream_seconds += delta
                offset = now - self._stream_seconds
                if self._offset is None or offset < self._offset:
                    self._offset = offset
                self._deliver(data, self._stream_seconds + self._offset)

    def _deliver(self, data: list[int], seconds: float) -> None:
        try:
            message = mido.Message.from_bytes(data)
        except ValueError:
            return  # a malformed message from the device; nothing to do with it
        callback = self.callback
        if callback is not None:
            try:
                callback(message, seconds)
            except Exception as error:  # keep listening; the owner can read what went wrong
                self.callback_error = f"{type(error).__name__}: {error}"
        else:
            with self._lock:
                self._messages.append(message)

    def _receive(self, block: bool = True) -> None:
        return None  # messages arrive through the polling thread

    def _close(self) -> None:
        stop = getattr(self, "_stop", None)
        if stop is not None:
            stop.set()
            if self._poller is not threading.current_thread():
                self._poller.join(1.0)
        self._release()

    def _release(self) -> None:
        _release_rtmidi(self)


def open_output(name: str | None = None, *, backend: str | None = None, virtual: bool = False,
                client_name: str = CLIENT_NAME, port_name: str = VIRTUAL_OUTPUT) -> RtMidiOutput:
    """Open an output to the port called (or uniquely containing) `name`, or a virtual one."""
    if not virtual and not name:
        raise PortError("no output port named; pass a port name or ask for a virtual port")
    return RtMidiOutput(name, backend=backend or default_backend(), virtual=virtual,
                        client_name=client_name, port_name=port_name)


def open_input(name: str | None = None, *, backend: str | None = None, virtual: bool = False,
               callback: Callable | None = None, clock: Callable[[], float] | None = None,
               client_name: str = CLIENT_NAME, port_name: str = VIRTUAL_INPUT) -> RtMidiInput:
    """Listen to the port called (or uniquely containing) `name`, or on a virtual one."""
    if not virtual and not name:
        raise PortError("no input port named; pass a port name or ask for a virtual port")
    return RtMidiInput(name, backend=backend or default_backend(), virtual=virtual, callback=callback,
                       clock=clock, client_name=client_name, port_name=port_name)


class CollectingOutput(MidiOutput):
    """An output that keeps what it is sent as (seconds, message): for tests and rendering."""

    def _open(self, clock: Callable[[], float] | None = None, **_) -> None:
        import time

        self.clock = clock or time.perf_counter
        self.sent: list[tuple[float, mido.Message]] = []
        self.destination_there = True  # tests flip this to simulate a vanished destination

    def _send_bytes(self, data) -> None:
        self.sent.append((self.clock(), mido.Message.from_bytes(list(data))))

    def destination_present(self) -> bool:
        return self.destination_there and not self.closed


class TeeOutput(MidiOutput):
    """Sends to several outputs at once (an external synth and the built-in one, say).

    `destination_present` is False as soon as one destination has gone, so playback stops
    with an error; `present_outputs()` gives those still there, for the final note-offs.
    """

    def _open(self, outputs: Iterable = (), **_) -> None:
        self.outputs = list(outputs)
        self.name = " + ".join(str(getattr(o, "name", o)) for o in self.outputs)

    def _send_bytes(self, data) -> None:
        for output in self.outputs:
            output.send_bytes(data)

    def destination_present(self) -> bool:
        return all(present(output) for output in self.outputs)

    def present_outputs(self) -> list:
        return [output for output in self.outputs if present(output)]

    def _close(self) -> None:
        for output in self.outputs:
            output.close()


def _connect(port, backend: str, virtual: bool, client_name: str, port_name: str, rt_class, direction: str) -> None:
    """Open `port`'s rtmidi client: a virtual port, or the existing one its name matches.

    Shared by inputs and outputs; sets `_server`, `_failures_at_open`, `_jack_socket`, `_rt` and
    `name`, and releases the client again (raising PortError) when opening fails.
    """
    port._server = _jack_server_name() if backend == "jack" else ""
    port._failures_at_open = _jack_failure_count(port._server)
    port._jack_socket = _jack_socket(port._server) if backend == "jack" else None
    port._rt = _new_client(backend, rt_class, client_name)
    try:
        if virtual:
            if backend not in VIRTUAL_CAPABLE:
                raise PortError(f"{backend}: virtual ports are not supported; open an existing port")
            port._rt.open_virtual_port(port_name)
            port.name = port_name
        else:
            names = port._rt.get_ports()
            own = _own_output_names(names) if direction == "input" else ()
            index = match_port(port.name or "", names, direction, own)
            port.name = names[index]
            port._rt.open_port(index, port_name)
    except (rtmidi.RtMidiError, rtmidi.SystemError) as error:
        port._release()
        raise PortError(f"cannot open {direction} port {port.name!r}: {error}") from None
    except PortError:
        port._release()
        raise
