"""The stores table in DynamoDB: the store item and the OAuth state items (design.md, "State").

Keys: the store item is (STORE#<id>, STORE); OAuth state nonces are (STORE#<id>, STATE#<nonce>) with a
TTL. Connected stores carry `connected_shard`, which puts them in the sparse `connected-stores` index.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from tiktok_channel.models.store import OAuthState, PendingConnection, Store, SyncState, TikTokConnection

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CONNECTED_SHARDS = 16
CONNECTED_INDEX = "connected-stores"
STATE_TTL_GRACE_SECONDS = 86_400  # DynamoDB deletes expired items late; expiry itself is checked in code


class _Deserializer(TypeDeserializer):
    """boto3's deserializer, but binary attributes come back as plain bytes rather than `Binary`."""

    def _deserialize_b(self, value: bytes) -> bytes:
        return value


_serializer = TypeSerializer()
_deserializer = _Deserializer()


class ConcurrentUpdate(Exception):
    """Someone else changed the item first; the caller decides whether to re-read or give up."""


def store_key(store_id: int) -> dict[str, Any]:
    return {"pk": {"S": f"STORE#{store_id}"}, "sk": {"S": "STORE"}}


def state_key(store_id: int, nonce: str) -> dict[str, Any]:
    return {"pk": {"S": f"STORE#{store_id}"}, "sk": {"S": f"STATE#{nonce}"}}


def connected_shard(store_id: int) -> str:
    return f"SHARD#{store_id % CONNECTED_SHARDS:02d}"


class DynamoStoreRepository:
    def __init__(self, dynamodb: DynamoDBClient, table_name: str) -> None:
        self._db = dynamodb
        self._table = table_name

    # -- store item ----------------------------------------------------------------------------
    def get(self, store_id: int) -> Store | None:
        answer = self._db.get_item(TableName=self._table, Key=store_key(store_id), ConsistentRead=True)
        item = answer.get("Item")
        return Store.model_validate(_from_item(item)) if item else None

    def save_installation(self, store: Store, *, expected_version: int | None) -> None:
        """Write the whole store item after an install, if nobody changed it since it was read."""
        item = {**store_key(store.store_id), **_to_item(store.model_copy(update={"version": store.version + 1}))}
        try:
            if expected_version is None:
                self._db.put_item(TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)")
            else:
                self._db.put_item(
                    TableName=self._table,
                    Item=item,
                    ConditionExpression="version = :expected",
                    ExpressionAttributeValues={":expected": _value(expected_version)},
                )
        except ClientError as error:
            if _is_condition_failure(error):
                raise ConcurrentUpdate(f"store {store.store_id} changed while it was being installed") from None
            raise

    # -- OAuth state ---------------------------------------------------------------------------
    def issue_state(self, state: OAuthState, *, phone: bytes | None, now: str) -> None:
        """Record a new state nonce and, with it, the phone the merchant gave for this connect."""
        updates = ["updated_at = :now", "version = version + :one"]
        values: dict[str, Any] = {":now": _value(now), ":one": _value(1)}
        if phone is not None:
            updates.append("phone = :phone")
            values[":phone"] = _value(phone)
        self._db.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {
                            **state_key(state.store_id, state.nonce),
                            **_to_item(state),
                            "ttl": _value(state.expires_at + STATE_TTL_GRACE_SECONDS),
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
        return OAuthState.model_validate(_from_item(item)) if item else None

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
                                ":consumed": _value("consumed"),
                                ":issued": _value("issued"),
                                ":hash": _value(auth_code_hash),
                            },
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": store_key(state.store_id),
                            "UpdateExpression": "SET pending_connection = :pending, version = version + :one",
                            "ConditionExpression": "attribute_exists(pk)",
                            "ExpressionAttributeValues": {":pending": _value(_dump(pending)), ":one": _value(1)},
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
            ExpressionAttributeValues={":status": _value(status)},
        )

    # -- pending TikTok connection -------------------------------------------------------------
    def update_pending(self, store_id: int, nonce: str, **fields: Any) -> None:
        """Remember each setup step as soon as it succeeded, so a retried callback resumes there."""
        names = {f"#f{i}": name for i, name in enumerate(fields)}
        values = {f":v{i}": _value(value) for i, value in enumerate(fields.values())}
        assignments = ", ".join(f"pending_connection.#f{i} = :v{i}" for i in range(len(fields)))
        try:
            self._db.update_item(
                TableName=self._table,
                Key=store_key(store_id),
                UpdateExpression=f"SET {assignments}, version = version + :one",
                ConditionExpression="pending_connection.nonce = :nonce",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={**values, ":nonce": _value(nonce), ":one": _value(1)},
            )
        except ClientError as error:
            if _is_condition_failure(error):
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
                ExpressionAttributeValues={":nonce": _value(nonce), ":one": _value(1)},
            )
        except ClientError as error:
            if not _is_condition_failure(error):
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
                    ":connection": _value(_dump(connection)),
                    ":connected": _value("connected"),
                    ":zero": _value(0),
                    ":one": _value(1),
                    ":nonce": _value(nonce),
                    ":shard": _value(connected_shard(store_id)),
                    ":sync": _value(_dump(sync)),
                    ":now": _value(now),
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if _is_condition_failure(error):
                raise ConcurrentUpdate("the pending TikTok connection was replaced") from None
            raise
        return Store.model_validate(_from_item(answer["Attributes"]))


# -- item conversion ---------------------------------------------------------------------------
def _dump(model: Any) -> dict[str, Any]:
    return {k: v for k, v in model.model_dump(mode="python", exclude_none=True).items()}


def _to_item(model: Any) -> dict[str, Any]:
    return {k: _value(v) for k, v in _dump(model).items()}


def _value(value: Any) -> Any:
    return _serializer.serialize(_strip_none(value))


def _strip_none(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _strip_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_none(v) for v in value]
    return value


def _from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _plain(_deserializer.deserialize(v)) for k, v in item.items() if k not in ("pk", "sk")}


def _plain(value: Any) -> Any:
    """DynamoDB's Decimal back to int."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set):
        return [_plain(v) for v in value]
    if type(value).__name__ == "Decimal":
        return int(value) if value == int(value) else float(value)
    return value


def _is_condition_failure(error: ClientError) -> bool:
    return bool(error.response["Error"]["Code"] == "ConditionalCheckFailedException")
