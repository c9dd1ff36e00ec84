#!/usr/bin/env bash
# The GPU part of issue 7 in one call on a lent CUDA machine (a bare image with torch and
# transformers; nothing can be downloaded there). Carry with it:
#   .whl/  the corpus stack as cp312 wheels (symusic, miditok, music21, mido, ... see RESULTS.md)
#   .gpu/  cello.npy (benchmarks/gpu_training.py --dump-tokens) and shared/data (a copy of
#          ../shared/data/bach-cello-suites and mutopia-bach-midi)
# It runs (1) the engine's own tests for model, training and generation on CUDA (TrainConfig's
# device "auto" picks it), (2) `partita train --preset base` end to end and a generation on the
# GPU, (3) benchmarks/gpu_training.py. Logs and tables go under $OUT.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/partita-gpu}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PARTITA_HOME=/tmp/partita-home
if ls .whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        && export PYTHONPATH=/tmp/site
fi
[ -e ../shared ] || ln -s "$PWD/.gpu/shared" ../shared
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/machine.txt"
python3 -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__)" \
    | tee -a "$OUT/machine.txt"

step() { echo; echo "== $1 ($(date -u +%T))"; }
step "engine tests on CUDA"
timeout "${TEST_S:-180}" python3 -m pytest -q -p no:cacheprovider -o addopts="" \
    tests/core/test_model.py tests/core/test_training.py tests/core/test_generation.py > "$OUT/tests.log" 2>&1
echo "pytest exit $?"; grep -E "^(FAILED|ERROR|E  )|passed|failed" "$OUT/tests.log" | tail -n 15

step "partita train --preset base on the cello suites, stopped half way and resumed"
STEPS=${E2E_STEPS:-400}
python3 -m core.cli train --data ../shared/data/bach-cello-suites --preset base --steps $((STEPS / 2)) \
    --eval-every 100 --out /tmp/run-base > "$OUT/train-base.out" 2> "$OUT/train-base.err"
echo "train exit $?"
python3 -m core.cli train --resume --steps "$STEPS" --eval-every 100 --out /tmp/run-base \
    >> "$OUT/train-base.out" 2>> "$OUT/train-base.err"
echo "resume exit $?"; grep -v '^\s*$' "$OUT/train-base.out" | tail -n 12; tail -c 400 "$OUT/train-base.err" | tr "\r" "\n" | tail -n 3
cp /tmp/run-base/metrics.jsonl "$OUT/train-base-metrics.jsonl" 2>/dev/null
python3 - <<'PY' 2>&1 | tail -n 8
import time
from core.learning.checkpoint import load_model
from core.composing.generation import GenerationSettings, generate_variations
from core.music.scores import load_score

loaded = load_model("/tmp/run-base", device="cuda")
prompt = load_score("../shared/data/bach-cello-suites/BWV1007_01_Prelude.mxl")
for n in (1, 8):
    start = time.perf_counter()
    takes = generate_variations(loaded, prompt, GenerationSettings(bars=8, prompt_bars=2, random_seed=0), n=n)
    seconds = time.perf_counter() - start
    tokens = sum(len(t.ids) - t.seed_tokens for t in takes)
    print(f"generation on {loaded.model.lm_head.weight.device}, {n} variation(s): {tokens} tokens in {seconds:.2f} s "
          f"({tokens / seconds:.0f} tok/s), notes per take {[len(t.score.tracks[0].notes) for t in takes]}")
PY

[ "${BENCH:-1}" = 1 ] || exit 0
step "benchmarks/gpu_training.py"
timeout "${BENCH_S:-330}" python3 benchmarks/gpu_training.py --tokens .gpu/cello.npy --out "$OUT/gpu_training.jsonl" \
    ${BENCH_ARGS:-} > "$OUT/gpu_training.md" 2> "$OUT/gpu_training.err"
echo "benchmark exit $?"; grep -v '^{' "$OUT/gpu_training.md"; tail -n 5 "$OUT/gpu_training.err"
