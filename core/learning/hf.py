"""Partita models in the Hugging Face layout: a `transformers` GPT-2 that computes the same logits.

A folder written by `export_hf` holds
  config.json              a GPT2Config (model_type "gpt2"); Partita's run metadata under "partita"
  model.safetensors        the weights under GPT-2's names: Conv1D matrices stored (in, out), the
                           transpose of nn.Linear's; zero biases where GPT-2 has them and Partita not
  tokenizer.json           the miditok tokenizer's own JSON (`miditok.REMI.from_pretrained(folder)`)
  partita_tokenizer.json   Partita's TokenizerSettings, BPE merges included: the exact vocabulary
so `AutoModelForCausalLM.from_pretrained(folder)` is Partita's model (equal logits, tested in
tests/core/test_hf.py), and `load_hf` (or `core.learning.checkpoint.load_model`) brings a folder of this
layout back, a base model fine-tuned elsewhere included. The two architectures are the same
function: pre-LayerNorm blocks (eps 1e-5), q/k/v in one projection split in that order, attention
scaled by 1/sqrt(head size), GELU with the tanh approximation, a final LayerNorm, learned
positions, the output layer tied to the token embeddings. transformers is imported only to export
and to verify; loading needs JSON and safetensors only, and never unpickles.
"""

from __future__ import annotations

import errno
import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from core.atomic import atomic_write_bytes, atomic_write_text
from core.learning.checkpoint import CheckpointError, LoadedModel, check_fits_memory
from core.learning.model import ModelConfig, Transformer
from core.learning.tokenizer import PartitaTokenizer, TokenizerSettings
from core.reading import MB, check_regular, read_json

PARTITA_TOKENIZER = "partita_tokenizer.json"  # Partita's tokenizer settings (with BPE merges)
MIDITOK_TOKENIZER = "tokenizer.json"  # miditok's own saved tokenizer (its default file name)
WEIGHTS = "model.safetensors"
# F.gelu(approximate="tanh"), as core/learning/model.py's MLP computes it; "gelu_new" is the same
# formula written out in Python (equal to ~1e-7), so a GPT-2 using it loads too.
ACTIVATION = "gelu_pytorch_tanh"
ACTIVATIONS = (ACTIVATION, "gelu_new")
LAYER_NORM_EPS = 1e-5  # nn.LayerNorm's default, which core/learning/model.py uses
# Buffers that older transformers versions saved beside the weights (the causal mask): not weights.
_BUFFERS = (".attn.bias", ".attn.masked_bias")


def _layer_names(config: ModelConfig) -> list[tuple[str, str, bool]]:
    """(Partita name, GPT-2 name, transposed) of every weight; GPT-2's Conv1D holds (in, out)."""
    names = [("wte.weight", "transformer.wte.weight", False), ("wpe.weight", "transformer.wpe.weight", False)]
    for i in range(config.n_layer):
        ours, theirs = f"blocks.{i}", f"transformer.h.{i}"
        names += [(f"{ours}.ln_1.weight", f"{theirs}.ln_1.weight", False),
                  (f"{ours}.attn.qkv.weight", f"{theirs}.attn.c_attn.weight", True),
                  (f"{ours}.attn.proj.weight", f"{theirs}.attn.c_proj.weight", True),
                  (f"{ours}.ln_2.weight", f"{theirs}.ln_2.weight", False),
                  (f"{ours}.mlp.fc.weight", f"{theirs}.mlp.c_fc.weight", True),
                  (f"{ours}.mlp.proj.weight", f"{theirs}.mlp.c_proj.weight", True)]
    return [*names, ("ln_f.weight", "transformer.ln_f.weight", False)]


def _gpt2_shapes(config: ModelConfig) -> dict[str, tuple[int, ...]]:
    """GPT-2's weights and biases for `config`, by name, with their shapes."""
    C = config.n_embd
    shapes = {"transformer.wte.weight": (config.vocab_size, C), "transformer.wpe.weight": (config.block_size, C)}
    for i in range(config.n_layer):
        h = f"transformer.h.{i}"
        for name, (n_in, n_out) in {"attn.c_attn": (C, 3 * C), "attn.c_proj": (C, C),
                                    "mlp.c_fc": (C, 4 * C), "mlp.c_proj": (4 * C, C)}.items():
            shapes[f"{h}.{name}.weight"], shapes[f"{h}.{name}.bias"] = (n_in, n_out), (n_out,)
        for norm in ("ln_1", "ln_2"):
            shapes[f"{h}.{norm}.weight"], shapes[f"{h}.{norm}.bias"] = (C,), (C,)
    shapes["transformer.ln_f.weight"], shapes["transformer.ln_f.bias"] = (C,), (C,)
    return shapes


def gpt2_state(model: Transformer) -> dict[str, torch.Tensor]:
    """The model's weights under GPT-2's names and layout (float32, on the CPU); biases Partita's
    model does not have (bias=False) are zeros. The output layer is tied to wte: not stored."""
    ours = model.state_dict()
    state = {}
    for partita, gpt2, transposed in _layer_names(model.config):
        weight = ours[partita].detach().to("cpu", torch.float32)
        state[gpt2] = (weight.t() if transposed else weight).contiguous()
    for gpt2, partita in _bias_names(model.config).items():
        bias = ours.get(partita)  # None: bias=False
        state[gpt2] = (torch.zeros(state[gpt2.removesuffix("bias") + "weight"].shape[-1]) if bias is None
                       else bias.detach().to("cpu", torch.float32).contiguous())
    return state


def _bias_names(config: ModelConfig) -> dict[str, str]:
    """GPT-2's bias names -> Partita's ("transformer.h.0.attn.c_attn.bias" -> "blocks.0.attn.qkv.bias")."""
    return {gpt2.removesuffix("weight") + "bias": partita.removesuffix("weight") + "bias"
            for partita, gpt2, _ in _layer_names(config) if not gpt2.endswith(("wte.weight", "wpe.weight"))}


def check_export_folder(out_dir: str | Path) -> None:
    """Refuse a folder that holds anything but an earlier export (a run folder's config.json must
    never be overwritten); raises FileExistsError naming the folder."""
    out_dir = Path(out_dir)
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (
            (out_dir / PARTITA_TOKENIZER).exists() and is_hf_layout(out_dir)):
        raise FileExistsError(errno.EEXIST, "holds other files (not an earlier Hugging Face export); "
                                  "choose a new or empty folder", str(out_dir))


def export_hf(loaded: LoadedModel, out_dir: str | Path) -> Path:
    """Write `loaded` in the Hugging Face layout (see the module's docstring) to `out_dir`, a new
    or empty folder or an earlier export; each file atomically, config.json last. Needs transformers."""
    from transformers import GPT2Config

    out_dir = Path(out_dir)
    check_export_folder(out_dir)
    model, tokenizer = loaded.model, loaded.tokenizer
    config = model.config
    gpt2 = GPT2Config(
        vocab_size=config.vocab_size, n_positions=config.block_size, n_embd=config.n_embd,
        n_layer=config.n_layer, n_head=config.n_head, n_inner=4 * config.n_embd,
        activation_function=ACTIVATION, layer_norm_epsilon=LAYER_NORM_EPS,
        # GPT-2 drops out where Partita does: embeddings, residual branches, attention probabilities
        resid_pdrop=config.dropout, embd_pdrop=config.dropout, attn_pdrop=config.dropout,
        scale_attn_weights=True, scale_attn_by_inverse_layer_idx=False, reorder_and_upcast_attn=False,
        tie_word_embeddings=True, bos_token_id=tokenizer.bos_id, eos_token_id=tokenizer.eos_id,
        pad_token_id=tokenizer.pad_id, architectures=["GPT2LMHeadModel"], partita=_run_metadata(loaded),
    )
    atomic_write_bytes(out_dir / WEIGHTS, save(gpt2_state(model), metadata={"format": "pt"}))
    atomic_write_text(out_dir / MIDITOK_TOKENIZER, json.dumps(tokenizer.inner.to_dict(), indent=2))
    atomic_write_text(out_dir / PARTITA_TOKENIZER, json.dumps(tokenizer.settings.to_json(), indent=2))
    atomic_write_text(out_dir / "config.json", gpt2.to_json_string(use_diff=False))
    return out_dir


def _run_metadata(loaded: LoadedModel) -> dict:
    """What the run folder says beside the weights (corpus, training, figures), kept for `load_hf`;
    "training" describes the exported weights: their step, and "best" only when it is theirs."""
    meta = {k: v for k, v in loaded.config.items() if k not in ("format", "model", "tokenizer", "files")}
    meta["model"] = loaded.model.config.to_json()
    training = dict(meta.get("training", {}))
    if training and loaded.step is not None:
        training["step"] = loaded.step
        if training.get("best", {}).get("step") != loaded.step:
            training.pop("best", None)
        meta["training"] = training
    return meta


def verify_hf(folder: str | Path, loaded: LoadedModel, length: int = 64) -> float:
    """The largest difference between the logits of `AutoModelForCausalLM.from_pretrained(folder)`
    and `loaded.model`'s on a fixed sequence of `length` tokens (BOS, then random ids). Needs transformers."""
    from transformers import AutoModelForCausalLM

    hf = AutoModelForCausalLM.from_pretrained(str(folder)).eval()
    config = loaded.model.config
    ids = torch.randint(0, config.vocab_size, (1, min(length, config.block_size)),
                        generator=torch.Generator().manual_seed(0))
    ids[0, 0] = loaded.tokenizer.bos_id
    device = next(loaded.model.parameters()).device
    with torch.no_grad():
        ours, _ = loaded.model.eval()(ids.to(device))
        theirs = hf(ids).logits
    return float((ours.float().cpu() - theirs).abs().max())


def is_hf_layout(folder: str | Path) -> bool:
    """Whether `folder` holds a transformers model (a config.json with "model_type" and without
    Partita's "format"), or Partita's tokenizer file without a config.json, rather than a run folder."""
    folder = Path(folder)
    try:
        config = read_json(folder / "config.json", what="a config.json")
    except (OSError, ValueError):  # (read_config says what is wrong)
        return (folder / PARTITA_TOKENIZER).exists()
    return isinstance(config, dict) and "model_type" in config and "format" not in config


def load_hf(folder: str | Path, device: str | torch.device = "cpu") -> LoadedModel:
    """A Partita model from a folder in the Hugging Face layout; raises CheckpointError naming the
    file and the problem (not a GPT-2 Partita's model can compute, no Partita tokenizer, non-zero
    biases, ...). Reads JSON and safetensors only: transformers is not needed."""
    folder = Path(folder)
    tokenizer = _load_tokenizer(folder)
    config_path = folder / "config.json"
    try:
        gpt2 = read_json(config_path, what="a config.json")
    except FileNotFoundError:
        raise CheckpointError(f"{folder}: no config.json (a Hugging Face model folder needs one)") from None
    except (OSError, ValueError) as error:
        raise CheckpointError(f"{config_path}: unreadable ({error})") from None
    partita = gpt2.get("partita") if isinstance(gpt2, dict) else None
    partita = partita if isinstance(partita, dict) else {}
    model_config = _model_config(config_path, gpt2, partita)
    if model_config.vocab_size != len(tokenizer):
        raise CheckpointError(f"{config_path}: vocab_size {model_config.vocab_size} does not match the "
                              f"vocabulary of {PARTITA_TOKENIZER} ({len(tokenizer)} tokens)")
    check_fits_memory(model_config, config_path)
    try:
        model = Transformer(model_config)
    except RuntimeError as error:  # sizes this machine cannot hold
        raise CheckpointError(f"{config_path}: the model it describes cannot be built here ({error})") from None
    model.load_state_dict(_partita_state(folder / WEIGHTS, model_config), strict=False)
    model.to(device).eval()
    config = {**partita, "model": model_config.to_json(), "tokenizer": tokenizer.settings.to_json()}
    return LoadedModel(model, tokenizer, config, folder, folder / WEIGHTS)


PARTITA_KINDS = ("Chord", "Density", "Voices", "Low", "High", "Infill")  # token kinds miditok does not make


def _load_tokenizer(folder: Path) -> PartitaTokenizer:
    path = folder / PARTITA_TOKENIZER
    if not path.exists():
        raise CheckpointError(f"{folder}: no {PARTITA_TOKENIZER}, so the model's tokens mean nothing known "
                              f"(Partita loads the GPT-2 folders `partita export-model --hf` writes)")
    try:
        settings = read_json(path, what="a tokenizer file")
        tokenizer = PartitaTokenizer.create(TokenizerSettings.from_json(settings))
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
        raise CheckpointError(f"{path}: not Partita tokenizer settings ({error})") from None
    miditok_path = folder / MIDITOK_TOKENIZER
    if miditok_path.exists():  # optional; where present it must agree (someone may have replaced one)
        try:
            import miditok

            saved = read_json(miditok_path, what="a tokenizer file")
            inner = getattr(miditok, saved["tokenization"])(params=miditok_path)
        except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:
            raise CheckpointError(f"{miditok_path}: not a miditok tokenizer ({error})") from None
        # Partita's own tokens (chords, controls, infill) come after miditok's, and its file lacks them
        ours = {token: i for token, i in tokenizer.inner.vocab.items() if token.split("_", 1)[0] not in PARTITA_KINDS}
        if inner.vocab != ours:
            raise CheckpointError(f"{miditok_path}: its vocabulary differs from the one {PARTITA_TOKENIZER} describes")
    return tokenizer


def _model_config(path: Path, gpt2: dict, partita: dict) -> ModelConfig:
    """Partita's ModelConfig for a GPT-2 config, refusing one whose function Partita's model cannot compute."""
    if not isinstance(gpt2, dict) or gpt2.get("model_type") != "gpt2":
        kind = gpt2.get("model_type") if isinstance(gpt2, dict) else None
        raise CheckpointError(f"{path}: not a GPT-2 config (model_type {kind!r}); Partita reads GPT-2 only")
    n_embd = gpt2.get("n_embd", 768)
    problems = [
        f"activation_function {gpt2.get('activation_function')!r} (Partita's MLP computes {ACTIVATION})"
        if gpt2.get("activation_function", "gelu_new") not in ACTIVATIONS else "",
        f"layer_norm_epsilon {gpt2.get('layer_norm_epsilon')} (Partita's is {LAYER_NORM_EPS})"
        if gpt2.get("layer_norm_epsilon", LAYER_NORM_EPS) != LAYER_NORM_EPS else "",
        f"n_inner {gpt2.get('n_inner')} (Partita's MLP is 4 x n_embd wide)"
        if gpt2.get("n_inner") not in (None, 4 * n_embd if isinstance(n_embd, int) else None) else "",
        "unscaled attention (scale_attn_weights false)" if gpt2.get("scale_attn_weights", True) is not True else "",
        "attention scaled by layer (scale_attn_by_inverse_layer_idx)" if gpt2.get("scale_attn_by_inverse_layer_idx") else "",
        "cross-attention (add_cross_attention)" if gpt2.get("add_cross_attention") else "",
        "an output layer not tied to the embeddings (tie_word_embeddings false)"
        if gpt2.get("tie_word_embeddings", True) is not True else "",
    ]
    if any(problems):
        raise CheckpointError(f"{path}: a GPT-2 Partita's model cannot compute: {'; '.join(p for p in problems if p)}")
    exported = partita.get("model")
    bias = exported.get("bias") is True if isinstance(exported, dict) else False  # GPT-2 has no such switch
    try:
        return ModelConfig.from_json({"vocab_size": gpt2.get("vocab_size"), "block_size": gpt2.get("n_positions"),
                                      "n_layer": gpt2.get("n_layer"), "n_head": gpt2.get("n_head"),
                                      "n_embd": n_embd, "dropout": gpt2.get("resid_pdrop", 0.0), "bias": bias})
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"{path}: invalid settings ({error})") from None


def _partita_state(path: Path, config: ModelConfig) -> dict[str, torch.Tensor]:
    """Partita's state dict from GPT-2 weights, checking names, shapes and that biases Partita's
    model has not (bias=False) are zero; raises CheckpointError naming the file."""
    if not path.exists():
        pickled = [name for name in ("pytorch_model.bin", "model.safetensors.index.json") if (path.parent / name).exists()]
        hint = f" ({pickled[0]} is not read: Partita loads one safetensors file and never unpickles)" if pickled else ""
        raise CheckpointError(f"{path}: missing{hint}")
    try:
        # float64 at most, an untied lm_head, and the causal-mask buffers older exports keep per layer
        limit = 4 * config.weight_bytes() + 4 * config.n_layer * config.block_size**2 + 16 * MB
        check_regular(path, limit, what="the weights of this model")
    except OSError as error:
        raise CheckpointError(f"{path}: cannot be read ({error.strerror or error})") from None
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as error:
        raise CheckpointError(f"{path}: not valid safetensors ({str(error).strip()[:160]})") from None
    if not any(name.startswith("transformer.") for name in tensors):  # saved from GPT2Model, not the LM
        tensors = {f"transformer.{name}": tensor for name, tensor in tensors.items()}
    head = tensors.pop("lm_head.weight", None)
    tensors = {name: tensor for name, tensor in tensors.items() if not name.endswith(_BUFFERS)}
    shapes = _gpt2_shapes(config)
    missing, unexpected = sorted(set(shapes) - set(tensors)), sorted(set(tensors) - set(shapes))
    if missing or unexpected:
        raise CheckpointError(f"{path}: weights do not match config.json (missing {missing[:3]}, "
                              f"unexpected {unexpected[:3]})")
    for name, shape in shapes.items():
        if tuple(tensors[name].shape) != shape:
            raise CheckpointError(f"{path}: {name} has shape {tuple(tensors[name].shape)}, config.json needs {shape}")
    tensors = {name: tensor.to(torch.float32) for name, tensor in tensors.items()}
    if head is not None and not torch.equal(head.to(torch.float32), tensors["transformer.wte.weight"]):
        raise CheckpointError(f"{path}: lm_head.weight differs from transformer.wte.weight; Partita's output "
                              f"layer is the token embedding (tied)")
    state = {partita: tensors[gpt2].t().contiguous() if transposed else tensors[gpt2]
             for partita, gpt2, transposed in _layer_names(config)}
    for name, partita in _bias_names(config).items():
        if config.bias:
            state[partita] = tensors[name]
        elif (largest := float(tensors[name].abs().max())) != 0.0:
            raise CheckpointError(f"{path}: {name} is not zero (largest |value| {largest:.3g}); Partita's model "
                                  f"has no biases (bias=False), so it would compute another function")
    return state
