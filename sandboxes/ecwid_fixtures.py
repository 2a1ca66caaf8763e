"""Ready-made sandbox Ecwid stores: a small demo store for the local run, and large deterministic synthetic
stores for tests and benchmarks. Both are built without webhooks: they existed before the app came."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from sandboxes.ecwid_catalog import EcwidStore, Variation
from sandboxes.ecwid_images import ImageArg

if TYPE_CHECKING:
    from sandboxes.ecwid import EcwidSandbox

_ADJECTIVES = (
    "Classic",
    "Organic",
    "Vintage",
    "Handmade",
    "Everyday",
    "Premium",
    "Recycled",
    "Minimal",
    "Cozy",
    "Bright",
    "Rustic",
    "Urban",
    "Coastal",
    "Alpine",
    "Golden",
    "Midnight",
)
_NOUNS = (
    "T-Shirt",
    "Hoodie",
    "Mug",
    "Tote Bag",
    "Notebook",
    "Candle",
    "Scarf",
    "Beanie",
    "Poster",
    "Vase",
    "Backpack",
    "Water Bottle",
    "Phone Case",
    "Sticker Set",
    "Pillow",
    "Apron",
)
_CATEGORY_NAMES = ("Apparel", "Home", "Kitchen", "Stationery", "Accessories", "Outdoor", "Gifts", "Art")
_BRANDS = ("Northwind", "Bluebird", "Acme Goods", "Kestrel & Co", "Fernhill")
_LARGE_IMAGES: tuple[ImageArg, ...] = (
    (800, 800, "jpg"),
    (1000, 1000, "jpg"),
    (1200, 900, "jpg"),
    (600, 800, "png"),
    (2000, 2000, "jpg"),
    (1500, 1000, "png"),
)
_SMALL_IMAGES: tuple[ImageArg, ...] = ((300, 300, "jpg"), (450, 450, "png"), (480, 320, "jpg"))
_SIZES = ("S", "M", "L")


def build_synthetic_store(
    sandbox: EcwidSandbox,
    store_id: int,
    *,
    products: int = 1000,
    seed: int = 0,
    variation_share: float = 0.2,
    hidden_share: float = 0.05,
    small_image_share: float = 0.03,
    media_only_share: float = 0.05,
    country: str = "US",
    currency: str = "USD",
) -> EcwidStore:
    """A store whose shape a test can count on, the same for the same seed.

    The shares pick disjoint sets of products (exact counts, rounded): `variation_share` get 3 variations
    (Size S/M/L), `hidden_share` sit only in hidden categories (one disabled, one under a disabled parent),
    `small_image_share` have a main image under 500x500, `media_only_share` carry their image only in
    `media.images` (no dimensions in the JSON). Everything else is enabled, visible and has a large image.
    Creation times are one minute apart and end before the sandbox's "now"; about a third of the products
    were updated later. No image bytes are drawn until someone requests them.
    """
    shares = (variation_share, hidden_share, small_image_share, media_only_share)
    if any(s < 0 for s in shares) or sum(shares) > 1:
        raise ValueError("shares must be non-negative and add up to at most 1")
    rng = random.Random(seed)
    roles = ["plain"] * products
    order = list(range(products))
    rng.shuffle(order)
    start = 0
    for role, share in zip(("variations", "hidden", "small_image", "media_only"), shares, strict=True):
        count = round(products * share)
        for index in order[start : start + count]:
            roles[index] = role
        start += count

    store = sandbox.add_store(
        store_id,
        country=country,
        currency=currency,
        store_name=f"Synthetic store {store_id}",
        store_url=f"https://synthetic{store_id}.example.com",
        email=f"owner@synthetic{store_id}.example.com",
    )
    now = sandbox.timestamp()
    first_created = now - 60 * (products + 1)
    with store.quietly():
        visible = [store.add_category(name) for name in _CATEGORY_NAMES]
        visible.append(store.add_category("Sale", parent_id=visible[0]))
        hidden_root = store.add_category("Archive", enabled=False)
        hidden = [hidden_root, store.add_category("Archive / Old", parent_id=hidden_root)]
        for index in range(products):
            created = first_created + 60 * index
            product_id = _add_synthetic_product(store, rng, index, roles[index], created, visible, hidden)
            if rng.random() < 0.33:
                # Touched later: UPDATED_TIME sorting and updatedFrom filters then differ from creation order.
                store.products[product_id].updated = rng.randint(created, now)
    return store


def _add_synthetic_product(
    store: EcwidStore, rng: random.Random, index: int, role: str, created: int, visible: list[int], hidden: list[int]
) -> int:
    name = f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} #{index + 1}"
    price = round(round(rng.uniform(4, 180)) - 0.01, 2)
    if role == "hidden":
        categories = [rng.choice(hidden)]
    elif rng.random() < 0.03:
        categories = []  # shown on the store front page
    else:
        categories = rng.sample(visible, k=1 if rng.random() < 0.8 else 2)
    image = rng.choice(_SMALL_IMAGES) if role == "small_image" else rng.choice(_LARGE_IMAGES)
    gallery = [rng.choice(_LARGE_IMAGES) for _ in range(rng.choice((0, 0, 0, 1, 2)))]
    variations = []
    if role == "variations":
        variations = [
            Variation(
                {"Size": size},
                sku=f"SYN{store.store_id}-{index + 1:06d}-{size}",
                price=price + 2 * number,
                quantity=rng.choice((None, 0, 5, 20)),
            )
            for number, size in enumerate(_SIZES)
        ]
    return store.add_product(
        name,
        price,
        sku=f"SYN{store.store_id}-{index + 1:06d}",
        description=f"<p>{name}: a synthetic product for testing.</p><ul><li>Item {index + 1}</li></ul>",
        category_ids=categories,
        image=image,
        gallery=gallery,
        combinations=variations,
        quantity=None if rng.random() < 0.7 else rng.randint(0, 40),
        compare_to_price=round(price * 1.25, 2) if rng.random() < 0.1 else None,
        brand=rng.choice(_BRANDS) if rng.random() < 0.5 else None,
        upc=f"0{rng.randrange(10**10, 10**11)}" if rng.random() < 0.3 else None,
        media_only_images=role == "media_only",
        created=created,
    )


def build_demo_store(
    sandbox: EcwidSandbox, store_id: int = 1003, *, country: str = "US", currency: str = "USD"
) -> EcwidStore:
    """Twelve products that exercise every catalog rule once.

    Uploaded as is: a T-shirt with three sizes (one out of stock), a hoodie on sale (compareToPrice),
    mugs, a tote (PNG), a cap, a keychain whose image is only in `media.images`, a sticker pack in no
    category. Held back or not uploaded: a mug with a 320x320 image, a travel tumbler out of stock (uploaded,
    but unavailable), a poster only in the hidden "Archive" category, a disabled beanie, a free sample
    priced 0.
    """
    store = sandbox.add_store(
        store_id,
        country=country,
        currency=currency,
        store_name="Awesome store",
        store_url="https://example.com",
        email="info@example.com",
    )
    store.profile.company_name = "Awesome Goods LLC"
    store.profile.city = "New York"
    store.profile.state = "NY"
    store.profile.postal_code = "10002"
    store.profile.street = "W 3d st"
    with store.quietly():
        shirts = store.add_category("T-shirts & Hoodies")
        mugs = store.add_category("Mugs")
        accessories = store.add_category("Accessories")
        archive = store.add_category("Archive", enabled=False)
        store.add_product(
            "Classic Logo T-Shirt",
            25,
            sku="TS-LOGO",
            category_ids=[shirts],
            brand="Awesome Co",
            description="<p>Soft cotton tee with our logo.</p>",
            image=(1200, 1200, "jpg"),
            gallery=[(1200, 1200, "jpg"), (1000, 1400, "jpg")],
            combinations=[
                Variation({"Size": "S"}, sku="TS-LOGO-S", quantity=12),
                Variation({"Size": "M"}, sku="TS-LOGO-M", quantity=0),
                Variation({"Size": "L"}, sku="TS-LOGO-L", price=27, quantity=4),
            ],
        )
        store.add_product(
            "Organic Cotton Hoodie",
            49,
            sku="HD-ORG",
            category_ids=[shirts],
            compare_to_price=69,
            description="<p>Warm, organic, <b>on sale</b>.</p>",
            image=(1500, 1500, "jpg"),
            gallery=[(1500, 1500, "jpg")],
            quantity=8,
            brand="Awesome Co",
        )
        store.add_product(
            "Ceramic Coffee Mug",
            14.5,
            sku="MUG-CER",
            category_ids=[mugs],
            quantity=25,
            upc="012345678905",
            description="<p>350 ml, dishwasher safe.</p>",
            image=(1000, 1000, "jpg"),
        )
        store.add_product(
            "Travel Tumbler",
            24,
            sku="MUG-TRV",
            category_ids=[mugs],
            quantity=0,
            description="<p>Keeps coffee hot for 6 hours.</p>",
            image=(900, 1200, "jpg"),
        )
        store.add_product(
            "Enamel Camping Mug",
            18,
            sku="MUG-ENM",
            category_ids=[mugs],
            description="<p>Only a small photo so far.</p>",
            image=(320, 320, "jpg"),
        )
        store.add_product(
            "Canvas Tote Bag",
            19,
            sku="BAG-TOTE",
            category_ids=[accessories],
            description="<p>Heavy canvas tote.</p>",
            image=(800, 800, "png"),
        )
        store.add_product(
            "Baseball Cap",
            22,
            sku="CAP-BB",
            category_ids=[accessories, shirts],
            brand="Awesome Co",
            description="<p>Adjustable strap.</p>",
            image=(1000, 800, "jpg"),
        )
        store.add_product(
            "Leather Keychain",
            9,
            sku="KEY-LTH",
            category_ids=[accessories],
            description="<p>Full-grain leather.</p>",
            image=(900, 900, "jpg"),
            media_only_images=True,
        )
        store.add_product(
            "Sticker Pack", 4, sku="STK-PACK", description="<p>Five vinyl stickers.</p>", image=(600, 600, "png")
        )
        store.add_product(
            "Retired Poster",
            12,
            sku="PST-OLD",
            category_ids=[archive],
            description="<p>No longer sold.</p>",
            image=(1000, 1500, "jpg"),
        )
        store.add_product(
            "Wool Beanie",
            20,
            sku="BNE-WOOL",
            category_ids=[accessories],
            enabled=False,
            description="<p>Back next winter.</p>",
            image=(1000, 1000, "jpg"),
        )
        store.add_product(
            "Free Sample",
            0,
            sku="SMP-FREE",
            category_ids=[accessories],
            description="<p>Add one to any order.</p>",
            image=(800, 800, "jpg"),
        )
    return store
