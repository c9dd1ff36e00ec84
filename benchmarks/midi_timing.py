"""Real-time MIDI figures over a private JACK server (dummy driver): prints markdown tables.

1. Playback timing error, p50/p99/mean/max over >= 2,000 events of real music (the Bach cello
   suites, played at `--tempo-factor`): when the scheduler sent each event versus when it
   should have (the send loop's own precision), and when the event reached a JACK input port
   opened here (adds JACK's period: 128 frames at 48 kHz = 2.7 ms). Issue 5 target: p99 < 2 ms.
2. Duet latency: silence detected -> first reply note at the receiving port, p50/p95 over
   `--rounds` phrases, with an instant echo generator (the pipeline alone) and with the model
   (`--model RUN_DIR`, default: the shipped default model, skipped if absent). Target p95 < 150 ms.
3. Generation speed of the model: seconds of music written per second of compute.
4. A vanished receiver: from a receiving port closing (a synth quitting), and from the JACK server
   stopping, until playback ends with its error, over `--vanish-rounds` rounds (the server stopping
   is timed in a child process: libjack may take its client down with it).

    .venv/bin/python benchmarks/midi_timing.py [--periods 128,64] [--rounds 10] [--model RUN_DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import symusic  # noqa: E402

from core.midi.duet import Duet, wait_for  # noqa: E402
from core.midi.playback import Player  # noqa: E402
from core.midi.ports import list_ports, open_input, open_output  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "mutopia-bach-midi" / "cello-suites"


def start_jack(period: int) -> tuple[subprocess.Popen, str]:
    name = f"partita-bench-{os.getpid()}-{period}"
    env = dict(os.environ, JACK_NO_AUDIO_RESERVATION="1")
    process = subprocess.Popen(["jackd", "-n", name, "-d", "dummy", "-r", "48000", "-p", str(period)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    probe = "import rtmidi,sys\ntry:\n rtmidi.MidiOut(rtmidi.API_UNIX_JACK,'probe')\nexcept Exception:\n sys.exit(1)"
    for _ in range(100):
        if subprocess.run([sys.executable, "-c", probe], env=dict(env, JACK_DEFAULT_SERVER=name),
                          capture_output=True).returncode == 0:
            os.environ["JACK_DEFAULT_SERVER"] = name
            return process, name
        time.sleep(0.1)
    process.terminate()
    raise SystemExit("jackd did not start")


def stop_jack(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(5)


def real_music(min_notes: int) -> symusic.Score:
    """Cello-suite movements one after another (a synthetic line if the data is absent)."""
    score = symusic.Score(480)
    score.tempos.append(symusic.Tempo(0, 100.0))
    track = symusic.Track(program=42)
    offset = 0
    files = sorted(DATA.glob("*.mid")) if DATA.is_dir() else []
    for path in files:
        piece = symusic.Score.from_file(str(path)).resample(480)
        piece_track = max(piece.tracks, key=lambda t: len(t.notes))
        first = piece_track.notes[0].time
        for note in piece_track.notes:
            track.notes.append(symusic.Note(offset + note.time - first, note.duration, note.pitch, 80))
        offset += piece_track.end() - first + 480
        if len(track.notes) >= min_notes:
            break
    if len(track.notes) < min_notes:  # no data: sixteenths
        track.notes.extend(symusic.Note(i * 120, 100, 48 + i % 24, 80) for i in range(min_notes))
    score.tracks.append(track)
    return score


class TimedOutput:
    """Delegates to a real output and notes perf_counter at each send."""

    def __init__(self, inner):
        self.inner, self.name, self.sent = inner, inner.name, []

    def send_bytes(self, data) -> None:
        self.inner.send_bytes(data)
        self.sent.append((time.perf_counter(), tuple(data)))

    def destination_present(self) -> bool:
        return self.inner.destination_present()


def long_notes(count: int = 40) -> symusic.Score:
    """Overlapping half notes at 120 bpm, `count` quarters: something is always sounding."""
    score = symusic.Score(480)
    score.tempos.append(symusic.Tempo(0, 120.0))
    track = symusic.Track(program=0)
    for i in range(count):
        track.notes.append(symusic.Note(i * 480, 960, 48 + i % 24, 80))
    score.tracks.append(track)
    return score


def vanish_delay(stop_server: bool) -> float:
    """Seconds from the receiver vanishing (its port closed, or the server stopped: then this runs
    in a child process that owns its own server) to playback ending with its error; NaN if it did not
    end within 5 s."""
    receiver = open_input(virtual=True, backend="jack", client_name="bench-receiver", port_name="in",
                          callback=lambda m, t: None)
    assert wait_for(lambda: "bench-receiver:in" in [p.name for p in list_ports("jack").outputs], timeout=5)
    player = Player(open_output("bench-receiver:in", backend="jack"), long_notes(), check_interval_s=0.1)
    player.play()
    time.sleep(0.5)
    if stop_server:
        stop_jack(SERVER["process"])
    else:
        receiver.close()
    vanished = time.perf_counter()
    ended = player.wait(5)  # its thread ends once it has said the error
    return time.perf_counter() - vanished if ended else float("nan")


SERVER: dict = {}


def vanish_figures(rounds: int) -> dict[str, list[float]]:
    closed = []
    process, _ = start_jack(128)
    try:
        for _ in range(rounds):
            closed.append(vanish_delay(stop_server=False))
    finally:
        stop_jack(process)
    stopped = []
    for _ in range(rounds):
        child = subprocess.run([sys.executable, __file__, "--server-stop-child"], capture_output=True, text=True,
                               timeout=60)
        lines = child.stdout.strip().splitlines()
        stopped.append(float(lines[-1]) if child.returncode == 0 and lines else float("nan"))
    return {"receiver port closed": closed, "JACK server stopped": stopped}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def playback_timing(notes: int, tempo_factor: float, realtime: bool) -> dict[str, list[float]]:
    arrivals: list[tuple[float, tuple]] = []
    receiver = open_input(virtual=True, backend="jack", client_name="bench", port_name="in",
                          callback=lambda m, t: arrivals.append((t, tuple(m.bytes()))))
    output = TimedOutput(open_output("bench:in", backend="jack"))
    score = real_music(notes)
    player = Player(output, score, tempo_factor=tempo_factor, realtime_priority=1 if realtime else None)
    player.play()
    anchor = player.schedule.anchor_wall
    player.wait()
    time.sleep(0.1)
    tempo = player.timeline.tempo_map
    events = [player.timeline.get(i) for i in range(len(player.timeline))]
    intended = [anchor + tempo.seconds(e.tick) / tempo_factor for e in events if e.data]
    sent = [t for t, _ in output.sent]
    arrived = [t for t, data in arrivals]
    assert len(sent) == len(intended), (len(sent), len(intended))
    result = {"send": [abs(s - i) * 1000 for s, i in zip(sent, intended, strict=True)]}
    if len(arrived) == len(intended):
        result["arrival"] = [max(0.0, a - i) * 1000 for a, i in zip(arrived, intended, strict=True)]
    else:
        result["lost"] = [len(intended) - len(arrived)]
    output.inner.close()
    receiver.close()
    return result


def echo(prompt: symusic.Score, bars: int, cancel):
    start = max(n.time + n.duration for n in prompt.tracks[0].notes)
    return [symusic.Note(start + n.time, n.duration, n.pitch + 12, 80) for n in prompt.tracks[0].notes]


def duet_latency(generator, rounds: int, bars: int = 1) -> list[float]:
    """Milliseconds from silence detected to the first reply note at a JACK receiver."""
    bpm, latencies = 240.0, []
    first_reply: list[float] = []
    listener = open_input(virtual=True, backend="jack", client_name="ears", port_name="in",
                          callback=lambda m, t: first_reply.append(t) if m.type == "note_on" else None)
    keys = open_output(virtual=True, backend="jack", client_name="keys", port_name="out")
    out = open_output("ears:in", backend="jack")
    detected: list[float] = []

    class Timed(Duet):
        def phrase_detected(self, prompt, seconds):
            detected.append(seconds)

    duet = Timed(generator, out, bars=bars, silence_ms=300, bpm=bpm)
    source = open_input("keys:out", backend="jack", callback=duet.feed, clock=duet.clock.now)
    runner = threading.Thread(target=duet.run, daemon=True)
    runner.start()
    phrase = symusic.Score(480)
    phrase.tempos.append(symusic.Tempo(0, bpm))
    line = symusic.Track()
    line.notes.extend(symusic.Note(i * 240, 200, p, 90) for i, p in enumerate([62, 65, 69, 74, 72, 69, 65, 64]))
    phrase.tracks.append(line)
    for round_ in range(rounds):
        first_reply.clear()
        player = Player(keys, phrase)
        player.play()
        player.wait()
        if not wait_for(lambda r=round_: len(duet.turns) >= 2 * (r + 1), timeout=60):
            break
        if first_reply and len(detected) > round_:
            latencies.append((first_reply[0] - detected[round_]) * 1000)
        time.sleep(0.1)
    duet.stop()
    runner.join(5)
    for port in (source, out, keys, listener):
        port.close()
    return latencies


def untrained_model(preset: str):
    """A model of `preset` size with random weights, saved and loaded like a real run."""
    import dataclasses
    import tempfile

    import torch

    from core.learning.checkpoint import load_model, save_checkpoint
    from core.learning.model import PRESETS, Transformer
    from core.learning.tokenizer import PartitaTokenizer

    torch.manual_seed(0)
    tokenizer = PartitaTokenizer.create()
    config = dataclasses.replace(PRESETS[preset], vocab_size=len(tokenizer))
    folder = Path(tempfile.mkdtemp(prefix=f"untrained-{preset}-"))
    save_checkpoint(folder, Transformer(config), tokenizer, meta={})
    return load_model(folder)


def generation_speed(loaded, bars: int = 8) -> tuple[float, float]:
    """(seconds of music, seconds of compute) for one continuation of a real cello opening."""
    from core.composing.generation import GenerationSettings, generate

    prompt = real_music(32)
    prompt.tracks[0].notes = prompt.tracks[0].notes[:32]
    started = time.perf_counter()
    take = generate(loaded, prompt, GenerationSettings(bars=bars, random_seed=0))
    compute = time.perf_counter() - started
    seconds = take.score.to("second")
    start = seconds.tpq and take.seed_end_tick / take.score.tpq * 60.0 / take.score.tempos[0].qpm
    return seconds.end() - start, compute


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--periods", default="128", help="JACK period sizes to try, e.g. 128,64")
    parser.add_argument("--notes", type=int, default=1050, help="notes to play (2 events each)")
    parser.add_argument("--tempo-factor", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=10, help="duet phrases")
    parser.add_argument("--model", type=Path, help="run folder (default: the shipped default model)")
    parser.add_argument("--untrained", metavar="PRESET",
                        help="if no model loads, time an untrained model of this preset (same compute per token)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads for generation (1: token-by-token decoding of a small model is "
                             "latency-bound; a thread pool on a busy 2-core machine made it ~10x slower)")
    parser.add_argument("--skip-playback", action="store_true", help="only the duet and generation figures")
    parser.add_argument("--skip-duet", action="store_true", help="only the playback figures")
    parser.add_argument("--no-realtime", action="store_true", help="do not ask for SCHED_FIFO in the player")
    parser.add_argument("--vanish-rounds", type=int, default=5, help="rounds of each vanished-receiver case")
    parser.add_argument("--server-stop-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.server_stop_child:  # one round of the server-stopped case, in a process of its own
        SERVER["process"], _ = start_jack(128)
        print(f"{vanish_delay(stop_server=True):.4f}")
        os._exit(0)  # libjack's clients of a stopped server are not closed (see core.midi.ports)

    print("## Playback timing over JACK (dummy driver, 48 kHz), milliseconds\n")
    print("| JACK period | measured at | events | p50 | p99 | mean | max |")
    print("|---|---|---|---|---|---|---|")
    for period in [] if args.skip_playback else [int(p) for p in args.periods.split(",")]:
        process, _ = start_jack(period)
        try:
            figures = playback_timing(args.notes, args.tempo_factor, not args.no_realtime)
        finally:
            stop_jack(process)
        label = f"{period} frames ({period / 48:.2f} ms){'' if args.no_realtime else ', SCHED_FIFO'}"
        for where, values in figures.items():
            if where == "lost":
                print(f"| {label} | receiver | {values[0]} events lost | | | | |")
                continue
            what = "scheduler send" if where == "send" else "JACK receiver"
            print(f"| {label} | {what} | {len(values)} | {percentile(values, 0.5):.3f} | "
                  f"{percentile(values, 0.99):.3f} | {statistics.mean(values):.3f} | {max(values):.3f} |")

    if not args.skip_playback and args.vanish_rounds:
        print("\n## A vanished receiver: until playback ends with its error, milliseconds\n")
        print("| receiver | rounds | ended | p50 | max |")
        print("|---|---|---|---|---|")
        for case, delays in vanish_figures(args.vanish_rounds).items():
            ended = [d * 1000 for d in delays if d == d]
            figures = f"{percentile(ended, 0.5):.1f} | {max(ended):.1f}" if ended else "- | -"
            print(f"| {case} | {len(delays)} | {len(ended)} | {figures} |")

    if args.skip_duet:
        return
    from core.threads import torch_threads

    with torch_threads(args.threads):
        duet_and_generation(args)


def duet_and_generation(args) -> None:
    """Duet latency against JACK and the default model's generation speed."""
    loaded = None
    try:
        from core.learning.checkpoint import load_model

        loaded = load_model(args.model)
    except Exception as error:  # no default model shipped yet, or a bad folder
        print(f"\n(model not loaded: {error})")
        if args.untrained:
            loaded = untrained_model(args.untrained)

    print("\n## Duet latency: silence detected -> first reply note at the receiver, milliseconds\n")
    print("| generator | rounds | p50 | p95 | max |")
    print("|---|---|---|---|---|")
    process, _ = start_jack(128)
    try:
        rows = [("echo (pipeline only)", echo)]
        if loaded is not None:
            from core.composing.generation import GenerationSettings, engine_reply_generator

            rows.append((f"model {loaded.run_dir.name}", engine_reply_generator(loaded, GenerationSettings(random_seed=0))))
        for name, generator in rows:
            values = duet_latency(generator, args.rounds)
            if values:
                print(f"| {name} | {len(values)} | {percentile(values, 0.5):.1f} | {percentile(values, 0.95):.1f} | "
                      f"{max(values):.1f} |")
            else:
                print(f"| {name} | 0 | no reply | | |")
    finally:
        stop_jack(process)

    if loaded is not None:
        import torch

        print(f"\n## Generation speed ({torch.get_num_threads()} torch threads)\n")
        print("| model | music written (s) | compute (s) | music s per compute s |")
        print("|---|---|---|---|")
        music, compute = generation_speed(loaded)
        print(f"| {loaded.run_dir.name} | {music:.1f} | {compute:.2f} | {music / compute:.1f} |")


if __name__ == "__main__":
    main()
