"""What the app takes from outside, read one way everywhere: ids, phone digits, free text, e-mail addresses and JSON
bodies (bounded before they are parsed). Standard library only: the webhook receiver imports it cold."""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any, Literal

MAX_ID_DIGITS = 18  # Ecwid's ids fit a signed 64-bit integer
MAX_BODY_BYTES = 64 * 1024  # the app's own JSON bodies and Ecwid's webhooks carry ids and a form, never more
MAX_JSON_DEPTH = 32  # the deepest body any route reads is 3 levels (the storefront form's address)

# Bidi embeddings, overrides and isolates: they make text read differently from what it holds (Trojan Source).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"  # RFC 5322 atext: no quotes, brackets, spaces or controls
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"  # a DNS label: letters, digits, hyphens (LDH)
_EMAIL = re.compile(rf"(?P<local>{_ATEXT}(?:\.{_ATEXT})*)@(?:{_LABEL}\.)+(?:[A-Za-z]{{2,63}}|xn--[A-Za-z0-9-]{{1,59}})")

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def parse_id(value: object) -> int | None:
    """A positive id written in ASCII digits only (`"1003"`, or an int); None for anything else: `"١٠٠٣"`,
    `"１００３"`, `"²"`, `"+5"`, `" 7"`, `"0"`, a bool, more than MAX_ID_DIGITS digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value < 10**MAX_ID_DIGITS else None
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID_DIGITS or not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number or None


def ascii_digits(text: str) -> str:
    """`text` with every Unicode decimal digit (full-width, Arabic-Indic, Devanagari…) written as its ASCII digit;
    every other character as it was (`²` is not a decimal digit: it stays, and a check after this refuses it)."""
    return "".join(str(unicodedata.decimal(char)) if char.isdecimal() else char for char in text)


def is_dash_or_space(char: str) -> bool:
    """A separator people type inside numbers: any Unicode space or dash (hyphen, en dash, full-width hyphen…)."""
    return char.isspace() or unicodedata.category(char) == "Pd"


def unsafe_character(text: str) -> str | None:
    """What free text may not hold, named for the merchant, or None: control characters (NUL, line breaks, tabs,
    escape sequences) and the invisible characters that reverse the direction of text."""
    for char in text:
        if char in _BIDI_CONTROLS:
            return "invisible text-direction characters"
        if unicodedata.category(char) == "Cc":
            return "line breaks or control characters"
    return None


def is_email(text: str) -> bool:
    """An address of the form mail servers take: a dot-atom local part (at most 64 characters) of RFC 5322's
    atext, `@`, a domain of letter-digit-hyphen labels with a top-level domain. No quoted or non-ASCII forms."""
    found = _EMAIL.fullmatch(text)
    return found is not None and len(found["local"]) <= 64 and len(text) <= 254


Refusal = Literal["too_large", "too_deep", "not_json"]


class BodyRefused(ValueError):
    """A body that is not bounded JSON: `reason` says which bound it broke."""

    def __init__(self, reason: Refusal, max_bytes: int, max_depth: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.max_bytes = max_bytes
        self.max_depth = max_depth


def bounded_json(body: str | None, *, max_bytes: int = MAX_BODY_BYTES, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """`body` parsed as JSON once it is known to be at most `max_bytes` in UTF-8 and nested at most `max_depth`
    deep; BodyRefused otherwise (size first, then depth, both before the parser sees it)."""
    text = body or ""
    # A character is at least one byte in UTF-8, so the cheap length check settles most oversized bodies.
    if len(text) > max_bytes or len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        raise BodyRefused("too_large", max_bytes, max_depth)
    if _depth(text) > max_depth:
        raise BodyRefused("too_deep", max_bytes, max_depth)
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
        raise BodyRefused("not_json", max_bytes, max_depth) from None


def _depth(text: str) -> int:
    """How deep `[` and `{` nest outside JSON strings (a broken string counts its brackets too: it is no JSON)."""
    deepest = depth = 0
    for bracket in _NOT_BRACKET.sub("", _STRING.sub("", text)):
        depth = depth + 1 if bracket in "[{" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    return deepest
