"""Which Ecwid products TikTok may show: those a shopper can see (enabled, and in no category or in one that is not
hidden; a category under a hidden parent is hidden too), less those the merchant keeps off TikTok (journey 8)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tiktok_channel.models.ecwid_catalog import EcwidCategory, EcwidProduct


def hidden_category_ids(categories: Iterable[EcwidCategory]) -> frozenset[int]:
    """Categories a shopper cannot see: disabled, or under a disabled parent at any depth.

    Pass every category (`hidden_categories=true`): Ecwid leaves hidden ones out of its list otherwise,
    and a category missing from the list is taken as visible.
    """
    by_id = {category.id: category for category in categories}
    hidden: set[int] = set()
    for category in by_id.values():
        current: EcwidCategory | None = category
        walked: set[int] = set()
        while current is not None and current.id not in walked:  # a parent loop must not hang the sync
            if not current.enabled or current.id in hidden:
                hidden.add(category.id)
                break
            walked.add(current.id)
            current = by_id.get(current.parent_id) if current.parent_id else None
    return frozenset(hidden)


def is_shown(product: EcwidProduct, hidden: frozenset[int]) -> bool:
    """Enabled, and either in no category (Ecwid shows it on the front page) or in one a shopper can see."""
    if not product.enabled:
        return False
    return not product.category_ids or any(c not in hidden for c in product.category_ids)


def with_subcategories(categories: Iterable[EcwidCategory], roots: Iterable[int]) -> frozenset[int]:
    """`roots` and every category under one of them at any depth (a parent loop ends the walk)."""
    children: dict[int, list[int]] = {}
    for category in categories:
        if category.parent_id:
            children.setdefault(category.parent_id, []).append(category.id)
    found: set[int] = set()
    frontier = list(roots)
    while frontier:
        current = frontier.pop()
        if current in found:
            continue
        found.add(current)
        frontier.extend(children.get(current, ()))
    return frozenset(found)


@dataclass(frozen=True)
class CategoryVisibility:
    """The store's categories as the sync needs them: `hidden` in Ecwid (with what is under them), and `kept_off`
    by the merchant's category switches (with their subcategories too: a switch is applied like a hidden
    category)."""

    hidden: frozenset[int] = frozenset()
    kept_off: frozenset[int] = frozenset()


@dataclass(frozen=True)
class KeptOff:
    """The merchant's choices (journey 8): products switched off, and categories switched off (with their
    subcategories). A product also in a category that is shown stays, as for hidden categories."""

    products: frozenset[int] = frozenset()
    categories: frozenset[int] = frozenset()

    def reason(self, product: EcwidProduct, hidden: frozenset[int]) -> tuple[str, str] | None:
        """(code, message) when the merchant's choices keep a product off TikTok that the store shows, else None."""
        if product.id in self.products:
            return "kept_off_product", "You keep this product off TikTok. Switch Show on TikTok on to send it again."
        ids = product.category_ids
        if ids and any(c in self.categories for c in ids) and all(c in self.categories or c in hidden for c in ids):
            return (
                "kept_off_category",
                "You keep its category off TikTok. Show the category on TikTok, or add the product to a category "
                "that is shown.",
            )
        return None
