"""The operator function (services/operator.py): each action checks its input, is safe to repeat, and answers what
it did, or an error with nothing changed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes import FakeServices, SentMessage
from tests.fast.steps import (
    STORE_ID,
    apply_for_storefront,
    connect_store,
    fresh_services,
    install_store,
    next_message,
    store_of,
)
from tiktok_channel.services.operator import run


def refused_action(services: FakeServices, event: Any, code: str) -> str:
    """The action answers ok: false with this code, and nothing changed."""
    before, queued = services.table.snapshot(), list(services.queue.waiting)
    answer = run(services, event)
    assert answer["ok"] is False, answer
    assert answer["error"]["code"] == code
    assert services.table.snapshot() == before
    assert services.queue.waiting == queued
    message: str = answer["error"]["message"]
    return message


def decision(choice: str, **extra: Any) -> dict[str, Any]:
    return {"action": "record_storefront_decision", "store_id": STORE_ID, "decision": choice, **extra}


def test_recording_tiktoks_decision_is_safe_to_repeat(connected: FakeServices):
    apply_for_storefront(connected)

    first = run(connected, decision("approved", note="Welcome"))
    again = run(connected, decision("approved"))

    assert first == {
        "ok": True,
        "action": "record_storefront_decision",
        "store_id": STORE_ID,
        "state": "approved",
        "recorded": True,
        "message": "recorded",
    }
    assert (again["ok"], again["recorded"], again["message"]) == (True, False, "already recorded")
    assert store_of(connected).storefront_state == "approved"


def test_the_opposite_decision_is_refused(connected: FakeServices):
    apply_for_storefront(connected)
    run(connected, decision("approved"))

    refused_action(connected, decision("rejected"), "decision_conflict")


@pytest.mark.parametrize(
    ("event", "code", "named"),
    [
        ("redrive_dead_letters", "invalid_input", "JSON object"),
        ({}, "unknown_action", "missing"),
        ({"action": "delete_everything"}, "unknown_action", "delete_everything"),
        ({"action": "start_full_sync"}, "invalid_input", "store_id"),
        ({"action": "start_full_sync", "store_id": 0}, "invalid_input", "store_id"),
        ({"action": "start_full_sync", "storeId": 1003}, "invalid_input", "storeId"),
        (decision("maybe"), "invalid_input", "decision"),
        (decision("approved", notes="typo"), "invalid_input", "notes"),
    ],
)
def test_a_bad_event_is_refused_naming_what_is_wrong(connected: FakeServices, event: Any, code: str, named: str):
    assert named in refused_action(connected, event, code)


def test_a_full_sync_is_started_once(connected: FakeServices):
    first = run(connected, {"action": "start_full_sync", "store_id": STORE_ID})
    again = run(connected, {"action": "start_full_sync", "store_id": STORE_ID})

    assert (first["ok"], first["created"], first["state"]) == (True, True, "queued")
    assert (again["job_id"], again["created"]) == (first["job_id"], False)
    assert [m["job_id"] for m in connected.queue.waiting_fields()] == [first["job_id"]]


def test_a_full_sync_of_a_store_that_is_not_connected_is_refused(services: FakeServices):
    install_store(services)
    assert "installed" in refused_action(services, {"action": "start_full_sync", "store_id": STORE_ID}, "not_connected")
    refused_action(services, {"action": "start_full_sync", "store_id": 4242}, "store_not_found")


def test_dead_letters_go_back_with_fresh_deduplication_ids(services: FakeServices):
    install_store(services)
    connect_store(services)
    failed = next_message(services)
    services.queue.to_dead_letters(failed)  # it used up its receives a minute later: SQS still knows its id
    services.advance(60)

    answer = run(services, {"action": "redrive_dead_letters"})

    assert answer == {"ok": True, "action": "redrive_dead_letters", "moved": 1}
    [message] = services.queue.waiting
    assert (message.body, message.group_id) == (failed.body, failed.group_id)
    assert message.deduplication_id.startswith(failed.deduplication_id + ":redrive:")
    assert services.queue.dead_letters == []
    assert run(services, {"action": "redrive_dead_letters"})["moved"] == 0


def test_redrive_without_a_dead_letter_queue_configured_is_refused():
    services = fresh_services({"CATALOG_DLQ_URL": ""})
    services.queue.dead_letters.append(SentMessage("{}", "1003", "x"))

    refused_action(services, {"action": "redrive_dead_letters"}, "not_configured")
    assert len(services.queue.dead_letters) == 1
