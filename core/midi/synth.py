"""Sound without a synthesizer: FluidSynth with a General MIDI SoundFont, live or to a WAV file.

Uses the `fluidsynth` program (Debian `fluidsynth`, with the SoundFont from
`fluid-soundfont-gm`), so nothing needs compiling: `render_wav` runs it offline on a MIDI
file; `FluidSynthOutput` keeps one running and drives it through its command shell on stdin
(`noteon 0 60 100`), which works with every audio driver FluidSynth has (PulseAudio, ALSA,
JACK, CoreAudio, DirectSound). When either piece is missing, `SynthUnavailable` says how to
get it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import mido
import mido.ports
import symusic

from core.atomic import atomic_path
from core.midi.output import MidiOutput

SOUNDFONT_ENV = "PARTITA_SOUNDFONT"
SOUNDFONT_CANDIDATES = (
    "/usr/share/sounds/sf2/default-GM.sf2",  # Debian alternatives link
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",  # Debian/Ubuntu fluid-soundfont-gm
    "/usr/share/soundfonts/default.sf2",  # Fedora, Arch
    "/usr/share/soundfonts/FluidR3_GM.sf2",
    "/opt/homebrew/share/soundfonts/default.sf2",  # macOS Homebrew
    "/usr/local/share/soundfonts/default.sf2",
)
HOW_TO_GET = (
    "Debian/Ubuntu: sudo apt install fluidsynth fluid-soundfont-gm; "
    "Fedora: sudo dnf install fluidsynth fluid-soundfont-gm; "
    "macOS: brew install fluid-synth, then set PARTITA_SOUNDFONT to a General MIDI .sf2 file; "
    "Windows: install FluidSynth (fluidsynth.org), put it on PATH and set PARTITA_SOUNDFONT"
)


class SynthUnavailable(RuntimeError):
    """FluidSynth or a SoundFont is missing; the message says how to install them."""


def find_soundfont() -> Path | None:
    """The SoundFont to use: $PARTITA_SOUNDFONT, else the first General MIDI one installed."""
    chosen = os.environ.get(SOUNDFONT_ENV)
    if chosen:
        return Path(chosen) if Path(chosen).is_file() else None
    for candidate in SOUNDFONT_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    return None


def find_fluidsynth() -> str | None:
    return shutil.which("fluidsynth")


def require_synth(soundfont: str | Path | None = None) -> tuple[str, Path]:
    """The fluidsynth program and a SoundFont, or SynthUnavailable explaining how to get them."""
    program = find_fluidsynth()
    if program is None:
        raise SynthUnavailable(f"the fluidsynth program is not installed ({HOW_TO_GET})")
    font = Path(soundfont) if soundfont else find_soundfont()
    if font is None or not font.is_file():
        where = f"{font} does not exist" if font else "no General MIDI SoundFont found"
        raise SynthUnavailable(f"{where} ({HOW_TO_GET})")
    return program, font


def render_wav(score: symusic.Score, out: str | Path, *, soundfont: str | Path | None = None,
               sample_rate: int = 44100, gain: float = 0.6, timeout_s: float = 600.0) -> Path:
    """Render a Score to a 16-bit stereo WAV file (written atomically); returns its path."""
    program, font = require_synth(soundfont)
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="partita-render-") as folder:
        midi = Path(folder) / "score.mid"
        midi.write_bytes(bytes(score.dumps_midi()))
        with atomic_path(out) as tmp:
            command = [program, "-n", "-i", "-q", "-F", str(tmp), "-T", "wav", "-O", "s16",
                       "-r", str(sample_rate), "-g", str(gain), str(font), str(midi)]
            try:
                result = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
            except subprocess.TimeoutExpired:
                raise SynthUnavailable(f"{out.name}: fluidsynth took longer than {timeout_s:.0f} s") from None
            if result.returncode != 0 or tmp.stat().st_size <= 44:
                detail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
                raise SynthUnavailable(f"{out.name}: fluidsynth failed ({detail[0]})")
    return out


class FluidSynthOutput(MidiOutput):
    """A live output that plays through a FluidSynth process (the built-in synth).

    `audio_driver` is FluidSynth's (-a): None lets it choose the platform default; "jack"
    plays into JACK; "file" writes `settings={"audio.file.name": path}` (else ./fluidsynth.wav). Send mido Messages or raw bytes, as to any output; `destination_present`
    is False once the process has exited.
    """

    def _open(self, soundfont: str | Path | None = None, audio_driver: str | None = None,
              gain: float = 0.6, startup_timeout_s: float = 10.0, settings: dict | None = None, **_) -> None:
        program, font = require_synth(soundfont)
        command = [program, "-n", "-g", str(gain), "-o", "shell.prompt=", "-q"]
        if audio_driver:
            command += ["-a", audio_driver]
        for key, value in (settings or {}).items():  # FluidSynth settings, e.g. audio.file.name
            command += ["-o", f"{key}={value}"]
        command.append(str(font))
        # Its output goes to a file, never a pipe: a full pipe would stall the synth, then us.
        self._log = tempfile.TemporaryFile(mode="w+")
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=self._log,
                                         stderr=subprocess.STDOUT, text=True, bufsize=1)
        self.name = f"FluidSynth ({font.name})"
        self._wait_until_ready(startup_timeout_s)

    def _wait_until_ready(self, timeout_s: float) -> None:
        """Wait for the shell's greeting; a synth that cannot open its audio device exits first."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                lines = [line for line in self.output_text().splitlines() if "error" in line.lower()]
                reason = lines[-1] if lines else f"exit code {self._process.returncode}"
                raise SynthUnavailable(f"FluidSynth could not start: {reason} (try another audio driver: "
                                       "jack, pulseaudio, alsa, coreaudio, dsound)")
            if "help topics" in self.output_text():
                return
            time.sleep(0.02)

    def _send_bytes(self, data) -> None:
        line = shell_command(mido.Message.from_bytes(list(data)))
        if line is None:
            return
        if self._process.poll() is not None:
            raise OSError(f"{self.name} has exited (code {self._process.returncode})")
        try:
            self._process.stdin.write(line + "\n")
        except (BrokenPipeError, ValueError) as error:
            raise OSError(f"{self.name} stopped accepting notes ({error})") from None

    def destination_present(self) -> bool:
        return not self.closed and self._process.poll() is None

    def _close(self) -> None:
        process = getattr(self, "_process", None)
        if process is None:
            return
        try:
            if process.poll() is None:
                process.stdin.write("quit\n")
                process.stdin.close()
            process.wait(3)
        except (BrokenPipeError, OSError, ValueError, subprocess.TimeoutExpired):
            process.kill()
            process.wait(3)

    def output_text(self) -> str:
        """What FluidSynth has printed so far: errors (bad driver, unknown command) show up here."""
        log = getattr(self, "_log", None)
        if log is None:
            return ""
        log.flush()
        log.seek(0)
        return log.read()


def shell_command(message: mido.Message) -> str | None:
    """The FluidSynth shell line for a channel message (None for what the shell cannot say)."""
    kind = message.type
    if kind == "note_on":
        if message.velocity == 0:
            return f"noteoff {message.channel} {message.note}"
        return f"noteon {message.channel} {message.note} {message.velocity}"
    if kind == "note_off":
        return f"noteoff {message.channel} {message.note}"
    if kind == "program_change":
        return f"prog {message.channel} {message.program}"
    if kind == "control_change":
        return f"cc {message.channel} {message.control} {message.value}"
    if kind == "pitchwheel":
        return f"pitch_bend {message.channel} {message.pitch + 8192}"
    return None
