"""The catalog FIFO queue: group = store, deduplication id from the message itself."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from tiktok_channel.errors import QueueSendFailed
from tiktok_channel.models.messages import QueueMessage, encode_message

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import DeleteMessageBatchRequestEntryTypeDef, SendMessageBatchRequestEntryTypeDef


SEND_BATCH = 10  # SQS's SendMessageBatch limit
MAX_VISIBILITY_SECONDS = 43_200


class SqsCatalogQueue:
    def __init__(self, sqs: SQSClient, queue_url: str) -> None:
        self._sqs = sqs
        self._queue_url = queue_url

    def send(self, message: QueueMessage) -> None:
        self._sqs.send_message(
            QueueUrl=self._queue_url,
            MessageBody=encode_message(message),
            MessageGroupId=message.group_id,
            MessageDeduplicationId=message.deduplication_id,
        )

    def send_batch(self, messages: list[QueueMessage]) -> None:
        for start in range(0, len(messages), SEND_BATCH):
            chunk = messages[start : start + SEND_BATCH]
            answer = self._sqs.send_message_batch(
                QueueUrl=self._queue_url,
                Entries=[
                    {
                        "Id": str(index),
                        "MessageBody": encode_message(message),
                        "MessageGroupId": message.group_id,
                        "MessageDeduplicationId": message.deduplication_id,
                    }
                    for index, message in enumerate(chunk)
                ],
            )
            if answer.get("Failed"):
                codes = sorted({failure["Code"] for failure in answer["Failed"]})
                raise QueueSendFailed(f"SQS refused {len(answer['Failed'])} of {len(chunk)} messages: {codes}")

    def delay(self, receipt_handle: str, seconds: float) -> None:
        """Give a received message back, to be seen again in `seconds` (FIFO queues have no per-message delay)."""
        self._sqs.change_message_visibility(
            QueueUrl=self._queue_url,
            ReceiptHandle=receipt_handle,
            VisibilityTimeout=max(0, min(MAX_VISIBILITY_SECONDS, int(seconds))),
        )

    def redrive(self, dead_letter_url: str) -> int:
        """Move every message of the dead-letter queue back, with fresh deduplication ids (SQS would drop a
        message whose id it saw in the last five minutes). Answers how many moved."""
        moved = 0
        while True:
            answer = self._sqs.receive_message(
                QueueUrl=dead_letter_url, MaxNumberOfMessages=SEND_BATCH, AttributeNames=["All"], WaitTimeSeconds=0
            )
            messages = answer.get("Messages", [])
            if not messages:
                return moved
            entries: list[SendMessageBatchRequestEntryTypeDef] = [
                {
                    "Id": str(index),
                    "MessageBody": message["Body"],
                    "MessageGroupId": message["Attributes"]["MessageGroupId"],
                    "MessageDeduplicationId": _fresh_dedup_id(message["Attributes"].get("MessageDeduplicationId", "")),
                }
                for index, message in enumerate(messages)
            ]
            sent = self._sqs.send_message_batch(QueueUrl=self._queue_url, Entries=entries)
            done = {entry["Id"] for entry in sent.get("Successful", [])}
            receipts: list[DeleteMessageBatchRequestEntryTypeDef] = [
                {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                for index, message in enumerate(messages)
                if str(index) in done
            ]
            if receipts:
                self._sqs.delete_message_batch(QueueUrl=dead_letter_url, Entries=receipts)
            moved += len(receipts)
            if sent.get("Failed"):
                raise QueueSendFailed(f"SQS refused {len(sent['Failed'])} redriven messages")


def _fresh_dedup_id(previous: str) -> str:
    original = previous.split(":redrive:", 1)[0]
    return f"{original[:100]}:redrive:{uuid.uuid4().hex}"
