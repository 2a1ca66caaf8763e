"""Conversion between pydantic models / plain values and DynamoDB's attribute values."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError
from pydantic import BaseModel


class _Deserializer(TypeDeserializer):
    """boto3's deserializer, but binary attributes come back as plain bytes rather than `Binary`."""

    def _deserialize_b(self, value: bytes) -> bytes:
        return value


_serializer = TypeSerializer()
_deserializer = _Deserializer()


def attribute(value: Any) -> Any:
    """One DynamoDB attribute value; None inside maps is left out (DynamoDB would store NULL)."""
    return _serializer.serialize(_strip_none(value))


def model_map(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="python", exclude_none=True)


def model_attributes(model: BaseModel) -> dict[str, Any]:
    return {k: attribute(v) for k, v in model_map(model).items()}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item's attributes as plain values, without its keys."""
    return {k: _plain(_deserializer.deserialize(v)) for k, v in item.items() if k not in ("pk", "sk")}


def _strip_none(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _strip_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_none(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    """DynamoDB's Decimal back to int (or float)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == int(value) else float(value)
    return value


def is_condition_failure(error: ClientError) -> bool:
    """DynamoDB refused a write because its condition did not hold (someone else wrote first)."""
    return bool(error.response["Error"]["Code"] == "ConditionalCheckFailedException")


def ttl_attribute(at: float, margin_seconds: int) -> dict[str, str]:
    """A `ttl` attribute `margin_seconds` after epoch time `at` (DynamoDB deletes expired items late; only the
    times inside an item may count)."""
    return {"N": str(int(at) + margin_seconds)}


def failed_item(error: ClientError) -> Mapping[str, Any] | None:
    """The item as it stood when a condition failed (ReturnValuesOnConditionCheckFailure=ALL_OLD)."""
    response: Mapping[str, Any] = error.response
    item: Mapping[str, Any] | None = response.get("Item")
    return item
