"""The one schema of catalog queue messages, shared by every producer and the worker (design.md)."""

from __future__ import annotations

import hashlib
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# What SQS accepts as a MessageDeduplicationId: 1 to 128 printable ASCII characters, no spaces.
_SQS_DEDUPLICATION_ID = re.compile(r"[!-~]{1,128}")


class QueueMessage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["ecwid_event", "sync", "cleanup"]
    store_id: int = Field(gt=0)
    epoch: int = Field(ge=0)
    event_id: str | None = None
    event_type: str | None = None
    entity_id: str | None = None
    job_id: str | None = None
    mode: Literal["full", "replace"] | None = None
    part: int | None = Field(default=None, ge=0)
    cursor: str | None = None

    @property
    def group_id(self) -> str:
        return str(self.store_id)

    @property
    def deduplication_id(self) -> str:
        if self.kind == "ecwid_event" and self.event_id:
            if _SQS_DEDUPLICATION_ID.fullmatch(self.event_id):
                return self.event_id
            # Ecwid promises no format for eventId: one SQS would refuse is deduplicated by its digest.
            return hashlib.sha256(self.event_id.encode()).hexdigest()
        if self.job_id is not None:
            return f"{self.job_id}:{self.part or 0}"
        raise ValueError("a queue message needs an event_id or a job_id to be deduplicated")
