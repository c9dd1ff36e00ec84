"""Subcommands of the `partita` command line; see `core.cli`."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

# core.midi.ports.BACKENDS' names, so that building the parser (`partita train --help`) never
# needs python-rtmidi; tests/core/test_playback_ports.py checks that the two agree.
MIDI_BACKENDS = ("jack", "alsa", "coremidi", "winmm")


SEED_LIMIT = 2**63  # torch and numpy take seeds below it


def seed_number(text: str) -> int:
    """argparse type of every `--seed`: a whole number from 0 to 2**63 - 1."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value < SEED_LIMIT:
        raise argparse.ArgumentTypeError(f"{text} is outside 0 to {SEED_LIMIT - 1}")
    return value


def add_model_arguments(parser) -> None:
    """--model and --best, for the commands that compose with a trained model."""
    parser.add_argument("--model", help="run folder, or a shipped model's name: bach-cello-suites, "
                                        "bach-chorales, ... (default: the shipped default model)")
    parser.add_argument("--best", action="store_true",
                        help="use the weights of the run's lowest validation loss, not its last step's")


def add_limit_arguments(parser) -> None:
    """--voices and --range: the instrument's limits, which the model's own corpus sets otherwise."""
    parser.add_argument("--voices", type=int, metavar="N",
                        help="at most N notes sounding at once (default: as many as the model's corpus; 0: no limit)")
    parser.add_argument("--range", metavar="LOW-HIGH",
                        help="keep new notes inside this range, e.g. C2-G5 (default: the model's corpus's)")
    parser.add_argument("--chords", metavar="PROGRESSION",
                        help="chords for the new bars, for a chord-aware model (miles-davis): 'Dm7 G7 | Cmaj7' "
                             "(bars split by |, or a bar per chord without |; WJazzD spelling too: D-7 G7 Cj7); "
                             "repeated to the end. Default: the seed's own chord symbols go on as the model hears them")


def add_control_arguments(parser) -> None:
    """--density and --polyphony: what every new bar is asked to be (core.music.controls); with them,
    --range asks each bar to span that range too, for a model with controls."""
    from core.music.controls import DENSITY_WORDS

    parser.add_argument("--density", metavar="LEVEL",
                        help="notes per bar, as a level 0-6 or a word: " + ", ".join(DENSITY_WORDS)
                             + " (1: up to half a note a quarter; 6: over 3.25, sixteenths)")
    parser.add_argument("--polyphony", type=int, metavar="N",
                        help="notes sounding at once in every bar (1: one line); kept as --voices too")


def add_style_arguments(parser) -> None:
    """--sequences: how often a bar takes up the figure of the bar before (core.composing.sequencing)."""
    parser.add_argument("--sequences", type=float, metavar="SHARE",
                        help="share of bars offered the figure of the bar before a scale step away, as Bach's "
                             "sequences (0: off; default: the model's own, 0.3 for bach-cello-suites, else 0)")


def limit_settings(args) -> dict:
    """GenerationSettings fields for `add_limit_arguments`' options, checked (UserError)."""
    from core.cli import UserError
    from core.music.limits import parse_range

    fields = {}
    if args.voices is not None:
        if not 0 <= args.voices <= 16:
            raise UserError("--voices must be 0 (no limit) to 16")
        fields["voices"] = args.voices
    if args.range is not None:
        try:
            low, high = parse_range(args.range)
        except ValueError as error:
            raise UserError(f"--range: {error}") from None
        if low > high:
            raise UserError(f"--range {args.range}: its lowest pitch is above its highest")
        fields["pitch_range"] = (low, high)
    if getattr(args, "chords", None):
        from core.music.chords import parse_progression

        try:
            parse_progression(args.chords)
        except ValueError as error:
            raise UserError(f"--chords: {error}") from None
        fields["chords"] = args.chords
    if getattr(args, "sequences", None) is not None:
        if not 0 <= args.sequences <= 1:
            raise UserError(f"--sequences is a share of bars, 0 to 1, not {args.sequences}")
        fields["sequences"] = args.sequences
    if hasattr(args, "density"):
        fields["controls"] = _controls(args, fields.get("pitch_range"))
    return fields


def _controls(args, pitch_range: tuple[int, int] | None):
    """The BarControls of --density, --polyphony and --range (UserError when one is wrong)."""
    from core.cli import UserError
    from core.music.controls import BarControls, parse_density

    density = None
    if args.density is not None:
        try:
            density = parse_density(args.density)
        except ValueError as error:
            raise UserError(f"--density: {error}") from None
    if args.polyphony is not None and not 1 <= args.polyphony <= 16:
        raise UserError(f"--polyphony is 1 to 16 notes at once, not {args.polyphony}")
    low, high = pitch_range if pitch_range is not None else (None, None)
    return BarControls(density, args.polyphony, low, high)


def fit_controls(loaded, settings):
    """`settings` for `loaded`, or UserError for a --density it did not learn (a --polyphony or
    --range it did not learn is kept as a limit: core.composing.generation.control_plan)."""
    from core.cli import UserError

    if settings.controls.density is not None and "density" not in loaded.tokenizer.controls:
        raise UserError(f"--density: the model {loaded.run_dir.name} was trained without the density control; "
                        "choose a shipped model that has it (the README's *Style models*) or retrain yours")
    return settings


def load_cli_model(args, device: str = "cpu"):
    """The model `add_model_arguments` chose, as a `core.learning.checkpoint.LoadedModel`; says on stderr
    which weights, when the run's validation loss was lowest at another step than the last."""
    from core.cli import UserError
    from core.learning.checkpoint import CheckpointError, load_model

    try:
        loaded = load_model(args.model, device=device, best=args.best)
    except CheckpointError as error:
        raise UserError(str(error)) from None
    training = loaded.config.get("training", {})
    best, last = training.get("best", {}), training.get("step")
    if best.get("step") not in (None, last):
        if args.best:
            print(f"using the weights of {loaded.describe()}", file=sys.stderr)
        elif isinstance(best.get("loss"), float):
            print(f"note: the validation loss was lowest at step {best['step']} ({best['loss']:.3f}); "
                  "--best uses those weights", file=sys.stderr)
    return loaded


def check_device(name: str) -> None:
    """Raise UserError when torch cannot put a tensor on device `name` ("auto" is always fine)."""
    if name == "auto":
        return
    import torch

    from core.cli import UserError

    try:
        device = torch.device(name)
    except RuntimeError:
        raise UserError(f"--device {name}: not a device name (auto, cpu, cuda, cuda:1, mps, ...)") from None
    present = {"cuda": torch.cuda.is_available, "mps": torch.backends.mps.is_available}
    if device.type in present and not present[device.type]():
        raise UserError(f"--device {name}: not usable on this machine (no {device.type.upper()} device)")
    try:
        torch.empty(1, device=device)
    except (RuntimeError, AssertionError) as error:
        text = str(error).strip()
        reason = text.splitlines()[0].split(". ")[0][:160] if text else type(error).__name__
        raise UserError(f"--device {name}: not usable on this machine ({reason})") from None


def save_take(score, path: Path, command: str) -> bool:
    """Save a take that cannot be played again to `path`; if that fails (the disk filled, the folder went
    away since it was checked), to a file in the system temp folder, and say where. True if `path` was written."""
    import tempfile

    from core.midi.recording import save_midi

    try:
        save_midi(score, path)
        return True
    except OSError as error:
        reason = error.strerror or str(error)
    name = os.path.join(tempfile.gettempdir(), f"partita-{command}-{time.strftime('%Y%m%d-%H%M%S')}.mid")
    try:
        save_midi(score, name)
    except OSError as error:
        print(f"partita {command}: could not save to {path} ({reason}) nor to {name} "
              f"({error.strerror or error}); the take is lost", file=sys.stderr)
        return False
    print(f"partita {command}: could not save to {path} ({reason}); the take is saved in {name}", file=sys.stderr)
    return False


def read_music(path: Path, purpose: str):
    """The score of the music file `path` named on the command line, to `purpose` ("export",
    "play"); UserError naming the file and the problem otherwise: unreadable (whatever a reader
    raised: music21 and symusic fail on hostile files in their own ways), or holding no notes
    (an empty score exported or played says nothing of what went wrong)."""
    from core.cli import UserError
    from core.music.scores import ScoreError, load_score, note_count

    warnings: list[str] = []
    try:
        score = load_score(path, warnings=warnings)
    except ScoreError as error:
        raise UserError(str(error)) from None
    except OSError:
        raise  # the CLI names the file and the reason (permission denied, ...)
    except Exception as error:  # noqa: BLE001 (a reader's own failure: one line naming the file; the traceback logged)
        raise UserError(f"{path.name}: unreadable ({failure(error)})") from None
    if note_count(score) == 0:
        raise UserError(f"{path.name}: holds no notes: nothing to {purpose}")
    for line in warnings:
        print(f"warning: {line}", file=sys.stderr)
    return score


def failure(error: BaseException) -> str:
    """An unforeseen failure in a few words ("ZeroDivisionError: division by zero"), its traceback
    written to the log, whose file the words end with."""
    import logging

    from core.userdata import LOG_FILE, user_dirs

    logging.getLogger("partita").error("unforeseen failure", exc_info=error)
    lines = str(error).strip().splitlines()
    reason = f"{type(error).__name__}: {lines[0][:160]}" if lines else type(error).__name__
    return f"{reason}; the details are in {user_dirs().logs / LOG_FILE}"
