"""The pixel's items in the stores table, beside the store item (design.md, "State"):

- (STORE#<id>, PIXEL): `PixelState`, kept across a disconnect, deleted at uninstall;
- (STORE#<id>, ORDER#<order id>): one `PurchaseRecord` per order whose purchase the server handled, expiring
  after `PURCHASE_MEMORY_SECONDS` (longer than Ecwid's webhook retries, and than the oldest order it sends);
- (STORE#<id>, PURCHASES#<YYYY-MM-DDTHH>): purchases TikTok accepted in that UTC hour, expiring after two days.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tiktok_channel.adapters.dynamo_items import attribute, from_item, model_attributes, ttl_attribute
from tiktok_channel.models.pixel import PixelState, PurchaseRecord

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# An order is remembered this long after its purchase was handled: Ecwid may repeat a webhook for days, and an
# order edited weeks later fires order.updated again (services/purchases.py never sends orders this old).
PURCHASE_MEMORY_SECONDS = 90 * 86_400
_HOUR_TTL_SECONDS = 2 * 86_400
_BATCH_WRITE = 25


def pixel_key(store_id: int) -> dict[str, Any]:
    return {"pk": {"S": f"STORE#{store_id}"}, "sk": {"S": "PIXEL"}}


def purchase_key(store_id: int, order_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"STORE#{store_id}"}, "sk": {"S": f"ORDER#{order_id}"}}


def hour_sk(at: float) -> str:
    return "PURCHASES#" + datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H")


class DynamoPixelRepository:
    """The `PixelRepository` port over the stores table."""

    def __init__(self, dynamodb: DynamoDBClient, table_name: str) -> None:
        self._db = dynamodb
        self._table = table_name

    def get(self, store_id: int) -> PixelState:
        item = self._db.get_item(TableName=self._table, Key=pixel_key(store_id), ConsistentRead=True).get("Item")
        return PixelState.model_validate(from_item(item)) if item else PixelState()

    def update(self, store_id: int, **fields: Any) -> PixelState:
        unknown = set(fields) - set(PixelState.model_fields)
        if unknown:
            raise ValueError(f"no such pixel fields: {sorted(unknown)}")
        names = {f"#f{i}": name for i, name in enumerate(fields)}
        sets = [f"#f{i} = :v{i}" for i, value in enumerate(fields.values()) if value is not None]
        removes = [f"#f{i}" for i, value in enumerate(fields.values()) if value is None]
        values = {
            f":v{i}": attribute(value.model_dump(exclude_none=True) if hasattr(value, "model_dump") else value)
            for i, value in enumerate(fields.values())
            if value is not None
        }
        clauses = ([f"SET {', '.join(sets)}"] if sets else []) + ([f"REMOVE {', '.join(removes)}"] if removes else [])
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": pixel_key(store_id),
            "UpdateExpression": " ".join(clauses),
            "ExpressionAttributeNames": names,
            "ReturnValues": "ALL_NEW",
        }
        if values:
            request["ExpressionAttributeValues"] = values
        answer = self._db.update_item(**request)
        return PixelState.model_validate(from_item(answer.get("Attributes", {})))

    def get_purchase(self, store_id: int, order_id: str) -> PurchaseRecord | None:
        key = purchase_key(store_id, order_id)
        item = self._db.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item")
        return PurchaseRecord.model_validate(from_item(item)) if item else None

    def put_purchase(self, store_id: int, record: PurchaseRecord, *, at: float) -> None:
        self._db.put_item(TableName=self._table, Item=self._purchase_item(store_id, record, at))

    def purchase_sent(self, store_id: int, record: PurchaseRecord, *, at: float) -> None:
        # One transaction, so the page's count and the record that stops a second send never disagree.
        self._db.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": self._table, "Item": self._purchase_item(store_id, record, at)}},
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": {"pk": {"S": f"STORE#{store_id}"}, "sk": {"S": hour_sk(at)}},
                        "UpdateExpression": "ADD purchases :one SET #ttl = :ttl",
                        "ExpressionAttributeNames": {"#ttl": "ttl"},
                        "ExpressionAttributeValues": {
                            ":one": {"N": "1"},
                            ":ttl": ttl_attribute(at, _HOUR_TTL_SECONDS),
                        },
                    }
                },
            ]
        )

    def purchases_since(self, store_id: int, since: float) -> int:
        # At most 25 hour items: one Query, no paging needed.
        first = hour_sk(since)
        last = hour_sk(since + 2 * 86_400)
        answer = self._db.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :last",
            ExpressionAttributeValues={
                ":pk": {"S": f"STORE#{store_id}"},
                ":first": {"S": first},
                ":last": {"S": last},
            },
            ProjectionExpression="purchases",
            ConsistentRead=True,
        )
        return sum(int(item.get("purchases", {}).get("N", "0")) for item in answer.get("Items", []))

    def forget(self, store_id: int) -> None:
        keys: list[dict[str, Any]] = [pixel_key(store_id)]
        for prefix in ("ORDER#", "PURCHASES#"):
            paginator = self._db.get_paginator("query")
            for page in paginator.paginate(
                TableName=self._table,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
                ExpressionAttributeValues={":pk": {"S": f"STORE#{store_id}"}, ":prefix": {"S": prefix}},
                ProjectionExpression="pk, sk",
            ):
                keys.extend({"pk": item["pk"], "sk": item["sk"]} for item in page.get("Items", []))
        for start in range(0, len(keys), _BATCH_WRITE):
            requests: Any = [{"DeleteRequest": {"Key": key}} for key in keys[start : start + _BATCH_WRITE]]
            while requests:
                answer = self._db.batch_write_item(RequestItems={self._table: requests})
                requests = answer.get("UnprocessedItems", {}).get(self._table, [])

    def _purchase_item(self, store_id: int, record: PurchaseRecord, at: float) -> dict[str, Any]:
        return {
            **purchase_key(store_id, record.order_id),
            **model_attributes(record),
            "ttl": ttl_attribute(at, PURCHASE_MEMORY_SECONDS),
        }
