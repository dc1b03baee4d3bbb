"""The wallet window's pages. Each is a QWidget with ``title`` and ``refresh()``."""
