"""Subcommands of the `partita` command line; see `core.cli`."""

# core.midi_ports.BACKENDS' names, so that building the parser (`partita train --help`) never
# needs python-rtmidi; tests/core/test_playback_ports.py checks that the two agree.
MIDI_BACKENDS = ("jack", "alsa", "coremidi", "winmm")


def check_device(name: str) -> None:
    """Raise UserError when torch cannot put a tensor on device `name` ("auto" is always fine)."""
    if name == "auto":
        return
    import torch

    from core.cli import UserError

    try:
        torch.empty(1, device=torch.device(name))
    except (RuntimeError, AssertionError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UserError(f"--device {name}: not usable on this machine ({reason})") from None
