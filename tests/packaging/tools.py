"""Shared helpers for the packaging tests."""

from __future__ import annotations

import importlib.util
import os
import shutil
import struct
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
ICONS = ROOT / "resources" / "icons"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
APP_ID = "org.trickle.Trickle"
DESKTOP = PACKAGING / f"{APP_ID}.desktop"
BROWSER_DESKTOP = PACKAGING / f"{APP_ID}-browser.desktop"
METAINFO = PACKAGING / f"{APP_ID}.metainfo.xml"
# Where the metainfo's screenshot URLs point: this repository's main branch, raw.
RAW_PREFIX = "https://raw.githubusercontent.com/trickle-browser/trickle/main/"


def need_tool(name: str, package: str) -> str:
    """The tool's path; skipped locally when it is missing, a failure in CI."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (Debian package {package}; scripts/setup test)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def png_header(path: Path) -> tuple[int, int, int, int]:
    """(width, height, bit depth, colour type) from a PNG's IHDR chunk."""
    data = path.read_bytes()[:33]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    assert data[12:16] == b"IHDR", f"{path.name} has no IHDR first"
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    return width, height, depth, colour


def install_tree(dest: Path) -> Path:
    """Lay out the desktop integration files as the README's Install recipe does, under dest."""
    share = dest / "share"
    (share / "applications").mkdir(parents=True)
    shutil.copy(DESKTOP, share / "applications" / DESKTOP.name)
    (share / "metainfo").mkdir()
    shutil.copy(METAINFO, share / "metainfo" / METAINFO.name)
    for size in ICON_SIZES:
        apps = share / "icons" / "hicolor" / f"{size}x{size}" / "apps"
        apps.mkdir(parents=True)
        shutil.copy(ICONS / f"trickle-{size}.png", apps / f"{APP_ID}.png")
    scalable = share / "icons" / "hicolor" / "scalable" / "apps"
    scalable.mkdir(parents=True)
    shutil.copy(ICONS / "trickle.svg", scalable / f"{APP_ID}.svg")
    return share


def load_script(name: str) -> ModuleType:
    """A script of packaging/ as a module (packaging/ is no package: it would shadow PyPI's)."""
    spec = importlib.util.spec_from_file_location(
        f"trickle_packaging_{Path(name).stem}", PACKAGING / name
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
