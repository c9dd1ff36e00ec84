"""The MIDI commands against a real JACK server: ports, play, record, and their error messages."""

from __future__ import annotations

import threading
import time

import symusic

from core.cli import main
from core.midi import ports as midi_ports
from core.midi.playback import Player
from core.midi.ports import open_input, open_output
from core.midi.recording import save_midi


def little_tune() -> symusic.Score:
    score = symusic.Score(480)
    score.tempos.append(symusic.Tempo(0, 120.0))
    track = symusic.Track(program=42)
    for i, pitch in enumerate([55, 59, 62, 67, 62, 59]):
        track.notes.append(symusic.Note(i * 240, 200, pitch, 85))
    score.tracks.append(track)
    return score


class Musician(threading.Thread):
    """Plays `score` into `keys` once the command under test has opened its input port (a fixed
    head start lost the first note when the machine was busy); `join` re-raises its failure."""

    def __init__(self, monkeypatch, keys, score: symusic.Score, timeout_s: float):
        super().__init__(daemon=True)
        self.keys, self.score, self.timeout_s = keys, score, timeout_s
        self.listening = threading.Event()
        self.failure: BaseException | None = None
        real_open_input = midi_ports.open_input

        def open_and_tell(*args, **kwargs):
            port = real_open_input(*args, **kwargs)
            self.listening.set()
            return port

        monkeypatch.setattr("core.midi.ports.open_input", open_and_tell)

    def run(self) -> None:
        try:
            if not self.listening.wait(self.timeout_s):
                raise AssertionError(f"the command did not open its input port within {self.timeout_s} s")
            player = Player(self.keys, self.score)
            player.play()
            assert player.wait(5), "the musician's phrase did not finish playing"
        except BaseException as error:  # noqa: BLE001 (handed to the test thread by join)
            self.failure = error

    def join(self, timeout: float | None = None) -> None:
        super().join(timeout)
        if self.failure is not None:
            raise self.failure


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
    thread = Musician(monkeypatch, keys, little_tune(), timeout_s=10)
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

    from core.learning.checkpoint import save_checkpoint
    from core.learning.model import ModelConfig, Transformer
    from core.learning.tokenizer import PartitaTokenizer

    torch.manual_seed(0)
    tokenizer = PartitaTokenizer.create()
    model = Transformer(ModelConfig(vocab_size=len(tokenizer), block_size=256, n_layer=1, n_head=2, n_embd=32))
    save_checkpoint(tmp_path / "run", model, tokenizer, meta={})
    heard = []
    ears = open_input(virtual=True, backend="jack", client_name="duetears", port_name="in",
                      callback=lambda m, t: heard.append(m))
    keys = open_output(virtual=True, backend="jack", client_name="duetkeys", port_name="out")
    take = tmp_path / "take.mid"
    thread = Musician(monkeypatch, keys, little_tune(), timeout_s=20)
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


def test_duet_never_listens_to_its_own_output(jack_server, tmp_path, capsys):
    """`--input Partita` would connect the duet's ears to its own voice: it would answer itself."""
    import torch

    from core.learning.checkpoint import save_checkpoint
    from core.learning.model import ModelConfig, Transformer
    from core.learning.tokenizer import PartitaTokenizer

    torch.manual_seed(0)
    tokenizer = PartitaTokenizer.create()
    model = Transformer(ModelConfig(vocab_size=len(tokenizer), block_size=64, n_layer=1, n_head=2, n_embd=32))
    save_checkpoint(tmp_path / "run", model, tokenizer, meta={})
    keys = open_output(virtual=True, backend="jack", client_name="ownkeys", port_name="out")
    try:
        jack_server.wait_listed("ownkeys:out", "inputs")
        assert main(["duet", "--model", str(tmp_path / "run"), "--input", "Partita", "--output", "virtual",
                     "--backend", "jack", "--seconds", "1"]) == 2
        err = capsys.readouterr().err
        assert "'Partita' is Partita's own output" in err and "'ownkeys:out'" in err, err
        assert main(["duet", "--model", str(tmp_path / "run"), "--input", "nosuch", "--output", "virtual",
                     "--backend", "jack", "--seconds", "1"]) == 2
        err = capsys.readouterr().err
        assert "(available: 'ownkeys:out')" in err, err  # the duet's own 'Partita:Partita Out' is not offered
        partita_out = open_output(virtual=True, backend="jack")
        try:
            inputs = [p.name for p in midi_ports.list_ports("jack").inputs]  # what the Live panel offers
            assert "ownkeys:out" in inputs and not any(name.startswith("Partita") for name in inputs), inputs
        finally:
            partita_out.close()
    finally:
        keys.close()
