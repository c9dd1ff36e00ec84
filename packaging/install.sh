#!/usr/bin/env bash
# Add an unpacked Partita bundle to the desktop: menu entry, icon, "Open with" for MIDI/MusicXML,
# and `partita` / `partita-gui` on PATH. Per user (~/.local) unless PREFIX is set.
#   ./share/install.sh              (run from the bundle folder, dist/partita)
#   ./share/install.sh --uninstall
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bundle=$(cd "$here/.." && pwd)
prefix=${PREFIX:-$HOME/.local}
id=io.github.partita.Partita
apps="$prefix/share/applications" icons="$prefix/share/icons/hicolor" mime="$prefix/share/mime"

if [ "${1:-}" = --uninstall ]; then
    rm -f "$apps/$id.desktop" "$prefix/share/metainfo/$id.metainfo.xml" "$mime/packages/$id.xml" \
          "$prefix/bin/partita" "$prefix/bin/partita-gui" "$icons"/*/apps/"$id".png "$icons/scalable/apps/$id.svg"
else
    [ -x "$bundle/partita" ] || { echo "install.sh: run it from inside the bundle (no $bundle/partita)" >&2; exit 2; }
    mkdir -p "$apps" "$prefix/share/metainfo" "$mime/packages" "$prefix/bin" "$icons/scalable/apps"
    # Exec/TryExec point at this bundle, wherever it was unpacked.
    sed -e "s|^Exec=partita-gui|Exec=$bundle/partita-gui|" -e "s|^TryExec=partita-gui|TryExec=$bundle/partita-gui|" \
        "$here/partita.desktop" > "$apps/$id.desktop"
    cp "$here/$id.metainfo.xml" "$prefix/share/metainfo/"
    cp "$here/$id.mime.xml" "$mime/packages/$id.xml"
    for png in "$here"/icons/partita-*.png; do
        size=$(basename "$png" .png); size=${size#partita-}
        mkdir -p "$icons/${size}x${size}/apps"
        cp "$png" "$icons/${size}x${size}/apps/$id.png"
    done
    cp "$here/icons/partita.svg" "$icons/scalable/apps/$id.svg"
    ln -sf "$bundle/partita" "$prefix/bin/partita"
    ln -sf "$bundle/partita" "$prefix/bin/partita-gui"
fi
command -v update-mime-database >/dev/null && update-mime-database "$mime" || true
command -v update-desktop-database >/dev/null && update-desktop-database -q "$apps" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$icons" 2>/dev/null || true
echo "Partita ${1:+un}installed under $prefix"
