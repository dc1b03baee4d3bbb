"""The application icon: an SVG and a square PNG at every size desktops use."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from tests.packaging.tools import ICON_SIZES, ICONS, load_script, png_header

RGBA = 6


@pytest.mark.parametrize("size", ICON_SIZES)
def test_png_icon_is_square_rgba_of_its_size(size: int) -> None:
    width, height, depth, colour = png_header(ICONS / f"trickle-{size}.png")
    assert (width, height) == (size, size)
    assert (depth, colour) == (8, RGBA)


def test_svg_icon_is_square() -> None:
    root = ET.parse(ICONS / "trickle.svg").getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    _, _, w, h = (float(v) for v in root.get("viewBox", "").split())
    assert w == h


def test_no_stray_icons() -> None:
    expected = {"trickle.svg"} | {f"trickle-{s}.png" for s in ICON_SIZES}
    assert {p.name for p in ICONS.iterdir() if p.is_file()} == expected


def test_app_icon_has_every_size(qapp: object) -> None:
    from ui.icons import ICON_SIZES as UI_SIZES
    from ui.icons import app_icon

    assert tuple(UI_SIZES) == ICON_SIZES
    icon = app_icon()
    assert not icon.isNull()
    assert sorted(s.width() for s in icon.availableSizes()) == list(ICON_SIZES)


def test_pngs_are_rendered_from_the_svg(qapp: object) -> None:
    """packaging/render_icons.py was run after the SVG last changed (small tolerance)."""
    from PySide6.QtGui import QImage
    from PySide6.QtSvg import QSvgRenderer

    render = load_script("render_icons.py").render
    renderer = QSvgRenderer(str(ICONS / "trickle.svg"))
    fresh = render(renderer, 64)
    committed = QImage(str(ICONS / "trickle-64.png")).convertToFormat(QImage.Format.Format_ARGB32)
    total = 0
    for y in range(64):
        for x in range(64):
            a, b = fresh.pixel(x, y), committed.pixel(x, y)
            total += sum(abs(((a >> s) & 0xFF) - ((b >> s) & 0xFF)) for s in (0, 8, 16, 24))
    assert total / (64 * 64 * 4) < 2.0
