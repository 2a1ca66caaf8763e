"""SQS deliveries and schedules, as Lambda's event sources would make them."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from localrun.aws import LocalResources
from localrun.lambda_runtime import LocalLambda
from localrun.triggers import Scheduler, SqsPollers, aws_cron_to_croniter, parse_schedule, queue_depth


def send(session: boto3.session.Session, resources: LocalResources, group: str, body: dict[str, Any]) -> str:
    response = session.client("sqs").send_message(
        QueueUrl=resources.queues["WorkQueue"],
        MessageBody=json.dumps(body),
        MessageGroupId=group,
        MessageDeduplicationId=f"{group}:{body['n']}",  # as the project sends them (event id, job part)
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "test"}},
    )
    return str(response["MessageId"])


def queue_counts(session: boto3.session.Session, url: str) -> tuple[int, int]:
    attributes = session.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def delivered_bodies(calls: Any) -> list[dict[str, Any]]:
    return [json.loads(r["body"]) for call in calls("worker") for r in call["event"]["Records"]]


def test_fifo_batch_with_a_reported_failure(
    session: boto3.session.Session, resources: LocalResources, lambdas: dict[str, LocalLambda], calls: Any
) -> None:
    for n in range(3):
        send(session, resources, "store-1", {"n": n, "fail": n == 1})
    send(session, resources, "store-2", {"n": 10})

    assert SqsPollers(resources, lambdas, session=session).drain(timeout=5) == 4

    # store-1: n=0 done; n=1 failed and n=2 after it, in order (the handler fails the rest of a group).
    assert [b["n"] for b in delivered_bodies(calls)] == [0, 1, 2, 10]
    assert queue_counts(session, resources.queues["WorkQueue"]) == (0, 2)  # in flight until visibility ends

    record = calls("worker")[0]["event"]["Records"][0]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == resources.queue_arns["WorkQueue"]
    assert record["awsRegion"] == "us-east-1"
    assert record["attributes"]["MessageGroupId"] == "store-1"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    for key in ("SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp", "SequenceNumber",
                "MessageDeduplicationId"):  # fmt: skip
        assert record["attributes"][key]
    assert record["messageAttributes"]["kind"]["stringValue"] == "test"
    assert record["messageAttributes"]["kind"]["dataType"] == "String"
    assert record["md5OfBody"]
    assert record["receiptHandle"]
    assert record["messageId"]
    assert calls("worker")[0]["context"].function_name == "fx-WorkerFunction"

    # When their visibility ends (cut short here) they come back in order, their receive count raised.
    sqs = session.client("sqs")
    for r in calls("worker")[0]["event"]["Records"]:
        if json.loads(r["body"])["n"] in (1, 2):
            sqs.change_message_visibility(
                QueueUrl=resources.queues["WorkQueue"], ReceiptHandle=r["receiptHandle"], VisibilityTimeout=0
            )
    assert SqsPollers(resources, lambdas, session=session).drain(timeout=5) == 2
    again = calls("worker")[-1]["event"]["Records"]
    assert [(json.loads(r["body"])["n"], r["attributes"]["ApproximateReceiveCount"]) for r in again] == [
        (1, "2"),
        (2, "2"),
    ]


def test_handler_exception_fails_the_whole_batch(
    session: boto3.session.Session, resources: LocalResources, lambdas: dict[str, LocalLambda], calls: Any
) -> None:
    send(session, resources, "store-1", {"n": 0})
    send(session, resources, "store-1", {"n": 1, "explode": True})

    assert SqsPollers(resources, lambdas, session=session).drain(timeout=5) == 2
    assert queue_counts(session, resources.queues["WorkQueue"]) == (0, 2)


def test_drain_until_empty_waits_for_messages_in_flight(
    session: boto3.session.Session, resources: LocalResources, lambdas: dict[str, LocalLambda], calls: Any
) -> None:
    url = resources.queues["WorkQueue"]
    send(session, resources, "store-1", {"n": 0})
    # Another receiver holds the message for a second, as a failed delivery holds it until its visibility ends.
    session.client("sqs").receive_message(QueueUrl=url, VisibilityTimeout=1)
    pollers = SqsPollers(resources, lambdas, session=session)

    assert pollers.drain(timeout=5) == 0  # in flight: not waited for
    assert pollers.drain(timeout=10, until_empty=True) == 1

    assert delivered_bodies(calls) == [{"n": 0}]
    assert (pollers.received, pollers.redelivered) == (1, 1)
    assert queue_depth(session.client("sqs"), url) == (0, 0)


def test_background_pollers_deliver(
    session: boto3.session.Session, resources: LocalResources, lambdas: dict[str, LocalLambda], calls: Any
) -> None:
    pollers = SqsPollers(resources, lambdas, session=session).start()
    try:
        send(session, resources, "store-3", {"n": 7})
        deadline = time.monotonic() + 5
        while not calls("worker") and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        pollers.stop()
    assert delivered_bodies(calls) == [{"n": 7}]
    assert queue_counts(session, resources.queues["WorkQueue"]) == (0, 0)


@pytest.mark.parametrize(
    ("aws", "croniter_form"),
    [
        ("0 6,18 * * ? *", "0 6,18 * * *"),
        ("15 10 ? * 2-6 *", "15 10 * * 1-5"),  # AWS MON-FRI is 2-6
        ("0 12 ? * 6#3 *", "0 12 * * 5#3"),  # third Friday
        ("0 12 ? * 6L *", "0 12 * * L5"),  # last Friday
        ("0/15 * ? * SUN,7 *", "0/15 * * * SUN,6"),
    ],
)
def test_aws_cron_becomes_croniter(aws: str, croniter_form: str) -> None:
    assert aws_cron_to_croniter(aws)[0] == croniter_form


def test_schedule_expressions() -> None:
    start = datetime(2024, 1, 1, 7, 0, tzinfo=UTC)
    assert parse_schedule("cron(0 6,18 * * ? *)").next_after(start, start) == datetime(2024, 1, 1, 18, 0, tzinfo=UTC)
    assert parse_schedule("cron(0 6 1 1 ? 2025)").next_after(start, start) == datetime(2025, 1, 1, 6, 0, tzinfo=UTC)
    assert parse_schedule("rate(5 minutes)").next_after(start.replace(minute=7), start) == start.replace(minute=10)
    for bad, problem in [
        ("rate(1 minutes)", "use rate"),
        ("rate(2 hour)", "use rate"),
        ("cron(0 6 * * *)", "six fields"),
        ("cron(0 6 * * * *)", "exactly one of"),  # AWS wants '?' in day-of-month or day-of-week
        ("every day", "not a schedule"),
    ]:
        with pytest.raises(ValueError, match=problem):
            parse_schedule(bad)


def test_scheduler_invokes_when_due_and_on_demand(
    resources: LocalResources, lambdas: dict[str, LocalLambda], calls: Any
) -> None:
    start = datetime(2024, 1, 1, 7, 0, tzinfo=UTC)
    scheduler = Scheduler(resources, lambdas, start=start)

    assert scheduler.run_due(datetime(2024, 1, 1, 7, 59, tzinfo=UTC)) == []
    (hourly,) = scheduler.run_due(datetime(2024, 1, 1, 8, 0, 30, tzinfo=UTC))
    assert hourly.trigger.event_name == "Hourly"
    assert hourly.next_at == datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
    assert calls("ticker")[0]["event"] == {"mode": "hourly"}  # the rule's Input, not the EventBridge event

    before = len(calls("ticker"))
    fired = scheduler.run_due(datetime(2024, 1, 1, 18, 0, 1, tzinfo=UTC))
    assert sorted(job.trigger.event_name for job in fired) == ["Hourly", "Tick"]  # missed hours run once
    (tick,) = [job for job in fired if job.trigger.event_name == "Tick"]
    (event,) = [call["event"] for call in calls("ticker")[before:] if call["event"] != {"mode": "hourly"}]
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["time"] == "2024-01-01T18:00:00Z"
    assert event["detail"] == {}
    assert event["version"] == "0"
    assert event["account"] == resources.account_id
    assert event["region"] == "us-east-1"
    assert event["resources"] == [f"arn:aws:events:us-east-1:{resources.account_id}:rule/fx-TickFunctionTick"]
    assert tick.next_at == datetime(2024, 1, 2, 6, 0, tzinfo=UTC)

    assert scheduler.fire("TickFunction") == {"ticked": True}
    assert calls("ticker")[-1]["event"]["detail-type"] == "Scheduled Event"
