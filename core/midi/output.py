"""What every MIDI output Partita plays through has in common, in one place.

`MidiOutput` is a mido output whose public `send_bytes(data)` checks and locks once, then hands
the bytes to the subclass's `_send_bytes`: the scheduler's hot path skips building a
`mido.Message` (mido's own `send(message)` still works, through the same `_send_bytes`). A
subclass says whether its destination is still there (`destination_present`), and `panic`
silences it. `present` and `all_notes_off` do the same for any object the player is given that
has `send_bytes` (and perhaps `destination_present`): a test's or a benchmark's stand-in.
"""

from __future__ import annotations

import mido

ALL_NOTES_OFF = 123  # MIDI controller number
CHANNELS = range(16)


class MidiOutput(mido.ports.BaseOutput):
    """Base of Partita's outputs: subclasses implement `_send_bytes` and, where their destination
    can vanish, `destination_present`."""

    def send_bytes(self, data: list[int] | bytes | tuple[int, ...]) -> None:
        """Send raw MIDI bytes (already valid); raises ValueError when the port is closed."""
        with self._lock:
            if self.closed:
                raise ValueError(f"send on closed port {self.name!r}")
            self._send_bytes(data)

    def _send_bytes(self, data) -> None:
        raise NotImplementedError

    def _send(self, message: mido.Message) -> None:  # mido's send(), validated and locked by it
        self._send_bytes(message.bytes())

    def destination_present(self) -> bool:
        """False once whatever this port sends to has gone."""
        return not self.closed

    def panic(self) -> None:
        """All Notes Off on every channel (mido's own panic sends All Sound Off, which cuts even
        the releases); nothing on a closed port, as mido's."""
        if not self.closed:
            all_notes_off(self)


def present(output) -> bool:
    """Whether `output`'s destination is still there (an output without the question: while open)."""
    check = getattr(output, "destination_present", None)
    return bool(check()) if check else not getattr(output, "closed", False)


def all_notes_off(output) -> None:
    """All Notes Off on every channel of `output` (anything with `send_bytes`)."""
    for channel in CHANNELS:
        output.send_bytes((0xB0 | channel, ALL_NOTES_OFF, 0))
