"""Ecwid's catalog as the mapping reads it, from data alone: hidden categories, and Ecwid's own documented samples
(moved here from tests/catalog/test_mapping.py, whose other tests map the sandbox's real JSON)."""

from __future__ import annotations

from pathlib import Path

from tiktok_channel.catalog.mapping import ImageSize, ProductMapping, SkuUpload, map_product
from tiktok_channel.catalog.visibility import hidden_category_ids
from tiktok_channel.models.ecwid_catalog import CategoryPage, EcwidCategory, ProductPage

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "ecwid-doc-samples"


def only_upload(mapping: ProductMapping) -> SkuUpload:
    assert not mapping.held_back
    assert len(mapping.uploads) == 1
    return mapping.uploads[0]


def test_hidden_categories_at_any_depth_and_parent_loops():
    categories = [
        EcwidCategory(id=1, enabled=False),
        EcwidCategory(id=2, parent_id=1),
        EcwidCategory(id=3, parent_id=2),
        EcwidCategory(id=4, parent_id=0),
        EcwidCategory(id=5, parent_id=6),  # a loop, as bad data might hold
        EcwidCategory(id=6, parent_id=5),
        EcwidCategory(id=7, parent_id=99),  # parent not listed
    ]

    assert hidden_category_ids(categories) == frozenset({1, 2, 3})


def test_ecwids_documented_product_page_parses_and_maps():
    page = ProductPage.model_validate_json((SAMPLES / "products-search-response.json").read_text())
    categories = CategoryPage.model_validate_json((SAMPLES / "categories-search-response.json").read_text())
    asked: list[str] = []

    def lookup(url: str) -> ImageSize:
        asked.append(url)
        return ImageSize(1500, 1500, "JPEG")

    orange, disabled = page.items
    hidden = hidden_category_ids(categories.items) | {19563207}
    mapping = map_product(orange, currency="USD", hidden=hidden, image_sizes=lookup)

    assert (page.total, page.count, page.offset, page.limit) == (5, 2, 0, 2)
    assert hidden_category_ids(categories.items) == frozenset({9691095})
    assert [c.id for c in categories.items] == [9691094, 9691095]
    assert disabled.enabled is False
    kept_off = map_product(disabled, currency="USD", hidden=hidden, image_sizes=lookup)
    assert (kept_off.product_id, kept_off.uploads, kept_off.held_back) == (37208339, (), ())
    assert kept_off.excluded is not None
    assert (kept_off.excluded.sku_id, kept_off.excluded.code) == ("37208339", "disabled")
    fields = only_upload(mapping).fields
    assert fields["sku_id"] == "37208339"
    assert fields["title"] == "Orange"
    assert fields["description"] == "It's a tasty fruit!"
    assert fields["price_info"] == {"price": 23.0, "sale_price": 10.0, "currency": "USD"}
    assert fields["availability"] == "IN_STOCK"
    assert fields["image_url"] == orange.media.images[0].image_original_url
    assert fields["additional_image_urls"] == [orange.media.images[1].image_original_url]
    assert fields["landing_page"] == {"landing_page_url": "https://mdemo.ecwid.com/Orange-p37208339"}
    assert "brand" not in fields
    assert asked == [m.image_original_url for m in orange.media.images]
