"""Desktop integration and the bundle: validators, MIME coverage, icons, the spec, install.sh.

The bundle build itself takes minutes and GBs, so it runs only with PARTITA_BUILD_BUNDLE=1
(then `packaging/build.sh` and `packaging/smoke.sh` run end to end in a temporary folder).
"""

from __future__ import annotations

import ast
import configparser
import json
import os
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGING = REPO / "packaging"
DESKTOP = PACKAGING / "partita.desktop"
METAINFO = PACKAGING / "io.github.partita.Partita.metainfo.xml"
MIME_XML = PACKAGING / "io.github.partita.Partita.mime.xml"
ICONS = REPO / "resources" / "icons"
APP_ID = "io.github.partita.Partita"
MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"


def desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(DESKTOP, encoding="utf-8")
    return parser["Desktop Entry"]


def tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        pytest.skip(f"{name} is not installed (Debian: desktop-file-utils / appstream)")
    return path


def test_desktop_file_passes_desktop_file_validate():
    result = subprocess.run([tool("desktop-file-validate"), str(DESKTOP)], capture_output=True, text=True)
    assert result.returncode == 0 and "error" not in result.stdout, result.stdout + result.stderr


def test_metainfo_passes_appstreamcli_validate():
    result = subprocess.run([tool("appstreamcli"), "validate", "--no-net", str(METAINFO)], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "E:" not in result.stdout and "W:" not in result.stdout, result.stdout


def test_metainfo_points_at_no_made_up_address():
    """The homepage, bug tracker and screenshot URLs were placeholders for a repository that does not
    exist; software centres would show them. Add one back only with the project's real public home."""
    root = ET.parse(METAINFO).getroot()
    assert root.findall("url") == [] and root.find("screenshots") is None
    assert "github.com/partita" not in METAINFO.read_text()


def test_mime_types_file_is_valid_shared_mime_info(tmp_path):
    """update-mime-database accepts the file and maps *.partita, *.musicxml, *.mxl to our types."""
    packages = tmp_path / "mime" / "packages"
    packages.mkdir(parents=True)
    shutil.copy(MIME_XML, packages / f"{APP_ID}.xml")
    result = subprocess.run([tool("update-mime-database"), str(tmp_path / "mime")], capture_output=True, text=True,
                            env={**os.environ, "XDG_DATA_HOME": str(tmp_path)})  # else it notes the odd place
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
    globs = (tmp_path / "mime" / "globs2").read_text()
    for line in ("application/x-partita-project:*.partita", "application/vnd.recordare.musicxml+xml:*.musicxml",
                 "application/vnd.recordare.musicxml:*.mxl"):
        assert line in globs


def known_globs() -> dict[str, set[str]]:
    """MIME type -> glob patterns, from our MIME file plus the system's shared-mime-info."""
    types: dict[str, set[str]] = {}
    for mime in ET.parse(MIME_XML).getroot().iter(f"{MIME_NS}mime-type"):
        types.setdefault(mime.get("type"), set()).update(g.get("pattern") for g in mime.iter(f"{MIME_NS}glob"))
    system = Path("/usr/share/mime/globs2")
    if system.exists():
        for line in system.read_text().splitlines():
            if line and not line.startswith("#"):
                _, mime, pattern = line.split(":", 2)[:3]
                types.setdefault(mime, set()).add(pattern.split(":")[0])
    return types


def test_every_file_type_partita_opens_is_associated_with_it():
    from core.music.scores import SUPPORTED_SUFFIXES

    associated = [m for m in desktop_entry()["MimeType"].split(";") if m]
    globs = known_globs()
    covered = {pattern.removeprefix("*") for mime in associated for pattern in globs.get(mime, ())}
    wanted = set(SUPPORTED_SUFFIXES) - {".xml"}  # plain .xml is any XML: claiming it would be rude
    missing = (wanted | {".partita"}) - covered
    assert not missing, f"not associated: {sorted(missing)}"


def test_desktop_file_metainfo_and_installer_agree():
    entry = desktop_entry()
    assert entry["Exec"].startswith("partita-gui ") and entry["Exec"].endswith("%F")  # files, not URLs
    assert entry["Icon"] == APP_ID
    root = ET.parse(METAINFO).getroot()
    assert root.findtext("id") == APP_ID
    assert root.find("launchable").text == f"{APP_ID}.desktop"  # the name install.sh gives the .desktop file
    provided = {m.text for m in root.iter("mediatype")}
    assert provided <= set(entry["MimeType"].split(";"))
    assert '"$apps/$id.desktop"' in (PACKAGING / "install.sh").read_text()


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    return struct.unpack(">II", data[16:24])


def test_icon_is_an_svg_and_pngs_from_16_to_512():
    ET.parse(ICONS / "partita.svg")  # well-formed
    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        assert png_size(ICONS / f"partita-{size}.png") == (size, size)


def test_launcher_sends_commands_to_the_cli_and_files_to_the_window(tmp_path):
    sys.path.insert(0, str(PACKAGING))
    try:
        from partita_launcher import wants_cli
    finally:
        sys.path.remove(str(PACKAGING))
    assert wants_cli(["partita", "--version"])
    assert wants_cli(["partita", "generate", "--bars", "4", "--out", "x.mid"])
    assert not wants_cli(["partita"])
    assert not wants_cli(["partita", str(tmp_path / "song.mid")])
    assert not wants_cli(["/opt/partita/partita-gui", "--version"])  # partita-gui is always the window
    (tmp_path / "train").write_text("")  # a file that happens to be named like a command
    os.chdir(tmp_path)
    try:
        assert not wants_cli(["partita", "train"])
    finally:
        os.chdir(REPO)


class SpecCalls:
    """Stand-ins for the names PyInstaller gives a spec file; they record what the spec asks for."""

    def __init__(self):
        self.analysis = None

    def Analysis(self, scripts, **kwargs):  # noqa: N802 (PyInstaller's names)
        self.analysis = type("A", (), {"scripts": scripts, "pure": [], "datas": [], "binaries": [], **kwargs})()
        self.analysis.datas = [(dest, src, "DATA") for src, dest in kwargs["datas"]]
        return self.analysis

    def PYZ(self, *args, **kwargs):  # noqa: N802
        return ("PYZ", args, kwargs)

    def EXE(self, *args, **kwargs):  # noqa: N802
        return ("EXE", args, kwargs)

    def COLLECT(self, *args, **kwargs):  # noqa: N802
        return ("COLLECT", args, kwargs)


def test_spec_bundles_the_model_icons_and_corpora_and_excludes_nothing_partita_imports(tmp_path, monkeypatch):
    pytest.importorskip("PyInstaller", reason="pyinstaller is not installed (dev extra)")
    source = (PACKAGING / "partita.spec").read_text()
    ast.parse(source)
    model = tmp_path / "model"
    model.mkdir()
    for name in ("model.safetensors", "config.json", "tokenizer.json"):
        (model / name).write_text("{}")
    monkeypatch.setenv("PARTITA_MODEL_DIR", str(model))
    calls = SpecCalls()
    namespace = {"SPECPATH": str(PACKAGING), "Analysis": calls.Analysis, "PYZ": calls.PYZ, "EXE": calls.EXE,
                 "COLLECT": calls.COLLECT, "__file__": str(PACKAGING / "partita.spec")}
    exec(compile(source, "partita.spec", "exec"), namespace)  # noqa: S102 - it is our own spec file
    dests = {dest.replace("\\", "/").rsplit("/", 1)[0] if "." in dest.rsplit("/", 1)[-1] else dest
             for dest, _, _ in calls.analysis.datas}
    assert "resources/models/bach-chorales" in dests and "resources/icons" in dests
    assert "music21/corpus/bach" in dests and "music21/corpus/oneills1850" in dests
    assert not any(d.startswith("music21/corpus/") and d.split("/")[2] not in ("bach", "oneills1850")
                   for d in dests)
    assert namespace["coll"][0] == "COLLECT"
    keep = namespace["keep"]  # the trim keeps what `import torch` and numpy need at run time
    assert keep(("torch/bin/torch_shm_manager", "", "BINARY")) and keep(("torch/lib/libtorch_cpu.so", "", "BINARY"))
    assert not keep(("torch/include/ATen/ATen.h", "", "DATA")) and not keep(("torch/bin/test_jit", "", "BINARY"))
    imported = set()
    import miditok

    libraries = list(Path(miditok.__file__).parent.rglob("*.py"))  # miditok imports its deps eagerly
    for path in list((REPO / "core").rglob("*.py")) + list((REPO / "app").rglob("*.py")) + libraries:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module)
    excluded = set(namespace["EXCLUDES"]) - set(namespace["OPTIONAL"])
    clash = sorted(m for m in imported if any(m == e or m.startswith(e + ".") for e in excluded))
    assert not clash, f"the spec excludes modules Partita or miditok import: {clash}"
    assert any(dest.startswith("symusic/bin") for dest, _, _ in calls.analysis.datas)  # its abc converters


def test_spec_bundles_the_weights_file_config_json_names_and_no_optimizer_state(tmp_path, monkeypatch):
    pytest.importorskip("PyInstaller", reason="pyinstaller is not installed (dev extra)")
    model = tmp_path / "run"  # a run folder as core.learning.checkpoint writes it
    model.mkdir()
    files = {"weights": "model-000400.safetensors", "optimizer": "optimizer-000400.safetensors",
             "optimizer_state": "optimizer-000400.json"}
    (model / "config.json").write_text(json.dumps({"files": files}))
    for name in (*files.values(), "tokenizer.json", "metrics.jsonl", "corpus.json"):
        (model / name).write_text("{}")
    monkeypatch.setenv("PARTITA_MODEL_DIR", str(model))
    calls = SpecCalls()
    namespace = {"SPECPATH": str(PACKAGING), "Analysis": calls.Analysis, "PYZ": calls.PYZ, "EXE": calls.EXE,
                 "COLLECT": calls.COLLECT}
    exec(compile((PACKAGING / "partita.spec").read_text(), "partita.spec", "exec"), namespace)  # noqa: S102
    bundled = sorted(Path(src).name for src, dest in namespace["datas"] if dest == "resources/models/bach-chorales")
    assert bundled == ["config.json", "corpus.json", "model-000400.safetensors", "tokenizer.json"]


def test_missing_default_model_stops_the_spec_with_a_clear_message(tmp_path, monkeypatch):
    pytest.importorskip("PyInstaller", reason="pyinstaller is not installed (dev extra)")
    monkeypatch.setenv("PARTITA_MODEL_DIR", str(tmp_path))
    calls = SpecCalls()
    with pytest.raises(SystemExit, match="lacks model.safetensors"):
        exec(compile((PACKAGING / "partita.spec").read_text(), "partita.spec", "exec"),  # noqa: S102
             {"SPECPATH": str(PACKAGING), "Analysis": calls.Analysis, "PYZ": calls.PYZ, "EXE": calls.EXE,
              "COLLECT": calls.COLLECT})


def test_shell_scripts_parse():
    for script in ("build.sh", "smoke.sh", "install.sh"):
        result = subprocess.run(["bash", "-n", str(PACKAGING / script)], capture_output=True, text=True)
        assert result.returncode == 0, f"{script}: {result.stderr}"


def test_install_sh_puts_menu_entry_icons_and_mime_types_in_place_and_removes_them(tmp_path):
    """Against a stand-in bundle (the real one takes minutes to build): the installed files validate."""
    bundle = tmp_path / "bundle" / "partita"
    share = bundle / "share"
    share.mkdir(parents=True)
    (bundle / "partita").write_text("#!/bin/sh\n")
    (bundle / "partita").chmod(0o755)
    for path in (DESKTOP, METAINFO, MIME_XML, PACKAGING / "install.sh"):
        shutil.copy(path, share)
    shutil.copytree(ICONS, share / "icons")
    prefix = tmp_path / "prefix"
    env = {**os.environ, "PREFIX": str(prefix), "HOME": str(tmp_path)}
    result = subprocess.run(["bash", str(share / "install.sh")], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    installed = prefix / "share" / "applications" / f"{APP_ID}.desktop"
    assert f"Exec={bundle}/partita-gui %F" in installed.read_text()
    if shutil.which("desktop-file-validate"):
        check = subprocess.run(["desktop-file-validate", str(installed)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout
    assert (prefix / "share" / "icons" / "hicolor" / "256x256" / "apps" / f"{APP_ID}.png").exists()
    assert (prefix / "share" / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg").exists()
    assert os.readlink(prefix / "bin" / "partita-gui") == str(bundle / "partita")
    if shutil.which("update-mime-database"):
        assert "application/x-partita-project:*.partita" in (prefix / "share" / "mime" / "globs2").read_text()
    result = subprocess.run(["bash", str(share / "install.sh"), "--uninstall"], env=env, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    assert not installed.exists() and not (prefix / "bin" / "partita").exists()


@pytest.mark.skipif(os.environ.get("PARTITA_BUILD_BUNDLE") != "1",
                    reason="builds the PyInstaller bundle (minutes, GBs): set PARTITA_BUILD_BUNDLE=1")
def test_bundle_builds_and_passes_the_smoke_check(tmp_path):
    out = Path(os.environ.get("PARTITA_BUNDLE_DIR", tmp_path / "bundle"))
    build = subprocess.run([str(PACKAGING / "build.sh"), str(out)], capture_output=True, text=True, timeout=3600)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    smoke = subprocess.run([str(PACKAGING / "smoke.sh"), str(out / "dist" / "partita")], capture_output=True,
                           text=True, timeout=900, env={**os.environ, "PARTITA_SMOKE_NO_BUILD": "1"})
    assert smoke.returncode == 0, smoke.stdout[-3000:] + smoke.stderr[-3000:]
