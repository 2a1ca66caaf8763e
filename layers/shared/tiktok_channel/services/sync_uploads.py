"""One batch of products sent to a TikTok catalog, and what TikTok did with each of them.

Two facts shape it (tiktok-api.md, "One refused product can refuse the whole request" and "Processing result"):
- TikTok may refuse a whole upload request for one product (40000/40002): nothing of it is applied. The refused
  products are found (services/upload_split.py) within 2·⌈log2(batch)⌉·TIKTOK_SPLIT_MAX_REFUSED extra calls for
  a batch, and as many for all the batches of a run together; a refusal of the request or the token is the
  store's (`CatalogUploadRefused`), not a product's.
- A feed log names only the first five products of each issue: when it counts more failures than it names, the
  complete list is read from its file, else the batch's SKUs are read back from the catalog. A feed task that
  FAILED, or is still processing, proves nothing: nothing of it is committed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from tiktok_channel.errors import CatalogUploadRefused, TikTokError, TikTokRequestRejected
from tiktok_channel.models.catalog import Reason
from tiktok_channel.services.feed_logs import wait_for_feed_log
from tiktok_channel.services.upload_split import Budget, isolate_refused

if TYPE_CHECKING:
    from tiktok_channel.models.store import CatalogTarget
    from tiktok_channel.models.tiktok import FeedLog
    from tiktok_channel.ports import TikTokApi

logger = Logger(child=True)
metrics = Metrics()

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
    at the next full sync). `calls`: upload calls made; `refused_calls`: those refused whole.
    """

    accepted: set[str] = field(default_factory=set)
    failed: dict[str, list[Reason]] = field(default_factory=dict)
    refused: dict[str, Reason] = field(default_factory=dict)
    unresolved: dict[str, Reason] = field(default_factory=dict)
    calls: int = 0
    refused_calls: int = 0  # of `calls`, those TikTok refused whole


class BatchUploader:
    """Uploads batches of products (TikTok's product dicts, each with its `sku_id`) to one store's catalog."""

    def __init__(
        self,
        tiktok: TikTokApi,
        token: str,
        target: CatalogTarget,
        *,
        max_refused: int,
        batch_size: int,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._tiktok = tiktok
        self._token = token
        self._target = target
        self._max_refused = max_refused
        self._sleep = sleep
        # Refusals cost extra calls within one batch's budget, and all batches of this run together within one
        # batch's: a cause every product shares cannot spend the catalog's hourly allowance (1,000 uploads).
        self._run_budget = Budget(_split_budget(batch_size, max_refused))

    def upload(
        self,
        products: Sequence[dict[str, Any]],
        *,
        on_tiktok: frozenset[str] = frozenset(),
        outcome: BatchOutcome | None = None,
    ) -> BatchOutcome:
        """Send the batch (splitting it when TikTok refuses it whole) and read what TikTok did with each SKU.

        `on_tiktok`: SKUs TikTok already held before, so a read-back that finds them proves nothing. `outcome`
        (new when not given) is filled in as TikTok answers, so a caller that gives its own still has what was
        learnt when a later call fails. Raises `CatalogUploadRefused` when TikTok refuses the request for a reason
        of the store's, `TikTokTokenRevoked`, `TikTokUnavailable` and `PausedError` as the client does.
        """
        outcome = outcome if outcome is not None else BatchOutcome()
        batch = list(products)
        refusal = self.attempt(batch, outcome, on_tiktok)
        if refusal is not None:
            budget = Budget(min(_split_budget(len(batch), self._max_refused), self._run_budget.calls))
            allowed = budget.calls
            isolate_refused(batch, refusal, lambda part: self.attempt(part, outcome, on_tiktok), outcome, budget)
            self._run_budget.spend(allowed - budget.calls)
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
            outcome.refused_calls += 1
            return refusal
        log = self.wait_for(feed_log_id)
        # Still processing, or the task FAILED without saying why: nothing is known, nothing committed.
        if log.done and log.process_status.upper() != "FAILED":
            self._read_outcome(log, [p["sku_id"] for p in products], outcome, on_tiktok)
        return None

    def wait_for(self, feed_log_id: str) -> FeedLog:
        """The feed log once TikTok finished processing it, or as it stands after about 15 s of waiting (a log
        still processing commits nothing: those SKUs go again next time)."""
        return wait_for_feed_log(
            self._tiktok,
            self._token,
            bc_id=self._target.bc_id,
            catalog_id=self._target.catalog_id,
            feed_log_id=feed_log_id,
            sleep=self._sleep,
        )

    # -- the feed log ---------------------------------------------------------------------------
    def _read_outcome(self, log: FeedLog, sku_ids: list[str], outcome: BatchOutcome, on_tiktok: frozenset[str]) -> None:
        batch = set(sku_ids)
        failed = {sku: reasons for sku, reasons in _named_failures(log).items() if sku in batch}
        if log.error_count > len(failed):
            complete = self._complete_failures(log, failed, batch)
            if complete is None:
                self._read_back(sku_ids, failed, outcome, on_tiktok, _sole_issue(log))
                return
            failed = complete
        outcome.failed.update(failed)
        outcome.accepted.update(sku for sku in sku_ids if sku not in failed)

    def _complete_failures(
        self, log: FeedLog, named: dict[str, list[Reason]], batch: set[str]
    ) -> dict[str, list[Reason]] | None:
        """Every failure of the batch, from the log's file; None when it has none or it does not account for them
        all (rows for SKUs outside the batch count for nothing)."""
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
            if row.sku_id not in batch:
                continue
            reason = Reason(message=_issue_text(row.issue, row.field), suggestion=row.suggestion)
            reasons = failed.setdefault(row.sku_id, [])
            if reason not in reasons:
                reasons.append(reason)
        return failed if len(failed) >= log.error_count else None

    def _read_back(
        self,
        sku_ids: list[str],
        named: dict[str, list[Reason]],
        outcome: BatchOutcome,
        on_tiktok: frozenset[str],
        sole: Reason | None,
    ) -> None:
        """Which SKUs of the batch the catalog holds now: one absent failed (with the log's issue when it has only
        one, else "did not say why"); one present is accepted when it is new there, unknown when TikTok held it
        before (its old version may be what is there)."""
        present: set[str] = set()
        for start in range(0, len(sku_ids), READ_BACK_BATCH):
            chunk = sku_ids[start : start + READ_BACK_BATCH]
            items = self._tiktok.products_by_sku(
                self._token, bc_id=self._target.bc_id, catalog_id=self._target.catalog_id, sku_ids=chunk
            )
            present.update(item.sku_id for item in items)
        for sku in sku_ids:
            if sku in named or sku not in present:
                outcome.failed[sku] = named.get(sku) or [sole or _UNEXPLAINED]
            elif sku not in on_tiktok:
                outcome.accepted.add(sku)


def _sole_issue(log: FeedLog) -> Reason | None:
    """The log's only issue when every failure it counts is that issue's: the reason of those it does not name."""
    if len(log.issues) != 1:
        return None
    issue = log.issues[0]
    if issue.affected_product_count != log.error_count:
        return None
    return Reason(message=_issue_text(issue.issue, issue.field), suggestion=issue.suggestion)


def _issue_text(issue: str | None, field: str | None) -> str:
    """TikTok's issue as the merchant reads it; the field it names when TikTok gave no words."""
    return issue or f"TikTok refused the field {field or 'unknown'}"


def _split_budget(batch: int, max_refused: int) -> int:
    """2·⌈log2(batch)⌉·TIKTOK_SPLIT_MAX_REFUSED extra calls (none for a single product)."""
    return 2 * math.ceil(math.log2(batch)) * max_refused if batch > 1 else 0


def _named_failures(log: FeedLog) -> dict[str, list[Reason]]:
    failed: dict[str, list[Reason]] = {}
    for issue in log.issues:
        reason = Reason(message=_issue_text(issue.issue, issue.field), suggestion=issue.suggestion)
        for affected in issue.affected_product_item_list or []:
            failed.setdefault(affected.sku_id, []).append(reason)
    return failed
