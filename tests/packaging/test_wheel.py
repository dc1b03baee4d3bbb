"""`pip install .` gives a working `trickle` with its resources and migrations.

Builds a wheel from a copy of the source tree (fast: no dependencies), checks that every
resource file and migration is in it, then installs it with no dependencies into a bare venv
and runs ``trickle --version`` there (the command needs nothing but the standard library).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.packaging.tools import ROOT
from wallet import __version__

SOURCES = ("pyproject.toml", "README.md", "wallet", "ui", "resources")
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "node_modules", "*.egg-info")
# Must reach an installed Trickle; resources and migrations are read from files at run time.
DATA_TREES = ("resources", "wallet/store/migrations")


def data_files() -> list[str]:
    """Every file under DATA_TREES, as a path inside the wheel."""
    files = []
    for tree in DATA_TREES:
        for path in (ROOT / tree).rglob("*"):
            rel = path.relative_to(ROOT)
            if path.is_file() and "__pycache__" not in rel.parts and path.suffix != ".pyc":
                files.append(rel.as_posix())
    return sorted(files)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    src.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=SKIP)
        else:
            shutil.copy(ROOT / name, src / name)
    out = work / "dist"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(src), "-w", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (path,) = out.glob("trickle-*.whl")
    yield path
    shutil.rmtree(work, ignore_errors=True)


def test_wheel_has_every_resource_and_migration(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = data_files()
    assert "resources/icons/trickle-256.png" in expected
    assert "wallet/store/migrations/env.py" in expected
    assert [f for f in expected if f not in names] == []


def test_wheel_declares_the_trickle_command(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as z:
        (entry_points,) = [n for n in z.namelist() if n.endswith(".dist-info/entry_points.txt")]
        text = z.read(entry_points).decode()
    assert "trickle = ui.cli:main" in text


def test_installed_wheel_runs_and_finds_its_files(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
         "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    version = subprocess.run(
        [str(env_dir / "bin" / "trickle"), "--version"],
        capture_output=True, text=True, check=True, cwd=tmp_path,
    )  # fmt: skip
    assert version.stdout.strip() == f"Trickle {__version__}"
    probe = (
        "import importlib.resources as r, pathlib, wallet\n"
        "icons = r.files('resources').joinpath('icons')\n"
        "assert icons.joinpath('trickle-16.png').is_file(), 'icons'\n"
        "assert any(f.name.endswith('.js') for f in r.files('resources.js').iterdir()), 'js'\n"
        "assert r.files('resources').joinpath('pages', 'start', 'index.html').is_file(), 'pages'\n"
        "m = pathlib.Path(wallet.__file__).parent / 'store' / 'migrations'\n"
        "assert (m / 'env.py').is_file() and list((m / 'versions').glob('0*.py')), 'migrations'\n"
        "print(pathlib.Path(wallet.__file__).resolve())\n"
    )
    where = subprocess.run(
        [str(python), "-c", probe], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(env_dir), "probed the checkout, not the wheel"
