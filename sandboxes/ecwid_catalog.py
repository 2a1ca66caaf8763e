"""One sandbox Ecwid store: its profile, categories and products, and the edits a merchant makes to them.

Every edit takes the sandbox's lock, stamps the sandbox clock on what changed and raises the webhook
Ecwid would send, so tests and the local run see the same sequence a real store produces.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypedDict, Unpack

from sandboxes.ecwid_images import ImageArg, ImageSpec, parse_image_arg

if TYPE_CHECKING:
    from sandboxes.ecwid_orders import Order

IdKind = Literal["product", "category", "combination", "image", "attribute"]
CONDITIONS = ("NEW", "USED", "REFURBISHED")
SORT_KEYS = (
    "RELEVANCE",
    "DEFINED_BY_STORE_OWNER",
    "ADDED_TIME_ASC",
    "ADDED_TIME_DESC",
    "UPDATED_TIME_ASC",
    "UPDATED_TIME_DESC",
    "NAME_ASC",
    "NAME_DESC",
    "PRICE_ASC",
    "PRICE_DESC",
)


class CatalogHost(Protocol):
    """What a store needs from the sandbox that holds it."""

    @property
    def lock(self) -> AbstractContextManager[bool]: ...

    def timestamp(self) -> int: ...

    def next_id(self, kind: IdKind) -> int: ...

    def emit(self, store_id: int, event_type: str, entity_id: int | str) -> None: ...


@dataclass(slots=True)
class StoreProfile:
    store_name: str
    store_url: str
    email: str
    country: str
    currency: str
    company_name: str = ""
    phone: str = ""
    street: str = ""
    city: str = ""
    postal_code: str = ""
    state: str = ""
    timezone: str = "America/New_York"
    language: str = "en"
    closed: bool = False
    # One tax (%) the storefront shows inside prices (`includeInPrice`), 0 for none; `prices_include_tax`:
    # the merchant types prices with that tax in them (`taxSettings.pricesIncludeTax`).
    tax_in_prices: float = 0.0
    prices_include_tax: bool = False
    # The storefront's cookie banner (`settings.askConsentToTrackInStorefront`) and Ecwid's own built-in TikTok
    # pixel (`settings.tikTokPixel {code, advancedMatching}`, seen only in Ecwid's Java client): ecwid-api.md
    # "Storefront JavaScript".
    ask_consent: bool = False
    tiktok_pixel: dict[str, Any] | None = None


class ProfileChanges(TypedDict, total=False):
    store_name: str
    store_url: str
    email: str
    country: str
    currency: str
    company_name: str
    phone: str
    street: str
    city: str
    postal_code: str
    state: str
    timezone: str
    language: str
    closed: bool
    tax_in_prices: float
    prices_include_tax: bool
    ask_consent: bool
    tiktok_pixel: dict[str, Any] | None


@dataclass(slots=True)
class Choice:
    """One choice of a product option and what it adds to the price (`priceModifier`, `priceModifierType`)."""

    text: str
    price_modifier: float = 0.0
    price_modifier_type: str = "ABSOLUTE"  # or PERCENT (of the typed price)


@dataclass(slots=True)
class ProductOption:
    """A product option as the merchant sets it up; `default_choice` is the pre-selected choice's index."""

    name: str
    choices: list[Choice]
    default_choice: int | None = 0


@dataclass(slots=True)
class Attribute:
    id: int
    name: str
    value: str
    type: str  # CUSTOM, BRAND, UPC, GENDER, AGE_GROUP, COLOR, SIZE, ...
    show: str = "DESCR"


@dataclass
class Variation:
    """How a test describes one combination (variation) of a product."""

    options: Mapping[str, str]
    sku: str | None = None
    price: float | None = None  # None: the product's price
    compare_to_price: float | None = None
    quantity: int | None = None  # None: unlimited
    unlimited: bool | None = None
    image: ImageArg | None = None


class CombinationChanges(TypedDict, total=False):
    options: Mapping[str, str]
    sku: str | None
    price: float | None
    compare_to_price: float | None
    quantity: int | None
    unlimited: bool
    image: ImageArg | None


@dataclass(slots=True)
class Combination:
    id: int
    number: int
    options: list[tuple[str, str]]
    sku: str | None
    price: float | None
    compare_to_price: float | None
    quantity: int | None
    unlimited: bool
    image: ImageSpec | None

    @property
    def in_stock(self) -> bool:
        return self.unlimited or (self.quantity or 0) > 0


@dataclass(slots=True)
class Product:
    id: int
    sku: str
    name: str
    description: str
    price: float
    compare_to_price: float | None
    enabled: bool
    unlimited: bool
    quantity: int
    category_ids: list[int]
    default_category_id: int
    image: ImageSpec | None
    gallery: list[ImageSpec]
    media_only_images: bool
    combinations: list[Combination]
    attributes: list[Attribute]
    google_product_category: int | None
    condition: str
    weight: float
    created: int
    updated: int
    # Options with their price modifiers; options of the combinations not named here have choices adding 0.
    options: list[ProductOption] = field(default_factory=list)

    @property
    def in_stock(self) -> bool:
        own = self.unlimited or self.quantity > 0
        return own or any(c.in_stock for c in self.combinations)

    def attribute(self, kind: str) -> Attribute | None:
        return next((a for a in self.attributes if a.type == kind), None)

    def all_skus(self) -> Iterator[str]:
        yield self.sku
        yield from (c.sku for c in self.combinations if c.sku)


Matcher = Callable[[Product], bool]


class ProductChanges(TypedDict, total=False):
    name: str
    price: float
    sku: str
    description: str
    compare_to_price: float | None
    enabled: bool
    quantity: int | None
    unlimited: bool
    category_ids: Sequence[int]
    default_category_id: int
    image: ImageArg | None
    gallery: Sequence[ImageArg]
    media_only_images: bool
    brand: str | None
    upc: str | None
    google_product_category: int | None
    condition: str
    weight: float
    options: Sequence[ProductOption]


@dataclass(slots=True)
class Category:
    id: int
    name: str
    parent_id: int | None
    enabled: bool
    order_by: int
    description: str = ""


@dataclass(frozen=True)
class ProductQuery:
    """A parsed `GET /products` search; equal queries share one cached result while the store is unchanged."""

    product_ids: tuple[int, ...] | None = None
    sku: str | None = None
    keyword: str | None = None
    category: int | None = None
    with_subcategories: bool = False
    enabled: bool | None = None
    in_stock: bool | None = None
    created_from: int | None = None
    created_to: int | None = None
    updated_from: int | None = None
    updated_to: int | None = None
    price_from: float | None = None
    price_to: float | None = None
    sort_by: str = "RELEVANCE"


@dataclass(slots=True)
class DeletedProduct:
    id: int
    deleted_at: int


@dataclass
class _Caches:
    version: int = -1
    searches: dict[ProductQuery, list[Product]] = field(default_factory=dict)
    products_by_category: dict[int, list[int]] | None = None


class EcwidStore:
    """A store's state. Change it only through these methods, which raise the matching webhooks."""

    def __init__(self, host: CatalogHost, store_id: int, profile: StoreProfile) -> None:
        self._host = host
        self.store_id = store_id
        self.profile = profile
        self.categories: dict[int, Category] = {}
        self.products: dict[int, Product] = {}
        self.deleted_products: list[DeletedProduct] = []
        self.images: dict[str, ImageSpec] = {}  # every image ever uploaded: a CDN keeps serving old URLs
        self.suspended = False
        # The app's storage (ecwid-api.md "App storage"): the sandbox registers one app, so one key-value map.
        self.app_storage: dict[str, str] = {}
        # Orders (sandboxes/ecwid_orders.py) by their `id`; the prefix and suffix Ecwid lets a merchant add to ids.
        self.orders: dict[str, Order] = {}
        self.order_id_prefix = ""
        self.order_id_suffix = ""
        self.version = 0  # bumped by every edit; invalidates the search caches
        self._quiet = False
        self._caches = _Caches()

    # -- bulk building -----------------------------------------------------------------------
    @contextlib.contextmanager
    def quietly(self) -> Iterator[None]:
        """Build a store's starting state without webhooks: it existed before the app was installed."""
        with self._host.lock:
            previous, self._quiet = self._quiet, True
            try:
                yield
            finally:
                self._quiet = previous

    def _emit(self, event_type: str, entity_id: int | str) -> None:
        self.version += 1
        if not self._quiet:
            self._host.emit(self.store_id, event_type, entity_id)

    # -- profile -----------------------------------------------------------------------------
    def set_profile(self, **changes: Unpack[ProfileChanges]) -> None:
        with self._host.lock:
            unknown = set(changes) - set(ProfileChanges.__annotations__)
            if unknown:
                raise TypeError(f"unknown profile fields: {sorted(unknown)}")
            for name, value in changes.items():
                setattr(self.profile, name, value)
            self._emit("profile.updated", self.store_id)

    # -- categories --------------------------------------------------------------------------
    def add_category(self, name: str, parent_id: int | None = None, enabled: bool = True, description: str = "") -> int:
        with self._host.lock:
            if parent_id is not None:
                self._category(parent_id)
            category_id = self._host.next_id("category")
            order_by = 10 * (len(self.categories) + 1)
            self.categories[category_id] = Category(category_id, name, parent_id, enabled, order_by, description)
            self._emit("category.created", category_id)
            return category_id

    def update_category(
        self,
        category_id: int,
        *,
        name: str | None = None,
        enabled: bool | None = None,
        parent_id: int | Literal["unchanged"] | None = "unchanged",
    ) -> None:
        """Rename, hide/show (`enabled`) or move a category; `parent_id=None` makes it a root category."""
        with self._host.lock:
            category = self._category(category_id)
            if name is not None:
                category.name = name
            if enabled is not None:
                category.enabled = enabled
            if parent_id != "unchanged":
                if parent_id is not None and (parent_id == category_id or category_id in self._ancestors(parent_id)):
                    raise ValueError("a category cannot be moved under itself")
                category.parent_id = parent_id
            self._emit("category.updated", category_id)

    def delete_category(self, category_id: int) -> None:
        """Delete a category and, as Ecwid does, its subcategories; their products stay, unassigned."""
        with self._host.lock:
            self._category(category_id)
            doomed = [category_id, *self._descendants(category_id)]
            now = self._host.timestamp()
            for cid in doomed:
                del self.categories[cid]
                self._emit("category.deleted", cid)
            gone = set(doomed)
            for product in self.products.values():
                if gone.intersection(product.category_ids):
                    product.category_ids = [c for c in product.category_ids if c not in gone]
                    if product.default_category_id in gone:
                        product.default_category_id = product.category_ids[0] if product.category_ids else 0
                    product.updated = now
                    self._emit("product.updated", product.id)

    def _category(self, category_id: int) -> Category:
        category = self.categories.get(category_id)
        if category is None:
            raise KeyError(f"store {self.store_id} has no category {category_id}")
        return category

    def _ancestors(self, category_id: int) -> list[int]:
        found: list[int] = []
        parent = self.categories[category_id].parent_id if category_id in self.categories else None
        while parent is not None and parent not in found:
            found.append(parent)
            parent = self.categories[parent].parent_id if parent in self.categories else None
        return found

    def _descendants(self, category_id: int) -> list[int]:
        children = [c.id for c in self.categories.values() if c.parent_id == category_id]
        return [d for child in children for d in (child, *self._descendants(child))]

    def is_hidden(self, category_id: int) -> bool:
        """Hidden as a shopper sees it: disabled itself or under a disabled parent (the app's rule)."""
        category = self.categories.get(category_id)
        if category is None:
            return True
        return not category.enabled or any(not self.categories[a].enabled for a in self._ancestors(category_id))

    # -- products ----------------------------------------------------------------------------
    def add_product(
        self,
        name: str,
        price: float,
        *,
        sku: str | None = None,
        description: str = "",
        category_ids: Sequence[int] = (),
        image: ImageArg | None = (1000, 1000, "jpg"),
        gallery: Sequence[ImageArg] = (),
        combinations: Sequence[Variation | Mapping[str, Any]] = (),
        enabled: bool = True,
        quantity: int | None = None,
        unlimited: bool | None = None,
        compare_to_price: float | None = None,
        brand: str | None = None,
        upc: str | None = None,
        google_product_category: int | None = None,
        condition: str = "NEW",
        media_only_images: bool = False,
        weight: float = 0.5,
        attributes: Sequence[Attribute] = (),
        created: int | None = None,
        options: Sequence[ProductOption] = (),
    ) -> int:
        """Create a product; `quantity=None` (or `unlimited=True`) means unlimited stock."""
        with self._host.lock:
            _check_price(price, compare_to_price)
            _check_condition(condition)
            self._check_categories(category_ids)
            product_id = self._host.next_id("product")
            now = self._host.timestamp() if created is None else created
            product = Product(
                id=product_id,
                sku=sku if sku is not None else f"SKU{product_id}",
                name=name,
                description=description,
                price=price,
                compare_to_price=compare_to_price,
                enabled=enabled,
                unlimited=quantity is None if unlimited is None else unlimited,
                quantity=quantity or 0,
                category_ids=list(dict.fromkeys(category_ids)),
                default_category_id=0,
                image=self._upload(image, now) if image is not None else None,
                gallery=[self._upload(g, now) for g in gallery],
                media_only_images=media_only_images,
                combinations=[],
                attributes=list(attributes),
                google_product_category=google_product_category,
                condition=condition,
                weight=weight,
                created=now,
                updated=now,
                options=list(options),
            )
            _check_options(product.options)
            product.default_category_id = product.category_ids[0] if product.category_ids else 0
            _set_attribute(product, "BRAND", "Brand", brand, self._host)
            _set_attribute(product, "UPC", "UPC", upc, self._host)
            for variation in combinations:
                spec = variation if isinstance(variation, Variation) else Variation(**variation)
                product.combinations.append(self._new_combination(product, spec, now))
            self.products[product_id] = product
            self._emit("product.created", product_id)
            for category_id in product.category_ids:
                self._emit("category.updated", category_id)
            return product_id

    def update_product(self, product_id: int, **changes: Unpack[ProductChanges]) -> None:
        """Change product fields (see ProductChanges); `compare_to_price=None` removes the sale price."""
        with self._host.lock:
            product = self.product(product_id)
            unknown = set(changes) - set(ProductChanges.__annotations__)
            if unknown:
                raise TypeError(f"unknown product fields: {sorted(unknown)}")
            _check_price(changes.get("price", product.price), changes.get("compare_to_price", product.compare_to_price))
            _check_condition(changes.get("condition", product.condition))
            if "options" in changes:
                changes["options"] = list(changes["options"])
                _check_options(changes["options"])
            now = self._host.timestamp()
            before = set(product.category_ids)
            self._apply_product_changes(product, changes, now)
            product.updated = now
            self._emit("product.updated", product_id)
            for category_id in sorted(before.symmetric_difference(product.category_ids)):
                if category_id in self.categories:
                    self._emit("category.updated", category_id)

    def _apply_product_changes(self, product: Product, changes: ProductChanges, now: int) -> None:
        if "category_ids" in changes:
            self._check_categories(changes["category_ids"])
            product.category_ids = list(dict.fromkeys(changes["category_ids"]))
            if product.default_category_id not in product.category_ids:
                product.default_category_id = product.category_ids[0] if product.category_ids else 0
        if "default_category_id" in changes:
            if changes["default_category_id"] not in (0, *product.category_ids):
                raise ValueError("defaultCategoryId must be one of the product's categories")
            product.default_category_id = changes["default_category_id"]
        if "quantity" in changes:
            quantity = changes["quantity"]
            product.quantity = quantity or 0
            product.unlimited = quantity is None
        if "image" in changes:
            new_image = changes["image"]
            product.image = self._upload(new_image, now) if new_image is not None else None
        if "gallery" in changes:
            product.gallery = [self._upload(g, now) for g in changes["gallery"]]

        for kind, label in (("brand", "Brand"), ("upc", "UPC")):
            if kind in changes:
                value = changes["brand"] if kind == "brand" else changes["upc"]
                _set_attribute(product, kind.upper(), label, value, self._host)
        plain = (
            "name",
            "price",
            "sku",
            "description",
            "compare_to_price",
            "enabled",
            "unlimited",
            "media_only_images",
            "google_product_category",
            "condition",
            "weight",
            "options",
        )
        for name in plain:
            if name in changes:
                setattr(product, name, changes[name])  # type: ignore[literal-required]

    def delete_product(self, product_id: int) -> None:
        with self._host.lock:
            product = self.product(product_id)
            del self.products[product_id]
            self.deleted_products.append(DeletedProduct(product_id, self._host.timestamp()))
            self._emit("product.deleted", product_id)
            for category_id in product.category_ids:
                if category_id in self.categories:
                    self._emit("category.updated", category_id)

    def check_stock(self, taken: Mapping[tuple[int, int | None], int]) -> None:
        """Raise ValueError when a limited stock holds less than a checkout wants of a (product id,
        combination id or None); KeyError for an unknown product or combination."""
        with self._host.lock:
            for (product_id, combination_id), quantity in taken.items():
                product = self.product(product_id)
                combination = None if combination_id is None else self._combination(product, combination_id)
                if combination is not None:
                    held = None if combination.unlimited else (combination.quantity or 0)
                else:
                    held = None if product.unlimited else product.quantity
                if held is not None and held < quantity:
                    raise ValueError(f"product {product_id} has only {held} in stock, {quantity} ordered")

    def take_stock(self, taken: Mapping[tuple[int, int | None], int]) -> list[int]:
        """Take quantities from stock as a checkout does (see check_stock; nothing changes when it raises): one
        `product.updated` for each product whose stock changed, unlimited stock left alone. Returns those ids."""
        with self._host.lock:
            self.check_stock(taken)
            now = self._host.timestamp()
            changed: list[int] = []
            for (product_id, combination_id), quantity in taken.items():
                product = self.product(product_id)
                combination = None if combination_id is None else self._combination(product, combination_id)
                if combination is not None and not combination.unlimited:
                    combination.quantity = (combination.quantity or 0) - quantity
                elif combination is None and not product.unlimited:
                    product.quantity -= quantity
                else:
                    continue
                product.updated = now
                if product_id not in changed:
                    changed.append(product_id)
            for product_id in changed:
                self._emit("product.updated", product_id)
            return changed

    def product(self, product_id: int) -> Product:
        product = self.products.get(product_id)
        if product is None:
            raise KeyError(f"store {self.store_id} has no product {product_id}")
        return product

    # -- combinations (variations) -------------------------------------------------------------
    def add_combination(
        self,
        product_id: int,
        options: Mapping[str, str],
        *,
        sku: str | None = None,
        price: float | None = None,
        compare_to_price: float | None = None,
        quantity: int | None = None,
        unlimited: bool | None = None,
        image: ImageArg | None = None,
    ) -> int:
        with self._host.lock:
            product = self.product(product_id)
            now = self._host.timestamp()
            combination = self._new_combination(
                product, Variation(options, sku, price, compare_to_price, quantity, unlimited, image), now
            )
            product.combinations.append(combination)
            product.updated = now
            self._emit("product.updated", product_id)
            return combination.id

    def update_combination(self, product_id: int, combination_id: int, **changes: Unpack[CombinationChanges]) -> None:
        with self._host.lock:
            product = self.product(product_id)
            combination = self._combination(product, combination_id)
            now = self._host.timestamp()
            for name, value in changes.items():
                if name == "options":
                    combination.options = list(changes["options"].items())
                elif name == "image":
                    image = changes["image"]
                    combination.image = self._upload(image, now) if image is not None else None
                elif name == "quantity":
                    combination.quantity = changes["quantity"]
                    combination.unlimited = combination.quantity is None
                elif name in CombinationChanges.__annotations__:
                    setattr(combination, name, value)
                else:
                    raise TypeError(f"unknown combination field {name!r}")
            product.updated = now
            self._emit("product.updated", product_id)

    def remove_combination(self, product_id: int, combination_id: int) -> None:
        with self._host.lock:
            product = self.product(product_id)
            product.combinations.remove(self._combination(product, combination_id))
            product.updated = self._host.timestamp()
            self._emit("product.updated", product_id)

    def _combination(self, product: Product, combination_id: int) -> Combination:
        for combination in product.combinations:
            if combination.id == combination_id:
                return combination
        raise KeyError(f"product {product.id} has no combination {combination_id}")

    def _new_combination(self, product: Product, spec: Variation, now: int) -> Combination:
        if not spec.options:
            raise ValueError("a combination needs at least one option")
        if spec.price is not None:
            _check_price(spec.price, spec.compare_to_price)
        combination_id = self._host.next_id("combination")
        number = 1 + max((c.number for c in product.combinations), default=0)
        unlimited = spec.quantity is None if spec.unlimited is None else spec.unlimited
        return Combination(
            id=combination_id,
            number=number,
            options=list(spec.options.items()),
            sku=spec.sku if spec.sku is not None else f"{product.sku}-{number}",
            price=spec.price,
            compare_to_price=spec.compare_to_price,
            quantity=None if unlimited else (spec.quantity or 0),
            unlimited=unlimited,
            image=self._upload(spec.image, now) if spec.image is not None else None,
        )

    # -- images ------------------------------------------------------------------------------
    def _upload(self, image: ImageArg, now: int) -> ImageSpec:
        width, height, fmt = parse_image_arg(image)
        image_id = self._host.next_id("image")
        spec = ImageSpec(str(image_id), width, height, fmt, image_id, now)
        self.images[spec.key] = spec
        return spec

    def _check_categories(self, category_ids: Sequence[int]) -> None:
        missing = [c for c in category_ids if c not in self.categories]
        if missing:
            raise KeyError(f"store {self.store_id} has no categories {missing}")

    # -- queries (cached until the next edit) ----------------------------------------------------
    def _fresh_caches(self) -> _Caches:
        if self._caches.version != self.version:
            self._caches = _Caches(version=self.version)
        return self._caches

    def products_by_category(self) -> dict[int, list[int]]:
        caches = self._fresh_caches()
        if caches.products_by_category is None:
            index: dict[int, list[int]] = {c: [] for c in self.categories}
            for product in self.products.values():
                for category_id in product.category_ids:
                    index.setdefault(category_id, []).append(product.id)
            caches.products_by_category = index
        return caches.products_by_category

    def search_products(self, query: ProductQuery) -> list[Product]:
        caches = self._fresh_caches()
        found = caches.searches.get(query)
        if found is None:
            found = _sort(list(filter(self._matcher(query), self.products.values())), query.sort_by)
            if len(caches.searches) > 64:
                caches.searches.clear()
            caches.searches[query] = found
        return found

    def _matcher(self, query: ProductQuery) -> Matcher:
        # Ecwid's documented precedence: productId ignores every other filter; sku all but productId.
        if query.product_ids is not None:
            ids = set(query.product_ids)
            return lambda p: p.id in ids
        if query.sku is not None:
            sku = query.sku
            return lambda p: sku in p.all_skus()
        categories: set[int] | None = None
        if query.category is not None and query.category != 0:
            categories = {query.category}
            if query.with_subcategories:
                categories.update(self._descendants(query.category))
        return lambda p: _matches_filters(p, query, categories)


def _matches_filters(product: Product, query: ProductQuery, categories: set[int] | None) -> bool:
    checks = (
        query.category != 0 or not product.category_ids,
        categories is None or not categories.isdisjoint(product.category_ids),
        query.enabled is None or product.enabled == query.enabled,
        query.in_stock is None or product.in_stock == query.in_stock,
        query.created_from is None or product.created >= query.created_from,
        query.created_to is None or product.created <= query.created_to,
        query.updated_from is None or product.updated >= query.updated_from,
        query.updated_to is None or product.updated <= query.updated_to,
        query.price_from is None or product.price >= query.price_from,
        query.price_to is None or product.price <= query.price_to,
        query.keyword is None or _keyword_matches(product, query.keyword),
    )
    return all(checks)


def _keyword_matches(product: Product, keyword: str) -> bool:
    exact = len(keyword) > 1 and keyword[0] == keyword[-1] == '"'
    needle = keyword.strip('"').lower()
    haystack = [
        product.name,
        *product.all_skus(),
        re.sub(r"<[^>]+>", " ", product.description),
        *(a.value for a in product.attributes),
    ]
    if exact:
        return any(needle == text.lower() for text in haystack)
    return any(needle in text.lower() for text in haystack)


def _sort(products: list[Product], sort_by: str) -> list[Product]:
    # Ties break on the id so paging is stable however many products share a timestamp.
    if sort_by in ("ADDED_TIME_ASC", "ADDED_TIME_DESC"):
        products.sort(key=lambda p: (p.created, p.id), reverse=sort_by.endswith("DESC"))
    elif sort_by in ("UPDATED_TIME_ASC", "UPDATED_TIME_DESC"):
        products.sort(key=lambda p: (p.updated, p.id), reverse=sort_by.endswith("DESC"))
    elif sort_by in ("NAME_ASC", "NAME_DESC"):
        products.sort(key=lambda p: (p.name.lower(), p.id), reverse=sort_by.endswith("DESC"))
    elif sort_by in ("PRICE_ASC", "PRICE_DESC"):
        products.sort(key=lambda p: (p.price, p.id), reverse=sort_by.endswith("DESC"))
    else:  # RELEVANCE without a keyword, DEFINED_BY_STORE_OWNER: the order the merchant added them
        products.sort(key=lambda p: p.id)
    return products


def _check_price(price: float, compare_to_price: float | None) -> None:
    if price < 0:
        raise ValueError("price cannot be negative")
    if compare_to_price is not None and compare_to_price < 0:
        raise ValueError("compareToPrice cannot be negative")


def _check_options(options: Sequence[ProductOption]) -> None:
    for option in options:
        if option.default_choice is not None and not 0 <= option.default_choice < len(option.choices):
            raise ValueError(f"defaultChoice of option {option.name!r} is not one of its choices")
        if any(c.price_modifier_type not in ("ABSOLUTE", "PERCENT") for c in option.choices):
            raise ValueError("priceModifierType must be ABSOLUTE or PERCENT")


def _check_condition(condition: str) -> None:
    if condition not in CONDITIONS:
        raise ValueError(f"productCondition must be one of {CONDITIONS}")


def _set_attribute(product: Product, kind: str, label: str, value: str | None, host: CatalogHost) -> None:
    current = product.attribute(kind)
    if value is None or value == "":
        if current is not None:
            product.attributes.remove(current)
    elif current is not None:
        current.value = value
    else:
        product.attributes.append(Attribute(host.next_id("attribute"), label, value, kind))
