"""The connect flow in the stores table: OAuth state items and the pending connection on the store item.

Keys: OAuth state nonces are (STORE#<id>, STATE#<nonce>) with a TTL; the pending connection is kept on the
store item apart from the live one until every setup step has succeeded, then replaces it in one transaction
that also marks the state completed and puts the store in the sparse `connected-stores` index.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from tiktok_channel.adapters.dynamo_items import attribute, from_item, is_condition_failure, model_attributes, model_map
from tiktok_channel.adapters.store_repository import (
    STATE_TTL_GRACE_SECONDS,
    connected_shard,
    state_key,
    store_key,
)
from tiktok_channel.errors import ConcurrentUpdate
from tiktok_channel.models.store import OAuthState, PendingConnection, Store, SyncState, TikTokConnection

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoConnectionRepository:
    """The `ConnectionRepository` port over the stores table."""

    def __init__(self, dynamodb: DynamoDBClient, table_name: str) -> None:
        self._db = dynamodb
        self._table = table_name

    # -- OAuth state ---------------------------------------------------------------------------
    def issue_state(self, state: OAuthState, *, phone: bytes | None, now: str) -> None:
        """Record a new state nonce and, with it, the phone the merchant gave for this connect."""
        updates = ["updated_at = :now", "version = version + :one"]
        values: dict[str, Any] = {":now": attribute(now), ":one": attribute(1)}
        if phone is not None:
            updates.append("phone = :phone")
            values[":phone"] = attribute(phone)
        self._db.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {
                            **state_key(state.store_id, state.nonce),
                            **model_attributes(state),
                            "ttl": attribute(state.expires_at + STATE_TTL_GRACE_SECONDS),
                        },
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": store_key(state.store_id),
                        "UpdateExpression": "SET " + ", ".join(updates),
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeValues": values,
                    }
                },
            ]
        )

    def get_state(self, store_id: int, nonce: str) -> OAuthState | None:
        answer = self._db.get_item(TableName=self._table, Key=state_key(store_id, nonce), ConsistentRead=True)
        item = answer.get("Item")
        return OAuthState.model_validate(from_item(item)) if item else None

    def begin_connection(self, state: OAuthState, *, auth_code_hash: str, pending: PendingConnection) -> None:
        """Consume the state and keep the new token as the pending connection, in one transaction."""
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": state_key(state.store_id, state.nonce),
                            "UpdateExpression": "SET #status = :consumed, auth_code_hash = :hash",
                            "ConditionExpression": "#status = :issued",
                            "ExpressionAttributeNames": {"#status": "status"},
                            "ExpressionAttributeValues": {
                                ":consumed": attribute("consumed"),
                                ":issued": attribute("issued"),
                                ":hash": attribute(auth_code_hash),
                            },
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": store_key(state.store_id),
                            "UpdateExpression": "SET pending_connection = :pending, version = version + :one",
                            "ConditionExpression": "attribute_exists(pk)",
                            "ExpressionAttributeValues": {
                                ":pending": attribute(model_map(pending)),
                                ":one": attribute(1),
                            },
                        }
                    },
                ]
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "TransactionCanceledException":
                raise ConcurrentUpdate("the OAuth state was used by another request") from None
            raise

    def set_state_status(self, store_id: int, nonce: str, status: str) -> None:
        self._db.update_item(
            TableName=self._table,
            Key=state_key(store_id, nonce),
            UpdateExpression="SET #status = :status",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":status": attribute(status)},
        )

    # -- pending TikTok connection -------------------------------------------------------------
    def update_pending(self, store_id: int, nonce: str, **fields: Any) -> None:
        """Remember each setup step as soon as it succeeded, so a retried callback resumes there."""
        names = {f"#f{i}": name for i, name in enumerate(fields)}
        values = {f":v{i}": attribute(value) for i, value in enumerate(fields.values())}
        assignments = ", ".join(f"pending_connection.#f{i} = :v{i}" for i in range(len(fields)))
        try:
            self._db.update_item(
                TableName=self._table,
                Key=store_key(store_id),
                UpdateExpression=f"SET {assignments}, version = version + :one",
                ConditionExpression="pending_connection.nonce = :nonce",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={**values, ":nonce": attribute(nonce), ":one": attribute(1)},
            )
        except ClientError as error:
            if is_condition_failure(error):
                raise ConcurrentUpdate("the pending TikTok connection was replaced") from None
            raise

    def abandon_connection(self, store_id: int, nonce: str) -> None:
        """Forget a pending connection TikTok refused, and retire its state."""
        try:
            self._db.update_item(
                TableName=self._table,
                Key=store_key(store_id),
                UpdateExpression="REMOVE pending_connection SET version = version + :one",
                ConditionExpression="pending_connection.nonce = :nonce",
                ExpressionAttributeValues={":nonce": attribute(nonce), ":one": attribute(1)},
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise
        self.set_state_status(store_id, nonce, "failed")

    def complete_connection(
        self, store_id: int, nonce: str, connection: TikTokConnection, sync: SyncState, now: str
    ) -> Store:
        """Make the pending connection live: raise the epoch, mark connected, list in the sparse index."""
        try:
            answer = self._db.update_item(
                TableName=self._table,
                Key=store_key(store_id),
                UpdateExpression=(
                    "SET tiktok = :connection, #status = :connected, epoch = if_not_exists(epoch, :zero) + :one, "
                    "connection_nonce = :nonce, connected_shard = :shard, sync = :sync, updated_at = :now, "
                    "version = version + :one REMOVE pending_connection"
                ),
                ConditionExpression="pending_connection.nonce = :nonce",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":connection": attribute(model_map(connection)),
                    ":connected": attribute("connected"),
                    ":zero": attribute(0),
                    ":one": attribute(1),
                    ":nonce": attribute(nonce),
                    ":shard": attribute(connected_shard(store_id)),
                    ":sync": attribute(model_map(sync)),
                    ":now": attribute(now),
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if is_condition_failure(error):
                raise ConcurrentUpdate("the pending TikTok connection was replaced") from None
            raise
        return Store.model_validate(from_item(answer["Attributes"]))
