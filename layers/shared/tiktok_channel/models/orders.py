"""An Ecwid order as `GET /orders/{orderId}` answers it (ecwid-api.md, "Orders"), only the parts a purchase event
needs, read leniently: Ecwid adds fields freely and leaves out empty ones."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

# `paymentStatus` of an order TikTok should count as a purchase. PARTIALLY_REFUNDED is not: the order was paid,
# but whether it still counts is the merchant's books', and an event that arrives only after a refund began
# would report money the store no longer has.
PAID = "PAID"


class _OrderModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        hide_input_in_errors=True,
        coerce_numbers_to_str=True,
    )


class OrderPerson(_OrderModel):
    """`billingPerson` / `shippingPerson`: personal data, never logged."""

    name: str | None = None
    phone: str | None = None
    country_code: str | None = None


class OrderItem(_OrderModel):
    """`items[]`: `price` is the unit price with options (gross in gross-price stores), before discounts;
    `combinationId` is present when the chosen options match a variation."""

    product_id: int | None = None  # None for an item typed into the order, of no product (no catalog sku)
    combination_id: int | None = None
    name: str = ""
    quantity: int = Field(default=1, ge=0)
    price: float = 0.0

    @field_validator("product_id", "combination_id", mode="before")
    @classmethod
    def _no_zero_id(cls, value: object) -> object:
        return None if value in (0, "0", "") else value

    @property
    def sku_id(self) -> str:
        """The catalog's `sku_id` of what was bought (design.md, "Catalog rules")."""
        return f"{self.product_id}-{self.combination_id}" if self.combination_id else str(self.product_id)


class EcwidOrder(_OrderModel):
    """`id` is the order id (a string that may carry the store's prefix/suffix); `total` is what the shopper
    paid; `createTimestamp` unix seconds when the order was placed; no currency (the store has one)."""

    id: str = Field(min_length=1)
    total: float = 0.0
    payment_status: str = ""
    create_timestamp: int | None = None
    email: str | None = None
    billing_person: OrderPerson | None = None
    shipping_person: OrderPerson | None = None
    ip_address: str | None = None
    customer_user_agent: str | None = None
    referer_url: str | None = None
    global_referer: str | None = None
    items: list[OrderItem] = []

    def __repr__(self) -> str:
        # Orders carry shoppers' e-mail, phone and address: never in a log line or a traceback.
        return f"EcwidOrder(id={self.id!r}, payment_status={self.payment_status!r})"

    __str__ = __repr__

    @property
    def paid(self) -> bool:
        return self.payment_status == PAID

    @property
    def phone(self) -> str | None:
        person = self.billing_person or self.shipping_person
        return person.phone if person else None

    @property
    def country_code(self) -> str | None:
        person = self.billing_person or self.shipping_person
        return person.country_code if person else None
