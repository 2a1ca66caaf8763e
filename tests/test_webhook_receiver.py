"""Ecwid's webhooks through the gateway: what Ecwid gets back, and what the catalog queue holds afterwards.

Every authentic event is answered 200 (any other answer makes Ecwid retry for a day and, after two weeks,
block the app); only unsigned, forged or unreadable requests are refused, and those queue nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest

from sandboxes.ecwid_webhooks import SIGNATURE_HEADER, sign_webhook, signature
from tests.app_stack import ECWID_CLIENT_SECRET, AppStack, CapturedLogs, captured_logs

STORE = 1003
URL = "/webhooks/ecwid"


def event(event_type: str = "product.updated", entity_id: Any = 690012345, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "eventId": str(uuid.uuid4()),
        "eventCreated": 1795555800,
        "storeId": STORE,
        "entityId": entity_id,
        "eventType": event_type,
    }
    return {**body, **changes}


def deliver(stack: AppStack, body: dict[str, Any]) -> httpx.Response:
    """POST `body` as Ecwid would, signed with the app's secret."""
    headers, raw = stack.ecwid.sign_webhook(body)
    return stack.http.post(URL, content=raw, headers=headers)


def error_code(answer: httpx.Response) -> str:
    return str(answer.json()["error"]["code"])


def test_an_authentic_event_is_queued_for_the_store(stack: AppStack):
    body = event("product.updated", 690012345)

    answer = deliver(stack, body)

    assert (answer.status_code, answer.json()) == (200, {})
    [queued] = stack.queued_messages()
    assert queued["body"] == {
        "kind": "ecwid_event",
        "store_id": STORE,
        "epoch": 0,
        "event_id": body["eventId"],
        "event_type": "product.updated",
        "entity_id": "690012345",
        "event_created": body["eventCreated"],
    }
    assert queued["attributes"]["MessageGroupId"] == str(STORE)
    assert queued["attributes"]["MessageDeduplicationId"] == body["eventId"]


@pytest.mark.parametrize(
    "event_type",
    [
        "product.created",
        "product.updated",
        "product.deleted",
        "category.created",
        "category.updated",
        "category.deleted",
        "profile.updated",
        "application.uninstalled",
    ],
)
def test_every_handled_event_type_is_queued(stack: AppStack, event_type: str):
    entity_id: int | str = "1003" if event_type.startswith("application.") else 42
    answer = deliver(stack, event(event_type, entity_id))
    assert answer.status_code == 200
    [queued] = stack.queued_messages()
    assert (queued["body"]["event_type"], queued["body"]["entity_id"]) == (event_type, str(entity_id))


def _wrong_signature(stack: AppStack) -> tuple[dict[str, str], bytes]:
    headers, raw = stack.ecwid.sign_webhook(event())
    return {**headers, SIGNATURE_HEADER: signature(ECWID_CLIENT_SECRET, 1795555800, "another-event")}, raw


def _no_signature(stack: AppStack) -> tuple[dict[str, str], bytes]:
    headers, raw = stack.ecwid.sign_webhook(event())
    return {k: v for k, v in headers.items() if k != SIGNATURE_HEADER}, raw


def _empty_signature(stack: AppStack) -> tuple[dict[str, str], bytes]:
    headers, raw = stack.ecwid.sign_webhook(event())
    return {**headers, SIGNATURE_HEADER: ""}, raw


def _another_apps_secret(stack: AppStack) -> tuple[dict[str, str], bytes]:
    webhook = sign_webhook("another-apps-client-secret", event())
    return webhook.headers, webhook.body


def _tampered_event_id(stack: AppStack) -> tuple[dict[str, str], bytes]:
    original = event()
    headers, _ = stack.ecwid.sign_webhook(original)
    _, raw = stack.ecwid.sign_webhook({**original, "eventId": str(uuid.uuid4())})
    return headers, raw  # the signature of the original, over a body with another eventId


def _tampered_event_created(stack: AppStack) -> tuple[dict[str, str], bytes]:
    original = event()
    headers, _ = stack.ecwid.sign_webhook(original)
    _, raw = stack.ecwid.sign_webhook({**original, "eventCreated": original["eventCreated"] + 1})
    return headers, raw


def _without(field: str) -> Any:
    def build(stack: AppStack) -> tuple[dict[str, str], bytes]:
        body = event()
        headers, _ = stack.ecwid.sign_webhook(body)  # signed while it still had the field
        del body[field]
        _, raw = stack.ecwid.sign_webhook(body)
        return headers, raw

    return build


def _event_created_not_a_number(stack: AppStack) -> tuple[dict[str, str], bytes]:
    return stack.ecwid.sign_webhook(event(eventCreated="yesterday"))


def _a_json_array(stack: AppStack) -> tuple[dict[str, str], bytes]:
    headers, _ = stack.ecwid.sign_webhook(event())
    return headers, b"[]"


@pytest.mark.parametrize(
    "request_of",
    [
        _wrong_signature,
        _no_signature,
        _empty_signature,
        _another_apps_secret,
        _tampered_event_id,
        _tampered_event_created,
        _without("eventId"),
        _without("eventCreated"),
        _event_created_not_a_number,
        _a_json_array,
    ],
    ids=lambda f: f.__name__.strip("_"),
)
def test_a_request_ecwid_did_not_sign_is_refused_and_queues_nothing(stack: AppStack, request_of: Any):
    headers, raw = request_of(stack)

    answer = stack.http.post(URL, content=raw, headers=headers)

    assert (answer.status_code, error_code(answer)) == (401, "invalid_signature")
    assert stack.queued_messages() == []


def test_a_body_that_is_not_json_is_a_bad_request(stack: AppStack):
    headers, _ = stack.ecwid.sign_webhook(event())
    for raw in (b"eventId=1&eventCreated=2", b"", b'{"eventId": "1", "eventCreated": ', b"[" * 20_000):
        answer = stack.http.post(URL, content=raw, headers=headers)
        assert (answer.status_code, error_code(answer)) == (400, "invalid_json"), raw[:40]
    assert stack.queued_messages() == []


def test_a_body_over_64_kib_is_a_bad_request_even_when_signed(stack: AppStack):
    just_fits = event()
    headers, raw = stack.ecwid.sign_webhook(just_fits)
    padding = 64 * 1024 - len(raw) - len(',"data":{"note":""}')
    headers, raw = stack.ecwid.sign_webhook({**just_fits, "data": {"note": "x" * padding}})
    assert len(raw) == 64 * 1024
    assert stack.http.post(URL, content=raw, headers=headers).status_code == 200

    too_big = event()
    headers, raw = stack.ecwid.sign_webhook({**too_big, "data": {"note": "x" * (padding + 1)}})
    assert len(raw) == 64 * 1024 + 1
    answer = stack.http.post(URL, content=raw, headers=headers)

    assert (answer.status_code, error_code(answer)) == (400, "body_too_large")
    # Bytes are counted, not characters: 33 Ki characters of two bytes each.
    wide = json.dumps({**event(), "data": {"note": "é" * (33 * 1024)}}, ensure_ascii=False).encode()
    answer = stack.http.post(URL, content=wide, headers=headers)
    assert (answer.status_code, error_code(answer)) == (400, "body_too_large")
    assert [m["body"]["event_id"] for m in stack.queued_messages()] == [just_fits["eventId"]]


def test_a_body_the_api_base64_encodes_is_read_the_same(stack: AppStack):
    body = event()
    headers, raw = stack.ecwid.sign_webhook(body)
    # API Gateway base64-encodes bodies whose content type it does not take for text.
    answer = stack.http.post(URL, content=raw, headers={**headers, "Content-Type": "application/octet-stream"})
    assert answer.status_code == 200
    assert [m["body"]["event_id"] for m in stack.queued_messages()] == [body["eventId"]]

    not_utf8 = stack.http.post(URL, content=b"\xff\xfe{}", headers={**headers, "Content-Type": "application/x-bin"})
    assert (not_utf8.status_code, error_code(not_utf8)) == (400, "invalid_json")


@pytest.mark.parametrize(
    "event_type",
    [
        "order.deleted",  # created and updated are queued for purchases; a deleted order sends nothing
        "unfinished_order.created",
        "application.installed",
        "application.subscriptionStatusChanged",
        "unknown.thing",
    ],
)
def test_events_the_app_does_not_handle_are_answered_200_and_not_queued(stack: AppStack, event_type: str):
    answer = deliver(stack, event(event_type, data={"orderId": "XJ12H"}))
    assert (answer.status_code, answer.json()) == (200, {})
    assert stack.queued_messages() == []


@pytest.mark.parametrize(
    "body",
    [
        {k: v for k, v in event().items() if k != "eventType"},
        event(eventType=None),
        event(eventType=["product.updated"]),
        {k: v for k, v in event().items() if k != "storeId"},
        event(storeId=str(STORE)),
        event(storeId=0),
        event(storeId=-STORE),
        event(storeId=1003.5),
        event(storeId=True),
        event(storeId=10**40),
        event(storeId={"id": STORE}),
        {k: v for k, v in event().items() if k != "entityId"},
        event(entityId=None),
        event(entityId={"id": 5}),
    ],
    ids=[
        "no_type",
        "type_null",
        "type_list",
        "no_store_id",
        "store_id_string",
        "store_id_zero",
        "store_id_negative",
        "store_id_fraction",
        "store_id_boolean",
        "store_id_too_big",
        "store_id_object",
        "no_entity_id",
        "entity_id_null",
        "entity_id_object",
    ],
)
def test_authentic_events_that_cannot_be_routed_are_answered_200_and_not_queued(stack: AppStack, body: dict[str, Any]):
    answer = deliver(stack, body)
    assert (answer.status_code, answer.json()) == (200, {})
    assert stack.queued_messages() == []


def test_odd_but_routable_shapes_are_queued(stack: AppStack):
    bodies = [
        event(entityId=123),
        event(entityId="123"),
        event(eventId="42"),
        event(eventId=42),  # a number: read (and signed) as its digits
        event(eventId="not a uuid: ünïcödé, spaces and more than 128 characters " + "x" * 100),
        event(storeId=987654321),  # a store the app has never heard of: the worker decides
        event(data={"anything": ["ignored"]}, extra="fields too"),
        event("profile.updated", entityId=STORE, storeId=STORE),
    ]
    for body in bodies:
        answer = deliver(stack, body)
        assert (answer.status_code, answer.json()) == (200, {}), body

    queued = {m["body"]["event_id"]: (m["body"]["store_id"], m["body"]["entity_id"]) for m in stack.queued_messages()}
    assert queued == {
        bodies[0]["eventId"]: (STORE, "123"),
        bodies[1]["eventId"]: (STORE, "123"),
        "42": (STORE, "690012345"),  # delivered twice (as "42" and 42): the same event, queued once
        bodies[4]["eventId"]: (STORE, "690012345"),
        bodies[5]["eventId"]: (987654321, "690012345"),
        bodies[6]["eventId"]: (STORE, "690012345"),
        bodies[7]["eventId"]: (STORE, str(STORE)),
    }
    deduplication_ids = {
        m["body"]["event_id"]: m["attributes"]["MessageDeduplicationId"] for m in stack.queued_messages()
    }
    assert deduplication_ids["42"] == "42"
    long_id = deduplication_ids[bodies[4]["eventId"]]  # SQS takes 1-128 printable ASCII characters
    assert long_id != bodies[4]["eventId"]
    assert len(long_id) <= 128
    assert long_id.isascii()


def test_a_duplicate_delivery_is_answered_200_and_queued_once(stack: AppStack):
    headers, raw = stack.ecwid.sign_webhook(event())
    first = stack.http.post(URL, content=raw, headers=headers)
    again = stack.http.post(URL, content=raw, headers=headers)
    assert (first.status_code, again.status_code) == (200, 200)
    assert len(stack.queued_messages()) == 1


def test_an_event_that_could_not_be_queued_is_not_acknowledged(stack: AppStack):
    """Ecwid delivers again later only if the answer is not a 200."""
    boto3.client("sqs").delete_queue(QueueUrl=stack.resources.queues["CatalogQueue"])
    answer = deliver(stack, event())
    assert (answer.status_code, error_code(answer)) == (500, "internal_error")


def test_a_real_edit_in_ecwid_reaches_the_queue(stack: AppStack):
    store = stack.ecwid.add_demo_store(STORE)
    assert stack.ecwid.take_webhooks() == []  # the demo store existed before the app
    product_id = store.add_product("Poster", 15)
    store.update_product(product_id, price=19.5)
    store.delete_product(product_id)

    webhooks = stack.ecwid.take_webhooks()
    assert [w.event_type for w in webhooks] == ["product.created", "product.updated", "product.deleted"]
    for webhook in webhooks:
        answer = stack.http.post(f"{URL}?eventtype={webhook.event_type}", content=webhook.body, headers=webhook.headers)
        assert (answer.status_code, answer.json()) == (200, {})

    assert [m["body"] for m in stack.queued_messages()] == [
        {
            "kind": "ecwid_event",
            "store_id": STORE,
            "epoch": 0,
            "event_id": webhook.event_id,
            "event_type": webhook.event_type,
            "entity_id": str(product_id),
            "event_created": webhook.json()["eventCreated"],
        }
        for webhook in webhooks
    ]


def test_the_sandbox_delivers_its_webhooks_to_the_receiver(stack: AppStack):
    store = stack.ecwid.add_demo_store(STORE)
    stack.ecwid.webhook_url = f"{stack.url}{URL}"
    category_id = store.add_category("Posters")
    store.set_profile(store_name="Poster Shop")

    assert stack.ecwid.deliver_webhooks() == [200, 200]  # Ecwid counts them delivered
    assert [(m["body"]["event_type"], m["body"]["entity_id"]) for m in stack.queued_messages()] == [
        ("category.created", str(category_id)),
        ("profile.updated", str(STORE)),
    ]


@pytest.fixture
def logs(stack: AppStack) -> Iterator[CapturedLogs]:
    with captured_logs(stack) as records:
        yield records


def test_webhook_logs_name_the_event_but_never_the_signature_the_body_or_the_secret(
    stack: AppStack, logs: CapturedLogs, capsys
):
    marker = "body-content-" + uuid.uuid4().hex
    accepted = event(data={"note": marker})
    ignored = event("order.created", data={"note": marker})
    signatures = []
    for body in (accepted, ignored):
        headers, raw = stack.ecwid.sign_webhook(body)
        signatures.append(headers[SIGNATURE_HEADER])
        assert stack.http.post(URL, content=raw, headers=headers).status_code == 200
    forged_headers, raw = _another_apps_secret(stack)
    signatures.append(forged_headers[SIGNATURE_HEADER])
    assert stack.http.post(URL, content=raw, headers=forged_headers).status_code == 401
    wrong_headers, raw = _wrong_signature(stack)
    signatures.append(wrong_headers[SIGNATURE_HEADER])
    assert stack.http.post(URL, content=raw, headers=wrong_headers).status_code == 401

    printed = capsys.readouterr()
    output = "\n".join(logs.texts) + printed.out + printed.err
    assert "Webhook event queued" in output, "the logs were not captured"
    assert "Webhook event ignored" in output
    assert "Webhook refused" in output
    assert accepted["eventId"] in output  # what the operator needs
    assert "product.updated" in output
    leaked = [text for text in (ECWID_CLIENT_SECRET, marker, *signatures) if text in output]
    assert leaked == []
