"""What training says as it goes, and where it is kept: the frozen events `core.learning.training.train`
yields (the CLI, the window and tests read the same stream) and metrics.jsonl, one line per event,
which a resume truncates to its checkpoint and the window plots an earlier run from."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from core.reading import METRICS_BYTES, read_text


@dataclass(frozen=True)
class TrainStarted:
    run_dir: str
    parameters: int
    train_pieces: int
    validation_pieces: int
    train_tokens: int
    device: str
    start_step: int
    vocabulary: int = 0  # the model's tokens (with BPE: base tokens + the merges learned)
    bpe: bool = False
    # one line per meter the vocabulary lacks, naming its pieces (core.music.corpus.unkept_meter_warnings)
    meter_warnings: tuple[str, ...] = ()
    mixed_pieces: int = 0  # replay: pieces of another corpus trained beside these (TrainConfig.mix)
    mixed_tokens: int = 0


@dataclass(frozen=True)
class TrainStep:
    step: int  # steps done
    total_steps: int
    loss: float
    learning_rate: float
    tokens_per_s: float
    elapsed_s: float


@dataclass(frozen=True)
class EvalResult:
    step: int
    loss: float  # mean cross-entropy per token, nats
    accuracy: float  # next-token accuracy
    perplexity: float
    tokens: int
    per_type: dict  # token type -> {"loss", "accuracy", "tokens"}
    # summed cross-entropy over the notes the targets write (a Pitch each): compares across
    # vocabularies, BPE or not, where the loss per token does not
    loss_per_note: float = float("nan")


@dataclass(frozen=True)
class CheckpointSaved:
    step: int
    path: str
    best: bool = False  # these weights have the lowest validation loss so far (generation uses them)


@dataclass(frozen=True)
class TrainDone:
    step: int
    cancelled: bool  # stopped before config.steps, by the caller or by `patience`
    run_dir: str
    best_step: int | None = None  # the step of the lowest validation loss (the weights generation uses)
    best_loss: float | None = None
    stopped_early: bool = False  # `patience` validation passes went by without a better loss
    # the loss stopped being a finite number at this step: the run stopped there, its last good
    # checkpoint kept (nothing was saved after it)
    diverged_at: int | None = None


TrainEvent = TrainStarted | TrainStep | EvalResult | CheckpointSaved | TrainDone


class MetricsLog:
    """metrics.jsonl: one line per event, appended (rank 0 only)."""

    def __init__(self, path: Path, enabled: bool, truncate_after: int):
        self.path, self.enabled = path, enabled
        if enabled and path.exists():
            kept = []
            try:
                text = read_text(path, METRICS_BYTES, what="a metrics.jsonl")
            except (OSError, ValueError) as error:  # a FIFO, a link to a device, a log too large to be one
                raise ValueError(f"{path}: cannot be read ({error})") from None
            for line in text.splitlines():
                record = _metrics_record(line)
                if record is None:
                    continue  # a line cut by a kill, or one that is not an event (a damaged or edited log)
                step = record.get("step", 0)
                if not truncate_after or isinstance(step, int | float) and step <= truncate_after:
                    kept.append(line)
            path.write_text("".join(k + "\n" for k in kept) if truncate_after else "")

    def write(self, event):
        if self.enabled:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a") as handle:
                handle.write(json.dumps({"event": type(event).__name__, **asdict(event)}) + "\n")
        return event


def read_metrics(run_dir: Path) -> list[dict]:
    """The events of a run's metrics.jsonl (for plotting an earlier run)."""
    path = Path(run_dir) / "metrics.jsonl"
    records = []
    if path.exists():
        try:
            text = read_text(path, METRICS_BYTES, what="a metrics.jsonl")
        except (OSError, ValueError) as error:  # plotted as a run without records, and why is logged
            logging.getLogger(__name__).warning("%s: not read (%s)", path, error)
            return records
        for line in text.splitlines():
            record = _metrics_record(line)
            if record is not None:
                records.append(record)
    return records


def _metrics_record(line: str) -> dict | None:
    """One event of metrics.jsonl, or None for a line that is not one (cut by a kill, not JSON, not
    an object, nested beyond what the parser takes)."""
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return record if isinstance(record, dict) else None
