"""TikTok's allowance of 1,000 upload requests per hour per catalog (tiktok-api.md, "Catalog products" and
"Rate limits"), kept fleet-wide through DynamoDB for FleetRateLimiter.

One item per catalog, (RATE#upload#<catalog_id>, HOUR), holds `windows`, a map from sub-window number (epoch
seconds // 360) to the upload calls counted in it, and a `version` that every write moves on. A call rewrites the
map, pruned and with its own call added, on condition that `version` is still the one the sum was made from:
whatever other workers wrote meanwhile, in whichever sub-window, the write fails and its answer (ALL_OLD) is the
item to sum again. A worker keeps the item it last wrote, so a catalog that one worker uploads to costs one write
per call.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from tiktok_channel.adapters.dynamo_items import failed_item, is_condition_failure, ttl_attribute
from tiktok_channel.errors import PausedError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# TikTok allows 1,000 upload requests per hour per catalog (tiktok-api.md, "Catalog products", "Rate limits").
CATALOG_UPLOADS_PER_HOUR = 1000
HOUR_SECONDS = 3600
# The hour is counted in sub-windows of this many seconds. A call is let through only when the sub-windows that
# overlap the last hour, the oldest one whole, hold fewer than the allowance: strict for any sliding hour, at
# the price of counting a call for up to one sub-window (10%) longer than the hour.
SUB_WINDOW_SECONDS = 360
SUB_WINDOWS_PER_HOUR = HOUR_SECONDS // SUB_WINDOW_SECONDS
CATALOG_WRITE_ATTEMPTS = 8  # each refused write means another worker's write went through

# A refused run of writes gives the others this long; DynamoDB deletes expired items late, so an item is kept a
# little past the last sub-window that counts (shared with rate_limit.py's items).
SLEEP_STEP_SECONDS = 0.25
ITEM_TTL_SECONDS = 600


def catalog_uploads_key(catalog_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"RATE#upload#{catalog_id}"}, "sk": {"S": "HOUR"}}


@dataclass(frozen=True)
class CatalogCounts:
    """The catalog's item as a worker last knew it: upload calls per sub-window number, and its version."""

    version: int | None  # None: there is no item
    windows: Mapping[int, int]


def sub_window(at: float) -> int:
    """The sub-window an epoch time (seconds) falls in."""
    return math.floor(at / SUB_WINDOW_SECONDS)


class CatalogUploadCounter:
    """Counts upload calls per catalog so that none gets more than `per_hour` in any sliding hour, fleet-wide.
    `sleep_until(at)` waits until epoch second `at` (raising PausedError when a fleet pause comes meanwhile)."""

    def __init__(
        self,
        dynamodb: DynamoDBClient,
        table_name: str,
        *,
        clock: Callable[[], float],
        sleep_until: Callable[[float], None],
        per_hour: int = CATALOG_UPLOADS_PER_HOUR,
    ) -> None:
        if per_hour <= 0:
            raise ValueError(f"unusable hourly upload allowance {per_hour}")
        self._db = dynamodb
        self._table = table_name
        self._clock = clock
        self._sleep_until = sleep_until
        self._per_hour = per_hour
        # The item each catalog had after this worker's last write or read; a stale one costs one more write.
        self._catalogs_seen: dict[str, CatalogCounts] = {}

    def take(self, catalog_id: str, window: int, latest: float) -> None:
        """Count one upload call for the catalog in sub-window `window`, waiting until `latest` at most for room."""
        limit = self._per_hour
        seen = self._catalogs_seen.get(catalog_id)
        fresh = seen is None  # known to be the item as it stands now
        counts = seen if seen is not None else self._read_catalog(catalog_id)
        refused_writes = 0
        while True:
            now = self._clock()
            # Sub-windows that overlap the hour up to now, and any later ones (counted for calls still waiting
            # for their app slot); earlier ones hold only calls more than an hour old.
            kept = {w: n for w, n in counts.windows.items() if w >= sub_window(now) - SUB_WINDOWS_PER_HOUR}
            if sum(kept.values()) < limit:
                kept[window] = kept.get(window, 0) + 1
                done, counts = self._write_catalog(catalog_id, counts.version, kept)
                if done:
                    return
                refused_writes += 1
                if refused_writes >= CATALOG_WRITE_ATTEMPTS:
                    raise PausedError(now + SLEEP_STEP_SECONDS, f"uploads for catalog {catalog_id} are contended")
                fresh = True
                continue
            if not fresh:  # a full hour this worker remembers: look again before refusing or waiting
                counts, fresh = self._read_catalog(catalog_id), True
                continue
            until = _room_at(kept, limit)
            if until > latest:
                raise PausedError(until, f"TikTok's {limit:,} uploads per hour for catalog {catalog_id} are used")
            self._sleep_until(until)
            fresh = False

    def give_back(self, catalog_id: str, window: int) -> None:
        """Uncount an upload call that was counted but never went; best effort, since keeping it is safe."""
        self._catalogs_seen.pop(catalog_id, None)
        with contextlib.suppress(ClientError):
            self._db.update_item(
                TableName=self._table,
                Key=catalog_uploads_key(catalog_id),
                UpdateExpression="SET #windows.#window = #windows.#window - :one, #version = #version + :one",
                ConditionExpression="#windows.#window >= :one",
                ExpressionAttributeNames={"#windows": "windows", "#window": str(window), "#version": "version"},
                ExpressionAttributeValues={":one": {"N": "1"}},
            )

    def _read_catalog(self, catalog_id: str) -> CatalogCounts:
        answer = self._db.get_item(TableName=self._table, Key=catalog_uploads_key(catalog_id), ConsistentRead=True)
        counts = _catalog_counts(answer.get("Item"))
        self._catalogs_seen[catalog_id] = counts
        return counts

    def _write_catalog(
        self, catalog_id: str, version: int | None, windows: dict[int, int]
    ) -> tuple[bool, CatalogCounts]:
        """Replace the catalog's counts if the item is still at `version`: (done, the item after it, or as it is)."""
        new_version = (version or 0) + 1
        try:
            self._db.update_item(
                TableName=self._table,
                Key=catalog_uploads_key(catalog_id),
                UpdateExpression="SET #windows = :windows, #version = :new, #ttl = :ttl",
                ConditionExpression="attribute_not_exists(#version)" if version is None else "#version = :old",
                ExpressionAttributeNames={"#windows": "windows", "#version": "version", "#ttl": "ttl"},
                ExpressionAttributeValues={
                    ":windows": {"M": {str(w): {"N": str(n)} for w, n in windows.items()}},
                    ":new": {"N": str(new_version)},
                    # The item matters until its newest sub-window leaves the hour: about two hours at most.
                    ":ttl": ttl_attribute(
                        (max(windows) + SUB_WINDOWS_PER_HOUR + 1) * SUB_WINDOW_SECONDS, ITEM_TTL_SECONDS
                    ),
                    **({} if version is None else {":old": {"N": str(version)}}),
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            counts = _catalog_counts(failed_item(error))
            self._catalogs_seen[catalog_id] = counts
            return False, counts
        counts = CatalogCounts(new_version, windows)
        self._catalogs_seen[catalog_id] = counts
        return True, counts


def _room_at(windows: Mapping[int, int], limit: int) -> float:
    """When the counted sub-windows will hold fewer than `limit` calls, as the oldest leave the hour (seconds)."""
    remaining, until = sum(windows.values()), 0.0
    for window in sorted(windows):
        if remaining < limit:
            break
        remaining -= windows[window]
        until = float((window + SUB_WINDOWS_PER_HOUR + 1) * SUB_WINDOW_SECONDS)
    return until


def _catalog_counts(item: Mapping[str, Any] | None) -> CatalogCounts:
    if not item or "version" not in item:
        return CatalogCounts(None, {})
    windows = {int(w): int(n["N"]) for w, n in item.get("windows", {}).get("M", {}).items()}
    return CatalogCounts(int(item["version"]["N"]), windows)
