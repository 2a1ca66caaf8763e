"""Ecwid's text as TikTok takes it: descriptions from HTML to plain text, one-line text, text cut to a limit
(titles follow catalog/fields.py)."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser
from typing import Final

_PARAGRAPH_TAGS: Final = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "table", "blockquote", "pre", "hr", "figure"}
)
_LINE_TAGS: Final = frozenset(
    {"div", "li", "tr", "dt", "dd", "section", "article", "header", "footer", "address", "caption"}
)
_CELL_TAGS: Final = frozenset({"td", "th"})
_INVISIBLE_TAGS: Final = frozenset({"script", "style", "template", "noscript"})
_TAG: Final = re.compile(r"<[A-Za-z!/]")
_WHITESPACE: Final = re.compile(r"\s+")


class _TextExtractor(HTMLParser):
    """Collects the visible text; block tags become a pending break, written only between two texts, so
    nested or adjacent blocks give one line break (or one blank line), never a pile of them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._invisible = 0
        self._pending_breaks = 0  # 1: a line break, 2: a blank line
        self._bullet = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _INVISIBLE_TAGS:
            self._invisible += 1
        elif tag == "br":
            self._pending_breaks = min(2, self._pending_breaks + 1)  # <br><br> is how editors space paragraphs
        elif tag == "li":
            self._break(1)
            self._bullet = True
        else:
            self._separate(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)  # <br/> is one break, not an opening and a closing one

    def handle_endtag(self, tag: str) -> None:
        if tag in _INVISIBLE_TAGS:
            self._invisible = max(0, self._invisible - 1)
        elif tag != "br":
            self._separate(tag)

    def handle_data(self, data: str) -> None:
        if self._invisible:
            return
        # In HTML a line break in the source is a space; only tags break lines.
        text = _WHITESPACE.sub(" ", data)
        if not text.strip():
            if not self._pending_breaks:
                self.parts.append(text)
            return
        if self._pending_breaks and self.parts:
            self.parts.append("\n" * self._pending_breaks)
            text = text.lstrip()
        if self._bullet:
            text = "• " + text.lstrip()
        self._pending_breaks = 0
        self._bullet = False
        self.parts.append(text)

    def _separate(self, tag: str) -> None:
        if tag in _PARAGRAPH_TAGS:
            self._break(2)
        elif tag in _LINE_TAGS:
            self._break(1)
        elif tag in _CELL_TAGS:
            self.parts.append(" ")

    def _break(self, level: int) -> None:
        self._pending_breaks = max(self._pending_breaks, level)


def plain_text(description: str) -> str:
    """Ecwid's HTML description as plain text: tags gone, blocks on their own lines, entities decoded."""
    if not description.strip():
        return ""
    if _TAG.search(description) is None:
        # Plain text (an API-made product, say): its line breaks are meant, keep them.
        return _tidy(unescape(description))
    extractor = _TextExtractor()
    extractor.feed(description)
    extractor.close()
    return _tidy("".join(extractor.parts))


def _tidy(text: str) -> str:
    lines = (" ".join(line.split()) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def one_line(text: str) -> str:
    """`text` with every run of whitespace (line breaks too) as one space, trimmed."""
    return " ".join(text.split())


def cut(text: str, limit: int) -> str:
    """`text` within `limit` characters, an ellipsis marking where it was cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"
