"""Reading a Netscape bookmarks file: what Firefox, Chromium and others export as HTML.

The format nests ``<DL>`` lists; a ``<DT><H3>name</H3>`` before a ``<DL>`` names that folder,
and ``<DT><A HREF="...">title</A>`` is a bookmark. Folder paths are joined with ``/``. Only
``http``/``https`` addresses are taken (never ``javascript:``, ``place:``, ``file:`` ...).
Titles are kept as plain text.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

MAX_FILE_BYTES = 50_000_000
ALLOWED_SCHEMES = ("http://", "https://")


class BookmarksFileError(ValueError):
    """The file is not a Netscape bookmarks file, or is too large."""


@dataclass(frozen=True, slots=True)
class ImportedBookmark:
    url: str
    title: str
    folder: str


class _NetscapeParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[ImportedBookmark] = []
        self.saw_list = False
        self._folders: list[str] = []
        self._pending_folder: str | None = None
        self._text: list[str] | None = None
        self._href: str | None = None
        self._in = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "dl":
            self.saw_list = True
            self._folders.append(self._pending_folder or "")
            self._pending_folder = None
        elif tag in ("h3", "a"):
            self._in = tag
            self._text = []
            self._href = dict(attrs).get("href") if tag == "a" else None

    def handle_endtag(self, tag: str) -> None:
        if tag == "dl" and self._folders:
            self._folders.pop()
        elif tag == self._in and self._text is not None:
            text = " ".join("".join(self._text).split())
            if tag == "h3":
                self._pending_folder = text
            elif self._href and self._href.lower().startswith(ALLOWED_SCHEMES):
                folder = "/".join(f for f in self._folders if f)
                self.found.append(ImportedBookmark(self._href.strip(), text, folder))
            self._in = ""
            self._text = None

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)


def parse_bookmarks(text: str) -> list[ImportedBookmark]:
    parser = _NetscapeParser()
    parser.feed(text)
    parser.close()
    if not parser.saw_list:
        raise BookmarksFileError("not a bookmarks file (no <DL> list in it)")
    return parser.found


def read_bookmarks_file(path: Path) -> list[ImportedBookmark]:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise BookmarksFileError(f"{path.name} is larger than {MAX_FILE_BYTES // 1_000_000} MB")
    return parse_bookmarks(path.read_text(encoding="utf-8", errors="replace"))
