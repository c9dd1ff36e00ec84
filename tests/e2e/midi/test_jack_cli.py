"""The MIDI commands against a real JACK server: ports, play, record, and their error messages."""

from __future__ import annotations

import threading
import time

import symusic

from core import midi_ports
from core.cli import main
from core.midi_ports import open_input, open_output
from core.playback import Player
from core.recording import save_midi


def little_tune() -> symusic.Score:
    score = symusic.Score(480)
    score.tempos.append(symusic.Tempo(0, 120.0))
    track = symusic.Track(program=42)
    for i, pitch in enumerate([55, 59, 62, 67, 62, 59]):
        track.notes.append(symusic.Note(i * 240, 200, pitch, 85))
    score.tracks.append(track)
    return score


def input_opened(monkeypatch) -> threading.Event:
    """Set once a command has opened (and so connected) its input port: the musician plays
    from then on. A fixed head start lost the first note when the machine was busy."""
    opened = threading.Event()
    real_open_input = midi_ports.open_input

    def open_and_tell(*args, **kwargs):
        port = real_open_input(*args, **kwargs)
        opened.set()
        return port

    monkeypatch.setattr("core.midi_ports.open_input", open_and_tell)
    return opened


def test_ports_command_lists_jack_ports_and_the_synth(jack_server, capsys):
    port = open_input(virtual=True, backend="jack", client_name="visible", port_name="in")
    assert main(["ports", "--backend", "jack"]) == 0
    out = capsys.readouterr().out
    assert "visible:in" in out and "built-in synth" in out
    port.close()


def test_play_command_sends_the_file_to_the_named_port(jack_server, tmp_path):
    heard = []
    port = open_input(virtual=True, backend="jack", client_name="cliear", port_name="in",
                      callback=lambda m, t: heard.append(m))
    path = tmp_path / "tune.mid"
    save_midi(little_tune(), path)
    assert main(["play", str(path), "--port", "cliear", "--backend", "jack", "--tempo-factor", "4"]) == 0
    time.sleep(0.05)
    assert [m.note for m in heard if m.type == "note_on" and m.velocity > 0] == [55, 59, 62, 67, 62, 59]
    assert heard[0].type == "program_change" and heard[0].program == 42
    port.close()


def test_play_command_names_the_missing_port_and_what_exists(jack_server, tmp_path, capsys):
    path = tmp_path / "tune.mid"
    save_midi(little_tune(), path)
    assert main(["play", str(path), "--port", "no-such-synth", "--backend", "jack"]) == 2
    assert "no output port matching 'no-such-synth'" in capsys.readouterr().err


def test_record_command_writes_the_phrase_played_into_the_port(jack_server, tmp_path, monkeypatch):
    keys = open_output(virtual=True, backend="jack", client_name="clikeys", port_name="out")
    out = tmp_path / "phrase.mid"
    listening = input_opened(monkeypatch)

    def musician():
        assert listening.wait(10), "the record command never opened its port"
        player = Player(keys, little_tune())
        player.play()
        player.wait(5)

    thread = threading.Thread(target=musician)
    thread.start()
    assert main(["record", "--port", "clikeys:out", "--out", str(out), "--seconds", "2.2", "--bpm", "120",
                 "--backend", "jack"]) == 0
    thread.join()
    recorded = symusic.Score.from_file(str(out))
    notes = recorded.tracks[0].notes
    assert [n.pitch for n in notes] == [55, 59, 62, 67, 62, 59]
    assert [n.time - notes[0].time for n in notes] == [i * recorded.tpq // 2 for i in range(6)]
    keys.close()


def test_duet_command_reports_a_bad_model_folder(jack_server, tmp_path, capsys):
    assert main(["duet", "--model", str(tmp_path), "--input", "x", "--output", "y"]) == 2
    assert "config.json" in capsys.readouterr().err


def test_duet_command_answers_a_phrase_with_the_model_and_saves_the_take(jack_server, tmp_path, monkeypatch):
    """The whole chain with the real engine (a small untrained model: wiring, not music)."""
    import torch

    from core.checkpoint import save_checkpoint
    from core.model import ModelConfig, Transformer
    from core.tokenizer import PartitaTokenizer

    torch.manual_seed(0)
    tokenizer = PartitaTokenizer.create()
    model = Transformer(ModelConfig(vocab_size=len(tokenizer), block_size=256, n_layer=1, n_head=2, n_embd=32))
    save_checkpoint(tmp_path / "run", model, tokenizer, meta={})
    heard = []
    ears = open_input(virtual=True, backend="jack", client_name="duetears", port_name="in",
                      callback=lambda m, t: heard.append(m))
    keys = open_output(virtual=True, backend="jack", client_name="duetkeys", port_name="out")
    take = tmp_path / "take.mid"
    listening = input_opened(monkeypatch)

    def musician():
        assert listening.wait(20), "the duet command never opened its input port"
        player = Player(keys, little_tune())
        player.play()
        player.wait(5)

    thread = threading.Thread(target=musician)
    thread.start()
    status = main(["duet", "--model", str(tmp_path / "run"), "--input", "duetkeys:out", "--output", "duetears:in",
                   "--bars", "1", "--silence-ms", "300", "--bpm", "240", "--seed", "1", "--seconds", "5",
                   "--out", str(take), "--backend", "jack"])
    thread.join()
    assert status == 0
    conversation = symusic.Score.from_file(str(take))
    you, partita = conversation.tracks
    assert [n.pitch for n in you.notes] == [55, 59, 62, 67, 62, 59]
    assert len(partita.notes) > 0
    echoed = [m.note for m in heard if m.type == "note_on" and m.velocity > 0][:6]
    assert echoed == [55, 59, 62, 67, 62, 59]  # thru: the player hears themselves on the output
    ears.close()
    keys.close()
