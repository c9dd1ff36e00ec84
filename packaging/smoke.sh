#!/usr/bin/env bash
# Smoke-test a built bundle: packaging/smoke.sh [BUNDLE_DIR]   (default /tmp/partita-bundle/dist/partita)
#   1. `partita --version` names Partita, torch and Qt
#   2. `partita generate` with the shipped default model writes a MIDI file; a second run uses it as seed
#   3. `partita train` runs two steps of a tiny model on those takes (torch's optimizer path in the bundle),
#      and music21's built-in Bach chorales are in the bundle
#   4. the window starts under Xvfb with that MIDI file as its argument (as "Open with" does),
#      paints, and saves a screenshot; it must stay up until then and exit cleanly
# Builds the bundle first when BUNDLE_DIR has none (minutes; set PARTITA_SMOKE_NO_BUILD=1 to fail instead).
# Everything runs with HOME and the XDG folders in a temporary folder: the user's data is not touched.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bundle=${1:-/tmp/partita-bundle/dist/partita}
if [ ! -x "$bundle/partita" ]; then
    if [ -n "${PARTITA_SMOKE_NO_BUILD:-}" ]; then echo "smoke: no bundle at $bundle" >&2; exit 1; fi
    "$root/packaging/build.sh" "$(dirname "$(dirname "$bundle")")"
fi
tmp=$(mktemp -d /tmp/partita-smoke.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data" XDG_CACHE_HOME="$tmp/cache" \
       XDG_STATE_HOME="$tmp/state"
unset PYTHONPATH VIRTUAL_ENV  # the bundle must not lean on the repository's venv
unset PARTITA_HOME  # (pytest sets it): the user data must go to the XDG folders above
cd "$tmp"
fail() { echo "smoke: FAIL: $*" >&2; exit 1; }
step() { echo "smoke: $*"; }

step "partita --version"
"$bundle/partita" --version | tee "$tmp/version.txt"
for name in partita torch PySide6 music21 miditok; do
    grep -Eq "^$name +[0-9]" "$tmp/version.txt" || fail "--version does not name $name with a version"
done

step "partita generate (default model, 4 bars)"
"$bundle/partita" generate --bars 4 --seed 1 --out "$tmp/take.mid" || fail "generate exited $?"
[ -s "$tmp/take.mid" ] || fail "generate wrote no MIDI file"
"$bundle/partita" generate --prompt "$tmp/take.mid" --bars 2 --seed 2 --out "$tmp/take2.mid" \
    || fail "generate with a seed file exited $?"
[ -s "$tmp/take2.mid" ] || fail "generate with a seed wrote no MIDI file"

step "partita train (2 steps of a tiny model on the generated takes)"
mkdir -p "$tmp/corpus"
cp "$tmp/take.mid" "$tmp/take2.mid" "$tmp/corpus/"
"$bundle/partita" generate --bars 4 --seed 3 --out "$tmp/corpus/take3.mid" >/dev/null 2>&1 || fail "generate exited $?"
"$bundle/partita" train --data "$tmp/corpus" --out "$tmp/run" --steps 2 --eval-every 2 --batch-size 2 \
    --set n_layer=1 --set n_head=2 --set n_embd=32 --set block_size=64 > "$tmp/train.log" 2>&1 \
    || { cat "$tmp/train.log"; fail "train exited with an error"; }
weights=$(sed -n 's/^ *"weights": "\([^"]*\)".*/\1/p' "$tmp/run/config.json" 2>/dev/null || true)
[ -n "$weights" ] && [ -s "$tmp/run/$weights" ] || fail "train wrote no checkpoint (config.json and the weights it names)"
chorales=$(find "$bundle/_internal/music21/corpus/bach" -name 'bwv*' | wc -l)
[ "$chorales" -gt 300 ] || fail "only $chorales Bach chorales in the bundle (builtin:bach-chorales needs them)"

step "the window under Xvfb, opening take.mid"
command -v xvfb-run >/dev/null || fail "xvfb-run is not installed (Debian package xvfb)"
start=$(date +%s)
status=0
PARTITA_SCREENSHOT="$tmp/window.png" PARTITA_SCREENSHOT_DELAY_MS=5000 QT_QPA_PLATFORM=xcb \
    timeout 120 xvfb-run -a -s "-screen 0 1600x1000x24" "$bundle/partita-gui" "$tmp/take.mid" \
    > "$tmp/gui.log" 2>&1 || status=$?
cat "$tmp/gui.log"
[ "$status" = 0 ] || fail "the window exited with status $status"
[ -s "$tmp/window.png" ] || fail "the window saved no screenshot (did it paint?)"
elapsed=$(( $(date +%s) - start ))
[ "$elapsed" -ge 5 ] || fail "the window quit after $elapsed s, before its screenshot delay"
log=$(find "$tmp" -name partita.log | head -1)
[ -n "$log" ] && grep -q "start: Partita" "$log" || fail "the window wrote no log file (core.userdata.setup_logging)"
cp "$tmp/window.png" "${PARTITA_SMOKE_SCREENSHOT:-/tmp/partita-smoke-window.png}"
step "OK: version, generate, train, window, log $log ($elapsed s; screenshot in ${PARTITA_SMOKE_SCREENSHOT:-/tmp/partita-smoke-window.png})"
