"""TikTok's own counts beside ours (journey 8): read with every review check and every "Check with TikTok".

Ours are the SKUs we hold on TikTok (listed + pending + rejected), TikTok's what its catalog overview counts
(approved + processing + rejected). When the two are apart by more than max(2 SKUs, 1%) at two checks in a row,
the status says so (`tiktok_counts.mismatch`) and the page offers "Check with TikTok"; one check alone may catch
TikTok's overview behind an upload, so it is not enough.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tiktok_channel.models.store import TikTokCounts

if TYPE_CHECKING:
    from tiktok_channel.models.store import ProductCounts, Store
    from tiktok_channel.models.tiktok import CatalogOverview

MIN_APART_SKUS = 2
MIN_APART_SHARE = 0.01
CHECKS_IN_A_ROW = 2


def ours(products: ProductCounts) -> int:
    """The SKUs we hold on TikTok."""
    return products.listed + products.pending + products.rejected


def apart(our_count: int, theirs: int) -> bool:
    """Ours and TikTok's differ by more than max(2 SKUs, 1%) (of the larger)."""
    return abs(our_count - theirs) > max(MIN_APART_SKUS, MIN_APART_SHARE * max(our_count, theirs))


def counts_beside_ours(store: Store, overview: CatalogOverview, *, checked_at: str) -> TikTokCounts:
    """TikTok's counts as read now, with ours (`store` as it stands after the check) and the checks in a row that
    found them apart."""
    held = ours(store.products)
    theirs = overview.approved + overview.processing + overview.rejected
    before = store.tiktok_counts.apart if store.tiktok_counts is not None else 0
    return TikTokCounts(
        approved=overview.approved,
        processing=overview.processing,
        rejected=overview.rejected,
        checked_at=checked_at,
        ours=held,
        apart=before + 1 if apart(held, theirs) else 0,
    )


def counts_answer(store: Store) -> dict[str, Any] | None:
    """The status's `tiktok_counts`: TikTok's counts, `ours` at that check, `mismatch` (apart at two checks in a
    row), and `check` ({"job_id", "state", "finished_at"?, "corrected"?}) once "Check with TikTok" was asked for."""
    counts = store.tiktok_counts
    if counts is None and store.tiktok_check is None:
        return None
    answer: dict[str, Any] = (
        counts.model_dump(exclude={"apart", "ours"}, exclude_none=True) if counts is not None else {}
    )
    if counts is not None and counts.ours is not None:
        answer["ours"] = counts.ours
    answer["mismatch"] = counts is not None and counts.apart >= CHECKS_IN_A_ROW
    check = store.tiktok_check
    if check is not None and check.epoch == store.epoch:
        answer["check"] = {"job_id": check.job_id, "state": check.state}
        if check.finished_at is not None:
            answer["check"] |= {"finished_at": check.finished_at, "corrected": check.corrected}
    return answer
