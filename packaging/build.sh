#!/usr/bin/env bash
# Build the one-folder Linux bundle: packaging/build.sh [OUT_DIR]   (default /tmp/partita-bundle)
#   OUT_DIR/dist/partita/partita       the executable (window; or the CLI: partita generate ...)
#   OUT_DIR/dist/partita-<version>-linux-x86_64.tar.gz
# PARTITA_MODEL_DIR=RUN_DIR bundles another run folder as the default model; PARTITA_CLEAN_BUILD=1
# ignores the analysis cached in OUT_DIR/work by an earlier build.
# The work and output folders stay outside the repository (they are GBs while building).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$(realpath -m "${1:-/tmp/partita-bundle}")
python="$root/.venv/bin/python"
case "$out/" in "$root/"*) echo "build.sh: build outside the repository, not in $out" >&2; exit 2;; esac

if ! "$python" -c "import PyInstaller" 2>/dev/null; then
    echo "build.sh: installing PyInstaller into .venv" >&2
    "$python" -m pip install -q --disable-pip-version-check "pyinstaller>=6.10"
fi
# The CPU build of torch only: a CUDA build would add GBs of libraries nobody on CPU uses.
if "$python" -c "import sys, torch; sys.exit(0 if torch.version.cuda is None else 1)"; then :; else
    echo "build.sh: .venv has a CUDA torch; install the CPU wheel (pip install torch --index-url" \
         "https://download.pytorch.org/whl/cpu) before bundling" >&2
    exit 2
fi
[ -f "$root/resources/icons/partita.svg" ] || "$python" "$root/packaging/render_icons.py"

mkdir -p "$out"
start=$(date +%s)
# The work folder caches the analysis (torch's is most of the time); PARTITA_CLEAN_BUILD=1 starts afresh.
"$python" -m PyInstaller --noconfirm ${PARTITA_CLEAN_BUILD:+--clean} --log-level WARN \
    --workpath "$out/work" --distpath "$out/dist" "$root/packaging/partita.spec"
bundle="$out/dist/partita"
ln -sf partita "$bundle/partita-gui"
# Desktop integration files travel with the bundle; install.sh puts them in ~/.local/share.
mkdir -p "$bundle/share"
cp "$root/packaging/partita.desktop" "$root/packaging/io.github.partita.Partita.metainfo.xml" \
   "$root/packaging/install.sh" "$root/packaging/io.github.partita.Partita.mime.xml" "$bundle/share/"
cp -r "$root/resources/icons" "$bundle/share/icons"

version=$("$bundle/partita" --version | awk '$1 == "partita" {print $2}')
archive="$out/dist/partita-${version:-dev}-linux-$(uname -m).tar.gz"
tar -C "$out/dist" -czf "$archive" partita
echo "bundle:  $bundle ($(du -sh "$bundle" | cut -f1), built in $(( $(date +%s) - start )) s)"
echo "archive: $archive ($(du -sh "$archive" | cut -f1))"
