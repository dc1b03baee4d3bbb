"""Replaces PyInstaller's hook for PySide6.QtQml: the Qt libraries, but none of the QML plugins.

QtWebEngine links QtQml/QtQuick, so PyInstaller's own hook would collect every QML plugin
PySide6 ships (Quick3D, Multimedia, Charts, Location, ...) and the libraries they need: ~100 MB
that a QWidget browser never loads.
"""

from __future__ import annotations

from PyInstaller.utils.hooks.qt import add_qt6_dependencies

hiddenimports, binaries, datas = add_qt6_dependencies(__file__)
