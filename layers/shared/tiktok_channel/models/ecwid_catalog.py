"""Ecwid's catalog payloads (products, categories and their search pages) as lenient pydantic models.

Field names are Ecwid's, exposed in snake_case; only the fields the TikTok mapping reads are kept.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel


class _CatalogModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        hide_input_in_errors=True,
        coerce_numbers_to_str=True,  # image ids are strings in `media` and numbers elsewhere
    )

    @model_validator(mode="before")
    @classmethod
    def _null_means_absent(cls, data: Any) -> Any:
        # Ecwid sends `null` for some empty fields and omits others: treat both alike, so defaults apply.
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value is not None}
        return data


class EcwidImage(_CatalogModel):
    """`originalImage`: the uploaded file, with its size (Ecwid's only sized image fields, with the gallery)."""

    url: str
    width: int | None = None
    height: int | None = None


class EcwidGalleryImage(EcwidImage):
    """An entry of `galleryImages`: the original (`url`, sized) plus Ecwid's resized copies."""

    id: int | None = None
    image_url: str | None = None  # the 1500 px copy


class EcwidMediaImage(_CatalogModel):
    """An entry of `media.images`: URLs of the original and its resized copies, never a size."""

    id: str = ""
    is_main: bool = False
    order_by: int = 0
    image160px_url: str | None = Field(default=None, alias="image160pxUrl")
    image400px_url: str | None = Field(default=None, alias="image400pxUrl")
    image800px_url: str | None = Field(default=None, alias="image800pxUrl")
    image1500px_url: str | None = Field(default=None, alias="image1500pxUrl")
    image_original_url: str | None = None


class EcwidMedia(_CatalogModel):
    images: list[EcwidMediaImage] = []


class EcwidAttribute(_CatalogModel):
    id: int | None = None
    name: str = ""
    value: str = ""
    type: str | None = None  # BRAND, UPC, GENDER, AGE_GROUP, COLOR, SIZE, CUSTOM, ...


class EcwidOption(_CatalogModel):
    """A variation's choice of one product option, e.g. Size = L."""

    name: str = ""
    value: str = ""


class EcwidProductTax(_CatalogModel):
    """A product's `tax`: `defaultLocationIncludedTaxRate` sums the taxes (%) the storefront at the store's own
    address shows inside prices."""

    taxable: bool = True
    default_location_included_tax_rate: float = 0.0


class EcwidCombination(_CatalogModel):
    """A variation; every absent field means "as the product"."""

    id: int
    sku: str | None = None
    options: list[EcwidOption] = []
    price: float | None = None  # absent: inherited from the product
    compare_to_price: float | None = None
    # What the product page shows for the variation (taxes included as the storefront shows them); absent
    # in older answers. Ecwid documents no displayed compare-to price for variations; kept if it comes.
    default_displayed_price: float | None = None
    default_displayed_compare_to_price: float | None = None
    quantity: int | None = None
    unlimited: bool | None = None
    in_stock: bool | None = None
    image_url: str | None = None  # the variation's own image, 1500 px copy (no size given)
    original_image_url: str | None = None
    original_image: EcwidImage | None = None


class EcwidChoice(_CatalogModel):
    """A choice of a product option; its price modifier is an amount (ABSOLUTE) or a percent of the price."""

    text: str = ""
    price_modifier: float = 0.0
    price_modifier_type: str = "ABSOLUTE"


class EcwidProductOption(_CatalogModel):
    """A product option (`options[]`): `default_choice` is the 0-based index of the pre-selected choice."""

    type: str = ""
    name: str = ""
    default_choice: int | None = None
    choices: list[EcwidChoice] = []

    def default_modifier(self, price: float) -> float:
        """What the pre-selected choice adds to `price` (0 when none is pre-selected)."""
        if self.default_choice is None or not 0 <= self.default_choice < len(self.choices):
            return 0.0
        choice = self.choices[self.default_choice]
        if choice.price_modifier_type.upper() == "PERCENT":
            return price * choice.price_modifier / 100
        return choice.price_modifier


class EcwidProduct(_CatalogModel):
    id: int
    sku: str | None = None
    name: str = ""
    description: str = ""  # HTML
    url: str = ""
    enabled: bool = True
    price: float = 0.0  # as typed: no option modifiers, no tax added
    compare_to_price: float | None = None
    # What a shopper sees on the product page: default options applied, taxes included as the storefront
    # shows them. Absent in older answers (the mapping then falls back to `price` and `compareToPrice`).
    default_displayed_price: float | None = None
    default_displayed_compare_to_price: float | None = None
    tax: EcwidProductTax | None = None
    in_stock: bool = False
    unlimited: bool = False
    quantity: int | None = None  # absent when unlimited
    update_timestamp: int = 0
    original_image: EcwidImage | None = None
    original_image_url: str | None = None
    image_url: str | None = None  # the main image's 1500 px copy
    gallery_images: list[EcwidGalleryImage] = []
    media: EcwidMedia = EcwidMedia()
    category_ids: list[int] = []
    default_category_id: int = 0
    combinations: list[EcwidCombination] = []
    options: list[EcwidProductOption] = []
    attributes: list[EcwidAttribute] = []
    google_product_category: int | None = None
    product_condition: str | None = None

    def attribute(self, kind: str) -> EcwidAttribute | None:
        """The first attribute of a type (`BRAND`, `UPC`, …): Ecwid has no top-level brand field."""
        return next((a for a in self.attributes if (a.type or "").upper() == kind), None)


class EcwidCategory(_CatalogModel):
    id: int
    parent_id: int | None = None
    enabled: bool = True  # false: hidden from shoppers
    name: str | None = None
    product_ids: list[int] | None = None  # only with `productIds=true`


class _Page(_CatalogModel):
    total: int = 0
    count: int = 0
    offset: int = 0
    limit: int = 0


class ProductPage(_Page):
    """`GET /products`."""

    items: list[EcwidProduct] = []


class CategoryPage(_Page):
    """`GET /categories`."""

    items: list[EcwidCategory] = []
