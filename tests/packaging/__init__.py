"""Packaging: desktop file, AppStream metainfo, icons, wheel contents and the PyInstaller bundle."""
