"""Render Trickle's PNG icons from ``resources/icons/trickle.svg`` with Qt's own SVG renderer.

Run after editing the SVG and commit the PNGs it writes::

    .venv/bin/python packaging/render_icons.py

Writes ``resources/icons/trickle-<size>.png`` for every size desktops use. The PNGs are
checked in so that neither the app nor packaging needs QtSvg at run time.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
SVG = ICONS / "trickle.svg"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def png_path(size: int) -> Path:
    return ICONS / f"trickle-{size}.png"


def render(renderer: QSvgRenderer, size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image.convertToFormat(QImage.Format.Format_ARGB32)


def main() -> int:
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        print(f"render_icons: {SVG} is not a valid SVG", file=sys.stderr)
        return 1
    for size in SIZES:
        path = png_path(size)
        if not render(renderer, size).save(str(path), "PNG"):
            print(f"render_icons: cannot write {path}", file=sys.stderr)
            return 1
        print(f"{path.relative_to(ICONS.parent.parent)}  {size}x{size}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
