"""EventBridge: the app's own events, put on the account's default bus for the operator's rules to route."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from tiktok_channel.errors import EventPublishFailed

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

DEFAULT_BUS = "default"


class EventBridgePublisher:
    def __init__(self, events: EventBridgeClient, bus_name: str = DEFAULT_BUS) -> None:
        self._events = events
        self._bus = bus_name

    def publish(self, *, source: str, detail_type: str, detail: dict[str, Any]) -> str:
        """Put one event; answers its EventBridge id."""
        try:
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
        except (ClientError, BotoCoreError) as error:  # throttled, denied, unreachable
            raise EventPublishFailed(f"EventBridge did not take the event: {type(error).__name__}") from None
        [entry] = answer["Entries"]
        if answer.get("FailedEntryCount") or "EventId" not in entry:
            # The entry's error code says why (throttled, too large, ...); its message may quote the detail.
            raise EventPublishFailed(f"EventBridge refused the event: {entry.get('ErrorCode', 'unknown')}")
        return entry["EventId"]
