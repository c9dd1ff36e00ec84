"""The built-in synth: render to WAV, live output through the FluidSynth shell, clear messages when absent."""

from __future__ import annotations

import wave

import numpy as np
import pytest
import symusic

from core.midi.playback import Player
from core.midi.synth import FluidSynthOutput, SynthUnavailable, find_fluidsynth, find_soundfont, render_wav

needs_synth = pytest.mark.skipif(find_fluidsynth() is None or find_soundfont() is None,
                                 reason="fluidsynth or a GM SoundFont not installed (apt install fluidsynth fluid-soundfont-gm)")


def cello_line() -> symusic.Score:
    score = symusic.Score(480)
    score.tempos.append(symusic.Tempo(0, 120.0))
    track = symusic.Track(program=42)
    for i, pitch in enumerate([43, 50, 59, 57]):
        track.notes.append(symusic.Note(i * 480, 400, pitch, 90))
    score.tracks.append(track)
    return score


@needs_synth
def test_render_wav_writes_sound_at_least_as_long_as_the_music(tmp_path):
    out = render_wav(cello_line(), tmp_path / "line.wav")
    with wave.open(str(out)) as wav:
        seconds = wav.getnframes() / wav.getframerate()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
    assert wav.getnchannels() == 2 and seconds >= 2.0
    assert np.abs(samples).max() > 500  # not silence
    assert not list(tmp_path.glob(".line.wav.*"))  # no temporary left behind


@needs_synth
def test_live_output_drives_the_fluidsynth_shell_without_errors(tmp_path):
    # The file driver needs no sound card (and must not write into the working folder).
    output = FluidSynthOutput(audio_driver="file", settings={"audio.file.name": str(tmp_path / "live.wav")})
    player = Player(output, cello_line(), tempo_factor=8.0)
    player.play()
    assert player.wait(5) and player.state == "finished", player.error_message
    output.close()
    log = output.output_text()
    assert "prog 0 42" in log and "noteon 0 43 90" in log and "noteoff 0 57" in log
    assert "unknown" not in log.lower() and "error" not in log.lower()


@needs_synth
def test_a_synth_that_cannot_open_its_audio_device_says_so_at_once():
    with pytest.raises(SynthUnavailable, match="could not start.*audio driver"):
        FluidSynthOutput(audio_driver="no-such-driver")


def test_missing_fluidsynth_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setattr("core.midi.synth.shutil.which", lambda name: None)
    with pytest.raises(SynthUnavailable, match="apt install fluidsynth fluid-soundfont-gm"):
        render_wav(cello_line(), tmp_path / "x.wav")


def test_missing_soundfont_names_the_file_and_the_fix(monkeypatch, tmp_path):
    monkeypatch.setattr("core.midi.synth.shutil.which", lambda name: "/usr/bin/fluidsynth")
    monkeypatch.setenv("PARTITA_SOUNDFONT", str(tmp_path / "nowhere.sf2"))
    with pytest.raises(SynthUnavailable, match="no General MIDI SoundFont found.*fluid-soundfont-gm"):
        FluidSynthOutput()


@needs_synth
def test_play_command_renders_a_file_to_wav(tmp_path):
    from core.cli import main
    from core.midi.recording import save_midi

    source = tmp_path / "line.mid"
    save_midi(cello_line(), source)
    assert main(["play", str(source), "--wav", str(tmp_path / "line.wav")]) == 0
    with wave.open(str(tmp_path / "line.wav")) as wav:
        assert wav.getnframes() / wav.getframerate() >= 2.0
