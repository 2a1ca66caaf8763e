"""The catalog queue's messages (design.md, "Queue messages"): one type per `kind`, shared by every producer and
the worker, and the one registry of the Ecwid events the app acts on.

Bodies are JSON without null fields. Messages written by earlier releases decode unchanged (tests/fast/
test_queue_messages.py keeps samples of them), so a deploy never strands what is already queued.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

# What SQS accepts as a MessageDeduplicationId: 1 to 128 printable ASCII characters, no spaces.
_SQS_DEDUPLICATION_ID = re.compile(r"[!-~]{1,128}")

# -- the Ecwid events the app acts on (ecwid-api.md, "Webhooks") ------------------------------------------------
EventRoute = Literal["product", "category", "profile", "uninstall", "order"]
ECWID_EVENT_ROUTES: dict[str, EventRoute] = {
    "product.created": "product",
    "product.updated": "product",
    "product.deleted": "product",
    "category.created": "category",
    "category.updated": "category",
    "category.deleted": "category",
    "profile.updated": "profile",
    "application.uninstalled": "uninstall",
    # Purchases for the Events API (journey 7): created, and updated when it is paid later.
    "order.created": "order",
    "order.updated": "order",
}
# An order id is a short string (`K8XTQ`, `SALE-G01ZG`); longer is no order id of Ecwid's.
MAX_ORDER_ID = 64
# Routes whose event names the product or category that changed: without an entity id it cannot be applied.
ENTITY_ROUTES: frozenset[EventRoute] = frozenset({"product", "category"})


class _Message(BaseModel):
    # Unknown fields are ignored, not refused: a message from a newer or older release still gets handled.
    model_config = ConfigDict(extra="ignore", frozen=True)

    store_id: int = Field(gt=0)
    # The store's connection number when the message was made (0: not bound to a connection).
    epoch: int = Field(ge=0)

    @property
    def group_id(self) -> str:
        """The FIFO group: one store's messages are handled in order, one at a time."""
        return str(self.store_id)


class EcwidEventMessage(_Message):
    """An authentic Ecwid webhook, queued by the receiver; the worker re-reads the entity it names."""

    kind: Literal["ecwid_event"] = "ecwid_event"
    event_id: str = Field(min_length=1)
    event_type: str = Field(min_length=1)
    entity_id: str | None = None
    # Ecwid's `eventCreated` (unix seconds, signed): the worker ignores events older than Ecwid's retry horizon.
    # None in messages queued before this field existed.
    event_created: int | None = None
    # An order event's `data.orderId` (the order's string id; `entityId` is its internal number).
    order_id: str | None = Field(default=None, min_length=1, max_length=MAX_ORDER_ID)

    @property
    def route(self) -> EventRoute | None:
        """What the event is about (None: a type the app does not act on)."""
        return ECWID_EVENT_ROUTES.get(self.event_type)

    @property
    def deduplication_id(self) -> str:
        if _SQS_DEDUPLICATION_ID.fullmatch(self.event_id):
            return self.event_id
        # Ecwid promises no format for eventId: one SQS would refuse is deduplicated by its digest.
        return hashlib.sha256(self.event_id.encode()).hexdigest()


class SyncMessage(_Message):
    """One part of a full sync job; a part that runs out of time queues the next from `cursor`."""

    kind: Literal["sync"] = "sync"
    job_id: str = Field(min_length=1)
    mode: Literal["full", "replace"] = "full"
    part: int = Field(default=0, ge=0)
    cursor: str | None = None

    @property
    def deduplication_id(self) -> str:
        return f"{self.job_id}:{self.part}"


class CleanupMessage(_Message):
    """Tell TikTok about a disconnect it has not confirmed yet, and delete catalog records left behind."""

    kind: Literal["cleanup"] = "cleanup"
    job_id: str = Field(min_length=1)

    @property
    def deduplication_id(self) -> str:
        return f"{self.job_id}:0"


class ReviewMessage(_Message):
    """Read TikTok's review statuses of the store's SKUs pending review (the review checks' schedule)."""

    kind: Literal["reviews"] = "reviews"
    job_id: str = Field(min_length=1)

    @property
    def deduplication_id(self) -> str:
        return f"{self.job_id}:0"


class TikTokCheckMessage(_Message):
    """One part of a "Check with TikTok" job: re-read the status of every SKU we hold on TikTok (reads only);
    a part that runs out of time queues the next from `cursor` ("<status>:<last sku_id>")."""

    kind: Literal["tiktok_check"] = "tiktok_check"
    job_id: str = Field(min_length=1)
    part: int = Field(default=0, ge=0)
    cursor: str | None = None

    @property
    def deduplication_id(self) -> str:
        return f"{self.job_id}:{self.part}"


MAX_SWITCHED_PRODUCTS = 500  # products one visibility request may name (design.md contract)


class VisibilityMessage(_Message):
    """The merchant switched products (or a category) off or on TikTok: bring those products up to date at once."""

    kind: Literal["visibility"] = "visibility"
    job_id: str = Field(min_length=1)
    product_ids: list[int] | None = Field(default=None, max_length=MAX_SWITCHED_PRODUCTS)
    category_id: int | None = Field(default=None, gt=0)

    @property
    def deduplication_id(self) -> str:
        return f"{self.job_id}:0"


AnyMessage = EcwidEventMessage | SyncMessage | CleanupMessage | ReviewMessage | TikTokCheckMessage | VisibilityMessage
QueueMessage = Annotated[AnyMessage, Field(discriminator="kind")]
QUEUE_MESSAGE: TypeAdapter[AnyMessage] = TypeAdapter(QueueMessage)


def decode_message(body: str) -> AnyMessage:
    """A queue body as its message; pydantic's ValidationError (a ValueError) for anything else."""
    return QUEUE_MESSAGE.validate_json(body)


def encode_message(message: AnyMessage) -> str:
    """The body sent to SQS: compact JSON without null fields, `kind` first, as every release has written it."""
    fields = message.model_dump(mode="json", exclude_none=True)
    return json.dumps({"kind": fields.pop("kind"), **fields}, separators=(",", ":"), ensure_ascii=False)
