"""The catalog worker's batch (Powertools' FIFO processor): one store's failure never costs another store its turn,
even when SQS refuses to set when the failed message comes back."""

from __future__ import annotations

import json
from typing import Any

from tests.fakes import AwsClientError, FakeServices, SentMessage
from tests.fast.steps import STORE_ID, connected_store, fresh_services
from tiktok_channel.services.worker import CatalogWorker


class _Context:
    function_name = "catalog-worker"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:catalog-worker"
    aws_request_id = "request-1"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


def _record(message: SentMessage, index: int) -> dict[str, Any]:
    return {
        "messageId": f"m{index}",
        "receiptHandle": message.receipt_handle,
        "body": message.body,
        "attributes": {"ApproximateReceiveCount": "1", "MessageGroupId": message.group_id},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:catalog.fifo",
        "awsRegion": "us-east-1",
        "md5OfBody": "",
    }


def _batch(services: FakeServices, *bodies: tuple[dict[str, Any], str]) -> list[dict[str, Any]]:
    records = []
    for index, (body, group) in enumerate(bodies):
        services.queue.put(json.dumps(body), group, f"d{index}")
        message = services.queue.receive()
        assert message is not None
        records.append(_record(message, index))
    return records


def test_a_store_whose_message_fails_and_cannot_be_delayed_does_not_stop_the_next_store():
    services = fresh_services()
    connected_store(services)
    malformed = ({"kind": "sync", "store_id": 4321, "epoch": 0}, "4321")  # a sync part without its job
    sync = {"kind": "sync", "store_id": STORE_ID, "epoch": 1, "job_id": "j-later", "mode": "full", "part": 0}
    records = _batch(services, malformed, (sync, str(STORE_ID)))
    services.queue.fail("delay", AwsClientError("InternalError", "SQS is failing"))

    answer = CatalogWorker(lambda: services, None).process_batch({"Records": records}, _Context())  # type: ignore[arg-type]

    assert answer["batchItemFailures"] == [{"itemIdentifier": "m0"}]
    assert services.stores.get(STORE_ID).sync.job_id == "j-later"  # type: ignore[union-attr]
