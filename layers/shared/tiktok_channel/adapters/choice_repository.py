"""The merchant's choices of what goes to TikTok (journey 8), beside the store item: one item per product kept off,
(STORE#<id>, CHOICE#P#<product id>), and one per category kept off, (STORE#<id>, CHOICE#C#<category id>).

Not catalog items: a disconnect leaves them (the choices are the merchant's, not the connection's); an uninstall
deletes them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import TYPE_CHECKING, Any

from tiktok_channel.adapters.dynamo_items import attribute

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PRODUCT_PREFIX = "CHOICE#P#"
CATEGORY_PREFIX = "CHOICE#C#"
_BATCH_GET = 100
_BATCH_WRITE = 25


def choice_key(store_id: int, prefix: str, entity_id: int) -> dict[str, Any]:
    return {"pk": {"S": f"STORE#{store_id}"}, "sk": {"S": f"{prefix}{entity_id}"}}


class DynamoChoiceRepository:
    """The `ChoiceRepository` port over the stores table."""

    def __init__(self, dynamodb: DynamoDBClient, table_name: str) -> None:
        self._db = dynamodb
        self._table = table_name

    def kept_off_products(self, store_id: int) -> frozenset[int]:
        return frozenset(self._ids(store_id, PRODUCT_PREFIX))

    def is_kept_off(self, store_id: int, product_id: int) -> bool:
        key = choice_key(store_id, PRODUCT_PREFIX, product_id)
        return "Item" in self._db.get_item(TableName=self._table, Key=key, ConsistentRead=True)

    def kept_off_categories(self, store_id: int) -> frozenset[int]:
        return frozenset(self._ids(store_id, CATEGORY_PREFIX))

    def keep_products_off(self, store_id: int, product_ids: Collection[int], *, show: bool, at: str) -> list[int]:
        wanted = sorted(set(product_ids))
        present = self._present(store_id, wanted)
        changed = [i for i in wanted if (i in present) == show]
        if show:
            requests = [{"DeleteRequest": {"Key": choice_key(store_id, PRODUCT_PREFIX, i)}} for i in changed]
        else:
            requests = [
                {"PutRequest": {"Item": {**choice_key(store_id, PRODUCT_PREFIX, i), "at": attribute(at)}}}
                for i in changed
            ]
        self._write(requests)
        return changed

    def keep_category_off(self, store_id: int, category_id: int, *, show: bool, at: str) -> bool:
        key = choice_key(store_id, CATEGORY_PREFIX, category_id)
        if show:
            answer = self._db.delete_item(TableName=self._table, Key=key, ReturnValues="ALL_OLD")
            return "Attributes" in answer
        answer = self._db.put_item(TableName=self._table, Item={**key, "at": attribute(at)}, ReturnValues="ALL_OLD")
        return "Attributes" not in answer

    def forget(self, store_id: int) -> None:
        keys = [
            choice_key(store_id, prefix, i)
            for prefix in (PRODUCT_PREFIX, CATEGORY_PREFIX)
            for i in self._ids(store_id, prefix)
        ]
        self._write([{"DeleteRequest": {"Key": key}} for key in keys])

    def _ids(self, store_id: int, prefix: str) -> Iterator[int]:
        paginator = self._db.get_paginator("query")
        for page in paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": f"STORE#{store_id}"}, ":prefix": {"S": prefix}},
            ProjectionExpression="sk",
            ConsistentRead=True,
        ):
            for item in page.get("Items", []):
                yield int(item["sk"]["S"].removeprefix(prefix))

    def _present(self, store_id: int, product_ids: list[int]) -> set[int]:
        present: set[int] = set()
        for start in range(0, len(product_ids), _BATCH_GET):
            keys: Any = [choice_key(store_id, PRODUCT_PREFIX, i) for i in product_ids[start : start + _BATCH_GET]]
            while keys:
                answer: Any = self._db.batch_get_item(
                    RequestItems={self._table: {"Keys": keys, "ProjectionExpression": "sk", "ConsistentRead": True}}
                )
                for item in answer.get("Responses", {}).get(self._table, []):
                    present.add(int(item["sk"]["S"].removeprefix(PRODUCT_PREFIX)))
                keys = answer.get("UnprocessedKeys", {}).get(self._table, {}).get("Keys", [])
        return present

    def _write(self, requests: list[Any]) -> None:
        for start in range(0, len(requests), _BATCH_WRITE):
            pending: Any = requests[start : start + _BATCH_WRITE]
            while pending:
                answer = self._db.batch_write_item(RequestItems={self._table: pending})
                pending = answer.get("UnprocessedItems", {}).get(self._table, [])
