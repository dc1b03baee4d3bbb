"""Entry script of the PyInstaller bundle: the same ``main`` as the ``trickle`` command."""

from __future__ import annotations

import sys

from ui.cli import main

if __name__ == "__main__":
    sys.exit(main())
