"""An Ecwid product becomes the TikTok SKUs design.md's catalog rules describe, built from the sandbox's real JSON."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import httpx
import pytest

from sandboxes.ecwid import EcwidSandbox, EcwidStore, Variation
from tiktok_channel.adapters.images import read_image_size
from tiktok_channel.catalog.mapping import (
    ImageSize,
    ProductMapping,
    SkuHeldBack,
    SkuUpload,
    map_product,
    sku_ids_of,
)
from tiktok_channel.catalog.visibility import hidden_category_ids, is_shown
from tiktok_channel.models.ecwid_catalog import CategoryPage, EcwidProduct, ProductPage

STORE_ID = 1003


class RecordingSizes:
    """The engine's size lookup as the service does it (a ranged GET), remembering which URLs it was asked."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        self.asked: list[str] = []

    def __call__(self, url: str) -> ImageSize | None:
        self.asked.append(url)
        return read_image_size(self.http, url)


@pytest.fixture(scope="module")
def ecwid() -> Iterator[EcwidSandbox]:
    sandbox = EcwidSandbox()
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture(scope="module")
def store(ecwid: EcwidSandbox) -> EcwidStore:
    return ecwid.add_store(STORE_ID)


@pytest.fixture(scope="module")
def http(ecwid: EcwidSandbox, store: EcwidStore) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {ecwid.token_for(STORE_ID)}"}
    with httpx.Client(base_url=ecwid.base_url, headers=headers, timeout=5.0) as client:
        yield client


@pytest.fixture
def sizes(http: httpx.Client) -> RecordingSizes:
    return RecordingSizes(http)


def fetch(http: httpx.Client, product_id: int) -> EcwidProduct:
    response = http.get(f"/api/v3/{STORE_ID}/products/{product_id}")
    response.raise_for_status()
    return EcwidProduct.model_validate(response.json())


def hidden_now(http: httpx.Client) -> frozenset[int]:
    response = http.get(f"/api/v3/{STORE_ID}/categories", params={"hidden_categories": "true", "limit": 100})
    response.raise_for_status()
    return hidden_category_ids(CategoryPage.model_validate(response.json()).items)


def mapped(
    http: httpx.Client, sizes: RecordingSizes, product_id: int, *, additional_images_key: str | None = None
) -> ProductMapping:
    product = fetch(http, product_id)
    if additional_images_key is None:
        return map_product(product, currency="USD", hidden=hidden_now(http), image_sizes=sizes)
    return map_product(
        product,
        currency="USD",
        hidden=hidden_now(http),
        image_sizes=sizes,
        additional_images_key=additional_images_key,
    )


def only_upload(mapping: ProductMapping) -> SkuUpload:
    assert not mapping.held_back
    assert len(mapping.uploads) == 1
    return mapping.uploads[0]


# -- one product, one SKU --------------------------------------------------------------------------------


def test_a_product_without_variations_is_one_sku_keyed_on_its_id(http, sizes, store):
    pid = store.add_product("Mug", 12.5, sku="MUG-1", description="<p>A mug.</p>", image=(800, 800, "jpg"), quantity=3)

    upload = only_upload(mapped(http, sizes, pid))

    assert upload.sku_id == str(pid) == upload.fields["sku_id"]
    assert upload.product_id == pid
    assert upload.title == "Mug"
    fields = upload.fields
    assert "item_group_id" not in fields
    assert fields["title"] == "Mug"
    assert fields["description"] == "A mug."
    assert fields["availability"] == "IN_STOCK"
    assert fields["price_info"] == {"price": 12.5, "currency": "USD"}
    assert fields["image_url"].endswith("_800x800.jpg")
    assert fields["landing_page"] == {"landing_page_url": f"https://store{STORE_ID}.company.site/Mug-p{pid}"}
    assert fields["product_detail"] == {"condition": "NEW"}
    for absent in ("brand", "global_trade_item_number", "google_product_category", "additional_image_urls"):
        assert absent not in fields
    assert "MUG-1" not in json.dumps(fields)  # the merchant's SKU is never an id on TikTok
    assert sizes.asked == []  # Ecwid gave the image's size
    assert sku_ids_of(fetch(http, pid)) == [str(pid)]


@pytest.mark.parametrize(
    ("stock", "availability"),
    [
        ({"quantity": None}, "IN_STOCK"),
        ({"quantity": 2}, "IN_STOCK"),
        ({"quantity": 0}, "OUT_OF_STOCK"),
    ],
)
def test_availability_follows_ecwid_stock(http, sizes, store, stock, availability):
    pid = store.add_product("Stocked item", 10, **stock)

    assert only_upload(mapped(http, sizes, pid)).fields["availability"] == availability


# -- variations ---------------------------------------------------------------------------------------------


def test_each_variation_is_a_sku_of_the_products_item_group(http, sizes, store):
    pid = store.add_product(
        "T-shirt",
        20,
        compare_to_price=40,
        image=(1000, 1000, "jpg"),
        gallery=[(900, 900, "png")],
        combinations=[
            Variation({"Color": "Red", "Size": "L"}),  # the product's price, sale and image; unlimited
            Variation({"Color": "Blue", "Size": "M"}, price=45, quantity=0, image=(700, 700, "jpg")),
            Variation({"Color": "Green", "Size": "S"}, price=18, compare_to_price=19, quantity=5, image=(300, 300)),
        ],
    )
    product = fetch(http, pid)
    red, blue, green = (c.id for c in product.combinations)

    mapping = mapped(http, sizes, pid)

    assert not mapping.held_back
    by_id = {u.sku_id: u.fields for u in mapping.uploads}
    assert list(by_id) == [f"{pid}-{red}", f"{pid}-{blue}", f"{pid}-{green}"] == sku_ids_of(product)
    assert {f["item_group_id"] for f in by_id.values()} == {str(pid)}
    red_fields, blue_fields, green_fields = by_id.values()

    assert red_fields["title"] == "T-shirt (Red, L)"
    assert red_fields["price_info"] == {"price": 40.0, "sale_price": 20.0, "currency": "USD"}
    assert red_fields["availability"] == "IN_STOCK"
    assert red_fields["image_url"].endswith("_1000x1000.jpg")

    assert blue_fields["title"] == "T-shirt (Blue, M)"
    assert blue_fields["price_info"] == {"price": 45.0, "currency": "USD"}  # 45 is above the product's 40
    assert blue_fields["availability"] == "OUT_OF_STOCK"
    assert blue_fields["image_url"].endswith("_700x700.jpg")  # its own, sized by a ranged GET
    assert blue_fields["image_url"] in sizes.asked
    assert blue_fields["additional_image_urls"][0].endswith("_1000x1000.jpg")

    assert green_fields["title"] == "T-shirt (Green, S)"
    assert green_fields["price_info"] == {"price": 19.0, "sale_price": 18.0, "currency": "USD"}
    assert green_fields["availability"] == "IN_STOCK"
    assert green_fields["image_url"] == red_fields["image_url"]  # its own image is too small
    for fields in by_id.values():
        assert fields["image_url"] not in fields["additional_image_urls"]
        assert all(not url.endswith("_300x300.jpg") for url in fields["additional_image_urls"])


def test_a_variation_whose_price_is_zero_is_held_back_alone(http, sizes, store):
    pid = store.add_product("Poster", 15, combinations=[Variation({"Size": "A3"}), Variation({"Size": "A2"}, price=0)])

    mapping = mapped(http, sizes, pid)

    assert [u.fields["title"] for u in mapping.uploads] == ["Poster (A3)"]
    (held,) = mapping.held_back
    assert held.code == "no_price"
    assert held.title == "Poster (A2)"
    assert held.sku_id.startswith(f"{pid}-")
    assert "variation" in held.message


# -- prices -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "compare_to_price", "price_info"),
    [
        (49, 69, {"price": 69.0, "sale_price": 49.0, "currency": "USD"}),
        (20, 10, {"price": 20.0, "currency": "USD"}),  # a compare-to price below the price is no sale
        (20, 20, {"price": 20.0, "currency": "USD"}),
        (12.345, None, {"price": 12.35, "currency": "USD"}),
    ],
)
def test_sale_prices_and_rounding(http, sizes, store, price, compare_to_price, price_info):
    pid = store.add_product("Hoodie", price, compare_to_price=compare_to_price)

    assert only_upload(mapped(http, sizes, pid)).fields["price_info"] == price_info


def test_prices_in_the_catalog_currency_without_minor_units_are_whole(http, sizes, store):
    pid = store.add_product("Teapot", 1234.5, compare_to_price=1500.4)
    product = fetch(http, pid)

    mapping = map_product(product, currency="jpy", hidden=frozenset(), image_sizes=sizes)

    assert only_upload(mapping).fields["price_info"] == {"price": 1500, "sale_price": 1235, "currency": "JPY"}


@pytest.mark.parametrize("price", [0, 0.001])
def test_a_product_priced_zero_is_held_back_without_reading_images(http, sizes, store, price):
    pid = store.add_product("Free sample", price, image=(800, 800), media_only_images=True)

    mapping = mapped(http, sizes, pid)

    assert mapping.uploads == ()
    (held,) = mapping.held_back
    assert (held.sku_id, held.code, held.title) == (str(pid), "no_price", "Free sample")
    assert "price above 0" in held.message
    assert sizes.asked == []


@pytest.mark.parametrize("name", ["", "   "])
def test_a_product_without_a_name_is_held_back(http, sizes, store, name):
    pid = store.add_product(name, 10)

    (held,) = mapped(http, sizes, pid).held_back

    assert held.code == "no_name"
    assert "name" in held.message


# -- text ---------------------------------------------------------------------------------------------------


def test_the_html_description_becomes_plain_text(http, sizes, store):
    html = (
        "<h2>Care</h2>\n<p>Wash&nbsp;cold &amp; dry<br>flat.</p>"
        "<ul>\n  <li>Cotton</li>\n  <li>Made in &lt;EU&gt;</li>\n</ul>"
        "<script>alert('x')</script><style>p {color: red}</style>"
        "<div>Line\none   <b>bold</b>&#8482;</div><table><tr><td>A</td><td>B</td></tr></table>"
    )
    pid = store.add_product("Towel", 9, description=html)

    description = only_upload(mapped(http, sizes, pid)).fields["description"]

    assert description == "Care\n\nWash cold & dry\nflat.\n\n• Cotton\n• Made in <EU>\n\nLine one bold™\n\nA B"


@pytest.mark.parametrize("description", ["", "<p> </p>", "<p>&nbsp;</p><br/>"])
def test_an_empty_description_falls_back_to_the_title(http, sizes, store, description):
    pid = store.add_product("Plain mug", 9, description=description, combinations=[Variation({"Size": "XL"})])

    fields = only_upload(mapped(http, sizes, pid)).fields

    assert fields["description"] == fields["title"] == "Plain mug (XL)"


def test_long_titles_and_descriptions_are_cut_to_tiktoks_limits(http, sizes, store):
    long_name = "Very long name " * 50  # 750 characters
    pid = store.add_product(long_name, 10, description="<p>" + "word " * 3000 + "</p>")
    variant_pid = store.add_product(long_name, 10, combinations=[Variation({"Color": "Red"})])

    fields = only_upload(mapped(http, sizes, pid)).fields
    variant = only_upload(mapped(http, sizes, variant_pid)).fields

    assert len(fields["title"]) == 500
    assert fields["title"].startswith("Very long name Very")
    assert len(fields["description"]) <= 10_000
    assert fields["description"].startswith("word word")
    assert len(variant["title"]) <= 500
    assert variant["title"].endswith(" (Red)")  # the options tell variations apart: they stay


# -- attributes ---------------------------------------------------------------------------------------------


def test_brand_upc_condition_and_google_category_come_from_ecwid(http, sizes, store):
    pid = store.add_product(
        "Kettle", 30, brand="Acme Goods", upc="012345678905", condition="REFURBISHED", google_product_category=2271
    )

    fields = only_upload(mapped(http, sizes, pid)).fields

    assert fields["brand"] == "Acme Goods"
    assert fields["global_trade_item_number"] == "012345678905"
    assert fields["product_detail"] == {"condition": "REFURBISHED"}
    assert fields["google_product_category"] == "2271"


def test_a_upc_that_is_not_digits_is_left_out_and_a_long_brand_is_cut(http, sizes, store):
    pid = store.add_product("Kettle", 30, brand="B" * 200, upc="ABC-123", condition="USED")

    fields = only_upload(mapped(http, sizes, pid)).fields

    assert len(fields["brand"]) == 150
    assert "global_trade_item_number" not in fields
    assert fields["product_detail"] == {"condition": "USED"}


# -- which products are shown -------------------------------------------------------------------------------


def test_a_product_under_a_hidden_parent_category_is_not_on_tiktok(http, sizes, store):
    archive = store.add_category("Archive", enabled=False)
    old = store.add_category("Old", parent_id=archive)
    older = store.add_category("Older", parent_id=old)
    shop = store.add_category("Shop")
    hidden_pid = store.add_product("Old poster", 10, category_ids=[old, older])
    both_pid = store.add_product("Poster", 10, category_ids=[older, shop])

    hidden = hidden_now(http)

    assert {archive, old, older} <= hidden
    assert shop not in hidden
    assert not is_shown(fetch(http, hidden_pid), hidden)
    assert mapped(http, sizes, hidden_pid) == ProductMapping(
        hidden_pid, (), (), kept_off(hidden_pid, "hidden_category")
    )
    assert is_shown(fetch(http, both_pid), hidden)
    assert only_upload(mapped(http, sizes, both_pid)).sku_id == str(both_pid)

    store.update_category(archive, enabled=True)
    assert only_upload(mapped(http, sizes, hidden_pid)).sku_id == str(hidden_pid)


def kept_off(pid: int, code: str, title: str = "Old poster") -> SkuHeldBack:
    """A product the store's own settings keep off TikTok: its one item, with why."""
    why = {
        "disabled": "Disabled in Ecwid, so shoppers and TikTok do not see it.",
        "hidden_category": "Every category it is in is hidden in Ecwid, so shoppers and TikTok do not see it.",
    }
    return SkuHeldBack(str(pid), pid, title, code, why[code])


def test_a_product_in_no_category_is_shown(http, sizes, store):
    pid = store.add_product("Sticker", 3, category_ids=[])

    assert is_shown(fetch(http, pid), hidden_now(http))
    assert only_upload(mapped(http, sizes, pid)).sku_id == str(pid)


def test_a_disabled_product_maps_to_nothing_but_still_names_its_sku_ids(http, sizes, store):
    pid = store.add_product(
        "Beanie", 20, enabled=False, combinations=[Variation({"Size": "S"}), Variation({"Size": "M"})]
    )
    product = fetch(http, pid)

    assert mapped(http, sizes, pid) == ProductMapping(pid, (), (), kept_off(pid, "disabled", "Beanie"))
    assert sku_ids_of(product) == [f"{pid}-{c.id}" for c in product.combinations]


# -- images -------------------------------------------------------------------------------------------------


def test_a_product_whose_only_image_is_small_is_held_back_with_advice(http, sizes, store):
    pid = store.add_product("Enamel mug", 18, image=(320, 600, "jpg"))

    mapping = mapped(http, sizes, pid)

    assert mapping.uploads == ()
    (held,) = mapping.held_back
    assert (held.sku_id, held.code, held.title) == (str(pid), "no_image", "Enamel mug")
    assert "500×500" in held.message
    assert "JPG or PNG" in held.message
    assert sizes.asked == []  # Ecwid's JSON gave the size: no need to read the file


def test_a_large_gallery_image_stands_in_for_a_small_main_image(http, sizes, store):
    pid = store.add_product("Tote", 19, image=(450, 450, "png"), gallery=[(600, 800, "png")])

    fields = only_upload(mapped(http, sizes, pid)).fields

    assert fields["image_url"].endswith("_600x800.png")
    assert "additional_image_urls" not in fields


def test_an_image_only_in_media_is_sized_by_reading_its_header(http, sizes, store):
    pid = store.add_product("Keychain", 9, image=(900, 900, "jpg"), gallery=[(640, 640, "png")], media_only_images=True)
    product = fetch(http, pid)
    assert product.original_image is None  # as Ecwid does for some products: URLs only
    main, extra = product.media.images

    fields = only_upload(mapped(http, sizes, pid)).fields

    assert fields["image_url"] == main.image_original_url
    assert fields["additional_image_urls"] == [extra.image_original_url]
    assert sizes.asked == [main.image_original_url, extra.image_original_url]


def test_a_small_image_only_in_media_is_held_back(http, sizes, store):
    pid = store.add_product("Pin", 5, image=(300, 300, "png"), media_only_images=True)

    (held,) = mapped(http, sizes, pid).held_back

    assert held.code == "no_image"
    assert len(sizes.asked) == 1  # the original is too small; Ecwid's resized copies cannot be larger


def test_an_unreadable_media_image_falls_back_to_the_resized_copy_then_holds_back(http, sizes, store):
    pid = store.add_product("Patch", 5, image=(2000, 2000, "jpg"), media_only_images=True)
    (media,) = fetch(http, pid).media.images
    readable = {media.image1500px_url}

    def lookup(url: str) -> ImageSize | None:
        return sizes(url) if url in readable else None

    product = fetch(http, pid)
    upload = only_upload(map_product(product, currency="USD", hidden=frozenset(), image_sizes=lookup))
    readable.clear()
    nothing = map_product(product, currency="USD", hidden=frozenset(), image_sizes=lookup)

    assert upload.fields["image_url"] == media.image1500px_url
    assert [h.code for h in nothing.held_back] == ["no_image"]


def test_at_most_ten_additional_images_each_once_and_only_qualifying(http, sizes, store):
    gallery = [(600 + i, 600, "jpg") for i in range(12)] + [(200, 200, "jpg"), (1000, 1000, "jpg")]
    pid = store.add_product("Lamp", 40, image=(1000, 1000, "jpg"), gallery=gallery)

    fields = only_upload(mapped(http, sizes, pid)).fields

    additional = fields["additional_image_urls"]
    assert len(additional) == 10
    assert len(set(additional)) == 10
    assert fields["image_url"] not in additional
    assert [url.rsplit("_", 1)[1] for url in additional] == [f"{600 + i}x600.jpg" for i in range(10)]


def test_the_additional_images_key_is_a_parameter(http, sizes, store):
    pid = store.add_product("Vase", 25, gallery=[(800, 800, "jpg")])

    fields = only_upload(mapped(http, sizes, pid, additional_images_key="additional_image_link")).fields

    assert len(fields["additional_image_link"]) == 1
    assert "additional_image_urls" not in fields


# -- hash ---------------------------------------------------------------------------------------------------


def test_the_hash_changes_when_what_tiktok_sees_changes_and_only_then(http, sizes, store):
    pid = store.add_product("Candle", 12, sku="CNDL", quantity=4)
    first = only_upload(mapped(http, sizes, pid))

    store.update_product(pid, sku="CNDL-2", weight=2.0, quantity=9)  # nothing TikTok is sent
    unchanged = only_upload(mapped(http, sizes, pid))
    store.update_product(pid, price=13)
    repriced = only_upload(mapped(http, sizes, pid))

    canonical = json.dumps(first.fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert first.hash == hashlib.sha256(canonical.encode()).hexdigest()
    assert unchanged.hash == first.hash
    assert repriced.hash != first.hash
    assert repriced.fields["price_info"]["price"] == 13.0


def test_the_sandboxs_product_list_parses_with_every_field_the_mapping_reads(http, store):
    pid = store.add_product(
        "Listed",
        7.5,
        compare_to_price=9,
        gallery=[(700, 700, "png")],
        brand="Acme",
        quantity=2,
        combinations=[Variation({"Size": "S"}, price=8, quantity=1, image=(600, 600))],
    )

    response = http.get(f"/api/v3/{STORE_ID}/products", params={"productId": pid})
    (product,) = ProductPage.model_validate(response.json()).items

    assert product.id == pid
    assert (product.price, product.compare_to_price, product.quantity, product.unlimited) == (7.5, 9, 2, False)
    assert product.original_image is not None
    assert (product.original_image.width, product.original_image.height) == (1000, 1000)
    assert [(g.width, g.height) for g in product.gallery_images] == [(700, 700)]
    assert len(product.media.images) == 2
    assert product.media.images[0].is_main
    assert product.update_timestamp > 0
    assert product.attribute("BRAND") is not None
    (combination,) = product.combinations
    assert (combination.price, combination.quantity, combination.in_stock) == (8, 1, True)
    assert combination.options[0].name == "Size"
    assert combination.image_url is not None
