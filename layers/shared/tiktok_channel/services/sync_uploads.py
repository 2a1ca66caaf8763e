"""One batch of products sent to a TikTok catalog, and what TikTok did with each of them.

Two facts shape it (tiktok-api.md, "One refused product can refuse the whole request" and "Processing result"):
- TikTok may refuse a whole upload request for one product (40000/40002 naming a field): nothing of it is
  applied. The refusal is read (catalog/refusals.py): a named product is dropped and the rest sent again in one
  call; a named field has the batch split in halves until the refused products are isolated (about
  2·log2(batch) extra calls per refused product), stopping when both halves are refused with the same message
  (one cause the whole batch shares, where isolating would cost a call per product), and never spending more
  than 2·⌈log2(batch)⌉·TIKTOK_SPLIT_MAX_REFUSED extra calls on one batch; a refusal of the request or the token
  is the store's (`CatalogUploadRefused`), not a product's.
- A feed log names only the first five products of each issue: when it counts more failures than it names, the
  complete list is read from its file, else the batch's SKUs are read back from the catalog.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from tiktok_channel.catalog.refusals import read_refusal
from tiktok_channel.errors import CatalogUploadRefused, TikTokError, TikTokRequestRejected
from tiktok_channel.models.catalog import Reason

if TYPE_CHECKING:
    from tiktok_channel.models.store import CatalogTarget
    from tiktok_channel.models.tiktok import FeedLog
    from tiktok_channel.ports import TikTokApi

logger = Logger(child=True)
metrics = Metrics()

FEED_LOG_WAITS = (1.0, 2.0, 4.0, 8.0)  # when TikTok has not finished processing a feed yet
READ_BACK_BATCH = 1000  # sku_ids per catalog/product/get call

_UNEXPLAINED = Reason(
    message="TikTok did not add this product to the catalog, and its feed log did not say why.",
    suggestion="It is sent again at the next sync; if it stays out, check it in TikTok's catalog manager.",
)


@dataclass
class BatchOutcome:
    """What became of each SKU of a batch; a SKU in none of the maps has no known outcome (nothing committed).

    `accepted`: in the catalog, the feed log reported no error. `failed`: the feed log's errors (the product
    stays out; it is sent again next time). `refused`: isolated in a request TikTok refused as a whole (not sent
    again as it is). `unresolved`: in a refused request the split could not resolve within its budget (sent again
    at the next full sync). `calls`: upload calls made.
    """

    accepted: set[str] = field(default_factory=set)
    failed: dict[str, list[Reason]] = field(default_factory=dict)
    refused: dict[str, Reason] = field(default_factory=dict)
    unresolved: dict[str, Reason] = field(default_factory=dict)
    calls: int = 0


class BatchUploader:
    """Uploads batches of products (TikTok's product dicts, each with its `sku_id`) to one store's catalog."""

    def __init__(
        self,
        tiktok: TikTokApi,
        token: str,
        target: CatalogTarget,
        *,
        max_refused: int,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._tiktok = tiktok
        self._token = token
        self._target = target
        self._max_refused = max_refused
        self._sleep = sleep

    def upload(self, products: Sequence[dict[str, Any]], *, on_tiktok: frozenset[str] = frozenset()) -> BatchOutcome:
        """Send the batch (splitting it when TikTok refuses it whole) and read what TikTok did with each SKU.

        `on_tiktok`: SKUs TikTok already held before, so a read-back that finds them proves nothing. Raises
        `CatalogUploadRefused` when TikTok refuses the request for a reason of the store's, `TikTokTokenRevoked`,
        `TikTokUnavailable` and `PausedError` as the client does.
        """
        outcome = BatchOutcome()
        budget = 2 * math.ceil(math.log2(len(products))) * self._max_refused if len(products) > 1 else 0
        _Split(self, outcome, budget, on_tiktok).send(list(products))
        if outcome.refused or outcome.unresolved:
            metrics.add_metric(name="SkusRefused", unit=MetricUnit.Count, value=len(outcome.refused))
            logger.warning(
                "TikTok refused products of an upload",
                extra={
                    "store_id": self._target.store_id,
                    "refused": len(outcome.refused),
                    "unresolved": len(outcome.unresolved),
                    "calls": outcome.calls,
                },
            )
        return outcome

    # -- one call -------------------------------------------------------------------------------
    def attempt(
        self, products: list[dict[str, Any]], outcome: BatchOutcome, on_tiktok: frozenset[str]
    ) -> TikTokRequestRejected | None:
        """One upload call: the refusal when TikTok refused the request whole, else None (outcome filled in)."""
        outcome.calls += 1
        try:
            feed_log_id = self._tiktok.upload_products(
                self._token, bc_id=self._target.bc_id, catalog_id=self._target.catalog_id, products=products
            )
        except CatalogUploadRefused:
            raise
        except TikTokRequestRejected as refusal:
            return refusal
        log = self.wait_for(feed_log_id)
        if log.done:
            self._read_outcome(log, [p["sku_id"] for p in products], outcome, on_tiktok)
        return None

    def wait_for(self, feed_log_id: str) -> FeedLog:
        """The feed log once TikTok finished processing it, or as it stands after about 15 s of waiting."""
        for wait in (0.0, *FEED_LOG_WAITS):
            if wait:
                self._sleep(wait)
            log = self._tiktok.feed_log(
                self._token, bc_id=self._target.bc_id, catalog_id=self._target.catalog_id, feed_log_id=feed_log_id
            )
            if log.done:
                return log
        return log  # still processing: nothing it names is committed, so those SKUs go again next time

    # -- the feed log ---------------------------------------------------------------------------
    def _read_outcome(self, log: FeedLog, sku_ids: list[str], outcome: BatchOutcome, on_tiktok: frozenset[str]) -> None:
        failed = _named_failures(log)
        if log.error_count > len(failed):
            complete = self._complete_failures(log, failed)
            if complete is None:
                self._read_back(sku_ids, failed, outcome, on_tiktok)
                return
            failed = complete
        batch = set(sku_ids)
        outcome.failed.update((sku, reasons) for sku, reasons in failed.items() if sku in batch)
        outcome.accepted.update(sku for sku in sku_ids if sku not in failed)

    def _complete_failures(self, log: FeedLog, named: dict[str, list[Reason]]) -> dict[str, list[Reason]] | None:
        """Every failure, from the log's file; None when it has none or it does not account for them all."""
        url = log.file_url
        if url is None:
            return None
        try:
            rows = self._tiktok.feed_log_file(url)
        except TikTokError as error:
            logger.warning("Feed log file unreadable", extra={"store_id": self._target.store_id, "error": str(error)})
            return None
        failed = {sku: list(reasons) for sku, reasons in named.items()}
        for row in rows:
            reason = Reason(
                message=row.issue or f"TikTok refused the field {row.field or 'unknown'}", suggestion=row.suggestion
            )
            reasons = failed.setdefault(row.sku_id, [])
            if reason not in reasons:
                reasons.append(reason)
        return failed if len(failed) >= log.error_count else None

    def _read_back(
        self, sku_ids: list[str], named: dict[str, list[Reason]], outcome: BatchOutcome, on_tiktok: frozenset[str]
    ) -> None:
        """Which SKUs of the batch the catalog holds now: one absent failed; one present is accepted when it is new
        there, unknown when TikTok held it before (its old version may be what is there)."""
        present: set[str] = set()
        for start in range(0, len(sku_ids), READ_BACK_BATCH):
            chunk = sku_ids[start : start + READ_BACK_BATCH]
            items = self._tiktok.products_by_sku(
                self._token, bc_id=self._target.bc_id, catalog_id=self._target.catalog_id, sku_ids=chunk
            )
            present.update(item.sku_id for item in items)
        for sku in sku_ids:
            if sku in named or sku not in present:
                outcome.failed[sku] = named.get(sku) or [_UNEXPLAINED]
            elif sku not in on_tiktok:
                outcome.accepted.add(sku)


class _Split:
    """Isolating the products of a batch TikTok refused whole, within `budget` extra calls."""

    def __init__(self, uploader: BatchUploader, outcome: BatchOutcome, budget: int, on_tiktok: frozenset[str]):
        self._up = uploader
        self._outcome = outcome
        self._budget = budget
        self._on_tiktok = on_tiktok

    def send(self, products: list[dict[str, Any]]) -> None:
        refusal = self._up.attempt(products, self._outcome, self._on_tiktok)
        if refusal is not None:
            self._resolve(products, refusal)

    def _extra_calls(self) -> int:
        return self._outcome.calls - 1

    def _resolve(self, products: list[dict[str, Any]], refusal: TikTokRequestRejected) -> None:
        sku_ids = [p["sku_id"] for p in products]
        found = read_refusal(refusal.code, refusal.detail, sku_ids)
        if found.kind == "request":
            raise CatalogUploadRefused(
                str(refusal), code=refusal.code, request_id=refusal.request_id, detail=refusal.detail
            )
        if found.kind == "product" and found.index is not None:
            self._outcome.refused[sku_ids[found.index]] = _reason(refusal)
            rest = products[: found.index] + products[found.index + 1 :]
            if rest and self._spend(rest, refusal, calls=1):
                self.send(rest)
            return
        if len(products) == 1:
            self._outcome.refused[sku_ids[0]] = _reason(refusal)
            return
        if not self._spend(products, refusal, calls=2):
            return
        half = len(products) // 2
        first, second = products[:half], products[half:]
        first_refusal = self._up.attempt(first, self._outcome, self._on_tiktok)
        second_refusal = self._up.attempt(second, self._outcome, self._on_tiktok)
        if (
            first_refusal is not None
            and second_refusal is not None
            and (first_refusal.code, first_refusal.detail) == (second_refusal.code, second_refusal.detail)
            and read_refusal(first_refusal.code, first_refusal.detail, sku_ids).kind == "field"
        ):
            # Both halves refused alike: one cause every part of the batch shares (e.g. one value they all carry).
            for product in products:
                self._outcome.refused[product["sku_id"]] = _reason(first_refusal)
            return
        if first_refusal is not None:
            self._resolve(first, first_refusal)
        if second_refusal is not None:
            self._resolve(second, second_refusal)

    def _spend(self, products: list[dict[str, Any]], refusal: TikTokRequestRejected, *, calls: int) -> bool:
        """Whether `calls` more fit the budget; when not, the products stay unresolved with TikTok's message."""
        if self._extra_calls() + calls <= self._budget:
            return True
        reason = Reason(
            message=f"TikTok refused the upload this product was part of: {refusal.detail or refusal}",
            suggestion="It is sent again at the next full sync. If TikTok names a field, check it on this product.",
        )
        for product in products:
            self._outcome.unresolved[product["sku_id"]] = reason
        return False


def _reason(refusal: TikTokRequestRejected) -> Reason:
    return Reason(
        message=refusal.detail or str(refusal),
        suggestion="Correct what TikTok names in this product in Ecwid; it is sent again once it changes.",
    )


def _named_failures(log: FeedLog) -> dict[str, list[Reason]]:
    failed: dict[str, list[Reason]] = {}
    for issue in log.issues:
        reason = Reason(message=issue.issue or f"TikTok refused the field {issue.field}", suggestion=issue.suggestion)
        for affected in issue.affected_product_item_list or []:
            failed.setdefault(affected.sku_id, []).append(reason)
    return failed
