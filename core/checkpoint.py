"""Run folders: weights as safetensors, everything else as JSON. Loading never unpickles.

A run folder holds
  model.safetensors       weights (tensors only: no code can hide in them)
  config.json             model config, tokenizer settings, training config and state
  tokenizer.json          tokenizer settings (also inside config.json)
  optimizer.safetensors   AdamW moments, with optimizer.json for its scalars (resume only)
  metrics.jsonl           one JSON object per training/eval event
  corpus.json             the corpus report and the split, by piece name
Every file is written atomically, config.json last, so a folder whose config.json exists
describes complete weights.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from core.atomic import atomic_write_bytes, atomic_write_text
from core.model import ModelConfig, Transformer
from core.tokenizer import PartitaTokenizer, TokenizerSettings

DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[1] / "resources" / "models" / "default"
FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A run folder that cannot be loaded; the message names the file and the problem."""


@dataclass
class LoadedModel:
    model: Transformer
    tokenizer: PartitaTokenizer
    config: dict  # the whole config.json
    run_dir: Path

    @property
    def program(self) -> int:
        return int(self.config.get("corpus", {}).get("program", 0))


def save_checkpoint(run_dir: Path, model: Transformer, tokenizer: PartitaTokenizer, meta: dict,
                    optimizer: torch.optim.Optimizer | None = None) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    state.pop("lm_head.weight", None)  # tied to wte.weight; safetensors refuses shared storage
    # Serialise in memory, then write through atomic_write_bytes: a full disk is an OSError
    # naming the file (safetensors' own writer raises SafetensorError instead).
    atomic_write_bytes(run_dir / "model.safetensors", save(state))
    if optimizer is not None:
        tensors, scalars = _optimizer_to_tensors(model, optimizer)
        atomic_write_bytes(run_dir / "optimizer.safetensors", save(tensors))
        atomic_write_text(run_dir / "optimizer.json", json.dumps(scalars))
    tokenizer.save(run_dir)
    config = {"format": FORMAT_VERSION, "model": model.config.to_json(),
              "tokenizer": tokenizer.settings.to_json(), **meta}
    atomic_write_text(run_dir / "config.json", json.dumps(config, indent=2))


def read_config(run_dir: Path) -> dict:
    path = run_dir / "config.json"
    try:
        config = json.loads(path.read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{run_dir}: not a Partita run folder (no config.json)") from None
    except (OSError, ValueError) as error:
        raise CheckpointError(f"{path}: unreadable ({error})") from None
    if not isinstance(config, dict) or "model" not in config or "tokenizer" not in config:
        raise CheckpointError(f"{path}: missing model or tokenizer section")
    return config


def load_model(run_dir: str | Path | None = None, device: str | torch.device = "cpu") -> LoadedModel:
    """Rebuild a model from a run folder (None: the shipped default model)."""
    run_dir = Path(run_dir) if run_dir is not None else DEFAULT_MODEL_DIR
    config = read_config(run_dir)
    try:
        model_config = ModelConfig.from_json(config["model"])
        tokenizer = PartitaTokenizer.create(TokenizerSettings.from_json(config["tokenizer"]))
    except (TypeError, ValueError, KeyError) as error:
        raise CheckpointError(f"{run_dir / 'config.json'}: invalid settings ({error})") from None
    if model_config.vocab_size != len(tokenizer):
        raise CheckpointError(
            f"{run_dir}: model vocabulary ({model_config.vocab_size}) does not match the tokenizer ({len(tokenizer)})"
        )
    model = Transformer(model_config)
    load_weights(model, run_dir / "model.safetensors")
    model.to(device).eval()
    return LoadedModel(model, tokenizer, config, run_dir)


def load_weights(model: Transformer, path: Path) -> None:
    """Load safetensors weights, checking names and shapes; raises CheckpointError."""
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


def load_optimizer_state(run_dir: Path, model: Transformer, optimizer: torch.optim.Optimizer) -> None:
    """Restore AdamW moments saved by `save_checkpoint` (tensors + JSON, no pickle)."""
    try:
        tensors = load_file(str(run_dir / "optimizer.safetensors"))
        scalars = json.loads((run_dir / "optimizer.json").read_text())
    except (OSError, ValueError, SafetensorError) as error:
        raise CheckpointError(f"{run_dir}: optimizer state unreadable ({_short(error)})") from None
    parameters = dict(model.named_parameters())
    device = next(model.parameters()).device
    # The fused (CUDA) and capturable kernels keep the step count beside the moments; the
    # others keep it on the CPU, as torch.optim.AdamW itself creates it.
    group = optimizer.param_groups[0]
    step_device = device if group.get("fused") or group.get("capturable") else torch.device("cpu")
    for name, step in scalars["steps"].items():
        parameter = parameters[name]
        optimizer.state[parameter] = {
            "step": torch.tensor(step, dtype=torch.float32, device=step_device),
            "exp_avg": tensors[f"{name}.exp_avg"].to(device),
            "exp_avg_sq": tensors[f"{name}.exp_avg_sq"].to(device),
        }
    # Hyperparameters only: fused/foreach/capturable belong to the machine resuming the run
    # (a run saved on a GPU can go on on a CPU and back).
    for group, saved in zip(optimizer.param_groups, scalars["param_groups"], strict=False):
        group.update({k: v for k, v in saved.items() if k in _HYPERPARAMETERS})


_HYPERPARAMETERS = ("lr", "eps", "weight_decay", "amsgrad", "maximize", "initial_lr")


def _short(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:160] if text else type(error).__name__
