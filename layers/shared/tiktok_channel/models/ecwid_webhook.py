"""The body of an Ecwid webhook (ecwid-api.md, "Webhooks"), read leniently.

Only `eventId` and `eventCreated` are signed, so only they can make a body unacceptable; every other field
that is missing or oddly shaped becomes None, and the receiver decides what to do with the event.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tiktok_channel.models.messages import MAX_ORDER_ID

# Anything beyond a 64-bit id cannot be a store (and would not fit SQS's 128-character group id anyway).
MAX_STORE_ID = 2**63 - 1


class EcwidWebhookBody(BaseModel):
    """`{"eventId", "eventCreated", "storeId", "entityId", "eventType", "data"?}`; extras ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore", hide_input_in_errors=True)

    # Any string (Ecwid's look like UUIDs, but nothing promises it); a number is read as its digits.
    event_id: str = Field(alias="eventId", min_length=1, coerce_numbers_to_str=True)
    event_created: int = Field(alias="eventCreated")  # unix seconds
    event_type: str | None = Field(alias="eventType", default=None)
    store_id: int | None = Field(alias="storeId", default=None)  # None: not a positive integer
    entity_id: str | None = Field(alias="entityId", default=None)  # a number, or a quoted one for application.*
    data: dict[str, Any] | None = None  # order.* carry `orderId` and status changes; unsigned

    @property
    def order_id(self) -> str | None:
        """`data.orderId` when it is a usable order id (a short printable string), else None."""
        value = (self.data or {}).get("orderId")
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or value in (".", ".."):  # a path's dot segment: GET /orders/.. is no order
            return None
        if 0 < len(value) <= MAX_ORDER_ID and value.isprintable() and value.strip() == value:
            return value
        return None

    @property
    def signed_message(self) -> str:
        """What Ecwid signs: f"{eventCreated}.{eventId}"."""
        return f"{self.event_created}.{self.event_id}"

    @field_validator("data", mode="before")
    @classmethod
    def _object_or_none(cls, value: Any) -> dict[str, Any] | None:
        return value if isinstance(value, dict) else None

    @field_validator("event_type", mode="before")
    @classmethod
    def _type_or_none(cls, value: Any) -> str | None:
        return value if isinstance(value, str) and value else None

    @field_validator("store_id", mode="before")
    @classmethod
    def _positive_integer_or_none(cls, value: Any) -> int | None:
        # Strictly a JSON integer: "1003" or 1003.0 is not how Ecwid names a store, and the signature
        # does not cover storeId, so guessing would only route forged shapes.
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_STORE_ID:
            return value
        return None

    @field_validator("entity_id", mode="before")
    @classmethod
    def _entity_as_string(cls, value: Any) -> str | None:
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, str) and value:
            return value
        return None
