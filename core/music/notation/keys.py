"""Key signature and clef choice: the two things a reader sees first.

The key comes from the score when it has one (notation files, most MIDI files); otherwise from
the Krumhansl-Schmuckler profile correlation that music21's ``analyze('key')`` also uses,
computed here on a duration-weighted pitch-class histogram (no music21 needed, so the MIDI export
can use it too).

Clefs are chosen bar by bar with a small dynamic programme: fewest ledger lines, a penalty for
every clef change, and a preference for the instrument's home clef. A cello reads bass clef,
tenor clef for its upper range, treble only for the highest passages.
"""

from __future__ import annotations

from dataclasses import dataclass

# Krumhansl-Kessler key profiles, tonic first.
MAJOR_PROFILE = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
MINOR_PROFILE = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)
# Tonic pitch class -> sharps (+) or flats (-) of the major key; minor keys use their relative major.
_MAJOR_SHARPS = {0: 0, 7: 1, 2: 2, 9: 3, 4: 4, 11: 5, 6: 6, 5: -1, 10: -2, 3: -3, 8: -4, 1: -5}


@dataclass(frozen=True)
class KeyGuess:
    sharps: int  # key signature: + sharps, - flats
    minor: bool
    correlation: float


def _correlation(xs: list[float], ys: tuple[float, ...]) -> float:
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    cov = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    var_x = sum((x - mean_x) ** 2 for x in xs)
    var_y = sum((y - mean_y) ** 2 for y in ys)
    return cov / (var_x * var_y) ** 0.5 if var_x > 0 and var_y > 0 else 0.0


def estimate_key(notes: list[tuple[int, float]]) -> KeyGuess:
    """Best key for (pitch, duration) pairs; C major when there is nothing to go on."""
    histogram = [0.0] * 12
    for pitch, duration in notes:
        histogram[pitch % 12] += max(duration, 0.0)
    if sum(histogram) == 0:
        return KeyGuess(0, False, 0.0)
    best = KeyGuess(0, False, -2.0)
    for tonic in range(12):
        rotated = histogram[tonic:] + histogram[:tonic]
        for minor, profile in ((False, MAJOR_PROFILE), (True, MINOR_PROFILE)):
            r = _correlation(rotated, profile)
            if r > best.correlation:
                relative_major = (tonic + 3) % 12 if minor else tonic
                best = KeyGuess(_MAJOR_SHARPS[relative_major], minor, r)
    return best


# Clefs: name -> (MIDI pitch of the bottom staff line, of the top staff line).
CLEF_STAFF = {"bass": (43, 57), "tenor": (50, 64), "alto": (53, 67), "treble": (64, 77)}
CLEF_PREFERENCE = {"bass": 0.0, "tenor": 0.4, "treble": 2.0}  # cost per bar away from home (cello)
CLEF_CHANGE_COST = 3.0  # about three ledger lines: a clef change must save more than that


def clefs_for(instrument_program: int, name: str = "") -> tuple[str, ...]:
    """Clefs an instrument reads, home clef first."""
    lowered = name.lower()
    if instrument_program in (42, 43) or "cello" in lowered:  # cello, contrabass family
        return ("bass", "tenor", "treble")
    if instrument_program in (57, 58, 70) or "bassoon" in lowered or "trombone" in lowered:
        return ("bass", "tenor")
    if instrument_program == 41 or "viola" in lowered:
        return ("alto", "treble")
    if instrument_program in TREBLE_ONLY or any(word in lowered for word in ("sax", "trumpet", "flute", "violin")):
        return ("treble",)  # low notes take ledger lines rather than a clef these players never read
    return ("treble", "bass")


# General MIDI programs (0-based) read in treble clef alone: guitars, violin, trumpets, horn,
# saxophones, oboe, English horn, clarinet, flutes and the other pipes
TREBLE_ONLY = frozenset([*range(24, 32), 40, 56, 59, 60, *range(64, 70), *range(71, 80)])


_STEP_OF_PITCH_CLASS = (0, 0, 1, 1, 2, 3, 3, 4, 4, 5, 5, 6)  # C C# D D# E F F# G G# A A# B


def _diatonic_step(pitch: int) -> int:
    return 7 * (pitch // 12) + _STEP_OF_PITCH_CLASS[pitch % 12]


def _ledger_cost(pitch: int, clef: str) -> float:
    """Ledger lines the pitch needs in the clef; beyond two, each one costs more (hard to read)."""
    bottom, top = (_diatonic_step(p) for p in CLEF_STAFF[clef])
    step = _diatonic_step(pitch)
    ledgers = max(step - top, bottom - step, 0) // 2
    return ledgers + max(0, ledgers - 2) ** 2


def choose_clefs(bars_pitches: list[list[int]], allowed: tuple[str, ...]) -> list[str]:
    """One clef per bar (Viterbi over bars), given the pitches sounding in each bar."""
    if not bars_pitches:
        return []
    home = allowed[0]
    preference = {
        c: CLEF_PREFERENCE.get(c, 0.0) if home == "bass" else (0.0 if c == home else 0.8) for c in allowed
    }
    cost = {c: 0.0 if c == home else CLEF_CHANGE_COST for c in allowed}
    back: list[dict[str, str]] = []
    for pitches in bars_pitches:
        new_cost, pointers = {}, {}
        for clef in allowed:
            here = sum(_ledger_cost(p, clef) for p in pitches) + (preference[clef] if pitches else 0.0)
            previous = min(allowed, key=lambda c: cost[c] + (0 if c == clef else CLEF_CHANGE_COST))
            new_cost[clef] = cost[previous] + (0 if previous == clef else CLEF_CHANGE_COST) + here
            pointers[clef] = previous
        cost = new_cost
        back.append(pointers)
    clef = min(allowed, key=lambda c: cost[c])
    path = [clef]
    for pointers in reversed(back[1:]):
        clef = pointers[clef]
        path.append(clef)
    return list(reversed(path))
