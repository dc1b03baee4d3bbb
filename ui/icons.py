"""Trickle's application icon, for windows, dialogs and the tray.

The artwork is ``resources/icons/trickle.svg``; the PNGs beside it are rendered from it by
``packaging/render_icons.py`` at the sizes desktops use. They are read through
:mod:`importlib.resources`, so they work from a checkout, a wheel and the PyInstaller bundle.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon, QPixmap

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def icon_png(size: int) -> bytes:
    """The PNG bytes of the icon at ``size`` (one of :data:`ICON_SIZES`)."""
    if size not in ICON_SIZES:
        raise ValueError(f"no Trickle icon of size {size}; sizes are {ICON_SIZES}")
    return resources.files("resources").joinpath("icons", f"trickle-{size}.png").read_bytes()


def app_icon() -> QIcon:
    """The Trickle icon with every rendered size, for ``QApplication.setWindowIcon``.

    Files on disk (a checkout, a wheel, the bundle) are named to the icon, which reads each
    size when it is first drawn (at start-up only the sizes a window shows are decoded);
    resources that are not files (a zip) are decoded now."""
    icon = QIcon()
    folder = resources.files("resources").joinpath("icons")
    for size in ICON_SIZES:
        if isinstance(folder, Path):
            icon.addFile(str(folder / f"trickle-{size}.png"), QSize(size, size))
            continue
        pixmap = QPixmap()
        if pixmap.loadFromData(icon_png(size), "PNG"):
            icon.addPixmap(pixmap)
    return icon
