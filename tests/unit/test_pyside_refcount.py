"""Guards against a PySide6 build that corrupts reference counts, and keeps wallet Qt-free.

PySide6 6.12.0 on CPython 3.11 drops a reference to ``None`` on every void method call; after
~5,000 calls Python aborts (``Fatal Python error: none_dealloc``). Each check runs in a
subprocess so a crash fails one test instead of killing the run. No QApplication is needed.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_void_calls_do_not_leak_references_to_none() -> None:
    result = _run(
        """
        import sys
        from PySide6.QtCore import QObject
        obj = QObject()
        obj.setObjectName("warm-up")
        before = sys.getrefcount(None)
        for i in range(200):
            obj.setObjectName("n")
        after = sys.getrefcount(None)
        print(before - after)
        """
    )
    assert result.returncode == 0, result.stderr
    dropped = int(result.stdout.strip())
    assert dropped <= 5, f"PySide6 dropped {dropped} references to None in 200 calls"


def test_many_void_calls_and_emits_do_not_crash() -> None:
    result = _run(
        """
        from PySide6.QtCore import QObject, Signal
        class Source(QObject):
            fired = Signal(bool)
        obj = Source()
        seen = []
        obj.fired.connect(seen.append)
        for i in range(5000):
            obj.setObjectName("n")
        for i in range(1000):
            obj.fired.emit(True)
        assert len(seen) == 1000
        print("ok")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_wallet_imports_without_pyside6() -> None:
    result = _run(
        """
        import importlib, importlib.abc, pkgutil, sys

        class NoQt(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "PySide6" or name.startswith(("PySide6.", "shiboken6")):
                    raise ImportError(f"{name} is blocked: wallet must not import Qt")
                return None

        sys.meta_path.insert(0, NoQt())
        import wallet
        # Alembic's migration scripts run only inside alembic (env.py reads alembic.context).
        names = [
            m.name
            for m in pkgutil.walk_packages(wallet.__path__, "wallet.")
            if not m.name.startswith("wallet.store.migrations")
        ]
        for name in names:
            importlib.import_module(name)
        assert not any(m.startswith(("PySide6", "shiboken6")) for m in sys.modules)
        print(len(names))
        """
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) > 5  # walked the real package tree


def test_the_command_line_module_does_not_load_qt() -> None:
    result = _run(
        """
        import sys
        import ui.cli
        parser = ui.cli.build_parser()
        args = parser.parse_args(["--profile", "/tmp/p", "--uplink", "https://c.example", "a.org"])
        assert args.profile == "/tmp/p" and args.uplink == "https://c.example"
        assert args.urls == ["a.org"] and not args.sandbox
        assert not [m for m in sys.modules if m.startswith(("PySide6", "shiboken6"))]
        print("ok")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
