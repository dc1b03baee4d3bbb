"""Text a page or a handler supplied, made safe to show: plain, one line, visible, bounded.

A page chooses a provider's name (up to 32,768 characters), its handler URI, its title; sites
are recorded by their origin. Shown as they came, they could draw rich text (Qt renders a
QLabel or tooltip that looks like HTML as HTML), reverse the rest of a line with a bidi
override, hide characters with zero-width ones, or push the real origin out of sight. Every
widget that shows such text passes it through :func:`page_text` (and sets plain text where the
widget would guess); tooltips that quote it use :func:`tooltip_text`. No Qt.
"""

from __future__ import annotations

import html
import unicodedata

NAME_CHARS = 64  # a provider's or a page's name
ADDRESS_CHARS = 120  # an origin or a URI in a table
TITLE_CHARS = 200  # a page's title in the window title and the tab's tooltip
TOOLTIP_CHARS = 2_000


def page_text(text: str, max_chars: int = NAME_CHARS) -> str:
    """``text`` on one line, without control, format (bidi, zero-width) or separator characters,
    runs of spaces collapsed, cut to ``max_chars`` with "…"."""
    cleaned = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)
    cleaned = " ".join(cleaned.split())
    if len(cleaned) > max_chars:
        cleaned = cleaned[: max_chars - 1] + "…"
    return cleaned


def tooltip_text(text: str) -> str:
    """A tooltip quoting page text: cleaned and escaped inside ``<qt>``, so Qt shows it literally
    (a tooltip that merely looks like HTML would otherwise be rendered as HTML)."""
    return f"<qt>{html.escape(page_text(text, TOOLTIP_CHARS))}</qt>"


def visible_url(url: str) -> str:
    """``url`` as shown (and edited) in the address bar or a link preview: every control,
    format (bidi, zero-width) or separator character other than a plain space percent-encoded,
    as browsers show them — so what is shown is what loads, and nothing in it is hidden or
    reordered."""
    return "".join(
        "".join(f"%{b:02X}" for b in ch.encode("utf-8"))
        if unicodedata.category(ch)[0] in "CZ" and ch != " "
        else ch
        for ch in url
    )


__all__ = [
    "ADDRESS_CHARS",
    "NAME_CHARS",
    "TITLE_CHARS",
    "TOOLTIP_CHARS",
    "page_text",
    "tooltip_text",
    "visible_url",
]
