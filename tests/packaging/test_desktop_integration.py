"""The .desktop files and the AppStream metainfo: valid per the freedesktop tools, and honest."""

from __future__ import annotations

import configparser
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.packaging.tools import (
    APP_ID,
    BROWSER_DESKTOP,
    DESKTOP,
    METAINFO,
    RAW_PREFIX,
    ROOT,
    install_tree,
    need_tool,
    png_header,
)
from wallet import __version__


def desktop_entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    parser.read(path, encoding="utf-8")
    return dict(parser["Desktop Entry"])


def split(value: str) -> list[str]:
    return [item for item in value.split(";") if item]


@pytest.mark.parametrize("path", [DESKTOP, BROWSER_DESKTOP], ids=lambda p: p.name)
def test_desktop_file_validates(path: Path) -> None:
    tool = need_tool("desktop-file-validate", "desktop-file-utils")
    result = subprocess.run([tool, str(path)], capture_output=True, text=True, check=False)
    # Not even a warning or hint.
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_desktop_file_launches_trickle_as_a_browser() -> None:
    entry = desktop_entry(DESKTOP)
    assert entry["Type"] == "Application"
    assert entry["Exec"] == "trickle %U"
    assert entry["Icon"] == APP_ID
    assert {"Network", "WebBrowser"} <= set(split(entry["Categories"]))


def test_default_desktop_file_claims_no_url_scheme() -> None:
    """http/https go to Trickle only if the user installs the -browser variant (README)."""
    mime = split(desktop_entry(DESKTOP).get("MimeType", ""))
    assert not [m for m in mime if m.startswith("x-scheme-handler/")]


def test_browser_variant_adds_http_and_https_only() -> None:
    plain, browser = desktop_entry(DESKTOP), desktop_entry(BROWSER_DESKTOP)
    added = set(split(browser.pop("MimeType"))) - set(split(plain.pop("MimeType", "")))
    assert added == {"x-scheme-handler/http", "x-scheme-handler/https"}
    assert browser == plain


def test_metainfo_validates() -> None:
    tool = need_tool("appstreamcli", "appstream")
    result = subprocess.run(
        [tool, "validate", "--no-net", str(METAINFO)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_installed_tree_validates(tmp_path: Path) -> None:
    """The README's install layout (desktop file, metainfo, icons) as a software centre sees it."""
    tool = need_tool("appstreamcli", "appstream")
    install_tree(tmp_path)
    result = subprocess.run(
        [tool, "validate-tree", "--no-net", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_metainfo_matches_the_app() -> None:
    root = ET.parse(METAINFO).getroot()
    assert root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.findtext("launchable") == DESKTOP.name
    assert root.findtext("icon") == APP_ID
    assert (root.findtext("developer_name") or "").strip()
    assert root.find("content_rating").get("type", "").startswith("oars-")  # type: ignore[union-attr]
    releases = [r.get("version") for r in root.iter("release")]
    assert releases[0] == __version__, "the newest <release> must be this version"
    assert "trickle" in [b.text for b in root.iter("binary")]


def test_metainfo_screenshots_are_in_the_repository() -> None:
    images = list(ET.parse(METAINFO).getroot().iter("image"))
    assert images, "software centres want at least one screenshot"
    for image in images:
        url = image.text or ""
        assert url.startswith(RAW_PREFIX), url
        path = ROOT / url.removeprefix(RAW_PREFIX)
        assert path.is_file(), f"{url} is not committed at {path}"
        width, height, _, _ = png_header(path)
        assert (str(width), str(height)) == (image.get("width"), image.get("height"))
