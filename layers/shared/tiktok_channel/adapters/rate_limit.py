"""TikTok's per-app rate limits (tiktok-api.md, "Rate limits") shared by every worker through DynamoDB,
with TikTok's hourly upload allowance per catalog (catalog_upload_limit.py), and the fleet-wide pause after a
40100 (design.md, "Queue messages").
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError

# Waits are cut into SLEEP_STEP_SECONDS steps so that a pause that comes on meanwhile is noticed.
from tiktok_channel.adapters.catalog_upload_limit import (
    CATALOG_UPLOADS_PER_HOUR,
    ITEM_TTL_SECONDS,
    SLEEP_STEP_SECONDS,
    CatalogUploadCounter,
    sub_window,
)
from tiktok_channel.adapters.dynamo_items import failed_item, is_condition_failure, ttl_attribute
from tiktok_channel.errors import PausedError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@dataclass(frozen=True)
class Limit:
    per_second: int
    per_minute: int


TIKTOK_LIMITS: dict[str, Limit] = {
    "upload": Limit(5, 300),
    "delete": Limit(2, 120),
    "default": Limit(10, 600),
    # event/track: 1,000 QPS (the table gives no per-minute figure: 60 times the per-second one, like the others).
    "events": Limit(1000, 60_000),
}

# Calls reach TikTok earlier or later relative to one another than they were granted here (DynamoDB and
# network latency, TLS set-up, scheduling, clock skew between workers): every window keeps this much slack.
ARRIVAL_JITTER_SECONDS = 0.1
PAUSE_CACHE_SECONDS = 1.0  # how stale the pause this worker knows may be

PAUSE_KEY: dict[str, Any] = {"pk": {"S": "RATE#pause"}, "sk": {"S": "PAUSE"}}

_serializer = TypeSerializer()


def tiktok_bucket(path: str) -> str:
    """The row of TikTok's table an API path (or URL, with or without /open_api/v1.3) is counted in."""
    endpoint = urlsplit(path).path.rstrip("/") + "/"
    if endpoint.endswith(("/catalog/product/upload/", "/catalog/product/file/")):
        return "upload"
    if endpoint.endswith(("/catalog/product/update/", "/catalog/product/delete/")):
        return "delete"
    if endpoint.endswith("/event/track/"):
        return "events"
    return "default"


def bucket_key(bucket: str) -> dict[str, Any]:
    return {"pk": {"S": f"RATE#{bucket}"}, "sk": {"S": "NEXT"}}


def call_spacing(limit: Limit, headroom: float = 1.0) -> float:
    """Seconds between two calls of a bucket, fleet-wide.

    Evenly spaced calls fit a sliding window of either length; since TikTok's per-minute limits are 60 times
    the per-second ones, the even pace gives up no sustained throughput, only bursts within a second.
    """
    if limit.per_second <= 0 or limit.per_minute <= 0 or not 0 < headroom <= 1:
        raise ValueError(f"unusable rate limit {limit} with headroom {headroom}")
    seconds = max((1.0 + ARRIVAL_JITTER_SECONDS) / limit.per_second, (60.0 + ARRIVAL_JITTER_SECONDS) / limit.per_minute)
    return math.ceil(seconds / headroom * 1e6) / 1e6  # rounded up to what the item stores


class FleetRateLimiter:
    """Grants TikTok calls so that the whole fleet stays within the app's limits.

    Per bucket, the item (RATE#<bucket>, NEXT) holds `next_at`, the time the fleet's next call may go.
    A call takes that time and moves it on by one spacing in a single conditional write: "free" when
    `next_at` has passed (the call goes now), "queue" when it has not (the call waits for its slot).
    The time only moves forward, so a worker that guessed the wrong write needs just one more.

    Upload calls for a catalog also fit TikTok's hourly allowance per catalog (CatalogUploadCounter).
    """

    def __init__(
        self,
        dynamodb: DynamoDBClient,
        table_name: str,
        *,
        limits: Mapping[str, Limit] = TIKTOK_LIMITS,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        headroom: float = 1.0,
        catalog_uploads_per_hour: int = CATALOG_UPLOADS_PER_HOUR,
    ) -> None:
        self._db = dynamodb
        self._table = table_name
        self._clock = clock
        self._sleep = sleep
        self._spacing = {bucket: call_spacing(limit, headroom) for bucket, limit in limits.items()}
        # Hints for which write to try first; a wrong guess costs one more write, never a wrong grant.
        self._next_seen: dict[str, float] = {}
        self._queued_last: dict[str, bool] = {}
        self._pause_seen = 0.0  # a pause never shortens, so the longest one seen holds
        self._pause_checked_at = -math.inf
        self._catalog_uploads = CatalogUploadCounter(
            dynamodb, table_name, clock=clock, sleep_until=self._sleep_until, per_hour=catalog_uploads_per_hour
        )

    def acquire(self, bucket: str, *, max_wait_seconds: float, catalog_id: str | None = None) -> None:
        """Wait for, and take, the bucket's next call slot; PausedError when paused or the wait is too long.

        An "upload" call with `catalog_id` also takes one of the catalog's hourly uploads (tiktok-api.md,
        "Rate limits"), waiting up to `max_wait_seconds` (seconds, in all) for one to come free.
        """
        spacing = self._spacing.get(bucket)
        if spacing is None:
            raise ValueError(f"no rate limit for bucket {bucket!r}")
        self._raise_if_paused()
        now = self._clock()
        latest = now + max(max_wait_seconds, 0.0)
        if bucket != "upload" or catalog_id is None:
            self._sleep_until(self._reserve(bucket, spacing, now, latest))
            return
        # The catalog's allowance is taken first. The app slot is a place in the fleet's queue at a fixed time:
        # taken first, it would go unused while the call waited for the catalog, or whenever the catalog's hour
        # is used up, a slot some other store could have had; and it could not be kept across the wait. The
        # catalog's count, taken first, is returned if the app slot is then refused, since the call never goes.
        # The call is counted in the sub-window of the latest time it may reach TikTok, which the app slot
        # cannot pass, so it is never counted before it happens and never leaves the count early.
        window = sub_window(latest + ARRIVAL_JITTER_SECONDS)
        self._catalog_uploads.take(catalog_id, window, latest)
        try:
            self._sleep_until(self._reserve(bucket, spacing, self._clock(), latest))
        except Exception:
            self._catalog_uploads.give_back(catalog_id, window)
            raise

    def pause(self, seconds: float) -> float:
        """Record "paused until now + seconds" for the fleet, keeping a longer pause; return the pause's end."""
        until = self._clock() + seconds
        try:
            self._db.update_item(
                TableName=self._table,
                Key=PAUSE_KEY,
                UpdateExpression="SET paused_until = :until, #ttl = :ttl",
                ConditionExpression="attribute_not_exists(paused_until) OR paused_until < :until",
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues={":until": _number(until), ":ttl": ttl_attribute(until, ITEM_TTL_SECONDS)},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            until = max(until, _read_number(failed_item(error), "paused_until") or until)
        self._pause_seen = max(self._pause_seen, until)
        return self._pause_seen

    def paused_until(self) -> float | None:
        """The end of the fleet-wide pause, or None when calls may go; reads DynamoDB at most once a second."""
        now = self._clock()
        # Re-read even while a pause is known: another worker may have met a longer one since.
        if now - self._pause_checked_at >= PAUSE_CACHE_SECONDS:
            answer = self._db.get_item(
                TableName=self._table, Key=PAUSE_KEY, ConsistentRead=True, ProjectionExpression="paused_until"
            )
            recorded = _read_number(answer.get("Item"), "paused_until")
            self._pause_seen = max(self._pause_seen, recorded or 0.0)
            self._pause_checked_at = now
        return self._pause_seen if self._pause_seen > now else None

    # -- internals -------------------------------------------------------------------------------
    def _raise_if_paused(self) -> None:
        until = self.paused_until()
        if until is not None:
            raise PausedError(until)

    def _sleep_until(self, at: float) -> None:
        while (remaining := at - self._clock()) > 0:
            self._sleep(min(remaining, SLEEP_STEP_SECONDS))
            self._raise_if_paused()  # the wait is given up: one call fewer is always safe

    def _reserve(self, bucket: str, spacing: float, now: float, latest: float) -> float:
        """Take the bucket's next call slot, at most `latest`; return when the call may go."""
        # A worker that queued last time, or knows the slot is still ahead, most likely queues again.
        queue = self._queued_last.get(bucket, False) or self._next_seen.get(bucket, 0.0) > now
        ttl = ttl_attribute(latest + spacing, ITEM_TTL_SECONDS)
        # `next_at` only moves forward: "free" fails only when it is ahead, and then "queue" cannot fail for
        # it being past, so three writes always decide (two when the first guess was wrong).
        for _ in range(3):
            if queue:
                done, next_at = self._write(
                    bucket,
                    "SET next_at = next_at + :spacing, #ttl = :ttl",
                    "next_at > :now AND next_at <= :latest",
                    {":spacing": _number(spacing), ":now": _number(now), ":latest": _number(latest), ":ttl": ttl},
                )
                if next_at is not None and next_at > now:  # the bucket is busy: this worker queues
                    self._next_seen[bucket], self._queued_last[bucket] = next_at, True
                    if done:
                        return next_at - spacing
                    raise PausedError(next_at, f"TikTok's {bucket!r} limit is booked past max_wait_seconds")
            else:
                done, next_at = self._write(
                    bucket,
                    "SET next_at = :next, #ttl = :ttl",
                    "attribute_not_exists(next_at) OR next_at <= :now",
                    {":next": _number(now + spacing), ":now": _number(now), ":ttl": ttl},
                )
                if done:
                    self._next_seen[bucket], self._queued_last[bucket] = now + spacing, False
                    return now
            queue = not queue
        raise PausedError(now + spacing, f"TikTok's {bucket!r} limit is contended")  # not reached: see above

    def _write(self, bucket: str, update: str, condition: str, values: dict[str, Any]) -> tuple[bool, float | None]:
        """One conditional write of the bucket item: (done, `next_at` after it, or as it stood when refused)."""
        try:
            answer = self._db.update_item(
                TableName=self._table,
                Key=bucket_key(bucket),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues=values,
                ReturnValues="UPDATED_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            return False, _read_number(failed_item(error), "next_at")
        return True, _read_number(answer.get("Attributes"), "next_at")


def _number(value: float) -> Any:
    return _serializer.serialize(Decimal(f"{value:.6f}"))


def _read_number(item: Mapping[str, Any] | None, name: str) -> float | None:
    attribute = (item or {}).get(name)
    return float(attribute["N"]) if attribute else None
