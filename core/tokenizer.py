"""Partita's tokenizer: a miditok tokenization (REMI by default) plus what the engine needs.

* One token stream per piece: all tracks are merged before encoding, so polyphony is
  simultaneous notes at one Position, never a second stream.
* The time grid holds 32nd notes *and* triplets: 24 positions per beat for the first four
  beats of a duration, 4 beyond.
* Velocities only where they carry information (performed MIDI such as the jazz solos);
  notation-derived music is encoded without Velocity tokens. `TokenizerSettings` records the
  choice and is saved with every model.
* Transposition works on token ids: Pitch tokens are contiguous, so augmenting a sequence
  is one vectorised add (see `transpose_ids`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import miditok
import numpy as np
import symusic

from core.instruments import program_name

PAD, BOS, EOS = "PAD_None", "BOS_None", "EOS_None"
TOKENIZATIONS = ("REMI", "TSD", "MIDILike", "Structured")
# Time signatures the vocabulary can express; others are mapped to one with the same bar
# length where possible. miditok counts Positions per *denominator* unit, so x/2 meters
# would lose sixteenths: they are written as (2x)/4 instead.
TIME_SIGNATURES = {8: [3, 6, 9, 12], 4: [1, 2, 3, 4, 5, 6]}


@dataclass(frozen=True)
class TokenizerSettings:
    tokenization: str = "REMI"  # any miditok tokenization in TOKENIZATIONS
    pitch_range: tuple[int, int] = (21, 109)  # MIDI pitches [low, high)
    positions_per_beat: int = 24  # LCM of 8 (32nd notes) and 3 (triplets)
    use_velocities: bool = False  # True for performed MIDI (dynamics matter), False for notation
    num_velocities: int = 16
    use_time_signatures: bool = True
    bpe_vocab_size: int = 0  # 0: no BPE; otherwise train BPE to this vocabulary size

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> TokenizerSettings:
        data = dict(data)
        data["pitch_range"] = tuple(data["pitch_range"])
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass
class PartitaTokenizer:
    """A miditok tokenizer and the per-token metadata used by training, metrics and sampling."""

    settings: TokenizerSettings
    inner: miditok.MusicTokenizer
    token_types: list[str] = field(init=False)  # "Pitch", "Duration", "Position", "Bar", ...

    def __post_init__(self) -> None:
        self._digest: str | None = None  # settings_digest, computed once
        if self.inner.is_trained:
            raise ValueError("BPE-trained tokenizers are not supported by the grammar mask yet")
        vocab = self.inner.vocab
        by_id = sorted(vocab.items(), key=lambda item: item[1])
        self.tokens = [token for token, _ in by_id]
        self.token_types = [token.split("_", 1)[0] for token in self.tokens]

    @classmethod
    def create(cls, settings: TokenizerSettings = TokenizerSettings()) -> PartitaTokenizer:
        if settings.tokenization not in TOKENIZATIONS:
            raise ValueError(f"unknown tokenization {settings.tokenization!r}; choose from {TOKENIZATIONS}")
        if settings.bpe_vocab_size:
            raise ValueError("BPE is not enabled in this version (see README, Tokenizer)")
        config = miditok.TokenizerConfig(
            pitch_range=settings.pitch_range,
            beat_res={(0, 4): settings.positions_per_beat, (4, 12): 4},
            use_velocities=settings.use_velocities,
            num_velocities=settings.num_velocities,
            use_time_signatures=settings.use_time_signatures,
            time_signature_range=TIME_SIGNATURES,
            special_tokens=["PAD", "BOS", "EOS"],
        )
        inner = getattr(miditok, settings.tokenization)(config)
        return cls(settings, inner)

    # --- ids ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def pad_id(self) -> int:
        return self.inner.vocab[PAD]

    @property
    def bos_id(self) -> int:
        return self.inner.vocab[BOS]

    @property
    def eos_id(self) -> int:
        return self.inner.vocab[EOS]

    def token_type(self, token_id: int) -> str:
        return self.token_types[token_id]

    def ids_of_type(self, kind: str) -> np.ndarray:
        return np.array([i for i, t in enumerate(self.token_types) if t == kind], dtype=np.int64)

    # --- scores <-> ids ----------------------------------------------------------------
    def encode(self, score: symusic.Score) -> list[int]:
        """Token ids of a whole piece (tracks merged), without BOS/EOS."""
        merged = merge_tracks(normalise_time_signatures(score))
        if not merged.tracks or not merged.tracks[0].notes:
            return []
        encoded = self.inner.encode(merged)
        sequence = encoded[0] if isinstance(encoded, list) else encoded
        return list(sequence.ids)

    def decode(self, ids: list[int], *, program: int = 0) -> symusic.Score:
        """A score from ids; special tokens are dropped. Never raises on a grammatical sequence."""
        special = {self.pad_id, self.bos_id, self.eos_id}
        body = [int(i) for i in ids if int(i) not in special]
        if not body:
            score = symusic.Score(self.inner.time_division)
            score.tracks.append(symusic.Track(name=program_name(program), program=program))
            return score
        score = self.inner.decode([body])
        if not score.tracks:
            score.tracks.append(symusic.Track(name=program_name(program), program=program))
        for track in score.tracks:
            track.program = program
            track.name = program_name(program)  # miditok named it after program 0 (Acoustic Grand Piano)
        return score

    def encode_cached(self, score: symusic.Score, digest: str, cache_dir: Path | None) -> list[int]:
        """`encode`, remembered on disk under (piece digest, tokenizer settings)."""
        if not digest or cache_dir is None:
            return self.encode(score)
        path = cache_dir / "tokens" / f"{digest}-{self.settings_digest()}.npy"
        try:
            return np.load(path, allow_pickle=False).tolist()
        except (OSError, ValueError):
            pass
        ids = self.encode(score)
        try:
            from core.atomic import atomic_write

            def write(tmp: Path) -> None:
                with open(tmp, "wb") as handle:  # np.save on a name would add ".npy"
                    np.save(handle, np.asarray(ids, dtype=np.int32))

            atomic_write(path, write)
        except OSError:
            pass  # a cache that cannot be written only costs time
        return ids

    def settings_digest(self) -> str:
        """Key of this tokenizer's output in the token cache (settings + miditok version)."""
        if self._digest is None:
            from importlib.metadata import version

            text = json.dumps({"settings": self.settings.to_json(), "miditok": version("miditok")}, sort_keys=True)
            self._digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        return self._digest

    @property
    def ticks_per_quarter(self) -> int:
        """Resolution of decoded scores."""
        return self.inner.time_division

    # --- augmentation ------------------------------------------------------------------
    def pitch_id_range(self) -> tuple[int, int]:
        pitch_ids = self.ids_of_type("Pitch")
        return int(pitch_ids.min()), int(pitch_ids.max())

    def transpose_ids(self, ids: np.ndarray, semitones: int) -> np.ndarray:
        """Shift every Pitch token by `semitones` (ids are contiguous by pitch). Caller keeps range."""
        if semitones == 0:
            return ids
        low, high = self.pitch_id_range()
        is_pitch = (ids >= low) & (ids <= high)
        shifted = ids + np.where(is_pitch, semitones, 0)
        if ((shifted < low) & is_pitch).any() or ((shifted > high) & is_pitch).any():
            raise ValueError(f"transposition by {semitones} leaves the tokenizer's pitch range")
        return shifted

    def pitch_of(self, token_id: int) -> int | None:
        token = self.tokens[token_id]
        return int(token.split("_", 1)[1]) if token.startswith("Pitch_") else None

    # --- persistence -------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        from core.atomic import atomic_write_text

        directory.mkdir(parents=True, exist_ok=True)
        atomic_write_text(directory / "tokenizer.json", json.dumps(self.settings.to_json(), indent=2))

    @classmethod
    def load(cls, directory: Path) -> PartitaTokenizer:
        path = directory / "tokenizer.json"
        try:
            settings = TokenizerSettings.from_json(json.loads(path.read_text()))
        except (OSError, ValueError, TypeError, KeyError) as error:
            raise ValueError(f"{path}: not a Partita tokenizer ({error})") from None
        return cls.create(settings)


def settings_for(scores: list[symusic.Score], tokenization: str = "REMI") -> TokenizerSettings:
    """Choose settings from the music: velocities only for performed MIDI (varied dynamics)."""
    velocities = set()
    for score in scores[:50]:
        for track in score.tracks:
            velocities.update(note.velocity for note in track.notes[:200])
    performed = len(velocities) > 4
    return TokenizerSettings(tokenization=tokenization, use_velocities=performed)


def merge_tracks(score: symusic.Score) -> symusic.Score:
    """One track holding every note of the score (program of the first non-drum track)."""
    if len(score.tracks) <= 1:
        return score
    merged = score.copy()
    tracks = [t for t in merged.tracks if not t.is_drum] or list(merged.tracks)
    target = symusic.Track(name=tracks[0].name, program=tracks[0].program)
    for track in tracks:
        target.notes.extend(track.notes)
    target.notes.sort(key=lambda n: (n.time, n.pitch))
    merged.tracks = [target]
    return merged


def normalise_time_signatures(score: symusic.Score) -> symusic.Score:
    """Map time signatures the vocabulary lacks to a common one with the same bar length."""
    if all(ts.numerator in TIME_SIGNATURES.get(ts.denominator, []) for ts in score.time_signatures):
        return score
    fixed = score.copy()
    signatures = []
    for ts in fixed.time_signatures:
        numerator, denominator = ts.numerator, ts.denominator
        if denominator == 2:
            numerator, denominator = numerator * 2, 4
        if numerator not in TIME_SIGNATURES.get(denominator, []):
            numerator, denominator = 4, 4
        signatures.append(symusic.TimeSignature(ts.time, numerator, denominator))
    fixed.time_signatures = signatures
    return fixed

