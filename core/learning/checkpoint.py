"""Run folders: weights as safetensors, everything else as JSON. Loading never unpickles.

A run folder holds
  config.json                    model config, tokenizer settings, training config and state, and
                                 under "files" the names of the data files below (the commit point)
  model-000400.safetensors       weights of step 400 (tensors only: no code can hide in them)
  model-000200.safetensors       weights of the step with the lowest validation loss so far, while
                                 that is not the last step ("best" under "files"; `load_model(best=True)`)
  optimizer-000400.safetensors   AdamW moments, with optimizer-000400.json for its scalars (resume only)
  tokenizer.json                 tokenizer settings (also inside config.json)
  metrics.jsonl                  one JSON object per training/eval event
  corpus.json                    the corpus report and the split, by piece name
A save writes the step's data files first (each atomically, under new names), then config.json
(atomically) naming them, then deletes the data files config.json no longer names. Whenever
the process dies, config.json names one complete, consistent set of files: the old one until its
rename, the new one after. Folders written before "files" existed (the shipped default model)
hold model.safetensors, optimizer.safetensors and optimizer.json; readers fall back to those.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from core.atomic import atomic_write_bytes, atomic_write_text
from core.learning.model import ModelConfig, Transformer
from core.learning.tokenizer import PartitaTokenizer, TokenizerSettings
from core.reading import MB, bytes_text, check_regular, machine_memory, read_json

SHIPPED_MODELS_DIR = Path(__file__).resolve().parents[2] / "resources" / "models"
DEFAULT_MODEL_NAME = "bach-chorales"  # composes from an empty seed; "default" names it too
DEFAULT_MODEL_DIR = SHIPPED_MODELS_DIR / DEFAULT_MODEL_NAME
FORMAT_VERSION = 2  # 2: config.json names the data files ("files"); 1 had fixed names
# The data files of folders written before config.json named them (format 1).
TRAINED = "trained."  # the optimizer file's trained weights, where the checkpoint's are their average
LEGACY_FILES = {"weights": "model.safetensors", "optimizer": "optimizer.safetensors",
                "optimizer_state": "optimizer.json"}
# Data files a save writes (model-000400.safetensors, optimizer-000400-1.json) or format 1 held, and
# core.atomic's temporary files for them (.NAME.XXXX.tmp): what a save may delete once config.json
# no longer names them. Nothing else in a run folder is ever deleted.
_DATA_FILE = re.compile(r"(model(-[0-9]+)*\.safetensors|optimizer(-[0-9]+)*\.(safetensors|json))")
_DATA_TEMP = re.compile(rf"\.({_DATA_FILE.pattern})\..+\.tmp")

log = logging.getLogger(__name__)
# AdamW settings a resume restores; fused/foreach/capturable belong to the machine resuming.
_HYPERPARAMETERS = ("lr", "eps", "weight_decay", "amsgrad", "maximize", "initial_lr")


class CheckpointError(ValueError):
    """A run folder that cannot be loaded; the message names the file and the problem."""


@dataclass
class LoadedModel:
    model: Transformer
    tokenizer: PartitaTokenizer
    config: dict  # the whole config.json
    run_dir: Path
    weights: Path | None = None  # the file the weights came from (None: a model built in memory)
    by_validation: bool = False  # loaded as the run's best (chosen by their validation loss)

    @property
    def program(self) -> int:
        return int(self.config.get("corpus", {}).get("program", 0))

    @property
    def step(self) -> int | None:
        """The training step of the loaded weights (None where the folder does not say)."""
        training = self.config.get("training", {})
        best = training.get("best", {})
        files = self.config.get("files", {})
        is_best = self.weights is not None and self.weights.name == files.get("best") != files.get("weights")
        step = best.get("step") if is_best else training.get("step")
        return step if isinstance(step, int) else None

    def describe(self) -> str:
        """Which weights these are, in words: "step 500, lowest validation loss 2.147 (last step 2000)"."""
        training = self.config.get("training", {})
        step, last = self.step, training.get("step")
        if step is None:
            return self.weights.name if self.weights is not None else "weights in memory"
        text = f"step {step}"
        best = training.get("best", {})
        if best.get("step") == step and isinstance(best.get("loss"), float):
            text += f", lowest validation loss {best['loss']:.3f}"
        return text if step == last else f"{text} (last step {last})"


def save_checkpoint(run_dir: Path, model: Transformer, tokenizer: PartitaTokenizer, meta: dict,
                    optimizer: torch.optim.Optimizer | None = None, *, best: bool = False,
                    trained: Transformer | None = None) -> None:
    """Save the model (and optimizer state) in `run_dir` so that a kill at any moment leaves a
    consistent checkpoint: the data files are written under names of their own (by step), then
    config.json naming them is renamed into place (the single commit point), then the data files
    it no longer names (older steps, leftovers of a killed save) are deleted.

    `best`: these weights are the best so far (the lowest validation loss), and become the ones
    `load_model(best=True)` loads. Otherwise the best weights of the previous checkpoint stay named, and kept,
    as "best" (no copy: a best step's weights file is its last weights file until a later save);
    in a folder saved before runs kept them, the previous checkpoint's weights are, when
    meta["training"]["best"] names its step.

    `trained`: the model `optimizer` steps, where `model` is another (a moving average of it): its
    weights are kept beside the optimizer's moments (`trained.NAME`), for a resume to go on from."""
    run_dir.mkdir(parents=True, exist_ok=True)
    previous, previous_step = _current_files(run_dir)
    best_step = meta.get("training", {}).get("best", {}).get("step")
    if "best" not in previous and "weights" in previous and best_step is not None and best_step == previous_step:
        previous["best"] = previous["weights"]
    tag = _unused_tag(previous, int(meta.get("training", {}).get("step", 0)))
    files = {"weights": f"model-{tag}.safetensors"}
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    state.pop("lm_head.weight", None)  # tied to wte.weight; safetensors refuses shared storage
    # Serialise in memory, then write through atomic_write_bytes: a full disk is an OSError
    # naming the file (safetensors' own writer raises SafetensorError instead).
    atomic_write_bytes(run_dir / files["weights"], save(state))
    if optimizer is not None:
        files.update(optimizer=f"optimizer-{tag}.safetensors", optimizer_state=f"optimizer-{tag}.json")
        trained = trained if trained is not None else model
        tensors, scalars = _optimizer_to_tensors(trained, optimizer)
        if trained is not model:
            tensors.update({TRAINED + name: p.detach().to("cpu").contiguous() for name, p in trained.named_parameters()})
        atomic_write_bytes(run_dir / files["optimizer"], save(tensors))
        atomic_write_text(run_dir / files["optimizer_state"], json.dumps(scalars))
    if best:
        files["best"] = files["weights"]
    elif "best" in previous:
        files["best"] = previous["best"]
    tokenizer.save(run_dir)
    config = {"format": FORMAT_VERSION, "model": model.config.to_json(),
              "tokenizer": tokenizer.settings.to_json(), **meta, "files": files}
    atomic_write_text(run_dir / "config.json", json.dumps(config, indent=2))
    _delete_unnamed_data_files(run_dir, set(files.values()))


def _current_files(run_dir: Path) -> tuple[dict[str, str], int | None]:
    """The data files the folder's config.json names now, and its step; none without a readable one."""
    try:
        config = read_config(run_dir)
        return run_files(run_dir, config), config.get("training", {}).get("step")
    except CheckpointError:  # no config.json yet, or an unreadable one: nothing is named
        return {}, None


def _unused_tag(current: dict[str, str], step: int) -> str:
    """`000400` for step 400's files, or `000400-1` (`-2`, ...) when the current config.json
    already names `000400` (a save must never overwrite the files config.json names)."""
    for tag in itertools.chain([f"{step:06d}"], (f"{step:06d}-{n}" for n in itertools.count(1))):
        if not any(name.endswith((f"-{tag}.safetensors", f"-{tag}.json")) for name in current.values()):
            return tag
    raise AssertionError("unreachable")


def _delete_unnamed_data_files(run_dir: Path, keep: set[str]) -> None:
    for path in run_dir.iterdir():
        if path.name in keep or not (_DATA_FILE.fullmatch(path.name) or _DATA_TEMP.fullmatch(path.name)):
            continue
        try:
            path.unlink(missing_ok=True)
        except OSError as error:  # the checkpoint is saved; a stale file only costs space
            log.warning("could not delete the stale checkpoint file %s: %s", path, error)


def run_files(run_dir: Path, config: dict | None = None) -> dict[str, str]:
    """The data files of the checkpoint in `run_dir`, by role ("weights", and "best", "optimizer"
    and "optimizer_state" where saved), as config.json names them; format 1 folders (no "files") have
    fixed names. `config` is the folder's config.json when the caller has read it already."""
    config = read_config(run_dir) if config is None else config
    files = config.get("files")
    if files is None:
        return {role: name for role, name in LEGACY_FILES.items()
                if role == "weights" or (run_dir / name).exists()}
    if not isinstance(files, dict) or not isinstance(files.get("weights"), str) or not all(
            isinstance(name, str) and name == Path(name).name and not name.startswith(".")
            for name in files.values()):
        raise CheckpointError(f"{run_dir / 'config.json'}: \"files\" must name the weights file and other "
                              f"data files inside the run folder (got {files!r:.120})")
    return dict(files)


def weights_path(run_dir: str | Path, config: dict | None = None, *, best: bool = False) -> Path:
    """The weights file of the checkpoint in `run_dir` (the one its config.json names): those of
    its last step, or with `best` those of the step with the lowest validation loss (the last
    step's when the run has no validation figures, or was saved before runs kept them)."""
    run_dir = Path(run_dir)
    files = run_files(run_dir, config)
    return run_dir / files.get("best", files["weights"]) if best else run_dir / files["weights"]


def optimizer_path(run_dir: str | Path, config: dict | None = None) -> Path | None:
    """The optimizer-state tensors of the checkpoint in `run_dir`, or None when it has none
    (saved without an optimizer, or the shipped default model)."""
    run_dir = Path(run_dir)
    name = run_files(run_dir, config).get("optimizer")
    return run_dir / name if name is not None else None


def read_config(run_dir: Path) -> dict:
    path = run_dir / "config.json"
    try:
        config = read_json(path, what="a config.json")
    except FileNotFoundError:
        raise CheckpointError(f"{run_dir}: not a Partita run folder (no config.json)") from None
    except (OSError, ValueError) as error:
        raise CheckpointError(f"{path}: unreadable ({_short(error)})") from None
    if not isinstance(config, dict) or "model" not in config or "tokenizer" not in config:
        raise CheckpointError(f"{path}: missing model or tokenizer section")
    problem = config_problem(config)
    if problem:
        raise CheckpointError(f"{path}: {problem}")
    return config


# The sections of config.json that readers look into with .get(): each an object where present.
_SECTIONS = ("model", "tokenizer", "train", "training", "corpus", "instrument", "generation")


def config_problem(config: dict) -> str | None:
    """What in a config.json's sections cannot be used (None: nothing), checked when it is read so
    that a hand-edited or damaged value is refused up front, naming it, and never met half-way
    through composing (a program of 999 failed only when the take was written)."""
    made = config.get("format", 1)  # (a config.json of before the field is format 1)
    if not (_is_int(made) and 1 <= made <= FORMAT_VERSION):
        return (f"\"format\" {made!r:.40} is not a format this Partita reads (1 to {FORMAT_VERSION}): made by a newer "
                "Partita? Update Partita")
    for section in _SECTIONS:
        if section in config and not isinstance(config[section], dict):
            return f"\"{section}\" must be an object, not {_json_kind(config[section])}"
    training, corpus = config.get("training", {}), config.get("corpus", {})
    if "step" in training and not (_is_int(training["step"]) and training["step"] >= 0):
        return f"\"training.step\" must be a whole number of steps, not {training['step']!r:.40}"
    if "best" in training and not isinstance(training["best"], dict):
        return f"\"training.best\" must be an object, not {_json_kind(training['best'])}"
    if "program" in corpus and not (_is_int(corpus["program"]) and 0 <= corpus["program"] <= 127):
        return f"\"corpus.program\" must be a General MIDI program, 0 to 127, not {corpus['program']!r:.40}"
    sequences = config.get("generation", {}).get("sequences")
    if sequences is not None and not (isinstance(sequences, int | float) and not isinstance(sequences, bool)
                                      and 0 <= sequences <= 1):
        return f"\"generation.sequences\" must be a share of bars, 0 to 1, not {sequences!r:.40}"
    join = config.get("generation", {}).get("join")
    if join is not None and not (isinstance(join, int | float) and not isinstance(join, bool) and 0 <= join <= 10):
        return f"\"generation.join\" must be nats a semitone, 0 to 10 (as --join), not {join!r:.40}"
    instrument = config.get("instrument")
    if instrument is not None:
        from core.music.limits import InstrumentLimits

        return InstrumentLimits.json_problem(instrument)  # a misspelt key too, not only a value out of range
    return None


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _json_kind(value) -> str:
    kinds = {list: "a list", str: "a string", bool: "true/false", type(None): "null", int: "a number",
             float: "a number"}
    return kinds.get(type(value), type(value).__name__)


def shipped_models() -> dict[str, str]:
    """The style models that ship with Partita, by name, with a line on what each learned from."""
    models = {}
    for folder in sorted(SHIPPED_MODELS_DIR.iterdir()) if SHIPPED_MODELS_DIR.is_dir() else []:
        if (folder / "config.json").is_file() and not folder.is_symlink():
            try:
                about = read_config(folder).get("about", "")
            except CheckpointError:
                continue
            models[folder.name] = about if isinstance(about, str) else ""
    return models


def suggest_model(seed) -> str | None:
    """The shipped model whose instrument fits a seed (a symusic Score) best (`core.music.limits.closest`):
    the cello suites' for a cello line, the chorales' for a four-part chorale."""
    from core.music.limits import InstrumentLimits, closest

    instruments = {}
    for name in shipped_models():
        config = read_config(SHIPPED_MODELS_DIR / name)
        if isinstance(config.get("instrument"), dict) and not config.get("base_model"):
            instruments[name] = InstrumentLimits.from_json(config["instrument"])
    return closest(seed, instruments)


def matching_base(scores) -> str | None:
    """The shipped base model to fine-tune on a corpus (symusic Scores): the one whose vocabulary
    fits what the corpus's music needs (`core.learning.tokenizer.settings_for`: velocities for performed
    MIDI, Chord tokens where the files mark their chords), so that `jazz-base` takes the WJazzD
    solos and `base` notation; None when no base model ships."""
    from core.learning.tokenizer import settings_for

    wanted = settings_for(list(scores))
    fits = {}
    for name in shipped_models():
        config = read_config(SHIPPED_MODELS_DIR / name)
        if config.get("base_model"):
            tokenizer = config.get("tokenizer", {}) if isinstance(config.get("tokenizer"), dict) else {}
            fits[name] = (bool(tokenizer.get("use_chords")) == wanted.use_chords,
                          bool(tokenizer.get("use_velocities")) == wanted.use_velocities, name == "base")
    return max(fits, key=fits.get) if fits else None


def resolve_model_dir(name_or_path: str | Path | None) -> Path:
    """A run folder, or a shipped model's name ("bach-cello-suites"); None: the default model.
    A folder of that name in the working directory wins over a shipped model."""
    if name_or_path is None or str(name_or_path) == "default" and not Path("default").exists():
        return DEFAULT_MODEL_DIR
    path = Path(name_or_path).expanduser()
    text = str(name_or_path)
    if not path.exists() and "/" not in text and (SHIPPED_MODELS_DIR / text / "config.json").is_file():
        return SHIPPED_MODELS_DIR / text
    if not path.exists():
        names = ", ".join(shipped_models()) or "none"
        raise CheckpointError(f"{text}: not a Partita run folder (no config.json), and no shipped model "
                              f"of that name (shipped: {names})")
    return path


def load_model(run_dir: str | Path | None = None, device: str | torch.device = "cpu", *,
               best: bool = False) -> LoadedModel:
    """Rebuild a model from a run folder or a shipped model's name (None: the default model),
    with the weights of its last step, or with `best` those of its lowest validation loss."""
    from core.learning.hf import is_hf_layout, load_hf  # core.learning.hf imports this module

    run_dir = resolve_model_dir(run_dir)
    if is_hf_layout(run_dir):  # the Hugging Face layout (`partita export-model --hf`): one set of weights
        return load_hf(run_dir, device)
    config = read_config(run_dir)
    try:
        model_config = ModelConfig.from_json(config["model"])
        tokenizer = PartitaTokenizer.create(TokenizerSettings.from_json(config["tokenizer"]))
        if model_config.vocab_size != len(tokenizer):
            raise CheckpointError(f"{run_dir}: model vocabulary ({model_config.vocab_size}) "
                                  f"does not match the tokenizer ({len(tokenizer)})")
        check_fits_memory(model_config, run_dir / "config.json")
        # built here too: a config of the right types may still describe a model that cannot be built
        model = Transformer(model_config)
    except CheckpointError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, RuntimeError) as error:
        # a hand-edited or foreign config.json: wrong types ("four"), wrong structure (a list for an object),
        # or sizes this machine cannot hold
        too_big = re.search(r"allocate (?:memory: you tried to allocate )?(\d+) bytes", str(error))
        if isinstance(error, torch.OutOfMemoryError) or too_big:
            needs = f": one of its tensors alone needs {bytes_text(int(too_big[1]))}" \
                if too_big and int(too_big[1]) > 0 else ""
            raise CheckpointError(f"{run_dir / 'config.json'}: the model it describes does not fit in this "
                                  f"machine's memory{needs}") from None
        raise CheckpointError(f"{run_dir / 'config.json'}: invalid settings ({_short(error)})") from None
    weights = weights_path(run_dir, config, best=best)
    if not weights.exists():
        # a training run saving into this folder may have committed a newer checkpoint (and deleted
        # these weights) since config.json was read: follow the newer config.json of the same run
        config = read_config(run_dir)
        weights = weights_path(run_dir, config, best=best)
    load_weights(model, weights)
    model.to(device).eval()
    return LoadedModel(model, tokenizer, config, run_dir, weights, by_validation=best and "best" in config.get("files", {}))


def check_fits_memory(config: ModelConfig, where: Path, *, copies: int = 1, what: str = "its weights") -> None:
    """Refuse (CheckpointError naming `where`) a model whose weights, `copies` times over (training
    holds weights, gradients and two moments: 4), need more than this machine's memory; counted in
    Python integers before a byte is allocated, so a size of 10**9 says what it needs."""
    needs, has = copies * config.weight_bytes(), machine_memory()
    if has is not None and needs > has:
        raise CheckpointError(f"{where}: the model it describes does not fit in this machine's memory: "
                              f"{what} need {bytes_text(needs)}, the machine has {bytes_text(has)}")


def weights_limit(model: Transformer) -> int:
    """The most bytes a safetensors file of `model`'s weights can hold: float64 at most (Partita
    writes float32), and a header."""
    return 8 * sum(p.numel() for p in model.parameters()) + 16 * MB


def load_weights(model: Transformer, path: Path) -> None:
    """Load safetensors weights, checking names and shapes; raises CheckpointError. For a run
    folder's weights pass `weights_path(run_dir)`: the file its config.json names."""
    try:
        # a FIFO would block safetensors, /dev/zero feed it for ever; then the open: safetensors
        # says "No such file" for a file it may not read
        check_regular(path, weights_limit(model), what="the weights of this model")
        with open(path, "rb"):
            pass
    except FileNotFoundError:
        raise CheckpointError(f"{path}: missing") from None
    except OSError as error:
        raise CheckpointError(f"{path}: cannot be read ({error.strerror or _short(error)})") from None
    try:
        state = load_file(str(path))
    except FileNotFoundError:
        raise CheckpointError(f"{path}: missing") from None
    except (SafetensorError, OSError, ValueError, RuntimeError) as error:
        raise CheckpointError(f"{path}: not valid safetensors ({_short(error)})") from None
    expected = {k: v for k, v in model.state_dict().items() if k != "lm_head.weight"}
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise CheckpointError(f"{path}: weights do not match the config (missing {missing[:3]}, unexpected {unexpected[:3]})")
    for name, tensor in state.items():
        if tuple(tensor.shape) != tuple(expected[name].shape):
            raise CheckpointError(
                f"{path}: {name} has shape {tuple(tensor.shape)}, the config needs {tuple(expected[name].shape)}"
            )
        # integers would load (cast to float) and compose nothing; NaN would fail only when sampling
        if not tensor.is_floating_point():
            raise CheckpointError(f"{path}: {name} holds {str(tensor.dtype).replace('torch.', '')} values, "
                                  "not floating-point weights")
        if not bool(torch.isfinite(tensor).all()):
            raise CheckpointError(f"{path}: {name} holds NaN or infinite values (the weights of a diverged run?)")
    model.load_state_dict(state, strict=False)


def _optimizer_to_tensors(model: Transformer, optimizer: torch.optim.Optimizer) -> tuple[dict, dict]:
    names = {id(p): n for n, p in model.named_parameters()}
    tensors, scalars = {}, {"param_groups": [], "steps": {}}
    for group in optimizer.param_groups:
        scalars["param_groups"].append({k: v for k, v in group.items() if k != "params"})
        for parameter in group["params"]:
            state = optimizer.state.get(parameter)
            if not state:
                continue
            name = names[id(parameter)]
            tensors[f"{name}.exp_avg"] = state["exp_avg"].detach().cpu().contiguous()
            tensors[f"{name}.exp_avg_sq"] = state["exp_avg_sq"].detach().cpu().contiguous()
            scalars["steps"][name] = float(state["step"])
    return tensors, scalars


def load_optimizer_state(run_dir: Path, model: Transformer, optimizer: torch.optim.Optimizer, *,
                         trained_weights: bool = False) -> None:
    """Restore AdamW moments saved by `save_checkpoint` (tensors + JSON, no pickle), from the files
    the folder's config.json names. `trained_weights`: also load into `model` the trained weights
    that a checkpoint of averaged weights keeps beside them (`save_checkpoint(trained=...)`)."""
    files = run_files(run_dir)
    if "optimizer" not in files or "optimizer_state" not in files:
        raise CheckpointError(f"{run_dir}: the checkpoint has no optimizer state")
    tensors_path, scalars_path = run_dir / files["optimizer"], run_dir / files["optimizer_state"]
    try:
        # two moments, and the trained weights where the checkpoint's are their average
        check_regular(tensors_path, 3 * weights_limit(model), what="the optimizer state of this model")
        tensors = load_file(str(tensors_path))
    except (OSError, ValueError, SafetensorError) as error:
        raise CheckpointError(f"{tensors_path}: optimizer state unreadable ({_short(error)})") from None
    try:
        scalars = read_json(scalars_path, what="an optimizer state")
    except (OSError, ValueError) as error:
        raise CheckpointError(f"{scalars_path}: optimizer state unreadable ({_short(error)})") from None
    parameters = dict(model.named_parameters())
    problem = _optimizer_problem(scalars, tensors, parameters)
    if problem:
        where = scalars_path if problem[0] == "json" else tensors_path
        raise CheckpointError(f"{where}: optimizer state does not fit the model ({problem[1]})")
    device = next(model.parameters()).device
    # The fused (CUDA) and capturable kernels keep the step count beside the moments; the
    # others keep it on the CPU, as torch.optim.AdamW itself creates it.
    group = optimizer.param_groups[0]
    step_device = device if group.get("fused") or group.get("capturable") else torch.device("cpu")
    for name, step in scalars["steps"].items():
        parameter = parameters[name]  # (all checked by _optimizer_problem)
        optimizer.state[parameter] = {
            "step": torch.tensor(step, dtype=torch.float32, device=step_device),
            "exp_avg": tensors[f"{name}.exp_avg"].to(device),
            "exp_avg_sq": tensors[f"{name}.exp_avg_sq"].to(device),
        }
    # Hyperparameters only: fused/foreach/capturable belong to the machine resuming the run
    # (a run saved on a GPU can go on on a CPU and back).
    for group, saved in zip(optimizer.param_groups, scalars["param_groups"], strict=False):
        group.update({k: v for k, v in saved.items() if k in _HYPERPARAMETERS})
    if trained_weights:
        for name, parameter in parameters.items():
            tensor = tensors.get(TRAINED + name)
            if tensor is None or tuple(tensor.shape) != tuple(parameter.shape):
                raise CheckpointError(f"{tensors_path}: the trained weights of {name} are missing or of another "
                                      "shape (a run of averaged weights resumes from the weights it trained)")
            with torch.no_grad():
                parameter.copy_(tensor)


def _optimizer_problem(scalars, tensors: dict, parameters: dict) -> tuple[str, str] | None:
    """(which file, what is wrong) when saved optimizer state cannot be restored into `parameters`:
    its JSON without "steps" or "param_groups", a step that is not a count, a parameter the model lacks,
    a moment missing or of another shape than its parameter. None when it fits."""
    if not isinstance(scalars, dict) or not isinstance(scalars.get("steps"), dict) \
            or not isinstance(scalars.get("param_groups"), list) \
            or not all(isinstance(group, dict) for group in scalars["param_groups"]):
        return "json", "it must be an object with \"steps\" (an object) and \"param_groups\" (a list of objects)"
    for name, step in scalars["steps"].items():
        if name not in parameters:
            return "json", f"the model has no parameter {name!r:.60}"
        if isinstance(step, bool) or not isinstance(step, int | float) or not 0 <= step < 2**53:
            return "json", f"the step count of {name} is {step!r:.40}, not a number of steps"
        for moment in ("exp_avg", "exp_avg_sq"):
            tensor = tensors.get(f"{name}.{moment}")
            if tensor is None:
                return "tensors", f"no {moment} for {name}"
            if tuple(tensor.shape) != tuple(parameters[name].shape) or not tensor.is_floating_point():
                return "tensors", (f"{name}.{moment} is {tuple(tensor.shape)} {str(tensor.dtype).replace('torch.', '')}, "
                                   f"the parameter {tuple(parameters[name].shape)}")
    return None


def _short(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:160] if text else type(error).__name__
