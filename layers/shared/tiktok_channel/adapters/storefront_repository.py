"""The storefront item in the stores table: (STORE#<id>, STOREFRONT), beside the store item.

Every move of the storefront's state is one transaction: the store item's `storefront_state` (what the
store status shows) moves only from the states the caller expects, and the storefront item gets the move
appended to its history together with whatever the move records (the application, TikTok's decision).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from tiktok_channel.adapters.dynamo_items import attribute, from_item, model_map
from tiktok_channel.adapters.store_repository import state_key, store_key
from tiktok_channel.errors import ConcurrentUpdate
from tiktok_channel.models.storefront import StorefrontMove, StorefrontRecord

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

NOT_APPLIED = "not_applied"  # also what a store item without storefront_state means


def storefront_key(store_id: int) -> dict[str, Any]:
    return {"pk": {"S": f"STORE#{store_id}"}, "sk": {"S": "STOREFRONT"}}


class DynamoStorefrontRepository:
    def __init__(self, dynamodb: DynamoDBClient, table_name: str) -> None:
        self._db = dynamodb
        self._table = table_name

    def get(self, store_id: int) -> StorefrontRecord | None:
        answer = self._db.get_item(TableName=self._table, Key=storefront_key(store_id), ConsistentRead=True)
        item = answer.get("Item")
        return StorefrontRecord.model_validate(from_item(item)) if item else None

    def move(
        self,
        store_id: int,
        *,
        from_states: Collection[str],
        move: StorefrontMove,
        require_connected: bool,
        sets: Mapping[str, Any] | None = None,
        removes: Collection[str] = (),
    ) -> None:
        """Move the storefront to `move.state` if it is in one of `from_states` (and, when asked, the store is
        connected to TikTok); record the move and `sets` on the storefront item. ConcurrentUpdate otherwise."""
        states = sorted(from_states)
        values: dict[str, Any] = {f":from{i}": attribute(state) for i, state in enumerate(states)}
        in_states = f"storefront_state IN ({', '.join(values)})"
        if NOT_APPLIED in states:
            in_states = f"({in_states} OR attribute_not_exists(storefront_state))"
        condition = f"attribute_exists(pk) AND {in_states}"
        names: dict[str, str] = {}
        if require_connected:
            condition += " AND #status = :connected"
            names["#status"] = "status"
            values[":connected"] = attribute("connected")
        values.update({":to": attribute(move.state), ":at": attribute(move.at), ":one": attribute(1)})

        fields = dict(sets or {})
        field_names = {f"#s{i}": name for i, name in enumerate(fields)}
        field_values = {f":s{i}": attribute(value) for i, value in enumerate(fields.values())}
        assignments = [f"#s{i} = :s{i}" for i in range(len(fields))]
        removals = {f"#r{i}": name for i, name in enumerate(removes)}
        update = "SET " + ", ".join(
            [
                "store_id = :store_id",
                "history = list_append(if_not_exists(history, :empty), :move)",
                "updated_at = :at",
                *assignments,
            ]
        )
        if removals:
            update += " REMOVE " + ", ".join(removals)
        store_update: dict[str, Any] = {
            "TableName": self._table,
            "Key": store_key(store_id),
            "UpdateExpression": "SET storefront_state = :to, updated_at = :at, version = version + :one",
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
        }
        if names:
            store_update["ExpressionAttributeNames"] = names
        storefront_update: dict[str, Any] = {
            "TableName": self._table,
            "Key": storefront_key(store_id),
            "UpdateExpression": update,
            "ExpressionAttributeValues": {
                ":store_id": attribute(store_id),
                ":empty": attribute([]),
                ":move": attribute([model_map(move)]),
                ":at": attribute(move.at),
                **field_values,
            },
        }
        if field_names or removals:
            storefront_update["ExpressionAttributeNames"] = {**field_names, **removals}
        transaction: list[Any] = [{"Update": store_update}, {"Update": storefront_update}]
        try:
            self._db.transact_write_items(TransactItems=transaction)
        except ClientError as error:
            if error.response["Error"]["Code"] == "TransactionCanceledException":
                raise ConcurrentUpdate(f"store {store_id}'s storefront is no longer {' or '.join(states)}") from None
            raise

    def consume_state(self, store_id: int, nonce: str, auth_code_hash: str) -> None:
        """Spend an issued storefront state on one auth code (a retried callback with that code may resume)."""
        try:
            self._db.update_item(
                TableName=self._table,
                Key=state_key(store_id, nonce),
                UpdateExpression="SET #status = :consumed, auth_code_hash = :hash",
                ConditionExpression="#status = :issued AND purpose = :storefront",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":consumed": attribute("consumed"),
                    ":issued": attribute("issued"),
                    ":storefront": attribute("storefront"),
                    ":hash": attribute(auth_code_hash),
                },
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ConcurrentUpdate("the OAuth state was used by another request") from None
            raise
