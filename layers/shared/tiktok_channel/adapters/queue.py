"""The catalog FIFO queue: group = store, deduplication id from the message itself."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tiktok_channel.models.messages import QueueMessage

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class SqsCatalogQueue:
    def __init__(self, sqs: SQSClient, queue_url: str) -> None:
        self._sqs = sqs
        self._queue_url = queue_url

    def send(self, message: QueueMessage) -> None:
        self._sqs.send_message(
            QueueUrl=self._queue_url,
            MessageBody=message.model_dump_json(exclude_none=True),
            MessageGroupId=message.group_id,
            MessageDeduplicationId=message.deduplication_id,
        )
