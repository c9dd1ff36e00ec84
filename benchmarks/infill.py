"""Infill: does a model write a span better knowing what comes after it, does the span sound like
the real bars there, how fast is it, and do the bar controls steer it?

For each model (a shipped name or a run folder; default: every shipped model that can infill),
on the held-out pieces of its corpus (as `style_fidelity.py` chooses them):

* **loss**: the real notes of spans of `--span` bars (starting at bars 5, 5 + span + 4, ...),
  scored in nats per note given both sides (the model's infill input: `Infill_N`, the bars
  after, `Infill_Before`, the bars before) and given the same bars before only (a continuation):
  infill must be clearly lower. Beside them, the same span given the bars before and the bars
  after the previous span measured (of this piece or the one before): whether the model reads the
  bars after at all. A span that outgrows the context with the bars after it is left out (said
  on the way). Then the same spans given no bar before, the bars after alone against nothing:
  what the model takes from the bars after where nothing before tells it the key, the register
  and the figure.
* **style**: the figures of `core.judging.metrics.style` for the infilled spans (`--takes` each) beside
  the real bars at the same place, and how each span joins the music around it (the interval into
  its first note and out of its last, lowest notes; see core.composing.joining).
* **speed**: one `--span`-bar infill, batch 1: time to the first note and to the whole span
  (median over spans), this machine's CPU, one thread as the window runs it.
* **control**: every bar of those spans rewritten alone, asked for its own density level, for a
  level next to it (one up; one down at the top), and for its own lowest and highest pitch: the
  share of bars whose level is the one asked, and whose lowest and highest are within two
  semitones of those asked; beside them, the same bars rewritten without controls (how often the
  bar's own level and range come out anyway).

    .venv/bin/python benchmarks/infill.py [--models NAME_OR_RUN ...] [--best] [--pieces 4] [--span 4] [--takes 2]
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import symusic
import torch
from _common import machine, table
from style_fidelity import model_folders, pieces_of

from core.composing.generation import GenerationSettings, drain
from core.composing.infill import InfillError, plan_infill, stream_infill
from core.judging.metrics.key import estimate_key
from core.judging.metrics.style import FIGURES, style_figures
from core.learning.checkpoint import load_model
from core.music.controls import DENSITY_LEVELS, BarControls, density_level
from core.threads import torch_threads

STYLE = ("polyphonic_time", "leaps_over_octave", "stepwise", "in_key", "silence", "near_sequences",
         "join_in", "join_out", "join_out_leap")
JOIN_FIGURES = {"join_in": "semitones from the last note before the span to its first",
                "join_out": "semitones from the span's last note to the first after it",
                "join_out_leap": "share of spans leaving with a leap over 5 semitones"}


def join_figures(score: symusic.Score, start: int, end: int) -> dict[str, float]:
    """How a span [start, end) joins the music around it (lowest notes of the onsets at its edges)."""
    onsets: dict[int, int] = {}
    for track in score.tracks:
        for note in track.notes:
            onsets[note.time] = min(onsets.get(note.time, 128), note.pitch)
    before = [onsets[t] for t in sorted(onsets) if t < start]
    inside = [onsets[t] for t in sorted(onsets) if start <= t < end]
    after = [onsets[t] for t in sorted(onsets) if t >= end]
    out = abs(inside[-1] - after[0]) if inside and after else math.nan
    return {"join_in": abs(inside[0] - before[-1]) if inside and before else math.nan, "join_out": out,
            "join_out_leap": float(out > 5) if not math.isnan(out) else math.nan}


def spans_of(score: symusic.Score, span: int, most: int = 3) -> list[int]:
    """First bars of the spans to measure in `score`: 5, 5 + span + 4, ... while the piece lasts."""
    bars = len(score.get_downbeats())
    return [first for first in range(5, bars - span - 1, span + 4)][:most]


TAIL_NOTES = 4  # the last notes of a span, where the bars after should matter most


def span_loss(loaded, score: symusic.Score, first: int, last: int, other_head: list[int] | None = None,
              bars_before: bool = True):
    """(nats per note of the real span given both sides, given the same bars before only, given the
    bars before and another span's bars after, notes, this span's infill head, and per bar of the
    span and then for its last TAIL_NOTES notes: (nats given both sides, given the bars before only,
    notes)); NaN where the span and the bars after it outgrow the context. `bars_before=False`: none
    of the bars before the span (else all that fit)."""
    tokenizer, model = loaded.tokenizer, loaded.model
    plan = plan_infill(loaded, score, first, last, GenerationSettings())
    span = tokenizer.to_model_ids(plan.middle).tolist()
    notes = int(tokenizer.notes_per_token[np.asarray(span)].sum())
    block = model.config.block_size
    heads = [plan.head, [], other_head or plan.head]
    if max(len(head) for head in heads) + len(span) > block:
        return math.nan, math.nan, math.nan, notes, plan.head, []
    room = block - max(len(head) for head in heads) - len(span)
    context = plan.read[-room:] if room > 0 and bars_before else []  # the same for all: only the bars after differ
    bar_of = np.cumsum(tokenizer.opens_bar[np.asarray(span)]) - 1  # the span opens with its first bar line
    per_note = tokenizer.notes_per_token[np.asarray(span)]
    results, span_losses = [], []
    for head in heads:
        ids = head + context + span if head or context else [tokenizer.bos_id, *span]  # (nothing: a piece's start)
        with torch.inference_mode():
            logits, _ = model(torch.tensor([ids[:-1]]))
        losses = torch.nn.functional.cross_entropy(logits[0].float(), torch.tensor(ids[1:]), reduction="none")
        span_losses.append(losses[-len(span):].numpy())
        results.append(float(span_losses[-1].sum()) / max(notes, 1))
    by_bar = [(float(span_losses[0][bar_of == b].sum()), float(span_losses[1][bar_of == b].sum()),
               int(per_note[bar_of == b].sum())) for b in range(last - first + 1)]
    tail = np.cumsum(per_note) > notes - TAIL_NOTES  # from the pitch of the span's TAIL_NOTES-th last note on
    by_bar.append((float(span_losses[0][tail].sum()), float(span_losses[1][tail].sum()), min(notes, TAIL_NOTES)))
    return (*results, notes, plan.head, by_bar)


def passage(score: symusic.Score, start: int, end: int) -> symusic.Score:
    """The notes starting in [start, end), moved to start at tick 0 (one track)."""
    out = symusic.Score(score.tpq)
    track = symusic.Track()
    for source in score.tracks:
        for note in source.notes:
            if start <= note.time < end:
                track.notes.append(symusic.Note(note.time - start, min(note.duration, end - note.time), note.pitch,
                                                note.velocity))
    out.tracks.append(track)
    out.time_signatures = [symusic.TimeSignature(0, ts.numerator, ts.denominator) for ts in score.time_signatures[:1]]
    return out


def bar_facts(score: symusic.Score, start: int, end: int) -> tuple[int, int, int]:
    """(density level, lowest, highest) of the notes starting in one bar [start, end)."""
    pitches = [n.pitch for t in score.tracks for n in t.notes if start <= n.time < end]
    level = density_level(len(pitches), (end - start) / score.tpq)
    return level, (min(pitches) if pitches else -1), (max(pitches) if pitches else -1)


def timed_infill(loaded, score, first, last, settings) -> tuple[float, float]:
    """(seconds to the first note, to the whole span) of one infill."""
    start, first_note = time.perf_counter(), math.nan
    for event in stream_infill(loaded, score, first, last, settings):
        if event.notes and math.isnan(first_note):
            first_note = time.perf_counter() - start
    return first_note, time.perf_counter() - start


def evaluate_model(folder: Path, args) -> dict:
    loaded = load_model(str(folder), best=args.best)
    if not loaded.tokenizer.settings.use_infill:
        return {"model": folder.name, "skipped": "trained before infill"}
    _, pieces, _ = pieces_of(loaded, args.pieces, args.data)
    both, left, wrong, notes = [], [], [], 0
    alone, nothing = [], []  # the same spans given the bars after alone, and given nothing
    # by bar of the span, then its last notes
    bars_both, bars_left, bars_notes = np.zeros(args.span + 1), np.zeros(args.span + 1), np.zeros(args.span + 1)
    other_head = None  # the bars after the previous span: how much the right ones matter
    real_figures, infill_figures, first_notes, wholes = [], [], [], []
    asked = {"density": [], "density_next": [], "density_free": [], "range": [], "range_free": []}
    seed = args.seed
    for piece in pieces:
        key = estimate_key(piece.score)
        for first in spans_of(piece.score, args.span):
            last = first + args.span - 1
            try:
                with_after, before_only, misplaced, count, head, by_bar = span_loss(loaded, piece.score, first, last,
                                                                                    other_head)
            except InfillError as error:
                print(f"  {piece.name} bars {first}-{last}: {error}")
                continue
            if math.isnan(with_after):
                print(f"  {piece.name} bars {first}-{last}: the span and the bars after it outgrow the context")
                continue
            other_head = head
            for bar, sums in enumerate(by_bar):
                bars_both[bar] += sums[0]
                bars_left[bar] += sums[1]
                bars_notes[bar] += sums[2]
            both.append(with_after * count)
            no_bar = span_loss(loaded, piece.score, first, last, bars_before=False)
            alone.append(no_bar[0] * count)
            nothing.append(no_bar[1] * count)
            left.append(before_only * count)
            wrong.append(misplaced * count)
            notes += count
            settings = GenerationSettings(random_seed=seed, max_tokens=600 * args.span, join=args.join)
            seed += 1
            takes = drain(stream_infill(loaded, piece.score, first, last, settings, variations=args.takes))
            start, end = takes[0].start_tick, takes[0].end_tick
            real_figures.append({**style_figures(passage(piece.score, start, end), key, args.span),
                                 **join_figures(piece.score, start, end)})
            infill_figures += [{**style_figures(passage(take.score, start, end), key, args.span),
                                **join_figures(take.score, start, end)} for take in takes]
            first_note, whole = timed_infill(loaded, piece.score, first, last, GenerationSettings(random_seed=seed))
            first_notes.append(first_note)
            wholes.append(whole)
            if loaded.tokenizer.controls:
                for bar in range(first, last + 1):
                    control_trials(loaded, piece.score, bar, seed + bar, asked)
    figures = {name: (np.nanmean([f[name] for f in real_figures]), np.nanmean([f[name] for f in infill_figures]))
               for name in STYLE}
    share = {name: (float(np.mean(values)) if values else math.nan, len(values)) for name, values in asked.items()}
    by_bar = [(bars_both[b] / bars_notes[b], bars_left[b] / bars_notes[b]) if bars_notes[b] else (math.nan, math.nan)
              for b in range(args.span + 1)]
    return {"model": folder.name, "kinds": loaded.tokenizer.controls, "nats_both": sum(both) / notes, "nats_left": sum(left) / notes, "by_bar": by_bar,
            "after_alone": sum(alone) / notes, "nothing": sum(nothing) / notes,
            "nats_wrong": sum(wrong) / notes, "notes": notes,
            "spans": len(real_figures), "figures": figures, "first_note_ms": 1000 * float(np.nanmedian(first_notes)),
            "whole_s": float(np.median(wholes)), "control": share}


def control_trials(loaded, score: symusic.Score, first: int, seed: int, asked: dict) -> None:
    """One-bar infills of bar `first` asked for its own density level, for a level next to it
    (one up, or down at the top), and for its own lowest and highest pitch, and one without
    controls; appends whether each came out as asked (the one without: as the bar's own) to `asked`."""
    plan = plan_infill(loaded, score, first, first, GenerationSettings())
    scale = score.tpq / loaded.tokenizer.ticks_per_quarter
    start, end = round(plan.start_tick * scale), round(plan.end_tick * scale)
    level, low, high = bar_facts(score, start, end)
    other = level + 1 if level < DENSITY_LEVELS - 1 else level - 1
    free = bar_facts(_one(loaded, score, first, GenerationSettings(random_seed=seed)).score, start, end)
    for wanted, name in ((level, "density"), (other, "density_next")) if "density" in loaded.tokenizer.controls else ():
        take = _one(loaded, score, first, GenerationSettings(random_seed=seed + wanted, controls=BarControls(density=wanted)))
        asked[name].append(bar_facts(take.score, start, end)[0] == wanted)
    asked["density_free"].append(free[0] == level)
    if low >= 0:
        take = _one(loaded, score, first, GenerationSettings(random_seed=seed, controls=BarControls(lowest=low, highest=high)))
        _, got_low, got_high = bar_facts(take.score, start, end)
        asked["range"].append(got_low >= 0 and abs(got_low - low) <= 2 and abs(got_high - high) <= 2)
        asked["range_free"].append(free[1] >= 0 and abs(free[1] - low) <= 2 and abs(free[2] - high) <= 2)


def _one(loaded, score, first, settings):
    return drain(stream_infill(loaded, score, first, first, settings))[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", help="shipped model names or run folders (default: all shipped)")
    parser.add_argument("--data", help="the corpus the models learned from, where their config.json's is not here")
    parser.add_argument("--pieces", type=int, default=4)
    parser.add_argument("--span", type=int, default=4, help="bars of each span")
    parser.add_argument("--takes", type=int, default=2, help="infills of each span, for the style figures")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--best", action="store_true", help="a run's weights of its lowest validation loss "
                                                             "(default: its last; a shipped model has one set)")
    parser.add_argument("--join", type=float, help="the infills' join guide, nats a semitone (0: off; default: "
                                                    "core.composing.joining's)")
    args = parser.parse_args()
    rows, bar_rows, style_rows, control_rows, before_rows = [], [], [], [], []
    for folder in model_folders(args.models):
        with torch_threads(1):
            result = evaluate_model(folder, args)
        if "skipped" in result:
            print(f"{result['model']}: skipped ({result['skipped']})")
            continue
        rows.append([result["model"], f"{result['spans']}", f"{result['nats_both']:.3f}", f"{result['nats_left']:.3f}",
                     f"{1 - result['nats_both'] / result['nats_left']:.1%}", f"{result['nats_wrong']:.3f}",
                     f"{result['first_note_ms']:.0f} ms",
                     f"{result['whole_s']:.2f} s"])
        bar_rows.append([result["model"], *(f"{1 - with_after / before_only:.1%}" for with_after, before_only
                                             in result["by_bar"])])
        before_rows.append([result["model"], f"{1 - result['nats_both'] / result['nats_left']:.1%}",
                            f"{result['after_alone']:.3f}", f"{result['nothing']:.3f}",
                            f"{1 - result['after_alone'] / result['nothing']:.1%}"])
        for name in STYLE:
            real, infilled = result["figures"][name]
            style_rows.append([result["model"], JOIN_FIGURES.get(name) or FIGURES.get(name, name), f"{real:.3f}",
                               f"{infilled:.3f}"])
        control = result["control"]
        if result["kinds"]:
            range_as = "" if "range" in result["kinds"] else " (a limit only: not learned)"
            control_rows.append([result["model"], f"{control['density'][0]:.2f} ({control['density'][1]})",
                                 f"{control['density_next'][0]:.2f}", f"{control['density_free'][0]:.2f}",
                                 f"{control['range'][0]:.2f} ({control['range'][1]}){range_as}",
                                 f"{control['range_free'][0]:.2f}"])
        print(f"{result['model']} done", flush=True)
    print(f"## Infill ({args.span}-bar spans of held-out pieces; {machine()})\n")
    print(table(["model", "spans", "nats/note, both sides", "before only", "lower by",
                 "another span's bars after", "first note", "whole span"], rows))
    print("\n## Lower by, given the bars after too, bar by bar of the span (the last leads into the bars after)\n")
    print(table(["model", *(f"bar {b + 1}" for b in range(args.span)), f"its last {TAIL_NOTES} notes"], bar_rows))
    print("\n## What the model takes from the bars after: lower by, given them, with the bars before and without\n")
    print(table(["model", "with the bars before", "no bar before: the bars after alone", "nothing", "lower by"],
                before_rows))
    print("\n## Style of the infilled bars beside the real bars there\n")
    print(table(["model", "figure", "real", "infilled"], style_rows))
    if control_rows:
        print("\n## Controls: share of one-bar spans that come out as asked (bars asked)\n")
        print(table(["model", "density: the bar's own", "a level next to it", "without controls",
                     "range within 2 semitones", "without controls"], control_rows))


if __name__ == "__main__":
    main()
