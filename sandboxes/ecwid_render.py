"""The sandbox Ecwid's JSON: products, categories and the store profile, shaped like Ecwid's own samples
(tests/data/ecwid-doc-samples), with image URLs pointing at the sandbox's image host."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sandboxes.ecwid_catalog import Category, Combination, EcwidStore, Product, StoreProfile
from sandboxes.ecwid_images import ImageSpec
from sandboxes.ecwid_prices import with_shown_prices

Json = dict[str, object]

# (prefix, suffix, precision) as Ecwid's profile reports them for a store's currency.
_CURRENCY_FORMATS: dict[str, tuple[str, str, int]] = {
    "USD": ("$", "", 2),
    "EUR": ("€", "", 2),
    "GBP": ("£", "", 2),
    "JPY": ("¥", "", 0),
    "AUD": ("A$", "", 2),
    "CAD": ("C$", "", 2),
    "KRW": ("₩", "", 0),
    "VND": ("", "₫", 0),
    "IDR": ("Rp", "", 0),
    "RUB": ("", " ₽", 2),
}
_COUNTRY_LOCALES: dict[str, str] = {"US": "en_US", "GB": "en_GB", "FR": "fr_FR", "DE": "de_DE", "JP": "ja_JP"}


def number(value: float) -> int | float:
    """Ecwid writes whole amounts without a fraction (`10`, not `10.0`)."""
    return int(value) if float(value).is_integer() else round(value, 4)


def ecwid_date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S +0000")


def money(profile: StoreProfile, amount: float) -> str:
    prefix, suffix, precision = _CURRENCY_FORMATS.get(profile.currency, ("", " " + profile.currency, 2))
    return f"{prefix}{amount:,.{precision}f}{suffix}"


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-") or "item"


class Renderer:
    """Renders one store's entities; `base_url` is where the sandbox serves this store's images."""

    def __init__(self, store: EcwidStore, base_url: str) -> None:
        self.store = store
        self.base_url = base_url.rstrip("/")

    # -- images --------------------------------------------------------------------------------
    def image_url(self, spec: ImageSpec, box: int | None = None) -> str:
        size = spec.scaled(box) if box is not None else None
        return self.base_url + spec.path(self.store.store_id, size)

    def _image_fields(self, spec: ImageSpec) -> Json:
        return {
            "smallThumbnailUrl": self.image_url(spec, 160),
            "thumbnailUrl": self.image_url(spec, 400),
            "hdThumbnailUrl": self.image_url(spec, 800),
            "imageUrl": self.image_url(spec, 1500),
            "originalImageUrl": self.image_url(spec),
        }

    def _media(self, product: Product) -> Json:
        images = [product.image] if product.image is not None else []
        images += product.gallery
        return {
            "images": [
                {
                    "id": str(spec.image_id),
                    "isMain": index == 0 and product.image is not None,
                    "orderBy": index,
                    "image160pxUrl": self.image_url(spec, 160),
                    "image400pxUrl": self.image_url(spec, 400),
                    "image800pxUrl": self.image_url(spec, 800),
                    "image1500pxUrl": self.image_url(spec, 1500),
                    "imageOriginalUrl": self.image_url(spec),
                }
                for index, spec in enumerate(images)
            ]
        }

    def _gallery(self, product: Product) -> list[Json]:
        return [
            {
                "id": spec.image_id,
                "alt": "",
                "url": self.image_url(spec),
                "thumbnail": self.image_url(spec, 160),
                **self._image_fields(spec),
                "width": spec.width,
                "height": spec.height,
                "orderBy": index,
            }
            for index, spec in enumerate(product.gallery)
        ]

    # -- products ------------------------------------------------------------------------------
    def product(self, product: Product) -> Json:
        profile = self.store.profile
        data: Json = {
            "id": product.id,
            "sku": product.sku,
            "name": product.name,
            "nameTranslated": {profile.language: product.name},
            "price": number(product.price),
        }
        data.update(self._sale_price(product.compare_to_price, product.price))
        data.update(self._stock(product.unlimited, product.quantity))
        data["inStock"] = product.in_stock
        data.update(
            {
                "isShippingRequired": True,
                "weight": number(product.weight),
                "url": f"{profile.store_url.rstrip('/')}/{_slug(product.name)}-p{product.id}",
                "created": ecwid_date(product.created),
                "updated": ecwid_date(product.updated),
                "createTimestamp": product.created,
                "updateTimestamp": product.updated,
                "productClassId": 0,
                "enabled": product.enabled,
                "options": _options(product),
                "warningLimit": 0,
                "fixedShippingRateOnly": False,
                "fixedShippingRate": 0,
                "defaultCombinationId": _default_combination_id(product),
                "description": product.description,
                "descriptionTranslated": {profile.language: product.description},
            }
        )
        if product.image is not None and not product.media_only_images:
            data.update(self._image_fields(product.image))
            data["originalImage"] = {
                "url": self.image_url(product.image),
                "width": product.image.width,
                "height": product.image.height,
            }
        if product.gallery and not product.media_only_images:
            data["galleryImages"] = self._gallery(product)
        data["media"] = self._media(product)
        data.update(self._categories(product))
        data.update(
            {
                "seoTitle": "",
                "seoDescription": "",
                "attributes": [
                    {"id": a.id, "name": a.name, "value": a.value, "type": a.type, "show": a.show}
                    for a in product.attributes
                ],
                "files": [],
                "relatedProducts": {
                    "productIds": [],
                    "relatedCategory": {"enabled": False, "categoryId": 0, "productCount": 0},
                },
                "combinations": [self._combination(product, c) for c in product.combinations],
                "dimensions": {},
                "productCondition": product.condition,
                "isSampleProduct": False,
            }
        )
        if product.google_product_category is not None:
            data["googleProductCategory"] = product.google_product_category
        return self._shown_prices(data)

    def _shown_prices(self, data: Json) -> Json:
        """The storefront's figures (sandboxes/ecwid_prices.py) with their display strings."""
        profile = self.store.profile
        shown = with_shown_prices(data, self.profile())
        shown["defaultDisplayedPriceFormatted"] = money(profile, shown["defaultDisplayedPrice"])
        compare = shown.get("defaultDisplayedCompareToPrice")
        if compare is not None:
            discount = max(0.0, round(compare - shown["defaultDisplayedPrice"], 4))
            shown["defaultDisplayedCompareToPriceFormatted"] = money(profile, compare)
            shown["defaultDisplayedCompareToPriceDiscount"] = number(discount)
            shown["defaultDisplayedCompareToPriceDiscountFormatted"] = money(profile, discount)
            shown["defaultDisplayedCompareToPriceDiscountPercent"] = round(100 * discount / compare) if compare else 0
        for combination in shown["combinations"]:
            combination["defaultDisplayedPriceFormatted"] = money(profile, combination["defaultDisplayedPrice"])
        return shown

    def _sale_price(self, compare_to_price: float | None, price: float) -> Json:
        # Ecwid omits compareToPrice entirely when the merchant set none.
        if compare_to_price is None:
            return {}
        profile = self.store.profile
        discount = max(0.0, compare_to_price - price)
        return {
            "compareToPrice": number(compare_to_price),
            "compareToPriceFormatted": money(profile, compare_to_price),
            "compareToPriceDiscount": number(round(discount, 2)),
            "compareToPriceDiscountFormatted": money(profile, discount),
            "compareToPriceDiscountPercent": round(100 * discount / compare_to_price) if compare_to_price else 0,
        }

    @staticmethod
    def _stock(unlimited: bool, quantity: int | None) -> Json:
        # `quantity` is absent when stock is unlimited.
        return {"unlimited": True} if unlimited else {"quantity": quantity or 0, "unlimited": False}

    def _categories(self, product: Product) -> Json:
        categories = self.store.categories
        known = [c for c in product.category_ids if c in categories]
        return {
            "categoryIds": known,
            "categories": [{"id": c, "enabled": categories[c].enabled} for c in known],
            "defaultCategoryId": product.default_category_id,
        }

    def _combination(self, product: Product, combination: Combination) -> Json:
        profile = self.store.profile
        price = product.price if combination.price is None else combination.price
        data: Json = {
            "id": combination.id,
            "combinationNumber": combination.number,
            "options": [
                {
                    "name": name,
                    "value": value,
                    "nameTranslated": {profile.language: name},
                    "valueTranslated": {profile.language: value},
                }
                for name, value in combination.options
            ],
            "sku": combination.sku or product.sku,
        }
        if combination.price is not None:  # an inherited price is omitted, as Ecwid does
            data["price"] = number(combination.price)
        data.update(self._sale_price(combination.compare_to_price, price))
        data.update(self._stock(combination.unlimited, combination.quantity))
        data["inStock"] = combination.in_stock
        data.update({"warningLimit": 0, "attributes": []})
        if combination.image is not None:
            # Like Ecwid, a variation's own image comes as URLs only, without its dimensions.
            data.update(self._image_fields(combination.image))
        return data

    # -- categories ----------------------------------------------------------------------------
    def category(self, category: Category, with_product_ids: bool) -> Json:
        profile = self.store.profile
        product_ids = self.store.products_by_category().get(category.id, [])
        products = self.store.products
        data: Json = {"id": category.id}
        if category.parent_id is not None:
            data["parentId"] = category.parent_id
        data.update(
            {
                "orderBy": category.order_by,
                "name": category.name,
                "nameTranslated": {profile.language: category.name},
                "url": f"{profile.store_url.rstrip('/')}/{_slug(category.name)}-c{category.id}",
                "productCount": len(product_ids),
                "enabledProductCount": sum(1 for p in product_ids if products[p].enabled),
                "description": category.description,
                "descriptionTranslated": {profile.language: category.description},
                "enabled": category.enabled,
            }
        )
        if with_product_ids:
            data["productIds"] = list(product_ids)
        return data

    # -- profile -------------------------------------------------------------------------------
    def _taxes(self) -> list[Json]:
        rate = self.store.profile.tax_in_prices
        if not rate:
            return []
        return [
            {
                "id": 1,
                "name": "VAT",
                "enabled": True,
                "includeInPrice": True,
                "useShippingAddress": False,
                "taxShipping": False,
                "appliedByDefault": True,
                "defaultTax": number(rate),
                "rules": [],
            }
        ]

    def profile(self) -> Json:
        profile = self.store.profile
        prefix, suffix, precision = _CURRENCY_FORMATS.get(profile.currency, ("", " " + profile.currency, 2))
        subdomain = f"store{self.store.store_id}"
        return {
            "generalInfo": {
                "storeId": self.store.store_id,
                "storeUrl": profile.store_url,
                "starterSite": {"ecwidSubdomain": subdomain, "generatedUrl": f"https://{subdomain}.company.site"},
            },
            "account": {
                "accountName": profile.company_name or profile.store_name,
                "accountNickName": profile.store_name,
                "accountEmail": profile.email,
            },
            "settings": {
                "closed": profile.closed,
                "storeName": profile.store_name,
                "storeDescription": "",
                "googleAnalyticsId": "",
                "fbPixelId": "",
            },
            "mailNotifications": {
                "adminNotificationEmails": [profile.email],
                "customerNotificationFromEmail": profile.email,
            },
            "company": {
                "companyName": profile.company_name or profile.store_name,
                "email": profile.email,
                "street": profile.street,
                "city": profile.city,
                "countryCode": profile.country,
                "postalCode": profile.postal_code,
                "stateOrProvinceCode": profile.state,
                "phone": profile.phone,
            },
            "formatsAndUnits": {
                "currency": profile.currency,
                "currencyPrefix": prefix,
                "currencySuffix": suffix,
                "currencyGroupSeparator": ",",
                "currencyDecimalSeparator": ".",
                "currencyPrecision": precision,
                "currencyTruncateZeroFractional": False,
                "currencyRate": 1,
                "weightUnit": "KILOGRAM",
                "weightGroupSeparator": " ",
                "weightDecimalSeparator": ".",
                "weightTruncateZeroFractional": False,
                "timeFormat": "hh:mm a",
                "dateFormat": "EEE, MMM d, ''yy",
                "timezone": profile.timezone,
                "dimensionsUnit": "CM",
            },
            "taxSettings": {
                "automaticTaxEnabled": False,
                "pricesIncludeTax": profile.prices_include_tax,
                "taxes": self._taxes(),
            },
            "taxes": self._taxes(),
            "languages": {
                "enabledLanguages": [profile.language],
                "facebookPreferredLocale": _COUNTRY_LOCALES.get(profile.country, "en_US"),
                "defaultLanguage": profile.language,
            },
        }


def _options(product: Product) -> list[Json]:
    """The product's option list: the options set up with their price modifiers, then those only its
    combinations name (choices adding nothing, the first pre-selected), as Ecwid keeps both in step."""
    options: list[Json] = [
        {
            "type": "SELECT",
            "name": option.name,
            "choices": [
                {"text": c.text, "priceModifier": number(c.price_modifier), "priceModifierType": c.price_modifier_type}
                for c in option.choices
            ],
            "defaultChoice": option.default_choice,
            "required": option.default_choice is not None,
        }
        for option in product.options
    ]
    named = {option.name for option in product.options}
    choices: dict[str, list[str]] = {}
    for combination in product.combinations:
        for name, value in combination.options:
            values = choices.setdefault(name, []) if name not in named else []
            if value not in values:
                values.append(value)
    options += [
        {
            "type": "SELECT",
            "name": name,
            "choices": [{"text": v, "priceModifier": 0, "priceModifierType": "ABSOLUTE"} for v in values],
            "defaultChoice": 0,
            "required": True,
        }
        for name, values in choices.items()
    ]
    return options


def _default_combination_id(product: Product) -> int:
    """The variation whose options equal the default choices (the first variation when options have none)."""
    defaults = {o.name: o.choices[o.default_choice].text for o in product.options if o.default_choice is not None}
    for combination in product.combinations:
        if all(defaults.get(name, value) == value for name, value in combination.options):
            return combination.id
    return 0
