"""Which bars a vocabulary can write: the meters it holds, a score's other meters written as the
vocabulary's own where they make the same bars, and those it cannot keep (read in 4/4 bars when
training, refused in a seed)."""

from __future__ import annotations

from collections.abc import Iterable

import symusic

# Time signatures a vocabulary can express (`TokenizerSettings.meters`), as "N/D". miditok counts
# Positions per *denominator* unit, so x/2 meters would lose sixteenths: they are written as (2x)/4,
# and x/16 ones with an even x as (x/2)/8, the same bars (`equivalent_meter`). The first set is
# the vocabulary of models trained before odd meters (the shipped ones); new models learn the
# common odd meters too. A longest bar of 12/8 keeps the Position tokens as they were.
CLASSIC_METERS = ("3/8", "6/8", "9/8", "12/8", "1/4", "2/4", "3/4", "4/4", "5/4", "6/4")
ODD_METERS = ("5/8", "7/8", "11/8", "7/4")
METERS = CLASSIC_METERS + ODD_METERS


def meter_range(meters: Iterable[str]) -> dict[int, list[int]]:
    """Meters ("7/8") as miditok's time_signature_range: numerators by denominator."""
    by_denominator: dict[int, list[int]] = {}
    for numerator, denominator in map(parse_meter, meters):
        by_denominator.setdefault(denominator, []).append(numerator)
    return {d: sorted(n) for d, n in by_denominator.items()}


def normalise_time_signatures(score: symusic.Score,
                              meters: dict[int, list[int]] | None = None) -> symusic.Score:
    """Write each time signature as the vocabulary's (`meters`, numerators by denominator; default
    CLASSIC_METERS') with the same bars (`equivalent_meter`), or, where it has none, as 4/4: a
    training piece in a meter the vocabulary lacks is then read in 4/4 bars. A seed must not be
    (its bar lines would move): `unkept_meters` names what a vocabulary cannot keep."""
    meters = meters if meters is not None else meter_range(CLASSIC_METERS)
    if all(ts.numerator in meters.get(ts.denominator, []) for ts in score.time_signatures):
        return score
    fixed = score.copy()
    fixed.time_signatures = [symusic.TimeSignature(ts.time, *(equivalent_meter(ts.numerator, ts.denominator, meters)
                                                              or (4, 4)))
                             for ts in fixed.time_signatures]
    return fixed


def equivalent_meter(numerator: int, denominator: int, meters: dict[int, list[int]]) -> tuple[int, int] | None:
    """The meter of the vocabulary `meters` that writes the same bars as numerator/denominator:
    itself, (2x)/4 for x/2 (and 4x/4 for x/1), (x/2)/8 for x/16 with an even x; None if it has none."""
    candidates = [(numerator, denominator)]
    if denominator in (1, 2):
        candidates.append((numerator * 4 // denominator, 4))
    if denominator == 16 and numerator % 2 == 0:
        candidates.append((numerator // 2, 8))
    return next(((n, d) for n, d in candidates if n in meters.get(d, [])), None)


def unkept_meters(score: symusic.Score, meters: dict[int, list[int]]) -> list[tuple[int, int]]:
    """The time signatures of `score` whose bars a vocabulary writing `meters` (numerators by
    denominator: `TokenizerSettings.kept_meters`) cannot write, having no equivalent."""
    unkept = []
    for ts in score.time_signatures:
        meter = (int(ts.numerator), int(ts.denominator))
        if equivalent_meter(*meter, meters) is None and meter not in unkept:
            unkept.append(meter)
    return unkept


def parse_meter(text) -> tuple[int, int] | None:
    """(numerator, denominator) of "N/D", or None for anything else."""
    if not isinstance(text, str):
        return None
    numerator, _, denominator = text.partition("/")
    if not (numerator.isdigit() and denominator in ("1", "2", "4", "8", "16", "32")) or int(numerator) < 1:
        return None
    return int(numerator), int(denominator)


def pieces_by_unkept_meter(pieces: Iterable, meters: dict[int, list[int]] | None = None) -> dict[str, list[str]]:
    """The pieces (core.music.corpus.Piece) whose bars a vocabulary writing `meters` cannot write, by
    meter ("5/2": [names]): training reads them in 4/4 bars (`normalise_time_signatures`), their
    bar lines moved. `meters`: `TokenizerSettings.kept_meters()` of the vocabulary (a fine-tune's
    base model's, a resumed run's); None: a new model's, which holds the common odd meters (METERS)."""
    meters = meters if meters is not None else meter_range(METERS)
    found: dict[str, list[str]] = {}
    for piece in pieces:
        for numerator, denominator in unkept_meters(piece.score, meters):
            found.setdefault(f"{numerator}/{denominator}", []).append(piece.name)
    return found
