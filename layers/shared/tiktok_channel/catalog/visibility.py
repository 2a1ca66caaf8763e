"""Which Ecwid products a shopper can see, so TikTok may show them: enabled, and in no category or in one that
is not hidden (a category under a hidden parent is hidden too)."""

from __future__ import annotations

from collections.abc import Iterable

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
