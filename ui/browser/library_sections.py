"""The sections of the Library window, by index (importable without the Library itself)."""

HISTORY, BOOKMARKS, DOWNLOADS = 0, 1, 2
