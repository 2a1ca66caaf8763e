"""The disconnect side of the stores table: the one write that cleans a store, and the remote cleanup items.

The store item and the storefront item change in one transaction with the cleanup items' creation.

Keys: a remote cleanup is (STORE#<id>, CLEANUP#<cleanup_id>) with a TTL; it keeps the KMS-encrypted TikTok
token of a connection that was taken down here until TikTok confirmed the disconnect and the revocation.
Its SKU chunks are (STORE#<id>, CLEANUP_SKUS#<cleanup_id>#<first sku_id>) with the same TTL, each ≤ 1,000
sku_ids to delete from TikTok's catalog (the prefix is not "CLEANUP#…", so `pending` never reads them).
The store's catalog items (SKU#…, RUN#…, CATEGORIES) are deleted in pages of 25 (BatchWriteItem's limit);
SKU items a page at a time of ≤ 1,000, after the sku_ids of those on TikTok were written into a chunk (a
crash between the two writes the chunk again; TikTok deletes a SKU twice harmlessly).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from tiktok_channel.adapters.dynamo_items import attribute, from_item, is_condition_failure, model_attributes, model_map
from tiktok_channel.adapters.store_repository import state_key, store_key
from tiktok_channel.adapters.storefront_repository import storefront_key
from tiktok_channel.errors import ConcurrentUpdate
from tiktok_channel.models.cleanup import SKUS_PER_CHUNK, CleanupItem, SkuChunk
from tiktok_channel.models.store import ProductCounts, RemoteCleanup, Store, SyncState

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CLEANUP_TTL_SECONDS = 30 * 86_400  # a safety net: an item normally goes as soon as TikTok confirmed
_CHUNK_PREFIX = "CLEANUP_SKUS#"
_BATCH_WRITE = 25


def cleanup_key(store_id: int, cleanup_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"STORE#{store_id}"}, "sk": {"S": f"CLEANUP#{cleanup_id}"}}


def chunk_key(store_id: int, cleanup_id: str, first_sku: str) -> dict[str, Any]:
    return {"pk": {"S": f"STORE#{store_id}"}, "sk": {"S": f"{_CHUNK_PREFIX}{cleanup_id}#{first_sku}"}}


class DynamoCleanupRepository:
    def __init__(self, dynamodb: DynamoDBClient, table_name: str) -> None:
        self._db = dynamodb
        self._table = table_name

    # -- the local half, in one transaction ------------------------------------------------------
    def disconnect(
        self, store: Store, cleanups: list[CleanupItem], *, epoch: int, uninstall: bool, now: str, at: float
    ) -> None:
        """Take the store off TikTok here and keep its tokens for the remote cleanup, at the new `epoch`.

        Conditional on the version read, so a connect, a sync or another disconnect in between makes the
        caller read again. The epoch goes up: every queued message of the old connection is dropped.
        """
        removes = ["tiktok", "pending_connection", "connected_shard", "connection_nonce", "notice"]
        if uninstall:
            # Personal data and the Ecwid access go with the app; the item stays for its epoch.
            removes += ["ecwid_token", "ecwid_scope", "phone", "email", "install_code_hash"]
        values: dict[str, Any] = {
            ":disconnected": attribute("disconnected"),
            ":epoch": attribute(epoch),
            ":sync": attribute(model_map(SyncState())),
            ":products": attribute(model_map(ProductCounts())),
            ":not_applied": attribute("not_applied"),
            ":now": attribute(now),
            ":one": attribute(1),
            ":version": attribute(store.version),
        }
        sets = [
            "#status = :disconnected",
            "epoch = :epoch",
            "sync = :sync",
            "products = :products",
            "storefront_state = :not_applied",
            "updated_at = :now",
            "version = version + :one",
        ]
        if cleanups:
            sets.append("remote_cleanup = :cleanup")
            values[":cleanup"] = attribute(model_map(RemoteCleanup(state="pending", updated_at=now)))
        transaction: list[Any] = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": store_key(store.store_id),
                    "UpdateExpression": f"SET {', '.join(sets)} REMOVE {', '.join(removes)}",
                    "ConditionExpression": "version = :version",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": values,
                }
            },
            # The storefront starts again from "not applied": its application (personal data) goes too.
            {"Delete": {"TableName": self._table, "Key": storefront_key(store.store_id)}},
        ]
        for cleanup in cleanups:
            transaction.append(
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {
                            **cleanup_key(store.store_id, cleanup.cleanup_id),
                            **model_attributes(cleanup),
                            "ttl": attribute(int(at) + CLEANUP_TTL_SECONDS),
                        },
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
        try:
            self._db.transact_write_items(TransactItems=transaction)
        except ClientError as error:
            if error.response["Error"]["Code"] == "TransactionCanceledException":
                raise ConcurrentUpdate(f"store {store.store_id} changed while it was being disconnected") from None
            raise

    def retire_states(self, store_id: int) -> int:
        """Spend the store's unused OAuth states, so a TikTok page left open cannot connect it afterwards."""
        retired = 0
        for item in self._query(store_id, "STATE#", projection="sk, #status", names={"#status": "status"}):
            if item.get("status", {}).get("S") != "issued":
                continue
            nonce = item["sk"]["S"].removeprefix("STATE#")
            try:
                self._db.update_item(
                    TableName=self._table,
                    Key=state_key(store_id, nonce),
                    UpdateExpression="SET #status = :failed",
                    ConditionExpression="#status = :issued",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues={":failed": attribute("failed"), ":issued": attribute("issued")},
                )
                retired += 1
            except ClientError as error:
                if not is_condition_failure(error):
                    raise
        return retired

    def purge_catalog(
        self, store_id: int, *, time_left: Callable[[], bool], keep_for: str | None = None, at: float = 0.0
    ) -> bool:
        """Delete the store's SKU items (their sku_ids on TikTok kept first in `keep_for`'s chunks), sync runs
        and hidden categories; False when time ran out first."""
        page: list[dict[str, Any]] = []
        for item in self._query(store_id, "SKU#", projection="pk, sk, on_tiktok"):
            page.append(item)
            if len(page) >= SKUS_PER_CHUNK:
                if not self._purge_skus(store_id, page, keep_for, at, time_left):
                    return False
                page = []
        if not self._purge_skus(store_id, page, keep_for, at, time_left):
            return False
        keys: list[dict[str, Any]] = [{"pk": {"S": f"STORE#{store_id}"}, "sk": {"S": "CATEGORIES"}}]
        # Sync runs, and the edits still counted as waiting (health_repository.py): they go with the connection.
        waiting = self._query(store_id, "WAIT#", projection="pk, sk")
        for item in itertools.chain(self._query(store_id, "RUN#", projection="pk, sk"), waiting):
            keys.append({"pk": item["pk"], "sk": item["sk"]})
            if len(keys) >= _BATCH_WRITE:
                if not time_left():
                    return False
                self._delete(keys)
                keys = []
        self._delete(keys)
        return True

    def _purge_skus(
        self, store_id: int, page: list[dict[str, Any]], keep_for: str | None, at: float, time_left: Callable[[], bool]
    ) -> bool:
        if not page:
            return True
        if not time_left():
            return False
        sku_ids = [item["sk"]["S"].removeprefix("SKU#") for item in page if item.get("on_tiktok", {}).get("BOOL")]
        if keep_for is not None and sku_ids:
            chunk = SkuChunk(store_id=store_id, cleanup_id=keep_for, first_sku=sku_ids[0], sku_ids=sku_ids)
            self._db.put_item(
                TableName=self._table,
                Item={
                    **chunk_key(store_id, keep_for, chunk.first_sku),
                    **model_attributes(chunk),
                    "ttl": attribute(int(at) + CLEANUP_TTL_SECONDS),
                },
            )
        for start in range(0, len(page), _BATCH_WRITE):
            if start and not time_left():
                return False
            self._delete([{"pk": item["pk"], "sk": item["sk"]} for item in page[start : start + _BATCH_WRITE]])
        return True

    # -- remote cleanup items --------------------------------------------------------------------
    def pending(self, store_id: int) -> list[CleanupItem]:
        return [CleanupItem.model_validate(from_item(item)) for item in self._query(store_id, "CLEANUP#")]

    def sku_chunks(self, store_id: int, cleanup_id: str) -> Iterator[SkuChunk]:
        for item in self._query(store_id, f"{_CHUNK_PREFIX}{cleanup_id}#"):
            yield SkuChunk.model_validate(from_item(item))

    def drop_chunk(self, chunk: SkuChunk) -> None:
        self._db.delete_item(TableName=self._table, Key=chunk_key(chunk.store_id, chunk.cleanup_id, chunk.first_sku))

    def save_progress(self, item: CleanupItem) -> None:
        """Record a try that did not finish: the steps TikTok confirmed, the tries so far and the last error."""
        try:
            self._db.update_item(
                TableName=self._table,
                Key=cleanup_key(item.store_id, item.cleanup_id),
                UpdateExpression=(
                    "SET outcomes = :outcomes, attempts = :attempts, last_error = :error, updated_at = :now"
                ),
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={
                    ":outcomes": attribute(item.outcomes),
                    ":attempts": attribute(item.attempts),
                    ":error": attribute(item.last_error or ""),
                    ":now": attribute(item.updated_at or ""),
                },
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            # Finished by another request or worker meanwhile: nothing left to record.

    def finish(self, item: CleanupItem) -> None:
        """TikTok confirmed everything: the token is forgotten, and chunks left (a revoked token's) with it."""
        self._db.delete_item(TableName=self._table, Key=cleanup_key(item.store_id, item.cleanup_id))
        prefix = f"{_CHUNK_PREFIX}{item.cleanup_id}#"
        left = [{"pk": i["pk"], "sk": i["sk"]} for i in self._query(item.store_id, prefix, projection="pk, sk")]
        for start in range(0, len(left), _BATCH_WRITE):
            self._delete(left[start : start + _BATCH_WRITE])

    def set_outcome(self, store_id: int, outcome: RemoteCleanup) -> None:
        """Show on the store how telling TikTok went (the store may have been reconnected meanwhile)."""
        try:
            self._db.update_item(
                TableName=self._table,
                Key=store_key(store_id),
                UpdateExpression="SET remote_cleanup = :outcome",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":outcome": attribute(model_map(outcome))},
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise

    # -- plumbing --------------------------------------------------------------------------------
    def _query(
        self, store_id: int, prefix: str, *, projection: str | None = None, names: dict[str, str] | None = None
    ) -> Iterator[dict[str, Any]]:
        options: dict[str, Any] = {}
        if projection:
            options["ProjectionExpression"] = projection
        if names:
            options["ExpressionAttributeNames"] = names
        paginator = self._db.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": f"STORE#{store_id}"}, ":prefix": {"S": prefix}},
            ConsistentRead=True,
            **options,
        )
        for page in pages:
            yield from page["Items"]

    def _delete(self, keys: list[dict[str, Any]]) -> None:
        pending: dict[str, Any] = {self._table: [{"DeleteRequest": {"Key": key}} for key in keys]} if keys else {}
        while pending:
            answer = self._db.batch_write_item(RequestItems=pending)
            pending = dict(answer.get("UnprocessedItems") or {})
