"""The store item in DynamoDB (design.md, "State"): install, sync state, counts, notices, connected stores.

Keys: the store item is (STORE#<id>, STORE). Connected stores carry `connected_shard`, which puts them in the
sparse `connected-stores` index. The connect flow's writes are in connection_repository.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from tiktok_channel.adapters.dynamo_items import attribute, from_item, is_condition_failure, model_attributes, model_map
from tiktok_channel.errors import ConcurrentUpdate, NotConnected
from tiktok_channel.models.store import (
    Notice,
    ProductCounts,
    ReviewCandidate,
    Store,
    StoreStatus,
    SyncState,
    TikTokCounts,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CONNECTED_SHARDS = 16
CONNECTED_INDEX = "connected-stores"
REVIEW_INDEX = "pending-reviews"
STATE_TTL_GRACE_SECONDS = 86_400  # DynamoDB deletes expired items late; expiry itself is checked in code


def store_key(store_id: int) -> dict[str, Any]:
    return {"pk": {"S": f"STORE#{store_id}"}, "sk": {"S": "STORE"}}


def state_key(store_id: int, nonce: str) -> dict[str, Any]:
    return {"pk": {"S": f"STORE#{store_id}"}, "sk": {"S": f"STATE#{nonce}"}}


def connected_shard(store_id: int) -> str:
    return f"SHARD#{store_id % CONNECTED_SHARDS:02d}"


def review_shard(store_id: int) -> str:
    """The store's partition of the sparse pending-reviews index (present while SKUs wait for TikTok's review)."""
    return f"REVIEW#{store_id % CONNECTED_SHARDS:02d}"


class DynamoStoreRepository:
    """The `StoreRepository` port over the stores table."""

    def __init__(self, dynamodb: DynamoDBClient, table_name: str) -> None:
        self._db = dynamodb
        self._table = table_name

    # -- store item ----------------------------------------------------------------------------
    def get(self, store_id: int) -> Store | None:
        answer = self._db.get_item(TableName=self._table, Key=store_key(store_id), ConsistentRead=True)
        item = answer.get("Item")
        return Store.model_validate(from_item(item)) if item else None

    def save_installation(self, store: Store, *, expected_version: int | None) -> None:
        """Write the whole store item after an install, if nobody changed it since it was read.

        A connected store keeps its place in the sparse index the schedule reads (`connected_shard` is no field
        of the model, and a put replaces the whole item).
        """
        item = {
            **store_key(store.store_id),
            **model_attributes(store.model_copy(update={"version": store.version + 1})),
        }
        if store.status == "connected":
            item["connected_shard"] = attribute(connected_shard(store.store_id))
        try:
            if expected_version is None:
                self._db.put_item(TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)")
            else:
                self._db.put_item(
                    TableName=self._table,
                    Item=item,
                    ConditionExpression="version = :expected",
                    ExpressionAttributeValues={":expected": attribute(expected_version)},
                )
        except ClientError as error:
            if is_condition_failure(error):
                raise ConcurrentUpdate(f"store {store.store_id} changed while it was being installed") from None
            raise

    def connected_stores(self) -> Iterator[tuple[int, int]]:
        """(store id, epoch) of every connected store, shard by shard of the sparse index."""
        for values in self._sparse_index(CONNECTED_INDEX, "connected_shard", "SHARD"):
            yield int(values["store_id"]), int(values.get("epoch", 0))

    def _sparse_index(self, index: str, shard_key: str, prefix: str) -> Iterator[dict[str, Any]]:
        """Every item of a sharded sparse index (`<prefix>#00` … one partition per shard), as plain values."""
        paginator = self._db.get_paginator("query")
        for shard in range(CONNECTED_SHARDS):
            pages = paginator.paginate(
                TableName=self._table,
                IndexName=index,
                KeyConditionExpression=f"{shard_key} = :shard",
                ExpressionAttributeValues={":shard": attribute(f"{prefix}#{shard:02d}")},
            )
            for page in pages:
                for item in page["Items"]:
                    yield from_item(item)

    # -- sync state ----------------------------------------------------------------------------
    def queue_sync(self, store_id: int, job_id: str, now: str, stale_before: str) -> tuple[str, bool]:
        """Mark a sync queued unless one is queued or running: answer (the job id, whether it is new).

        A job queued or running since before `stale_before` is taken as lost (its message went to the DLQ).
        """
        try:
            # Field by field: the last finished sync (time and result) stays beside the queued one.
            self._db.update_item(
                TableName=self._table,
                Key=store_key(store_id),
                UpdateExpression=(
                    "SET sync.#state = :queued, sync.job_id = :job, sync.queued_at = :now, sync.done = :zero, "
                    "sync.#total = :zero, updated_at = :now, version = version + :one"
                ),
                ConditionExpression=(
                    "#status = :connected AND (attribute_not_exists(sync.#state) OR sync.#state = :idle "
                    "OR attribute_not_exists(sync.queued_at) OR sync.queued_at < :stale)"
                ),
                ExpressionAttributeNames={"#status": "status", "#state": "state", "#total": "total"},
                ExpressionAttributeValues={
                    ":queued": attribute("queued"),
                    ":job": attribute(job_id),
                    ":zero": attribute(0),
                    ":stale": attribute(stale_before),
                    ":connected": attribute("connected"),
                    ":idle": attribute("idle"),
                    ":now": attribute(now),
                    ":one": attribute(1),
                },
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            store = self.get(store_id)
            if store is not None and store.sync.state in ("queued", "running") and store.sync.job_id:
                return store.sync.job_id, False
            raise NotConnected(f"store {store_id} is not connected") from None
        return job_id, True

    def save_sync(self, store_id: int, epoch: int, sync: SyncState, products: ProductCounts | None = None) -> None:
        """Record sync progress or its end; a worker of an older connection changes nothing."""
        values: dict[str, Any] = {":sync": attribute(model_map(sync)), ":epoch": attribute(epoch)}
        update = "SET sync = :sync"
        if products is not None:
            update += ", products = :products"
            values[":products"] = attribute(model_map(products))
            # The end of a full sync, which read the review statuses too: the store waits its turn again, if any
            # SKU still waits for TikTok's review.
            checked = sync.reviews_checked_at or sync.last_finished_at
            if products.pending > 0 and checked:
                update += ", review_shard = :shard, review_due = :due"
                values |= {":shard": attribute(review_shard(store_id)), ":due": attribute(checked)}
            elif products.pending <= 0:
                update += " REMOVE review_shard, review_due"
        self._conditional_update(store_id, update, "#epoch = :epoch", values)

    def add_counts(self, store_id: int, epoch: int, changes: Mapping[str, int], *, now: str) -> None:
        """Move the store's product counts by what one event changed (atomic, so events may interleave); the
        store enters the pending-reviews index when SKUs start waiting for TikTok's review, and leaves it when none
        waits (one more write, on those transitions only)."""
        moves = {status: change for status, change in changes.items() if change}
        if not moves:
            return
        names = {f"#c{i}": status for i, status in enumerate(moves)}
        values: dict[str, Any] = {f":c{i}": attribute(change) for i, change in enumerate(moves.values())}
        values[":epoch"] = attribute(epoch)
        update = "ADD " + ", ".join(f"products.#c{i} :c{i}" for i in range(len(moves)))
        item = self._conditional_update(store_id, update, "#epoch = :epoch", values, names, returning=True)
        pending = int(((item.get("products") or {}).get("M") or {}).get("pending", {}).get("N", "0"))
        indexed = "review_shard" in item
        if pending > 0 and not indexed:
            values = {":epoch": attribute(epoch), ":shard": attribute(review_shard(store_id)), ":due": attribute(now)}
            self._conditional_update(
                store_id, "SET review_shard = :shard, review_due = :due", "#epoch = :epoch", values
            )
        elif pending <= 0 and indexed:
            self._conditional_update(
                store_id, "REMOVE review_shard, review_due", "#epoch = :epoch", {":epoch": attribute(epoch)}
            )

    def stores_to_review(self) -> list[ReviewCandidate]:
        """Every store in the pending-reviews index, the longest since its last check first (shards merged)."""
        found: list[ReviewCandidate] = []
        for values in self._sparse_index(REVIEW_INDEX, "review_shard", "REVIEW"):
            pending = int((values.get("products") or {}).get("pending", 0))
            if pending > 0:
                found.append(
                    ReviewCandidate(
                        store_id=int(values["store_id"]),
                        epoch=int(values.get("epoch", 0)),
                        pending=pending,
                        due=str(values["review_due"]),
                    )
                )
        return sorted(found, key=lambda candidate: candidate.due)

    def leave_review_index(self, store_id: int) -> None:
        """A store no longer connected stops being a review candidate (its counts went with its connection)."""
        self._db.update_item(
            TableName=self._table, Key=store_key(store_id), UpdateExpression="REMOVE review_shard, review_due"
        )

    def mark_reviewed(self, store_id: int, epoch: int, *, checked_at: str, counts: TikTokCounts) -> None:
        """Record the check; the store's place in the index (if it still has one) moves to the back."""
        values: dict[str, Any] = {
            ":epoch": attribute(epoch),
            ":checked": attribute(checked_at),
            ":counts": attribute(model_map(counts)),
        }
        update = "SET sync.reviews_checked_at = :checked, tiktok_counts = :counts, review_due = :checked"
        self._conditional_update(store_id, update, "#epoch = :epoch", values)

    def set_notice(
        self, store_id: int, epoch: int, notice: Notice | None, *, status: StoreStatus | None = None
    ) -> None:
        """Show (or clear) why the catalog is not synced; a status other than connected leaves the sparse index."""
        values: dict[str, Any] = {":epoch": attribute(epoch)}
        names: dict[str, str] = {}
        sets, removes = [], []
        if notice is None:
            removes.append("notice")
        else:
            sets.append("notice = :notice")
            values[":notice"] = attribute(model_map(notice))
        if status is not None:
            sets.append("#status = :status")
            names["#status"] = "status"
            values[":status"] = attribute(status)
            if status != "connected":
                removes.append("connected_shard")
        update = (f"SET {', '.join(sets)} " if sets else "") + (f"REMOVE {', '.join(removes)}" if removes else "")
        self._conditional_update(store_id, update, "#epoch = :epoch", values, names)

    def _conditional_update(
        self,
        store_id: int,
        update: str,
        condition: str,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
        *,
        returning: bool = False,
    ) -> dict[str, Any]:
        """One conditional update; the item after it when `returning` (else {})."""
        try:
            answer = self._db.update_item(
                TableName=self._table,
                Key=store_key(store_id),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
                ExpressionAttributeNames={"#epoch": "epoch", **(names or {})},
                ReturnValues="ALL_NEW" if returning else "NONE",
            )
        except ClientError as error:
            if is_condition_failure(error):
                raise ConcurrentUpdate(f"store {store_id} moved to another connection") from None
            raise
        return dict(answer.get("Attributes") or {})
