"""Ecwid product → TikTok catalog SKUs: which SKUs a product yields, the TikTok product object of each,
and which are held back and why (design.md "Catalog rules", tiktok-api.md "Catalog products")."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final, Literal
from urllib.parse import urlsplit

from tiktok_channel.catalog.fields import brand, gtin, title, variation_title
from tiktok_channel.catalog.prices import amount, shown_prices
from tiktok_channel.catalog.text import cut, one_line, plain_text
from tiktok_channel.catalog.visibility import KeptOff, is_shown
from tiktok_channel.models.ecwid_catalog import EcwidCombination, EcwidProduct

DESCRIPTION_LIMIT: Final = 10_000
MAX_ADDITIONAL_IMAGES: Final = 10
MIN_IMAGE_SIDE: Final = 500
ACCEPTED_IMAGE_FORMATS: Final = frozenset({"JPEG", "PNG"})
# The key TikTok reads additional images from is unconfirmed (tiktok-api.md): callers may pass the other one.
DEFAULT_ADDITIONAL_IMAGES_KEY: Final = "additional_image_urls"

_CONDITIONS: Final = frozenset({"NEW", "REFURBISHED", "USED"})
_EXTENSION_FORMATS: Final = {"jpg": "JPEG", "jpeg": "JPEG", "png": "PNG", "gif": "GIF", "webp": "WEBP"}


@dataclass(frozen=True)
class ImageSize:
    width: int
    height: int
    format: str  # "JPEG" | "PNG" | another format as detected ("GIF", "WEBP")

    @property
    def qualifies(self) -> bool:
        """TikTok filters out anything else, and a product without an accepted image is not approved."""
        return self.format in ACCEPTED_IMAGE_FORMATS and min(self.width, self.height) >= MIN_IMAGE_SIDE


# The engine's size lookup for URLs Ecwid gave no size for (a ranged GET, remembered per URL).
ImageSizes = Callable[[str], ImageSize | None]


@dataclass(frozen=True)
class SkuUpload:
    sku_id: str
    product_id: int
    title: str
    fields: dict[str, Any]  # the TikTok product object, as sent to catalog/product/upload
    hash: str  # of `fields`: equal hashes mean nothing TikTok sees has changed
    brand_from_store_name: bool = False  # no Brand attribute: the store's name is sent as the brand


@dataclass(frozen=True)
class SkuHeldBack:
    sku_id: str
    product_id: int
    title: str
    code: str  # "no_image" | "no_price" | "no_name" | "no_title"; for a product kept off, why (visibility.py)
    message: str  # for the merchant: what is wrong and what to change in Ecwid


@dataclass(frozen=True)
class ProductMapping:
    """What one Ecwid product is on TikTok; both tuples are empty when it must not be there at all, and then
    `excluded` says why, with `exclusion` saying whose choice it is: "excluded", the store's own settings (disabled,
    or only in hidden categories), or "kept_off", the merchant's switch for the product or its categories."""

    product_id: int
    uploads: tuple[SkuUpload, ...]
    held_back: tuple[SkuHeldBack, ...]
    excluded: SkuHeldBack | None = None
    exclusion: Literal["excluded", "kept_off"] = "excluded"


def sku_ids_of(product: EcwidProduct) -> list[str]:
    """Every sku_id the product can produce, shown or not (to find the SKUs to delete from TikTok)."""
    if not product.combinations:
        return [str(product.id)]
    return [_variation_sku_id(product, c) for c in product.combinations]


def _variation_sku_id(product: EcwidProduct, combination: EcwidCombination) -> str:
    # Ids, not Ecwid's SKU: the merchant may edit or repeat an SKU, and TikTok keys everything on sku_id.
    return f"{product.id}-{combination.id}"


# -- the mapping --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Candidate:
    """One URL of a picture; width and height when Ecwid's JSON gave them."""

    url: str
    width: int | None = None
    height: int | None = None


# One picture as URLs, best first: the original, then Ecwid's resized copies (a copy is tried when the
# original's format is not accepted; copies are never larger, so a too small original ends the search).
_Slot = tuple[_Candidate, ...]


@dataclass(frozen=True)
class _Offer:
    """What one SKU sells: the product itself, or one of its variations with the product's values filled in."""

    sku_id: str
    item_group_id: str | None
    title: str
    price: float
    compare_to_price: float | None
    availability: str
    own_image: _Slot


def map_product(
    product: EcwidProduct,
    *,
    currency: str,
    hidden: frozenset[int],
    image_sizes: ImageSizes,
    additional_images_key: str = DEFAULT_ADDITIONAL_IMAGES_KEY,
    store_name: str = "",
    kept_off: KeptOff | None = None,
) -> ProductMapping:
    """The TikTok SKUs of one product: uploads with their fields and hash, and those held back with a reason.

    `store_name` is the brand of a product without a Brand attribute; `kept_off` the merchant's choices."""
    if not is_shown(product, hidden):
        return ProductMapping(product.id, (), (), _excluded(product))
    choice = kept_off.reason(product, hidden) if kept_off is not None else None
    if choice is not None:
        item = SkuHeldBack(str(product.id), product.id, title(product.name) or f"Product {product.id}", *choice)
        return ProductMapping(product.id, (), (), item, "kept_off")
    currency = currency.upper()
    images = _Images(product, image_sizes)
    shared = _shared_fields(product, store_name)
    brand_attribute = product.attribute("BRAND")
    from_store_name = "brand" in shared and not one_line(brand_attribute.value if brand_attribute else "")
    uploads: list[SkuUpload] = []
    held_back: list[SkuHeldBack] = []
    for offer in _offers(product, currency):
        # Name and price first: a SKU held back for those needs no image lookups. A variation's own
        # picture comes before the product's, which stand in when it has none that qualifies.
        problem = _problem(product, offer, currency)
        image_url = (images.pick(offer.own_image) or images.main()) if problem is None else None
        if image_url is None:
            code, message = problem or _held_back_reason("no_image", offer.item_group_id is not None)
            held_back.append(SkuHeldBack(offer.sku_id, product.id, offer.title, code, message))
            continue
        fields = _fields(offer, shared, currency, image_url)
        additional = [url for url in images.qualifying() if url != image_url][:MAX_ADDITIONAL_IMAGES]
        if additional:
            fields[additional_images_key] = additional
        uploads.append(SkuUpload(offer.sku_id, product.id, offer.title, fields, _hash(fields), from_store_name))
    return ProductMapping(product.id, tuple(uploads), tuple(held_back))


def _excluded(product: EcwidProduct) -> SkuHeldBack:
    """The product's one item in the list of products the store's own settings keep off TikTok (keyed by its
    id), with why and what to change."""
    if not product.enabled:
        code, message = "disabled", "Disabled in Ecwid, so shoppers and TikTok do not see it."
    else:
        code, message = (
            "hidden_category",
            "Every category it is in is hidden in Ecwid, so shoppers and TikTok do not see it.",
        )
    return SkuHeldBack(str(product.id), product.id, title(product.name) or f"Product {product.id}", code, message)


def _hash(fields: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of a TikTok product object."""
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _offers(product: EcwidProduct, currency: str) -> Iterator[_Offer]:
    name = product.name
    if not product.combinations:
        price, compare_to_price = shown_prices(product, None, currency)
        yield _Offer(
            sku_id=str(product.id),
            item_group_id=None,
            title=title(name),
            price=price,
            compare_to_price=compare_to_price,
            availability=_availability(product.unlimited, product.in_stock, product.quantity),
            own_image=(),
        )
        return
    for combination in product.combinations:
        if {"unlimited", "in_stock", "quantity"} & combination.model_fields_set:
            availability = _availability(combination.unlimited, combination.in_stock, combination.quantity)
        else:  # Ecwid gave the variation no stock of its own: it shares the product's
            availability = _availability(product.unlimited, product.in_stock, product.quantity)
        own_image = _slot(
            (combination.original_image.url, combination.original_image.width, combination.original_image.height)
            if combination.original_image
            else None,
            combination.original_image_url,
            combination.image_url,
        )
        price, compare_to_price = shown_prices(product, combination, currency)
        yield _Offer(
            sku_id=_variation_sku_id(product, combination),
            item_group_id=str(product.id),
            title=variation_title(name, [o.value for o in combination.options]),
            price=price,
            compare_to_price=compare_to_price,
            availability=availability,
            own_image=own_image,
        )


def _problem(product: EcwidProduct, offer: _Offer, currency: str) -> tuple[str, str] | None:
    variation = offer.item_group_id is not None
    if not offer.title:
        return _held_back_reason("no_name" if not one_line(product.name) else "no_title", variation)
    if amount(offer.price, currency) <= 0:  # what TikTok would see after rounding
        return _held_back_reason("no_price", variation)
    return None


def _held_back_reason(code: str, variation: bool) -> tuple[str, str]:
    if code == "no_name":
        return code, "This product has no name. Give it a name in Ecwid: TikTok needs a title for every product."
    if code == "no_title":
        return code, (
            "The name has only emoji, symbols or invisible characters, which TikTok does not accept in a title. "
            "Add words to the product's name in Ecwid."
        )
    if code == "no_price":
        what = "this variation (or the product)" if variation else "this product"
        return code, f"The price is 0. Set a price above 0 for {what} in Ecwid: TikTok does not list free items."
    what = "the product or to this variation" if variation else "the product"
    return code, (
        f"Add an image of at least 500×500 px (JPG or PNG) to {what} in Ecwid: "
        "TikTok does not accept smaller images or other formats."
    )


def _fields(offer: _Offer, shared: dict[str, Any], currency: str, image_url: str) -> dict[str, Any]:
    fields: dict[str, Any] = {"sku_id": offer.sku_id}
    if offer.item_group_id is not None:
        fields["item_group_id"] = offer.item_group_id
    fields["title"] = offer.title
    fields["description"] = shared["description"] or cut(offer.title, DESCRIPTION_LIMIT)
    fields["availability"] = offer.availability
    fields["price_info"] = _price_info(offer.price, offer.compare_to_price, currency)
    fields["image_url"] = image_url
    fields.update({key: value for key, value in shared.items() if key != "description"})
    return fields


def _shared_fields(product: EcwidProduct, store_name: str) -> dict[str, Any]:
    """The fields every SKU of the product carries alike (description may be empty: each SKU falls back)."""
    fields: dict[str, Any] = {"description": cut(plain_text(product.description), DESCRIPTION_LIMIT)}
    if product.url:
        fields["landing_page"] = {"landing_page_url": product.url}
    attribute = product.attribute("BRAND")
    named = brand(attribute.value if attribute is not None else None, store_name)
    if named is not None:
        fields["brand"] = named
    condition = (product.product_condition or "").upper()
    fields["product_detail"] = {"condition": condition if condition in _CONDITIONS else "NEW"}
    if product.google_product_category:
        fields["google_product_category"] = str(product.google_product_category)
    upc = product.attribute("UPC")
    number = gtin(upc.value) if upc is not None else None
    if number is not None:
        fields["global_trade_item_number"] = number
    return fields


def _availability(unlimited: bool | None, in_stock: bool | None, quantity: int | None) -> str:
    if unlimited:
        return "IN_STOCK"
    if quantity is None:  # Ecwid omits the quantity when it does not count stock
        return "IN_STOCK" if in_stock else "OUT_OF_STOCK"
    return "IN_STOCK" if quantity > 0 and in_stock is not False else "OUT_OF_STOCK"


def _price_info(price: float, compare_to_price: float | None, currency: str) -> dict[str, Any]:
    """Both figures on the same basis (catalog/prices.py), so a sale is a sale as the product page shows it."""
    shown = amount(price, currency)
    if compare_to_price is not None:
        regular = amount(compare_to_price, currency)
        if regular > shown:
            # Ecwid's compare-to price is the struck-through regular price; TikTok wants it as the price.
            return {"price": regular, "sale_price": shown, "currency": currency}
    return {"price": shown, "currency": currency}


# -- images -------------------------------------------------------------------------------------------------


def _slot(sized: tuple[str, int | None, int | None] | None, *urls: str | None) -> _Slot:
    candidates: list[_Candidate] = []
    if sized is not None and sized[0]:
        candidates.append(_Candidate(*sized))
    for url in urls:
        if url and all(c.url != url for c in candidates):
            candidates.append(_Candidate(url))
    return tuple(candidates)


def _product_slots(product: EcwidProduct) -> list[_Slot]:
    """The product's pictures in Ecwid's order: main image, then gallery.

    `media.images` lists the same pictures again, without sizes (and possibly under other URLs), so it is
    read only when the older fields describe no image at all: a product whose images exist only there.
    """
    slots: list[_Slot] = []
    main = product.original_image
    main_slot = _slot(
        (main.url, main.width, main.height) if main else None, product.original_image_url, product.image_url
    )
    if main_slot:
        slots.append(main_slot)
    slots.extend(_slot((g.url, g.width, g.height), g.image_url) for g in product.gallery_images)
    if not slots:
        media = sorted(product.media.images, key=lambda m: (not m.is_main, m.order_by))
        slots.extend(_slot(None, m.image_original_url, m.image1500px_url) for m in media)
    return [slot for slot in slots if slot]


class _Images:
    """Resolves a product's pictures to qualifying URLs, asking the size lookup at most once per URL."""

    def __init__(self, product: EcwidProduct, image_sizes: ImageSizes) -> None:
        self._product = product
        self._lookup = image_sizes
        self._sizes: dict[str, ImageSize | None] = {}
        self._qualifying: list[str] | None = None

    def main(self) -> str | None:
        urls = self.qualifying()
        return urls[0] if urls else None

    def qualifying(self) -> list[str]:
        """The product's qualifying image URLs, in order, each once."""
        if self._qualifying is None:
            found: list[str] = []
            for slot in _product_slots(self._product):
                url = self.pick(slot)
                if url is not None and url not in found:
                    found.append(url)
            self._qualifying = found
        return self._qualifying

    def pick(self, slot: _Slot) -> str | None:
        for candidate in slot:
            size = self._size(candidate)
            if size is None:
                continue
            if size.qualifies:
                return candidate.url
            if min(size.width, size.height) < MIN_IMAGE_SIDE:
                return None
        return None

    def _size(self, candidate: _Candidate) -> ImageSize | None:
        if candidate.width and candidate.height:
            image_format = _format_from_extension(candidate.url)
            if image_format is not None:
                return ImageSize(candidate.width, candidate.height, image_format)
        if candidate.url not in self._sizes:
            self._sizes[candidate.url] = self._lookup(candidate.url)
        return self._sizes[candidate.url]


def _format_from_extension(url: str) -> str | None:
    path = urlsplit(url).path
    extension = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    return _EXTENSION_FORMATS.get(extension)
