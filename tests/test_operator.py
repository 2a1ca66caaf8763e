"""The operator function, invoked as `aws lambda invoke` would: each action validates its input, is safe to
repeat, and answers what it did; bad input answers a clear error and changes nothing."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from tests.app_stack import AppStack
from tests.test_storefront import APPLICATION, apply, connected

STORE = 1003


def operate(stack: AppStack, event: Any) -> dict[str, Any]:
    return dict(stack.lambdas["OperatorFunction"].invoke(event))


def assert_refused(answer: dict[str, Any], code: str, *mentions: str) -> str:
    assert answer["ok"] is False, answer
    assert answer["error"]["code"] == code, answer
    message = str(answer["error"]["message"])
    for mention in mentions:
        assert mention in message, message
    return message


# -- record a storefront decision --------------------------------------------------------------
def test_recording_a_decision_twice_answers_it_was_already_recorded(stack: AppStack):
    session = connected(stack)
    assert apply(stack, STORE, session).status_code == 201
    event = {"action": "record_storefront_decision", "store_id": STORE, "decision": "approved", "note": "OK by mail"}

    first = operate(stack, event)
    items = stack.all_items()
    second = operate(stack, event)

    assert (first["ok"], first["recorded"], first["state"]) == (True, True, "approved")
    assert second == {
        "ok": True,
        "action": "record_storefront_decision",
        "store_id": STORE,
        "state": "approved",
        "recorded": False,
        "message": "already recorded",
    }
    assert stack.all_items() == items
    message = assert_refused(operate(stack, {**event, "decision": "rejected"}), "decision_conflict", str(STORE))
    assert "approved" in message
    assert stack.all_items() == items
    [item] = [i for i in stack.items(STORE) if i["sk"] == "STOREFRONT"]
    assert [m["state"] for m in item["history"]] == ["submitted", "approved"]
    assert item["decision"]["note"] == "OK by mail"


def test_a_decision_needs_an_open_application(stack: AppStack):
    connected(stack)
    before = stack.all_items()
    event = {"action": "record_storefront_decision", "store_id": STORE, "decision": "rejected"}
    assert_refused(operate(stack, event), "no_open_application", str(STORE))
    assert_refused(operate(stack, {**event, "store_id": 999}), "store_not_found", "999")
    assert stack.all_items() == before


@pytest.mark.parametrize(
    ("event", "code", "mentions"),
    [
        ("record_storefront_decision", "invalid_input", ["JSON object"]),
        ([{"action": "redrive_dead_letters"}], "invalid_input", ["JSON object"]),
        ({}, "unknown_action", ["record_storefront_decision", "redrive_dead_letters", "start_full_sync"]),
        ({"action": "delete_everything"}, "unknown_action", ["delete_everything"]),
        ({"action": "record_storefront_decision", "store_id": STORE}, "invalid_input", ["decision"]),
        (
            {"action": "record_storefront_decision", "store_id": STORE, "decision": "maybe"},
            "invalid_input",
            ["decision", "approved"],
        ),
        (
            {"action": "record_storefront_decision", "store_id": "abc", "decision": "approved"},
            "invalid_input",
            ["store_id"],
        ),
        (
            {"action": "record_storefront_decision", "store_id": -4, "decision": "approved"},
            "invalid_input",
            ["store_id"],
        ),
        (
            {"action": "record_storefront_decision", "store_id": STORE, "decision": "approved", "notes": "typo"},
            "invalid_input",
            ["notes"],
        ),
        (
            {"action": "record_storefront_decision", "store_id": STORE, "decision": "rejected", "note": "x" * 2001},
            "invalid_input",
            ["note"],
        ),
        ({"action": "start_full_sync"}, "invalid_input", ["store_id"]),
        ({"action": "start_full_sync", "storeId": STORE}, "invalid_input", ["store_id", "storeId"]),
        ({"action": "redrive_dead_letters", "queue": "main"}, "invalid_input", ["queue"]),
    ],
)
def test_bad_input_is_named_and_changes_nothing(stack: AppStack, event, code, mentions):
    session = connected(stack)
    assert apply(stack, STORE, session, APPLICATION).status_code == 201
    dead_letters = stack.resources.queues["CatalogDeadLetterQueue"]
    boto3.client("sqs").send_message(
        QueueUrl=dead_letters, MessageBody="{}", MessageGroupId=str(STORE), MessageDeduplicationId="poison"
    )
    before, queued = stack.all_items(), [m["body"] for m in stack.queued_messages()]

    assert_refused(operate(stack, event), code, *mentions)

    assert stack.all_items() == before
    assert [m["body"] for m in stack.queued_messages()] == queued
    assert _drain(dead_letters) == [{}]  # still in the dead-letter queue


# -- redrive the dead-letter queue -------------------------------------------------------------
def test_redrive_moves_dead_letters_back_with_fresh_deduplication_ids(stack: AppStack):
    sqs = boto3.client("sqs")
    dead_letters = stack.resources.queues["CatalogDeadLetterQueue"]
    message = {"kind": "sync", "store_id": STORE, "epoch": 1, "job_id": "job-1", "mode": "full", "part": 0}
    sqs.send_message(
        QueueUrl=dead_letters,
        MessageBody=json.dumps(message),
        MessageGroupId=str(STORE),
        MessageDeduplicationId="job-1:0",
    )

    assert operate(stack, {"action": "redrive_dead_letters"}) == {
        "ok": True,
        "action": "redrive_dead_letters",
        "moved": 1,
    }

    [back] = stack.queued_messages()
    assert back["body"] == message
    assert back["attributes"]["MessageGroupId"] == str(STORE)
    dedup = back["attributes"]["MessageDeduplicationId"]
    assert dedup.startswith("job-1:0:redrive:")
    assert _drain(dead_letters) == []
    # Nothing left: a second redrive moves nothing.
    assert operate(stack, {"action": "redrive_dead_letters"})["moved"] == 0
    assert len(stack.queued_messages()) == 1


# -- start a full sync -------------------------------------------------------------------------
def test_start_full_sync_queues_one_job_and_answers_it_again(stack: AppStack):
    connected(stack)
    assert stack.run_worker() >= 1  # the connect's first sync runs, so nothing is queued
    assert stack.store_item(STORE)["sync"]["state"] == "idle"
    event = {"action": "start_full_sync", "store_id": STORE}

    first = operate(stack, event)
    second = operate(stack, event)

    assert first["ok"] is True
    assert (first["store_id"], first["state"], first["created"]) == (STORE, "queued", True)
    assert second == {**first, "created": False}
    [queued] = stack.queued_messages()
    assert queued["body"] == {
        "kind": "sync",
        "store_id": STORE,
        "epoch": 1,
        "job_id": first["job_id"],
        "mode": "full",
        "part": 0,
    }
    assert stack.store_item(STORE)["sync"]["job_id"] == first["job_id"]


def test_start_full_sync_of_a_store_that_is_not_connected_is_refused(stack: AppStack):
    stack.ecwid.add_store(STORE)
    assert stack.install(STORE).status_code == 302
    before = stack.all_items()
    assert_refused(operate(stack, {"action": "start_full_sync", "store_id": STORE}), "not_connected", "installed")
    assert_refused(operate(stack, {"action": "start_full_sync", "store_id": 42}), "store_not_found", "42")
    assert stack.all_items() == before
    assert stack.queued_messages() == []


def _drain(queue_url: str) -> list[Any]:
    """Every message body of a queue, made visible again afterwards."""
    sqs = boto3.client("sqs")
    bodies, handles = [], []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=30).get(
            "Messages", []
        )
        if not messages:
            break
        bodies += [json.loads(m["Body"]) for m in messages]
        handles += [m["ReceiptHandle"] for m in messages]
    for handle in handles:
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=handle, VisibilityTimeout=0)
    return bodies
