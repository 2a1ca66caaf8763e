"""EventBridge: the app's own events, put on the account's default bus for the operator's rules to route."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

DEFAULT_BUS = "default"


class EventPublishFailed(Exception):
    """EventBridge did not take the event (PutEvents answers per entry; a failed entry is not an exception)."""


class EventBridgePublisher:
    def __init__(self, events: EventBridgeClient, bus_name: str = DEFAULT_BUS) -> None:
        self._events = events
        self._bus = bus_name

    def publish(self, *, source: str, detail_type: str, detail: dict[str, Any]) -> str:
        """Put one event; answers its EventBridge id."""
        answer = self._events.put_events(
            Entries=[
                {
                    "EventBusName": self._bus,
                    "Source": source,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail, separators=(",", ":")),
                }
            ]
        )
        [entry] = answer["Entries"]
        if answer.get("FailedEntryCount") or "EventId" not in entry:
            # The entry's error code says why (throttled, too large, ...); its message may quote the detail.
            raise EventPublishFailed(f"EventBridge refused the event: {entry.get('ErrorCode', 'unknown')}")
        return entry["EventId"]
