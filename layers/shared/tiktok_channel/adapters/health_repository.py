"""The sync's health in DynamoDB (journey 8): waiting edits, the fleet pause as recorded, stalls counted once,
the "Check with TikTok" job on the store item.

A catalog event the worker could not apply is one item (STORE#<id>, WAIT#<event id>) holding when it began
waiting: written only if absent, so a duplicate delivery or a redrive of the same event counts once; deleted when
the event is applied (or dropped for good); expiring after SQS's longest retention; and, in the store's
partition, purged with its catalog at disconnect and uninstall (cleanup_repository.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from tiktok_channel.adapters.dynamo_items import attribute, from_item, is_condition_failure, model_map, ttl_attribute
from tiktok_channel.adapters.rate_limit import PAUSE_KEY
from tiktok_channel.adapters.store_repository import store_key
from tiktok_channel.errors import NotConnected
from tiktok_channel.models.store import Store, TikTokCheck

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

WAIT_PREFIX = "WAIT#"
# SQS keeps a message 14 days at most: an edit still "waiting" after that was lost (dead-letter queue expired).
WAIT_MEMORY_SECONDS = 14 * 86_400
_BATCH_GET = 100
_MAX_KEY_EVENT_ID = 200


def wait_key(store_id: int, event_id: str) -> dict[str, Any]:
    """The waiting edit's key; an event id too long for a readable key is kept by its digest."""
    if len(event_id) > _MAX_KEY_EVENT_ID:
        event_id = hashlib.sha256(event_id.encode()).hexdigest()
    return {"pk": {"S": f"STORE#{store_id}"}, "sk": {"S": f"{WAIT_PREFIX}{event_id}"}}


class DynamoSyncHealthRepository:
    """The `SyncHealthRepository` port over the stores table."""

    def __init__(self, dynamodb: DynamoDBClient, table_name: str) -> None:
        self._db = dynamodb
        self._table = table_name

    # -- waiting edits ---------------------------------------------------------------------------
    def hold_edit(self, store_id: int, event_id: str, *, at: float) -> None:
        try:
            self._db.put_item(
                TableName=self._table,
                Item={
                    **wait_key(store_id, event_id),
                    "since": attribute(int(at)),
                    "ttl": ttl_attribute(at, WAIT_MEMORY_SECONDS),
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise  # already waiting: its first time stays

    def release_edit(self, store_id: int, event_id: str) -> None:
        self._db.delete_item(TableName=self._table, Key=wait_key(store_id, event_id))

    def waiting_edits(self, store_id: int, *, now: float) -> tuple[int, float | None]:
        count, oldest = 0, None
        paginator = self._db.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :wait)",
            ExpressionAttributeValues={":pk": {"S": f"STORE#{store_id}"}, ":wait": {"S": WAIT_PREFIX}},
            ProjectionExpression="since",
            ConsistentRead=True,
        )
        for page in pages:
            for item in page["Items"]:
                since = float(item["since"]["N"])
                if since + WAIT_MEMORY_SECONDS <= now:
                    continue  # expired, not yet deleted by DynamoDB
                count += 1
                oldest = since if oldest is None else min(oldest, since)
        return count, oldest

    def paused_until(self) -> float | None:
        answer = self._db.get_item(TableName=self._table, Key=PAUSE_KEY, ProjectionExpression="paused_until")
        value = (answer.get("Item") or {}).get("paused_until")
        return float(value["N"]) if value else None

    # -- stalls ----------------------------------------------------------------------------------
    def stores(self, store_ids: Sequence[int]) -> list[Store]:
        found: list[Store] = []
        ids = list(dict.fromkeys(store_ids))
        for start in range(0, len(ids), _BATCH_GET):
            keys: list[Any] = [store_key(store_id) for store_id in ids[start : start + _BATCH_GET]]
            while keys:
                answer = self._db.batch_get_item(RequestItems={self._table: {"Keys": keys}})
                found += [Store.model_validate(from_item(item)) for item in answer["Responses"].get(self._table, [])]
                unprocessed: dict[str, Any] = dict(answer.get("UnprocessedKeys") or {})
                keys = list((unprocessed.get(self._table) or {}).get("Keys", []))
        return found

    def note_stall(self, store_id: int, epoch: int, *, job_id: str, mark: str) -> bool:
        return self._update(
            store_id,
            "SET sync.stall_noted = :mark",
            "#epoch = :epoch AND sync.job_id = :job AND "
            "(attribute_not_exists(sync.stall_noted) OR sync.stall_noted <> :mark)",
            {":epoch": attribute(epoch), ":job": attribute(job_id), ":mark": attribute(mark)},
        )

    # -- "Check with TikTok" ---------------------------------------------------------------------
    def queue_check(self, store_id: int, check: TikTokCheck, stale_before: str) -> tuple[TikTokCheck, bool]:
        queued = self._update(
            store_id,
            "SET tiktok_check = :check",
            "#status = :connected AND #epoch = :epoch AND (attribute_not_exists(tiktok_check) "
            "OR tiktok_check.#state = :done OR tiktok_check.epoch <> :epoch "
            "OR attribute_not_exists(tiktok_check.queued_at) OR tiktok_check.queued_at < :stale)",
            {
                ":check": attribute(model_map(check)),
                ":connected": attribute("connected"),
                ":epoch": attribute(check.epoch),
                ":done": attribute("done"),
                ":stale": attribute(stale_before),
            },
            {"#status": "status", "#state": "state"},
        )
        if queued:
            return check, True
        answer = self._db.get_item(TableName=self._table, Key=store_key(store_id), ConsistentRead=True)
        store = Store.model_validate(from_item(answer["Item"])) if "Item" in answer else None
        current = store.tiktok_check if store is not None and store.status == "connected" else None
        if current is not None and current.state in ("queued", "running"):
            return current, False
        raise NotConnected(f"store {store_id} is not connected")

    def save_check(self, store_id: int, epoch: int, check: TikTokCheck) -> bool:
        return self._update(
            store_id,
            "SET tiktok_check = :check",
            "#epoch = :epoch AND tiktok_check.job_id = :job",
            {":check": attribute(model_map(check)), ":epoch": attribute(epoch), ":job": attribute(check.job_id)},
        )

    def _update(
        self, store_id: int, update: str, condition: str, values: dict[str, Any], names: dict[str, str] | None = None
    ) -> bool:
        """One conditional update of the store item: False when its condition did not hold."""
        try:
            self._db.update_item(
                TableName=self._table,
                Key=store_key(store_id),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
                ExpressionAttributeNames={"#epoch": "epoch", **(names or {})},
            )
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True
