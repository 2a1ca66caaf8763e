"""TikTok's field rules as the mapping applies them (tiktok-api.md "Field rules"): titles and option values
without emoji, control or invisible characters, cut on a word boundary within the limit; GTINs only when GS1
accepts them. Properties over generated input, each checked against the sandbox TikTok's own validation."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sandboxes.tiktok_catalog import validate_product
from tiktok_channel.catalog.mapping import ImageSize, ProductMapping, SkuUpload, map_product
from tiktok_channel.models.ecwid_catalog import EcwidProduct

TITLE_LIMIT = 500
# Emoji and sequences of them (ZWJ families, flags, skin tones, presentation selectors), all dropped whole.
EMOJI = [
    "\U0001f525",
    "\u2600\ufe0f",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "\U0001f1fa\U0001f1f8",
    "\U0001f44d\U0001f3fd",
    "\u2764",
    "\u2b50",
    "\u231a",
    "\u2122\ufe0f",
    "\U0001faf6",
]
INVISIBLE = ["\u200b", "\u200e", "\u2060", "\ufeff", "\u00ad", "\x07", "\x00", "\U000e0041", "\ue000"]
# What no title may carry: the pictographic blocks and emoji selectors, and control, format or invalid characters.
EMOJI_CHARACTERS = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0e\ufe0f\u20e3]")
NOT_IN_A_TITLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def no_sizes(url: str) -> ImageSize | None:
    raise AssertionError(f"{url}: the product's image carries its size")


def ecwid_product(name: str, **extra: Any) -> EcwidProduct:
    return EcwidProduct.model_validate(
        {
            "id": 501,
            "name": name,
            "description": "<p>Soft cotton.</p>",
            "url": "https://store1003.example.com/product-p501",
            "price": 20,
            "unlimited": True,
            "originalImage": {"url": "https://images.example/501.jpg", "width": 1000, "height": 1000},
            **extra,
        }
    )


def mapped(product: EcwidProduct) -> ProductMapping:
    return map_product(product, currency="USD", hidden=frozenset(), image_sizes=no_sizes)


def only_upload(mapping: ProductMapping) -> SkuUpload:
    assert not mapping.held_back, mapping.held_back
    [upload] = mapping.uploads
    return upload


def tiktok_refuses(fields: dict[str, Any]) -> list[str]:
    """The sandbox TikTok's reasons to keep these fields out of the catalog."""
    return [f"{issue.field}: {issue.issue}" for issue in validate_product(fields, "USD")]


def assert_takeable(text: str) -> None:
    assert len(text) <= TITLE_LIMIT
    assert not EMOJI_CHARACTERS.search(text), text
    assert not [c for c in text if unicodedata.category(c) in NOT_IN_A_TITLE], text
    assert text == " ".join(text.split())


# -- titles ----------------------------------------------------------------------------------------------------
def test_a_name_with_emoji_becomes_a_title_without_them():
    upload = only_upload(mapped(ecwid_product("\U0001f525 Summer Tee \u2600\ufe0f")))

    assert upload.title == upload.fields["title"] == "Summer Tee"
    assert tiktok_refuses(upload.fields) == []


def test_invisible_and_control_characters_leave_the_title_and_whitespace_collapses():
    upload = only_upload(
        mapped(ecwid_product(" Summer\u200b\u00adTee\t\n\x07 \u2122\ufe0f  Classic\u2122 1\ufe0f\u20e3"))
    )

    assert upload.fields["title"] == "SummerTee Classic\u2122 1"


def test_option_values_lose_their_emoji_in_a_variations_title():
    product = ecwid_product(
        "Tee",
        combinations=[
            {"id": 1, "options": [{"name": "Color", "value": "Red \u2764\ufe0f"}, {"name": "Size", "value": "\u2b50"}]}
        ],
    )

    upload = only_upload(mapped(product))

    assert upload.fields["title"] == "Tee (Red)"
    assert tiktok_refuses(upload.fields) == []


def test_a_name_of_only_emoji_is_held_back_saying_what_to_change():
    mapping = mapped(ecwid_product("\U0001f525\u2600\ufe0f \u200b"))

    [held] = mapping.held_back
    assert mapping.uploads == ()
    assert held.code == "no_title"
    assert "emoji" in held.message
    assert "name" in held.message


def test_a_long_name_is_cut_after_the_last_whole_word_that_fits():
    name = " ".join(["Organic cotton"] * 40) + " tee"  # 15 characters a pair: 600 in all

    title = only_upload(mapped(ecwid_product(name))).fields["title"]

    assert len(title) <= TITLE_LIMIT
    assert title.endswith("cotton…")
    assert name.startswith(title[:-1] + " ")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=700))
def test_any_name_gives_a_title_tiktok_takes_or_is_held_back(name: str):
    mapping = mapped(ecwid_product(name))

    for upload in mapping.uploads:
        assert_takeable(upload.fields["title"])
        assert upload.fields["title"]
        assert tiktok_refuses(upload.fields) == []
    assert len(mapping.uploads) + len(mapping.held_back) == 1


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=20), max_size=4))
def test_any_option_values_give_a_variation_title_tiktok_takes(values: list[str]):
    options = [{"name": f"Option {n}", "value": value} for n, value in enumerate(values)]
    product = ecwid_product("Tee \U0001f525", combinations=[{"id": 7, "options": options}])

    upload = only_upload(mapped(product))

    assert_takeable(upload.fields["title"])
    assert upload.fields["title"].startswith("Tee")
    assert tiktok_refuses(upload.fields) == []


# Letters and digits outside the blocks dropped as emoji (the Dingbats block holds digits such as ❶).
words = st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=30).filter(
    lambda word: not EMOJI_CHARACTERS.search(word)
)
noise = st.sampled_from(EMOJI + INVISIBLE + ["", "", "", "\t", "\n", "  "])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(words, noise), min_size=1, max_size=60))
def test_a_title_is_never_cut_inside_a_word_when_a_space_comes_before_the_limit(pieces: list[tuple[str, str]]):
    name = " ".join(word + extra for word, extra in pieces)
    kept_words = [word for word, _ in pieces]

    title = only_upload(mapped(ecwid_product(name))).fields["title"]

    assert_takeable(title)
    if title.endswith("…") and " " in title:
        shown = title[:-1].split(" ")
        assert shown == kept_words[: len(shown)], "the title ends inside a word"
    elif not title.endswith("…"):
        assert title == " ".join(kept_words)


# -- GTINs -----------------------------------------------------------------------------------------------------
def check_digit(body: str) -> str:
    """GS1: weights 3, 1, 3, … from the right of the body, up to the next multiple of 10."""
    total = sum(int(d) * (1 if i % 2 else 3) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def upc(value: str) -> list[dict[str, Any]]:
    return [{"id": 1, "name": "UPC", "value": value, "type": "UPC"}]


def test_a_upc_too_short_or_with_a_wrong_check_digit_is_not_sent_and_the_product_still_goes():
    for value in ("123", "036000291453", "4006381333932", "12345678901234567"):
        upload = only_upload(mapped(ecwid_product("Tee", attributes=upc(value))))
        assert "global_trade_item_number" not in upload.fields, value
        assert tiktok_refuses(upload.fields) == []


def test_a_valid_upc_ean_or_gtin_is_sent_as_the_gtin():
    for value, sent in (
        ("036000291452", "036000291452"),
        (" 4006381333931 ", "4006381333931"),
        ("96385074", "96385074"),
        ("10012345678902", "10012345678902"),
        ("0 36000 29145 2", "036000291452"),
    ):
        upload = only_upload(mapped(ecwid_product("Tee", attributes=upc(value))))
        assert upload.fields["global_trade_item_number"] == sent, value


valid_gtins = st.sampled_from([8, 12, 13, 14]).flatmap(
    lambda n: st.text(alphabet="0123456789", min_size=n - 1, max_size=n - 1).map(lambda body: body + check_digit(body))
)


@settings(max_examples=500, deadline=None)
@given(st.one_of(valid_gtins, st.text(alphabet="0123456789", max_size=16)))
def test_digits_are_sent_as_the_gtin_exactly_when_gs1_takes_them(number: str):
    valid = len(number) in (8, 12, 13, 14) and number[-1] == check_digit(number[:-1])

    upload = only_upload(mapped(ecwid_product("Tee", attributes=upc(number))))

    assert upload.fields.get("global_trade_item_number") == (number if valid else None)
    assert tiktok_refuses(upload.fields) == []
