"""Finding the products that made TikTok refuse a whole upload request (tiktok-api.md, "One refused product can
refuse the whole request"; design.md "Catalog rules"; docs/catalog-rules.md).

What TikTok's message points at (catalog/refusals.py) decides the way:
- a named product (its position or SKU) is dropped and the rest sent again in one call. The naming is checked,
  not trusted: when the rest is refused again with the very same message, the naming was wrong (TikTok counting
  positions otherwise, or naming one product whatever the cause), so the batch is split instead;
- otherwise the batch is split in halves, each half sent, until every refused product is alone (about
  2·⌈log2(batch)⌉ extra calls per refused product). When both halves are refused alike, the four quarters are
  tried: all four refused alike means one cause the whole batch shares (isolating it would cost a call per
  product), so its products are left unresolved, with TikTok's message, for the next full sync;
- a refusal of the request or the token raises `CatalogUploadRefused`: no split helps.
Extra calls are counted against a budget (services/sync_uploads.py sets it per batch and per run); products
left when it is spent are unresolved. The work is a loop over a stack, never a recursion, whatever the budget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tiktok_channel.catalog.refusals import read_refusal
from tiktok_channel.errors import CatalogUploadRefused, TikTokRequestRejected
from tiktok_channel.models.catalog import Reason

if TYPE_CHECKING:
    from tiktok_channel.services.sync_uploads import BatchOutcome

Products = list[dict[str, Any]]
Attempt = Callable[[Products], TikTokRequestRejected | None]


@dataclass
class Budget:
    """Extra upload calls still allowed (beyond a batch's first)."""

    calls: int

    def spend(self, calls: int) -> bool:
        if calls > self.calls:
            return False
        self.calls -= calls
        return True


def isolate_refused(
    products: Products, refusal: TikTokRequestRejected, attempt: Attempt, outcome: BatchOutcome, budget: Budget
) -> None:
    """Resolve a batch TikTok refused whole: every product ends accepted (through `attempt`, which fills
    `outcome` in), refused (alone and refused: not sent again as it is), or unresolved."""
    work: list[tuple[Products, TikTokRequestRejected, bool]] = [(products, refusal, True)]
    while work:
        part, said, trust_names = work.pop()
        work.extend(_resolve(part, said, trust_names, attempt, outcome, budget))


def _resolve(
    products: Products,
    refusal: TikTokRequestRejected,
    trust_names: bool,
    attempt: Attempt,
    outcome: BatchOutcome,
    budget: Budget,
) -> list[tuple[Products, TikTokRequestRejected, bool]]:
    """One step: the parts still refused, with their refusal and whether names may be trusted in them."""
    sku_ids = [p["sku_id"] for p in products]
    found = read_refusal(refusal.code, refusal.detail, sku_ids)
    if found.kind == "request":
        raise CatalogUploadRefused(
            str(refusal), code=refusal.code, request_id=refusal.request_id, detail=refusal.detail
        )
    if len(products) == 1:
        outcome.refused[sku_ids[0]] = _reason(refusal)
        return []
    if trust_names and found.kind == "product" and found.index is not None:
        named = products[found.index]
        rest = products[: found.index] + products[found.index + 1 :]
        if not budget.spend(1):
            _unresolved(products, refusal, outcome)
            return []
        again = attempt(rest)
        if again is not None and _alike(again, refusal):
            return [(products, refusal, False)]  # refused the same without it: it was not the cause
        outcome.refused[named["sku_id"]] = _reason(refusal)
        return [] if again is None else [(rest, again, True)]
    if not budget.spend(2):
        _unresolved(products, refusal, outcome)
        return []
    half = len(products) // 2
    halves = [products[:half], products[half:]]
    refusals = [attempt(part) for part in halves]
    first, second = refusals
    if first is not None and second is not None and _alike(first, second) and min(map(len, halves)) >= 2:
        quarters = [part for h in halves for part in (h[: len(h) // 2], h[len(h) // 2 :])]
        if not budget.spend(4):
            _unresolved(products, first, outcome)
            return []
        refusals = [attempt(part) for part in quarters]
        if all(r is not None and _alike(r, first) for r in refusals):
            _unresolved(products, first, outcome, shared=True)
            return []
        halves = quarters
    return [(part, said, trust_names) for part, said in zip(halves, refusals, strict=True) if said is not None]


def _alike(one: TikTokRequestRejected, other: TikTokRequestRejected) -> bool:
    return (one.code, one.detail) == (other.code, other.detail)


def _reason(refusal: TikTokRequestRejected) -> Reason:
    return Reason(
        message=refusal.detail or str(refusal),
        suggestion="Correct what TikTok names in this product in Ecwid; it is sent again once it changes.",
    )


def _unresolved(
    products: Products, refusal: TikTokRequestRejected, outcome: BatchOutcome, *, shared: bool = False
) -> None:
    """Products whose part TikTok refused and the budget (or a cause they all share) left unsplit."""
    said = refusal.detail or str(refusal)
    message = (
        f"TikTok refused every part of the upload this product was in with the same message: {said}"
        if shared
        else f"TikTok refused the upload this product was part of: {said}"
    )
    reason = Reason(
        message=message,
        suggestion="It is sent again at the next full sync. If TikTok names a field, check it on this product.",
    )
    for product in products:
        outcome.unresolved[product["sku_id"]] = reason
