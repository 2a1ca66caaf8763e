"""The webhook receiver (services/webhooks.py): Ecwid's signature checked, one queued message per authentic event
the app acts on, 200 for every other authentic event, nothing queued for anything else."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fakes import AwsClientError, FakeServices
from tests.fast.steps import STORE_ID, fresh_services, refused, signature, webhook
from tiktok_channel.errors import AppError, BadRequest, Unauthorized
from tiktok_channel.models.messages import ECWID_EVENT_ROUTES
from tiktok_channel.services.webhooks import MAX_BODY_BYTES, receive_webhook

HANDLED = sorted(ECWID_EVENT_ROUTES)


def deliver(services: FakeServices, body: dict[str, Any], sign: str | None = None) -> str:
    """Ecwid's POST: the JSON body and its signature header."""
    return receive_webhook(services, json.dumps(body), signature(body) if sign is None else sign)


def test_an_authentic_product_event_queues_one_message_for_its_store(services: FakeServices):
    body = webhook("product.updated", 5551, event_id="0a3c8f2e-event")

    assert deliver(services, body) == "queued"

    [message] = services.queue.waiting
    assert message.fields == {
        "kind": "ecwid_event",
        "store_id": STORE_ID,
        "epoch": 0,
        "event_id": "0a3c8f2e-event",
        "event_type": "product.updated",
        "entity_id": "5551",
        "event_created": body["eventCreated"],  # signed: the worker ignores events older than Ecwid's retries
    }
    assert (message.group_id, message.deduplication_id) == (str(STORE_ID), "0a3c8f2e-event")


@pytest.mark.parametrize("event_type", HANDLED)
def test_every_event_the_app_acts_on_is_queued(services: FakeServices, event_type: str):
    entity = str(STORE_ID) if event_type.startswith(("application.", "profile.")) else 77

    assert deliver(services, webhook(event_type, entity)) == "queued"
    assert [m.fields["event_type"] for m in services.queue.waiting] == [event_type]


@pytest.mark.parametrize(
    "event_type", ["order.deleted", "application.installed", "customer.updated", "unfinished_order.created", ""]
)
def test_other_authentic_events_are_answered_and_not_queued(services: FakeServices, event_type: str):
    assert deliver(services, webhook(event_type, 1)) == "ignored"
    assert services.queue.waiting == []


@pytest.mark.parametrize(
    "changes",
    [
        {"storeId": "1003"},
        {"storeId": 0},
        {"storeId": -5},
        {"storeId": True},
        {"storeId": 10**20},
        {"entityId": None},
        {"entityId": ""},
    ],
    ids=["text store", "store 0", "negative store", "boolean store", "huge store", "no entity", "empty entity"],
)
def test_authentic_events_that_cannot_be_routed_are_answered_and_not_queued(services: FakeServices, changes):
    assert deliver(services, {**webhook("product.updated", 1), **changes}) == "ignored"
    assert services.queue.waiting == []


def test_a_duplicate_delivery_is_queued_once(services: FakeServices):
    body = webhook("product.created", 9)

    assert deliver(services, body) == "queued"
    assert deliver(services, body) == "queued"  # 200 again: Ecwid must stop retrying
    assert len(services.queue.waiting) == 1


@pytest.mark.parametrize(
    "sign", ["", "   ", "bm90IHRoZSBzaWduYXR1cmU=", None], ids=["empty", "blank", "wrong", "another app's"]
)
def test_an_event_without_ecwids_signature_is_refused_and_queues_nothing(services: FakeServices, sign: str | None):
    body = webhook("product.updated", 1)
    header = signature(body, "another-apps-client-secret") if sign is None else sign

    with pytest.raises(Unauthorized) as error:
        deliver(services, body, header)
    refused(error, 401, "invalid_signature")
    assert services.queue.waiting == []


def test_a_missing_signature_header_is_refused(services: FakeServices):
    with pytest.raises(Unauthorized):
        receive_webhook(services, json.dumps(webhook("product.updated", 1)), None)


@pytest.mark.parametrize(
    "body", [{}, {"eventId": "x"}, {"eventCreated": 1}, {"eventId": "", "eventCreated": 1}, [], "text", 12]
)
def test_a_body_without_the_signed_fields_is_refused(services: FakeServices, body: Any):
    with pytest.raises(Unauthorized):
        receive_webhook(services, json.dumps(body), "c2lnbmF0dXJl")
    assert services.queue.waiting == []


@pytest.mark.parametrize("body", ["", "not json", "{", '{"eventId": }', None])
def test_a_body_that_is_not_json_is_a_bad_request(services: FakeServices, body: str | None):
    with pytest.raises(BadRequest) as error:
        receive_webhook(services, body, "c2lnbmF0dXJl")
    refused(error, 400, "invalid_json")
    assert services.queue.waiting == []


def test_a_body_over_64_kib_is_a_bad_request_even_when_signed(services: FakeServices):
    body = {**webhook("product.updated", 1), "data": {"padding": "é" * (MAX_BODY_BYTES // 2)}}

    with pytest.raises(BadRequest) as error:
        deliver(services, body)
    refused(error, 400, "body_too_large")
    assert services.queue.waiting == []


def test_an_event_the_queue_refused_is_not_acknowledged(services: FakeServices):
    services.queue.fail("send", AwsClientError("ServiceUnavailable"))

    with pytest.raises(AwsClientError):
        deliver(services, webhook("product.updated", 1))
    assert services.queue.waiting == []


event_ids = st.text(min_size=1, max_size=200) | st.uuids().map(str) | st.integers(min_value=0).map(str)
store_ids = st.integers(min_value=1, max_value=2**63 - 1)
entity_ids = st.integers(min_value=1, max_value=2**53) | st.from_regex(r"[1-9][0-9]{0,15}", fullmatch=True)


@settings(max_examples=150, deadline=None)
@given(event_id=event_ids, store_id=store_ids, event_type=st.sampled_from(HANDLED), entity_id=entity_ids)
def test_any_authentic_event_is_queued_once_in_its_stores_group(event_id, store_id, event_type, entity_id):
    services = fresh_services()
    body = {**webhook(event_type, entity_id, store_id=store_id), "eventId": event_id}

    assert deliver(services, body) == "queued"
    assert deliver(services, body) == "queued"

    [message] = services.queue.waiting  # the fake queue refuses ids SQS would refuse
    assert message.group_id == str(store_id)
    assert message.fields["event_id"] == event_id
    assert message.fields["entity_id"] == str(entity_id)


@settings(max_examples=150, deadline=None)
@given(
    body=st.dictionaries(
        st.sampled_from(["eventId", "eventCreated", "storeId", "entityId", "eventType", "data"]),
        st.none() | st.booleans() | st.integers() | st.text(max_size=30) | st.lists(st.integers(), max_size=3),
    ),
    header=st.none() | st.text(max_size=60),
)
def test_no_forged_body_is_queued(body: dict[str, Any], header: str | None):
    services = fresh_services()
    with pytest.raises(AppError) as error:
        receive_webhook(services, json.dumps(body), header)
    assert error.value.status in (400, 401)
    assert services.queue.waiting == []
