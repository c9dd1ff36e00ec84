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
* Optionally BPE (`bpe_vocab_size`): the model reads and writes *model ids*, each standing for
  one or more base ids of one bar (merges never cross a bar line). Model ids below the base
  vocabulary's size are the base tokens themselves; `to_model_ids` and `expand` convert, and
  everything musical (the grammar, decoding, transposition) works on base ids.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import miditok
import numpy as np
import symusic

from core.learning.kept_meters import (
    CLASSIC_METERS,
    METERS,
    meter_range,
    normalise_time_signatures,
    parse_meter,
)
from core.music.chords import NC, QUALITIES, Chord, marker_chord
from core.music.controls import CONTROL_CHOICES, control_kinds, control_tokens
from core.music.controls import KINDS as CONTROL_KINDS
from core.music.instruments import program_name
from core.music.meter import bar_length

PAD, BOS, EOS = "PAD_None", "BOS_None", "EOS_None"
TOKENIZATIONS = ("REMI", "TSD", "MIDILike", "Structured")
# What the settings that size the vocabulary may be, inclusive, checked before miditok builds it
# (positions_per_beat 10**7 built a 7 GB vocabulary): 96 positions a beat hold 128th notes and triplets.
SETTINGS_BOUNDS = {"positions_per_beat": (1, 96), "num_velocities": (1, 127), "bpe_vocab_size": (0, 2**20)}
MAX_METERS = 64


@dataclass(frozen=True)
class TokenizerSettings:
    tokenization: str = "REMI"  # any miditok tokenization in TOKENIZATIONS
    pitch_range: tuple[int, int] = (21, 109)  # MIDI pitches [low, high)
    positions_per_beat: int = 24  # LCM of 8 (32nd notes) and 3 (triplets)
    use_velocities: bool = False  # True for performed MIDI (dynamics matter), False for notation
    num_velocities: int = 16
    use_time_signatures: bool = True
    # the meters of the vocabulary ("7/8"); a tokenizer.json without them is a model's of before odd
    # meters, whose vocabulary is CLASSIC_METERS' (new models get METERS, see `settings_for`)
    meters: tuple[str, ...] = CLASSIC_METERS
    # the harmony of each bar before its notes, one Chord token per beat (core.music.chords): for corpora
    # whose files mark their chords (`chord:SYMBOL` markers, as the WJazzD solos do)
    use_chords: bool = False
    # per-bar controls after each bar line (core.music.controls: density, voices, lowest and highest pitch)
    use_controls: bool = False
    # of the controls, the kinds the vocabulary holds (a tokenizer.json without them: all three)
    control_kinds: tuple[str, ...] = CONTROL_CHOICES
    # infill: `Infill_N` (the N bars to write), the bars after them, `Infill_Before`, the bars
    # before them, then the N bars (core.composing.infill)
    use_infill: bool = False
    bpe_vocab_size: int = 0  # 0: no BPE; otherwise the model's vocabulary: base tokens + merges
    bpe_merges: str = ""  # the trained BPE (a Hugging Face tokenizers JSON document), see `train_bpe`

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> TokenizerSettings:
        from core.reading import out_of_bounds

        data = dict(data)
        for name, bounds in SETTINGS_BOUNDS.items():
            value = data.get(name, bounds[0])
            if isinstance(value, bool) or not isinstance(value, int) or not bounds[0] <= value <= bounds[1]:
                raise ValueError(out_of_bounds(name, value, bounds, "a tokenizer setting"))
        low_high = data["pitch_range"]
        if not isinstance(low_high, list | tuple) or len(low_high) != 2 or not all(
                isinstance(p, int) and not isinstance(p, bool) for p in low_high) \
                or not 0 <= low_high[0] < low_high[1] <= 128:
            raise ValueError(f"pitch_range must be two MIDI pitches [low, high), 0 <= low < high <= 128, "
                             f"not {low_high!r:.60}")
        data["pitch_range"] = tuple(low_high)
        if "meters" in data:
            if not isinstance(data["meters"], list | tuple) or len(data["meters"]) > MAX_METERS:
                raise ValueError(f"meters must be a list of at most {MAX_METERS} time signatures")
            data["meters"] = tuple(data["meters"])
            # a numerator sizes the Position tokens of a bar: 1000000/4 would ask for millions
            if not data["meters"] or any(parse_meter(text) is None or parse_meter(text)[0] > 32 for text in data["meters"]):
                raise ValueError(f"meters must be time signatures such as \"7/8\", not {data['meters']!r:.80}")
        if "control_kinds" in data:
            kinds = control_kinds(data["control_kinds"])
            if kinds is None:
                raise ValueError(f"control_kinds must be some of {list(CONTROL_CHOICES)}, "
                                 f"not {data['control_kinds']!r:.80}")
            data["control_kinds"] = kinds
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def meter_range(self) -> dict[int, list[int]]:
        """The meters as miditok's time_signature_range: numerators by denominator."""
        return meter_range(self.meters)

    def kept_meters(self) -> dict[int, list[int]]:
        """The meters whose bars the vocabulary writes (without meter tokens: 4/4 alone)."""
        return self.meter_range() if self.use_time_signatures else {4: [4]}


@dataclass
class PartitaTokenizer:
    """A miditok tokenizer and the per-token metadata used by training, metrics and sampling."""

    settings: TokenizerSettings
    inner: miditok.MusicTokenizer
    token_types: list[str] = field(init=False)  # "Pitch", "Duration", "Position", "Bar", ...

    def __post_init__(self) -> None:
        self._digest: str | None = None  # settings_digest, computed once
        if self.inner.is_trained:
            raise ValueError("use Partita's own BPE (TokenizerSettings.bpe_merges), not miditok's")
        vocab = self.inner.vocab
        by_id = sorted(vocab.items(), key=lambda item: item[1])
        self.tokens = [token for token, _ in by_id]  # base tokens, by base id
        self.token_types = [token.split("_", 1)[0] for token in self.tokens]
        self._bpe = None  # the Hugging Face BPE over one character per base id
        self.expansions: list[tuple[int, ...]] = [(i,) for i in range(len(self.tokens))]  # by model id
        if self.settings.bpe_merges:
            self._load_bpe(self.settings.bpe_merges)
        bar_id = self.inner.vocab.get("Bar_None")
        self.opens_bar = np.array([e[0] == bar_id for e in self.expansions], dtype=bool)  # by model id
        pitch = [kind == "Pitch" for kind in self.token_types]
        self._is_meter = np.array([kind == "TimeSig" for kind in self.token_types], dtype=bool)
        self.notes_per_token = np.array([sum(pitch[i] for i in e) for e in self.expansions], dtype=np.int64)
        # per model id: the base type, or "BPE" for a merged token (per-type figures)
        self.model_types = [self.token_types[e[0]] if len(e) == 1 else "BPE" for e in self.expansions]
        self.model_tokens = ["+".join(self.tokens[i] for i in e) for e in self.expansions]
        # chords (use_chords): base id <-> Chord
        self.chord_of_id = {i: _token_chord(token) for i, token in enumerate(self.tokens) if token.startswith("Chord_")}
        self.chord_ids = {chord: i for i, chord in self.chord_of_id.items()}
        if self.chord_of_id and self._bpe is not None:
            raise ValueError("chord tokens and BPE do not go together (yet)")
        # controls and infill tokens: never inside a BPE merge (with controls, merges never join a bar's
        # line and meter to its notes: the controls are written between them), dropped when decoding
        self.control_ids = {token: i for i, token in enumerate(self.tokens) if token.split("_", 1)[0] in CONTROL_KINDS}
        self.infill_ids = {token: i for i, token in enumerate(self.tokens) if token.startswith("Infill_")}
        self.between_bars = np.zeros(len(self.tokens), dtype=bool)
        self.between_bars[list(self.control_ids.values()) + list(self.infill_ids.values())] = True

    def _load_bpe(self, merges: str) -> None:
        from tokenizers import Tokenizer

        try:
            self._bpe = Tokenizer.from_str(merges)
        except Exception as error:  # noqa: BLE001 (the Rust library raises its own exception type)
            raise ValueError(f"the tokenizer's BPE does not load ({error})") from None
        base = {_base_char(i): i for i in range(len(self.tokens))}
        hf_vocab = sorted(self._bpe.get_vocab().items(), key=lambda item: item[1])
        self._hf_to_model = np.zeros(len(hf_vocab), dtype=np.int64)
        for text, hf_id in hf_vocab:
            if not text or any(char not in base for char in text):
                raise ValueError(f"the tokenizer's BPE has a token outside the base vocabulary ({text!r})")
            if len(text) == 1:
                self._hf_to_model[hf_id] = base[text]
            else:
                self._hf_to_model[hf_id] = len(self.expansions)
                self.expansions.append(tuple(base[char] for char in text))

    @property
    def bpe(self) -> bool:
        """Whether model ids are BPE tokens (otherwise they are the base ids)."""
        return self._bpe is not None

    @property
    def controls(self) -> tuple[str, ...]:
        """The bar controls (core.music.controls.CONTROL_CHOICES) the vocabulary can write; () for none."""
        return self.settings.control_kinds if self.settings.use_controls else ()

    @classmethod
    def create(cls, settings: TokenizerSettings = TokenizerSettings()) -> PartitaTokenizer:
        if settings.tokenization not in TOKENIZATIONS:
            raise ValueError(f"unknown tokenization {settings.tokenization!r}; choose from {TOKENIZATIONS}")
        if bool(settings.bpe_vocab_size) != bool(settings.bpe_merges):
            raise ValueError("a BPE tokenizer needs both its vocabulary size and its merges (see train_bpe)")
        config = miditok.TokenizerConfig(
            pitch_range=settings.pitch_range,
            beat_res={(0, 4): settings.positions_per_beat, (4, 12): 4},
            use_velocities=settings.use_velocities,
            num_velocities=settings.num_velocities,
            use_time_signatures=settings.use_time_signatures,
            time_signature_range=settings.meter_range(),
            special_tokens=["PAD", "BOS", "EOS"],
        )
        inner = getattr(miditok, settings.tokenization)(config)
        if settings.use_chords:
            if settings.tokenization != "REMI":
                raise ValueError("chord tokens need the REMI tokenization")
            for token in chord_tokens():
                inner.add_to_vocab(token)
        if settings.use_controls:
            for token in control_tokens(settings.pitch_range, settings.control_kinds):
                inner.add_to_vocab(token)
        if settings.use_infill:
            for token in infill_tokens():
                inner.add_to_vocab(token)
        return cls(settings, inner)

    # --- ids ---------------------------------------------------------------------------
    def __len__(self) -> int:
        """The model's vocabulary: base tokens, and BPE merges where trained."""
        return len(self.expansions)

    @property
    def pad_id(self) -> int:
        return self.inner.vocab[PAD]

    @property
    def bos_id(self) -> int:
        return self.inner.vocab[BOS]

    @property
    def eos_id(self) -> int:
        return self.inner.vocab[EOS]

    def token_type(self, model_id: int) -> str:
        """The type of a model token: its base type ("Pitch", "Bar", ...), or "BPE" for a merge."""
        return self.model_types[model_id]

    def ids_of_type(self, kind: str) -> np.ndarray:
        return np.array([i for i, t in enumerate(self.token_types) if t == kind], dtype=np.int64)

    # --- scores <-> ids ----------------------------------------------------------------
    def encode(self, score: symusic.Score) -> list[int]:
        """Token ids of a whole piece (tracks merged), without BOS/EOS."""
        merged = merge_tracks(normalise_time_signatures(score, self.settings.meter_range()))
        if not merged.tracks or not merged.tracks[0].notes:
            return []
        encoded = self.inner.encode(merged)
        sequence = encoded[0] if isinstance(encoded, list) else encoded
        ids = list(sequence.ids)
        return self._with_chords(ids, merged) if self.chord_of_id else ids

    @property
    def has_chords(self) -> bool:
        """Whether the vocabulary holds Chord tokens (each bar's harmony before its notes)."""
        return bool(self.chord_of_id)

    def _with_chords(self, ids: list[int], score: symusic.Score) -> list[int]:
        """`ids` with each bar's chords (one per beat, from the score's chord markers) written after
        its meter; unchanged when the score marks no chords."""
        changes = sorted((marker.time, chord) for marker in score.markers
                         if (chord := marker_chord(marker.text)) is not None)
        if not changes:
            return ids
        bar_id = self.inner.vocab["Bar_None"]
        out: list[int] = []
        meter, bar_start, length = (4, 4), 0, 0  # length: ticks of the bar open
        pending = False  # a bar opened and its chords are not written yet
        for token_id in ids:
            token = self.tokens[token_id]
            if pending and not token.startswith("TimeSig_"):
                out += self._bar_chords(changes, bar_start, meter, score.tpq)
                pending = False
            out.append(token_id)
            if token_id == bar_id:
                bar_start += length
                length = bar_length(score.tpq, *meter)
                pending = True
            elif token.startswith("TimeSig_"):
                top, bottom = token.split("_", 1)[1].split("/")
                meter = (int(top), int(bottom))
                length = bar_length(score.tpq, *meter)
                if pending:
                    out += self._bar_chords(changes, bar_start, meter, score.tpq)
                    pending = False
        if pending:
            out += self._bar_chords(changes, bar_start, meter, score.tpq)
        return out

    def _bar_chords(self, changes: list[tuple[int, Chord]], bar_start: int, meter: tuple[int, int],
                    tpq: int) -> list[int]:
        beat = tpq * 4 // meter[1]
        times = [time for time, _ in changes]
        chords = []
        for n in range(meter[0]):
            at = bisect.bisect_right(times, bar_start + n * beat) - 1  # the change in force on the beat
            chords.append(self.chord_ids[changes[at][1] if at >= 0 else NC])
        return chords

    def chords_of(self, ids: list[int]) -> list[tuple[int, int, Chord]]:
        """(bar index, beat, chord) of each Chord token in base `ids`."""
        bar_id = self.inner.vocab["Bar_None"]
        out, bar, beat = [], -1, 0
        for token_id in ids:
            if token_id == bar_id:
                bar, beat = bar + 1, 0
            elif token_id in self.chord_of_id:
                out.append((max(bar, 0), beat, self.chord_of_id[token_id]))
                beat += 1
        return out

    def decode(self, ids: list[int], *, program: int = 0) -> symusic.Score:
        """A score from ids; special tokens are dropped. Never raises on a grammatical sequence."""
        special = {self.pad_id, self.bos_id, self.eos_id} | set(self.chord_of_id) \
            | set(self.control_ids.values()) | set(self.infill_ids.values())
        chords = self.chords_of([int(i) for i in ids]) if self.chord_of_id else []
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
        if chords:
            self._mark_chords(score, chords)
        return score

    def _mark_chords(self, score: symusic.Score, chords: list[tuple[int, int, Chord]]) -> None:
        """Write each chord change as a `chord:NAME` marker on its beat (bars by the score's meters)."""
        from core.music.chords import MARKER_PREFIX

        signatures = sorted((ts.time, ts.numerator, ts.denominator) for ts in score.time_signatures) or [(0, 4, 4)]
        starts, meters, tick, bar = [], [], 0, 0
        last = max(bar for bar, _, _ in chords)
        while bar <= last:
            meter = next(((n, d) for time, n, d in reversed(signatures) if time <= tick), signatures[0][1:])
            starts.append(tick)
            meters.append(meter)
            tick += score.tpq * 4 * meter[0] // meter[1]
            bar += 1
        previous = None
        for bar, beat, chord in chords:
            if chord != previous:
                time = starts[bar] + beat * score.tpq * 4 // meters[bar][1]
                score.markers.append(symusic.TextMeta(time, MARKER_PREFIX + chord.name()))
                previous = chord

    def to_model_ids(self, ids: list[int] | np.ndarray) -> np.ndarray:
        """Model ids of base ids (the same ids without BPE). Each bar is encoded on its own, so a
        bar line always starts a model token; BOS, EOS and PAD stay as they are."""
        ids = np.asarray(ids, dtype=np.int64)
        if self._bpe is None or not len(ids):
            return ids
        special = np.isin(ids, [self.pad_id, self.bos_id, self.eos_id]) | self.between_bars[ids]
        cuts = np.unique(np.concatenate([[0], np.flatnonzero(special | np.roll(special, 1)), self._word_cuts(ids),
                                         [len(ids)]]))
        chunks = [ids[a:b] for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
        words = ["".join(_base_char(int(i)) for i in chunk) for chunk in chunks]
        out = [chunk if special[a] else self._hf_to_model[np.asarray(encoding.ids, dtype=np.int64)]
               for chunk, a, encoding in zip(chunks, cuts[:-1], self._bpe.encode_batch(words), strict=True)]
        return np.concatenate(out).astype(np.int64)

    def _word_cuts(self, ids: np.ndarray) -> np.ndarray:
        """Where BPE words begin in base `ids`: at every bar line, and with controls also right after
        a bar's line and meter (where controls are written when training and composing), so that a
        merged token never holds a bar's head and its notes together."""
        bar_id = self.inner.vocab["Bar_None"]
        is_bar = ids == bar_id
        if not self.settings.use_controls:
            return np.flatnonzero(is_bar)
        is_meter = self._is_meter[ids]
        after_head = np.zeros(len(ids), dtype=bool)
        after_head[1:] = (is_bar[:-1] & ~is_meter[1:]) | is_meter[:-1]
        return np.flatnonzero(is_bar | after_head)

    def expand(self, model_ids: list[int] | np.ndarray) -> list[int]:
        """The base ids that model ids stand for."""
        if self._bpe is None:
            return [int(i) for i in model_ids]
        return [base for i in model_ids for base in self.expansions[int(i)]]

    def train_bpe(self, vocab_size: int, sequences: list[np.ndarray]) -> PartitaTokenizer:
        """This tokenizer with BPE merges learned from base id `sequences` (bodies of pieces,
        without BOS/EOS), up to a model vocabulary of `vocab_size`; merges stay inside a bar."""
        from tokenizers import Tokenizer, models, trainers

        if vocab_size <= len(self.tokens):
            raise ValueError(f"a BPE vocabulary needs more than the {len(self.tokens)} base tokens, not {vocab_size}")

        def bars():
            for ids in sequences:
                ids = np.asarray(ids)
                cuts = [0, *self._word_cuts(ids).tolist(), len(ids)]
                for a, b in zip(cuts[:-1], cuts[1:], strict=True):
                    if b > a:
                        yield "".join(_base_char(int(i)) for i in ids[a:b])

        bpe = Tokenizer(models.BPE())
        alphabet = [_base_char(i) for i in range(len(self.tokens))]
        bpe.train_from_iterator(bars(), trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=alphabet,
                                                            show_progress=False))
        # the vocabulary learned: smaller than asked for when the pieces run out of pairs to merge
        settings = replace(self.settings, bpe_vocab_size=bpe.get_vocab_size(), bpe_merges=bpe.to_str())
        return PartitaTokenizer.create(settings)

    def encode_cached(self, score: symusic.Score, digest: str, cache_dir: Path | None) -> list[int]:
        """`encode`, remembered on disk under (piece digest, tokenizer settings)."""
        if not digest or cache_dir is None:
            return self.encode(score)
        path = cache_dir / "tokens" / f"{digest}-{self.settings_digest()}.npy"
        cached = self._cached_ids(path)
        if cached is not None:
            return cached
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

    def _cached_ids(self, path: Path) -> list[int] | None:
        """The ids a token cache file holds, or None where it is missing or not what `encode_cached`
        writes: the cache is a folder anyone can write to, so the file is read within a bound (a
        piece's ids as int32: 4 bytes a token, at most TOKEN_CACHE_BYTES) and its ids must be base ids
        of this vocabulary (an id past it would fail deep inside training)."""
        import io

        from core.reading import FileRefused, read_bytes

        try:
            ids = np.load(io.BytesIO(read_bytes(path, TOKEN_CACHE_BYTES, what="a token cache file")), allow_pickle=False)
        except (OSError, ValueError, EOFError, FileRefused):
            return None
        if ids.ndim != 1 or ids.dtype.kind not in "iu" or (len(ids) and not 0 <= ids.min() <= ids.max() < len(self.tokens)):
            return None
        return ids.tolist()

    def settings_digest(self) -> str:
        """Key of this tokenizer's base ids in the token cache (settings but BPE + miditok version)."""
        if self._digest is None:
            from importlib.metadata import version

            # (controls and infill tokens are written by the sampler, never by `encode`)
            base = replace(self.settings, bpe_vocab_size=0, bpe_merges="").to_json()
            for name in ("use_controls", "control_kinds", "use_infill"):  # (the same ids as a vocabulary of before them)
                del base[name]
            text = json.dumps({"settings": base, "miditok": version("miditok")}, sort_keys=True)
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
        for kind in ("Low", "High"):  # a bar's lowest and highest pitch move with its notes
            first = self.control_ids.get(f"{kind}_{self.settings.pitch_range[0]}")
            if first is not None:
                count = self.settings.pitch_range[1] - self.settings.pitch_range[0]
                inside = (ids >= first) & (ids < first + count)
                shifted = np.where(inside, np.clip(ids + semitones, first, first + count - 1), shifted)
        if self.chord_of_id:  # chord roots move with the notes
            for at in np.flatnonzero(np.isin(ids, list(self.chord_of_id))):
                shifted[at] = self.chord_ids[self.chord_of_id[int(ids[at])].transposed(semitones)]
        return shifted

    # --- persistence -------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        from core.atomic import atomic_write_text

        directory.mkdir(parents=True, exist_ok=True)
        atomic_write_text(directory / "tokenizer.json", json.dumps(self.settings.to_json(), indent=2))

    @classmethod
    def load(cls, directory: Path) -> PartitaTokenizer:
        from core.reading import read_json

        path = directory / "tokenizer.json"
        try:
            settings = TokenizerSettings.from_json(read_json(path, what="a tokenizer.json"))
        except (OSError, ValueError, TypeError, KeyError) as error:
            raise ValueError(f"{path}: not a Partita tokenizer ({error})") from None
        return cls.create(settings)


def _base_char(base_id: int) -> str:
    """The character that stands for a base id in the BPE's strings (CJK ideographs: letters
    that no normaliser or pre-tokeniser treats specially)."""
    return chr(0x4E00 + base_id)


def settings_for(scores: list[symusic.Score], tokenization: str = "REMI") -> TokenizerSettings:
    """Choose settings from the music: velocities only for performed MIDI (varied dynamics)."""
    velocities = set()
    for score in scores[:50]:
        for track in score.tracks:
            velocities.update(note.velocity for note in track.notes[:200])
    performed = len(velocities) > 4
    # chord tokens where most pieces mark their chords (a lead sheet's worth of harmony to learn from)
    marked = sum(any(marker_chord(m.text) is not None for m in score.markers) for score in scores)
    remi = tokenization == "REMI"
    return TokenizerSettings(tokenization=tokenization, use_velocities=performed,
                             use_chords=remi and marked > len(scores) // 2, meters=METERS,
                             use_controls=remi, use_infill=remi)


def with_infill_and_controls(settings: TokenizerSettings, kinds: tuple[str, ...] | None = None) -> TokenizerSettings:
    """`settings` with infill and bar controls (those `kinds`, None: all, where it had none): what a
    fine-tune of a model trained before them learns too. The base ids of the tokens it had stay. A
    BPE vocabulary learned without controls gets none: its merges may join a bar's line to its
    notes, where controls are written."""
    remi = settings.tokenization == "REMI"
    gains = remi and not settings.use_controls and not settings.bpe_merges
    return replace(settings, use_infill=remi, use_controls=remi and (settings.use_controls or gains),
                   control_kinds=(kinds or CONTROL_CHOICES) if gains else settings.control_kinds)


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


# The most a piece's token cache file may hold: 16 M tokens as int32 (a MUSIC_BYTES MIDI file of
# notes packed as tight as MIDI allows, 3 bytes a note event, writes about 4 tokens a note).
TOKEN_CACHE_BYTES = 64 * 2**20 + 4096

MAX_SPAN = 8  # bars an infill writes at once (Infill_1 .. Infill_8)


def infill_tokens() -> list[str]:
    """`Infill_N`: N bars are missing here (the bars after them follow); `Infill_Before`: the bars
    before them follow, then the N bars."""
    return [f"Infill_{n}" for n in range(1, MAX_SPAN + 1)] + ["Infill_Before"]


def chord_tokens() -> list[str]:
    """The Chord tokens of a chord-aware vocabulary: every root in every quality, then no chord."""
    return [f"Chord_{root}.{quality}" for quality in QUALITIES for root in range(12)] + ["Chord_NC"]


def _token_chord(token: str) -> Chord:
    value = token.split("_", 1)[1]
    if value == "NC":
        return NC
    root, quality = value.split(".")
    return Chord(int(root), quality)
