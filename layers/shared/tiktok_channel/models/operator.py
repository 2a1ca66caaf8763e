"""The operator function's input: one action per invocation (`aws lambda invoke --payload '{"action": …}'`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter

from tiktok_channel.models.storefront import Decision

# Unknown keys are refused, so a typo ("notes", "storeId") is named instead of silently ignored.
_ACTION = ConfigDict(extra="forbid", hide_input_in_errors=True, str_strip_whitespace=True)

StoreId = Annotated[int, Field(gt=0, lt=10**15)]


class RecordStorefrontDecision(BaseModel):
    """TikTok answered a storefront application by e-mail: approved or rejected, with an optional note."""

    model_config = _ACTION

    action: Literal["record_storefront_decision"]
    store_id: StoreId
    decision: Decision
    note: Annotated[str, StringConstraints(min_length=1, max_length=2000)] | None = None


class RedriveDeadLetters(BaseModel):
    """Move every message of the catalog dead-letter queue back to the catalog queue."""

    model_config = _ACTION

    action: Literal["redrive_dead_letters"]


class StartFullSync(BaseModel):
    """Queue a full sync of one connected store (answers the job already queued or running, if any)."""

    model_config = _ACTION

    action: Literal["start_full_sync"]
    store_id: StoreId


OperatorAction = Annotated[RecordStorefrontDecision | RedriveDeadLetters | StartFullSync, Field(discriminator="action")]
OPERATOR_ACTION: TypeAdapter[OperatorAction] = TypeAdapter(OperatorAction)
ACTIONS = ("record_storefront_decision", "redrive_dead_letters", "start_full_sync")
