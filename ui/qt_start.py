"""PySide6 loaded for a fast start: its scan of every imported module made cheap.

Once loaded, PySide6 replaces ``__import__``: after each import it decides whether the module
"uses PySide" by reading its whole source with ``inspect.getsource`` and looking for the word
"PySide6" (``shibokensupport.feature._mod_uses_pyside``, PYSIDE-2029; the answer serves the
opt-in ``from __feature__ import snake_case``, which Trickle does not use). ``inspect`` goes
through ``linecache`` (every line kept, the encoding sniffed by the tokenizer): on the way to
the browser's first paint that is ~200 modules, 15–25 ms and a few MB. :func:`load_pyside`
gives PySide6 the same answer from the bytes of the module's ``.py`` file, and leaves anything
else (no file, not ``.py``, unreadable) to PySide6's own check. Without that function (another
PySide6) nothing is changed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import ModuleType

FEATURE_MODULE = "shibokensupport.feature"

ModuleCheck = Callable[[ModuleType], bool]


def mentions_pyside(module: ModuleType, fallback: ModuleCheck) -> bool:
    """Whether ``module``'s source says "PySide6" (``fallback`` answers when it has no
    readable ``.py`` file)."""
    path = getattr(module, "__file__", None)
    if isinstance(path, str) and path.endswith(".py"):
        try:
            with open(path, "rb") as source:
                return b"PySide6" in source.read()
        except OSError:
            pass
    return fallback(module)


def load_pyside() -> bool:
    """Load PySide6 (its import hook with it) and make the hook's check cheap. Returns whether
    the check was replaced (now or before)."""
    import shiboken6  # noqa: F401 — installs PySide6's import hook and its feature module

    feature = sys.modules.get(FEATURE_MODULE)
    check = getattr(feature, "_mod_uses_pyside", None)
    if feature is None or not callable(check):
        return False
    if getattr(check, "reads_bytes", False):
        return True

    def uses_pyside(module: ModuleType) -> bool:
        return mentions_pyside(module, check)

    uses_pyside.reads_bytes = True  # type: ignore[attr-defined]
    feature._mod_uses_pyside = uses_pyside  # type: ignore[attr-defined]
    return True
