"""TikTok's field rules for titles, brands and GTINs, in one place (tiktok-api.md "Field rules" and "Not confirmed").

Titles (and the option values a variation's title carries) hold only text TikTok takes: "valid Unicode only,
no emoji, no control or function characters" ("Emojis and control characters are not allowed" is a listed
product error that keeps the SKU out of the catalog). A GTIN is sent only when it is one GS1 accepts. The brand
is required: the product's Brand attribute, else the store's name (design.md "Catalog rules").
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from tiktok_channel.catalog.text import cut, one_line

# TikTok's v1.3 reference; a third-party validator quotes 150 from a help page (tiktok-api.md, "Not confirmed").
TITLE_LIMIT: Final = 500
BRAND_LIMIT: Final = 150
# Unconfirmed which GTIN check TikTok applies: these are GS1's lengths (GTIN-8, UPC-A, EAN-13, GTIN-14), the
# ones the validator quoted in tiktok-api.md wants, each with GS1's check digit.
GTIN_LENGTHS: Final = frozenset({8, 12, 13, 14})

# "Function characters" and invalid Unicode: control (Cc), format (Cf: zero-width spaces and joiners, bidi
# marks, soft hyphens, tags), surrogates (Cs), private use (Co) and unassigned code points (Cn, noncharacters
# among them; also an emoji newer than this Python's Unicode tables).
_DROPPED_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
# Emoji, by block: every code point of the pictographic blocks (U+1F000-1FAFF: pictographs, emoticons,
# transport, regional indicators, skin-tone modifiers, which are Sk), Miscellaneous Symbols and Dingbats
# (U+2600-27BF: ☀ ❤ ✅), Miscellaneous Symbols and Arrows (U+2B00-2BFF: ⭐ ⬛); the emoji-presentation symbols
# outside them (⌚ ⌛ ⏩-⏬ ⏰ ⏳ ◽ ◾); the presentation selectors U+FE0E/FE0F and the keycap U+20E3.
_EMOJI: Final = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u231a\u231b\u23e9-\u23ec\u23f0\u23f3\u25fd\u25fe"
    "\ufe0e\ufe0f\u20e3]"
)
# Any other symbol (So, Sk: ™ © ↔ ▶) is an emoji only when a presentation selector follows it: "™️" goes,
# "™" stays. A letter, digit, # or * before one is the base of a keycap ("1️⃣"): it stays as plain text.
_EMOJI_PRESENTATION: Final = re.compile(r"(.)\ufe0f", re.DOTALL)


def clean_text(text: str) -> str:
    """`text` as TikTok takes it in a title: no emoji, control, format or invalid characters, and every run of
    whitespace (line breaks too) one space, trimmed."""
    text = _EMOJI_PRESENTATION.sub(_keep_unless_symbol, text)
    text = " ".join(text.split())  # before dropping: a tab or a line break (Cc) between two words is a space
    kept = "".join(c for c in _EMOJI.sub("", text) if unicodedata.category(c) not in _DROPPED_CATEGORIES)
    return " ".join(kept.split())


def _keep_unless_symbol(match: re.Match[str]) -> str:
    base = match.group(1)
    return "" if unicodedata.category(base) in ("So", "Sk") else base


def cut_words(text: str, limit: int) -> str:
    """`text` within `limit` characters: cut after the last whole word that fits, an ellipsis marking the cut
    (inside a word only when its first word alone is longer than the limit)."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    if text[limit - 1].isspace():  # the cut falls just after a whole word
        return head.rstrip() + "…"
    space = head.rfind(" ")
    if space > 0:
        head = head[:space]
    return head.rstrip() + "…"


def title(name: str) -> str:
    """A product's TikTok title: its name cleaned, within TikTok's limit ("" when nothing is left)."""
    return cut_words(clean_text(name), TITLE_LIMIT)


def variation_title(name: str, values: list[str]) -> str:
    """ "T-shirt (Red, L)": the name is shortened, never the options, since they tell variations apart."""
    name = clean_text(name)
    if not name:
        return ""
    chosen = [v for v in (clean_text(value) for value in values) if v]
    suffix = f" ({', '.join(chosen)})" if chosen else ""
    if len(suffix) > TITLE_LIMIT // 2:
        return cut_words(name + suffix, TITLE_LIMIT)
    return cut_words(name, TITLE_LIMIT - len(suffix)) + suffix


def gtin(value: str) -> str | None:
    """The GTIN in an Ecwid UPC attribute, or None when it is not one: 8, 12, 13 or 14 ASCII digits (spaces and
    hyphens between them allowed) whose last is GS1's check digit. TikTok does not require a GTIN (tiktok-api.md:
    a missing one is a field to add, not a refusal), so the product goes without it."""
    digits = re.sub(r"[ \-]", "", value.strip())
    if not re.fullmatch(r"[0-9]+", digits) or len(digits) not in GTIN_LENGTHS:
        return None
    return digits if gs1_check_digit(digits[:-1]) == int(digits[-1]) else None


def gs1_check_digit(body: str) -> int:
    """GS1's check digit of the digits before it: weights 3, 1, 3, … from the right, to the next multiple of 10."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return -total % 10


def brand(attribute: str | None, store_name: str) -> str | None:
    """The product's Brand attribute, else the store's name (the merchant sells under it), on one line and cut
    within TikTok's limit; None only when both are blank."""
    for name in (attribute, store_name):
        line = one_line(name or "")
        if line:
            return cut(line, BRAND_LIMIT)
    return None
