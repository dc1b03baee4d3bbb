"""Shared test setup.

Qt/QtWebEngine need these before PySide6 is imported anywhere (tests only, never the app):
offscreen platform, no Chromium sandbox as root, caches in a temporary directory.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

_cache = tempfile.mkdtemp(prefix="trickle-test-cache-")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
os.environ.setdefault("XDG_CACHE_HOME", _cache)
os.environ.setdefault("MESA_SHADER_CACHE_DISABLE", "true")

VECTORS = Path(__file__).parent / "vectors"


def load_vectors(name: str) -> Any:
    """A JSON file from tests/vectors (copied from shared/spec with their sources)."""
    return json.loads((VECTORS / name).read_text())


@pytest.fixture
def vectors() -> Any:
    return load_vectors
