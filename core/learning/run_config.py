"""What a training run is: its settings (`TrainConfig`), the ones that define it (fixed when it
starts, kept on resume), and the one check a resume goes through, for the CLI and the window alike.

The fields marked `DEFINES_RUN` are the run's own: a resumed run takes them from its folder
(`resumed_config`), and asking to resume with another value is refused (`check_resume`). The
others (the length, the evaluation cadence, the device, where the data lies) may change.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from core.learning.checkpoint import CheckpointError, read_config
from core.learning.model import PRESETS, ModelConfig
from core.music.controls import CONTROL_CHOICES, control_kinds
from core.reading import bytes_text, machine_memory

DEFINES_RUN = {"defines_run": True}  # metadata of the fields fixed when a run starts

KEY_MODES = ("transpose", "normalize", "tonic")
MIN_BLOCK_SIZE = 32  # tokens of context: less cannot compose a bar


MAX_BATCH_SIZE = 1024  # windows per step: the largest presets train with 16-64
MAX_EVAL_WINDOWS = 100_000  # held-out windows per validation pass


@dataclass(frozen=True)
class TrainConfig:
    data: str  # folder, file, pattern of files in a folder (`solos/*.mid`), or builtin:NAME
    out: str  # run folder
    # patterns of file names to leave out of `data` (`MilesDavis_*`)
    exclude: tuple[str, ...] = field(default=(), metadata=DEFINES_RUN)
    preset: str = field(default="tiny", metadata=DEFINES_RUN)
    # e.g. {"n_layer": 2, "dropout": 0.0}
    model_overrides: dict = field(default_factory=dict, metadata=DEFINES_RUN)
    steps: int = 2000
    batch_size: int = field(default=16, metadata=DEFINES_RUN)
    learning_rate: float = field(default=1e-3, metadata=DEFINES_RUN)  # peak, after warm-up
    min_learning_rate: float = field(default=1e-4, metadata=DEFINES_RUN)  # end of the cosine decay
    warmup_steps: int = field(default=100, metadata=DEFINES_RUN)
    weight_decay: float = field(default=0.1, metadata=DEFINES_RUN)
    grad_clip: float = field(default=1.0, metadata=DEFINES_RUN)
    eval_every: int = 200  # steps between validation passes (and checkpoints)
    eval_windows: int = 64  # held-out windows per validation pass (evenly spaced)
    # one early validation pass at this step, for the curves only (no checkpoint; patience and the
    # best weights go by the regular passes), so a run shows how it learns before eval_every (0: none)
    first_eval: int = 0
    # stop after this many validation passes without a lower loss (0: never); counted afresh on resume
    patience: int = 0
    seed: int = field(default=0, metadata=DEFINES_RUN)
    # augmentation: up to ± this many semitones (0: off)
    max_transpose: int = field(default=5, metadata=DEFINES_RUN)
    # "transpose": pieces in their own keys, shifted at random (max_transpose); "normalize": each
    # piece moved to C major / A minor by its analysed key first (a seed is moved alike to compose);
    # "tonic": to C major / C minor
    # None: "transpose", or when fine-tuning, the base model's own
    key_mode: str | None = field(default=None, metadata=DEFINES_RUN)
    # start from this run's or shipped model's weights and tokenizer (fine-tuning)
    init: str | None = field(default=None, metadata=DEFINES_RUN)
    # fill windows past a piece's end with whole pieces instead of padding
    pack: bool = field(default=True, metadata=DEFINES_RUN)
    tokenization: str = field(default="REMI", metadata=DEFINES_RUN)
    # BPE: the model's vocabulary, base tokens + merges learned from the training pieces (0: off)
    bpe_vocab_size: int = field(default=0, metadata=DEFINES_RUN)
    use_velocities: bool | None = field(default=None, metadata=DEFINES_RUN)  # None: decide from the corpus
    device: str = "auto"  # auto: CUDA, then MPS, then CPU
    # torch.compile the model for training; None: on CUDA only, where it pays for its warm-up
    # of ~20-40 s within a few hundred steps (base 1.34x, large 1.20x on an H100; see
    # benchmarks/RESULTS.md). On CPU it needs a C++ compiler and did not pay off.
    compile: bool | None = None
    # GM program for generated MIDI; None: from the corpus
    program: int | None = field(default=None, metadata=DEFINES_RUN)
    # replay: a `mix_share` of the training windows drawn from this corpus (builtin:NAME, a folder ...)
    # beside `data`, tokenized alike; validation stays on `data`'s own pieces. A fine-tune on a few
    # dozen pieces, replaying the base model's corpus, learns the composer without wearing away
    # what the base learned (it overfits later and less)
    mix: str | None = field(default=None, metadata=DEFINES_RUN)
    mix_share: float = field(default=0.5, metadata=DEFINES_RUN)
    # the weights validated, saved and composed with: an exponential moving average of the trained
    # weights keeping this much of itself each step (0.995: about the last 200 steps); 0: the
    # trained weights themselves
    ema: float = field(default=0.0, metadata=DEFINES_RUN)
    # a vocabulary with infill: the share of training windows that are infill examples (None: the
    # default, core.learning.dataset.INFILL_SHARE); 0 trains continuation alone
    infill_share: float | None = field(default=None, metadata=DEFINES_RUN)
    # a new vocabulary with bar controls (REMI); False: none (as the default model was trained)
    controls: bool = field(default=True, metadata=DEFINES_RUN)
    # a vocabulary with bar controls: the share of training windows that write them (None: the
    # default, core.learning.dataset.CONTROLS_SHARE); 0 learns the vocabulary, never the controls
    controls_share: float | None = field(default=None, metadata=DEFINES_RUN)
    # a new vocabulary with bar controls: the kinds it learns (core.music.controls.CONTROL_CHOICES;
    # None: all three). A voices or range not learned is still kept when composing, as a limit
    control_kinds: tuple[str, ...] | None = field(default=None, metadata=DEFINES_RUN)

    def __post_init__(self) -> None:
        """Refuse settings that cannot train, naming the setting (the CLI and the GUI show it)."""
        object.__setattr__(self, "exclude", tuple(self.exclude))  # a list when read back from JSON
        at_least = {"steps": (self.steps, 1), "batch_size": (self.batch_size, 1), "eval_every": (self.eval_every, 1),
                    "eval_windows": (self.eval_windows, 1), "patience": (self.patience, 0), "warmup_steps": (self.warmup_steps, 0),
                    "max_transpose": (self.max_transpose, 0), "first_eval": (self.first_eval, 0),
                    "bpe_vocab_size": (self.bpe_vocab_size, 0)}
        for name, (value, low) in at_least.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be a whole number of at least {low}, not {value!r}")
        if self.batch_size > MAX_BATCH_SIZE:  # 100,000 windows a step asked for ~30 GB of logits, then hung
            raise ValueError(f"batch_size is at most {MAX_BATCH_SIZE} windows a step, not {self.batch_size}")
        if self.eval_windows > MAX_EVAL_WINDOWS:
            raise ValueError(f"eval_windows is at most {MAX_EVAL_WINDOWS}, not {self.eval_windows}")
        if not 0 < self.learning_rate < math.inf or not 0 <= self.min_learning_rate < math.inf:
            raise ValueError(f"the learning rate must be positive (and its minimum not negative), "
                             f"not {self.learning_rate} (minimum {self.min_learning_rate})")
        if not 0 < self.mix_share < 1:
            raise ValueError(f"mix_share is the share of windows from the mixed corpus, above 0 and below 1, "
                             f"not {self.mix_share}")
        if self.infill_share is not None and (isinstance(self.infill_share, bool) or not 0 <= self.infill_share <= 0.9):
            raise ValueError(f"infill_share is the share of infill windows, 0 (none) to 0.9, not {self.infill_share!r}")
        if self.controls_share is not None and (isinstance(self.controls_share, bool)
                                                or not 0 <= self.controls_share <= 1):
            raise ValueError(f"controls_share is the share of windows that write bar controls, 0 to 1, "
                             f"not {self.controls_share!r}")
        if self.control_kinds is not None:
            kinds = control_kinds(self.control_kinds)
            if kinds is None:
                raise ValueError(f"control_kinds is some of {', '.join(CONTROL_CHOICES)}, not {self.control_kinds!r:.60}")
            if not self.controls:
                raise ValueError("control_kinds names the bar controls to learn; a run without controls learns none")
            object.__setattr__(self, "control_kinds", kinds)
        if not 0 <= self.ema < 1:
            raise ValueError(f"ema is the share of the average kept each step, 0 (off) up to below 1, not {self.ema}")
        if self.bpe_vocab_size and self.tokenization != "REMI":
            raise ValueError("BPE needs the REMI tokenization (its grammar steps through merged tokens)")
        if self.tokenization != "REMI":  # it would train, then never compose
            raise ValueError(f"tokenization {self.tokenization} can train but never compose: the grammar mask "
                             "that keeps every take valid is defined for REMI only")
        if self.key_mode is not None and self.key_mode not in KEY_MODES:
            raise ValueError(f"key_mode must be one of {', '.join(KEY_MODES)}, not {self.key_mode!r}")
        if self.max_transpose > 11:
            raise ValueError(f"max_transpose is in semitones, 0 to 11, not {self.max_transpose}")
        if self.preset not in PRESETS:
            raise ValueError(f"unknown preset {self.preset!r}; choose from {', '.join(PRESETS)}")
        unknown = set(self.model_overrides) - set(ModelConfig.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown model settings {sorted(unknown)}")
        try:
            shape = ModelConfig.from_json({**PRESETS[self.preset].to_json(), **self.model_overrides})  # names a bad value
        except TypeError as error:
            raise ValueError(str(error)) from None
        needs, has = 4 * shape.weight_bytes(), machine_memory()  # weights, gradients, two moments
        if has is not None and needs > has:
            settings = ", ".join(f"{k}={v}" for k, v in self.model_overrides.items())
            raise ValueError(f"the model (preset {self.preset}{', ' + settings if settings else ''}) does not fit in "
                             f"this machine's memory: its weights, gradients and optimizer moments need "
                             f"{bytes_text(needs)}, the machine has {bytes_text(has)}")
        if isinstance(shape.block_size, int) and shape.block_size < MIN_BLOCK_SIZE:
            raise ValueError(f"block_size {shape.block_size} cannot hold a bar of music (a 4/4 bar of sixteenths "
                             f"is 50 tokens): at least {MIN_BLOCK_SIZE}")

    def to_json(self) -> dict:
        return asdict(self)


# What defines a run: fixed when it starts, taken from the run folder on resume.
RUN_FIELDS = tuple(f.name for f in fields(TrainConfig) if f.metadata.get("defines_run"))
# What runs saved before a field existed did (they resume as they started).
OLDER_RUNS = {"pack": False, "bpe_vocab_size": 0, "key_mode": "transpose", "init": None, "exclude": [],
              "control_kinds": None}


def resumed_config(config: TrainConfig, saved: dict) -> TrainConfig:
    """`config` with the saved run's own settings for everything that defines the run."""
    saved = {**OLDER_RUNS, **saved}
    return replace(config, **{name: saved[name] for name in RUN_FIELDS if name in saved})


def check_resume(run_dir: str | Path, *, data: str | None = None, given: dict | None = None,
                 names: dict[str, str] | None = None) -> dict:
    """The saved settings ("train" section of config.json) of the run in `run_dir`, once it is sure
    the run can resume with `data` (None: its own corpus) and the run-defining settings `given`
    (field: value, those the user set explicitly); ValueError saying why not otherwise, naming a
    setting as `names` says it (the CLI: its option) or by its field."""
    run_dir = Path(run_dir)
    try:
        saved = read_config(run_dir)
    except CheckpointError as error:
        raise ValueError(f"cannot resume: {error}") from None
    train = saved.get("train")
    if not isinstance(train, dict) or not isinstance(train.get("data"), str):
        raise ValueError(f"cannot resume: {run_dir / 'config.json'} has no \"train\" section naming its corpus "
                         "(a run folder written by `partita train` has one)")
    if data and not same_source(data, train["data"]):
        raise ValueError(f"cannot resume {run_dir} on {data}: the run was started on {train['data']} "
                         "(drop --data, or train into a new folder)")
    started = {**OLDER_RUNS, **train}
    for name, value in (given or {}).items():
        if name in RUN_FIELDS and started.get(name, value) != (list(value) if isinstance(value, tuple) else value):
            said = f"{names[name]} {value!r}" if names and name in names else f"{name} = {value!r}"
            raise ValueError(f"cannot resume {run_dir} with {said}: the run was started with "
                             f"{started.get(name)!r} (drop the option, or train into a new folder)")
    return train


def absolute_source(data: str) -> str:
    """A corpus source as a run records it: builtin names as they are, paths made absolute, so that
    the run resumes from any folder."""
    return data if data.startswith("builtin:") else str(Path(data).expanduser().resolve())


def same_source(given: str, started_with: str) -> bool:
    """Whether `given` names the corpus a run was started on. Runs of older versions recorded
    paths as typed, relative to a folder we no longer know: such a path that does not exist from
    here cannot be compared, and `given` is taken."""
    if given.startswith("builtin:") or started_with.startswith("builtin:"):
        return given == started_with
    recorded = Path(started_with).expanduser()
    if not recorded.is_absolute() and not recorded.exists():
        return True
    return absolute_source(given) == absolute_source(started_with)


class RunExists(ValueError):
    """The folder a new run would start in holds a run already (resume it instead)."""


def check_new_run_folder(run_dir: str | Path) -> None:
    """A new run starts in a new or empty folder: never over an earlier run, or over other files
    (ValueError saying which)."""
    run_dir = Path(run_dir)
    if (run_dir / "config.json").is_file():
        try:
            step = read_config(run_dir).get("training", {}).get("step", "?")
        except CheckpointError:
            step = "?"
        raise RunExists(f"{run_dir} already holds a run (at step {step}): resume it, "
                         "or train into a new folder")
    if run_dir.exists() and not run_dir.is_dir():
        raise ValueError(f"{run_dir} is a file, not a folder")
    others = sorted(p.name for p in run_dir.iterdir() if not _RUN_FILE.fullmatch(p.name)) if run_dir.exists() else []
    if others:  # what a run that stopped before its first checkpoint leaves may be written over
        raise ValueError(f"{run_dir} is not an empty folder (it holds {', '.join(others[:3])}"
                         f"{', ...' if len(others) > 3 else ''}): train into a new or empty one")


# The files a run writes before its first checkpoint's config.json (and temporaries of atomic writes)
_RUN_FILE = re.compile(r"corpus\.json|metrics\.jsonl|tokenizer\.json|(model|optimizer)(-\d+)?\.(safetensors|json)"
                       r"|\..+\.tmp")
