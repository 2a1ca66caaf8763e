"""Ecwid products mapped to TikTok SKUs, with the image sizes Ecwid gave none for (only `media.images`):
remembered per URL in the catalog table, otherwise read from the image's first bytes and remembered there."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from tiktok_channel.catalog.mapping import ImageSize, ProductMapping, map_product
from tiktok_channel.catalog.visibility import KeptOff
from tiktok_channel.models.ecwid_catalog import EcwidProduct

if TYPE_CHECKING:
    from tiktok_channel.ports import Services

IMAGE_PROBES = 16  # image headers read at once


class ImageSizeResolver:
    """Maps one store's products, resolving each image size it lacks once per invocation: a page's unknown URLs
    are read together (one read of the remembered sizes, then the image headers in parallel)."""

    def __init__(self, services: Services, store_name: str = "") -> None:
        self._s = services
        self._store_name = store_name  # the brand of products without a Brand attribute
        self._sizes: dict[str, ImageSize | None] = {}  # None: the image could not be read

    def map_products(
        self,
        products: Sequence[EcwidProduct],
        *,
        currency: str,
        hidden: frozenset[int],
        kept_off: KeptOff | None = None,
    ) -> list[ProductMapping]:
        """The mapping of each product, in order.

        Each product is mapped once with the sizes known so far; a URL without one counts as not qualifying
        and is noted. Only the products that met such a URL are mapped again, once the noted sizes are known:
        a product meets the same or fewer URLs when more sizes are known, so that second mapping needs none.
        """
        unknown: list[str] = []  # every miss, repeats included, so a product's misses show as growth

        def known_or_noted(url: str) -> ImageSize | None:
            if url in self._sizes:
                return self._sizes[url]
            unknown.append(url)
            return None

        mappings: list[ProductMapping] = []
        incomplete: list[int] = []
        for index, product in enumerate(products):
            misses_before = len(unknown)
            mappings.append(
                map_product(
                    product,
                    currency=currency,
                    hidden=hidden,
                    image_sizes=known_or_noted,
                    store_name=self._store_name,
                    kept_off=kept_off,
                )
            )
            if len(unknown) > misses_before:
                incomplete.append(index)
        if not incomplete:
            return mappings
        self._resolve(list(dict.fromkeys(unknown)))
        for index in incomplete:
            mappings[index] = map_product(
                products[index],
                currency=currency,
                hidden=hidden,
                image_sizes=self._sizes.get,
                store_name=self._store_name,
                kept_off=kept_off,
            )
        return mappings

    def _resolve(self, missing: list[str]) -> None:
        remembered = self._s.catalog.get_image_sizes(missing)
        self._sizes.update(remembered)
        to_read = [url for url in missing if url not in remembered]
        if not to_read:
            return
        with ThreadPoolExecutor(max_workers=IMAGE_PROBES) as pool:
            sizes = list(pool.map(self._s.images.read_image_size, to_read))
        learned = {url: size for url, size in zip(to_read, sizes, strict=True)}
        self._sizes.update(learned)
        self._s.catalog.put_image_sizes({u: s for u, s in learned.items() if s is not None}, self._s.clock())
