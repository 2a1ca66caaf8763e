"""What a full sync does when things go wrong: shifting pages, currency changes, crashes, TikTok's and
Ecwid's refusals, old connections, poison messages; and the schedule that starts it all twice a day."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from localrun.triggers import sqs_event
from sandboxes.common import FaultRule
from sandboxes.ecwid import EcwidStore
from tests.app_stack import AppStack, app_stack, captured_logs
from tests.test_catalog_sync import connect_and_sync, sync_now

STORE = 1003
OTHER = 2004
PRODUCTS = "/api/v3/1003/products"


def many_products(store: EcwidStore, count: int) -> list[int]:
    return [store.add_product(f"Product {n}", 10 + n) for n in range(count)]


def receive(stack: AppStack, queue: str = "CatalogQueue") -> list[dict[str, Any]]:
    answer = boto3.client("sqs").receive_message(
        QueueUrl=stack.resources.queues[queue], MaxNumberOfMessages=10, AttributeNames=["All"]
    )
    return [dict(message) for message in answer.get("Messages", [])]


def invoke_worker(stack: AppStack, messages: list[dict[str, Any]]) -> dict[str, Any]:
    event = sqs_event(messages, stack.resources.queue_arns["CatalogQueue"], "us-east-1")
    return dict(stack.lambdas["CatalogWorkerFunction"].invoke(event))


def show_again(stack: AppStack, message: dict[str, Any]) -> None:
    boto3.client("sqs").change_message_visibility(
        QueueUrl=stack.resources.queues["CatalogQueue"], ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
    )


def test_a_product_skipped_by_shifting_pages_is_kept_and_the_deleted_one_goes(stack: AppStack):
    store = stack.ecwid.add_store(STORE)
    ids = many_products(store, 150)
    connect_and_sync(stack, store)
    # The second page waits while the merchant deletes a product of the first page, so every later
    # product moves up one place and the first product of the second page is never listed.
    stack.ecwid.faults.add(
        FaultRule(kind="slow", path_prefix=PRODUCTS, query_contains="offset=100", count=1, delay_seconds=0.5)
    )
    worker = threading.Thread(target=sync_now, args=(stack,))
    worker.start()
    deadline = time.time() + 10
    while (
        not any(
            "offset=100" in str(c.query) or c.query.get("offset") == ["100"] for c in stack.ecwid.calls_to(PRODUCTS)
        )
        and time.time() < deadline
    ):
        time.sleep(0.01)
    store.delete_product(ids[5])
    worker.join(30)

    catalog = stack.tiktok_catalog(STORE)
    assert str(ids[5]) not in catalog
    assert set(catalog) == {str(i) for i in ids if i != ids[5]}  # ids[100] was skipped by the pages, and kept
    rechecks = [c for c in stack.ecwid.calls_to(PRODUCTS) if "productId" in c.query]
    assert len(rechecks) == 1


def test_a_changed_store_currency_freezes_the_catalog_until_it_is_switched_back(stack: AppStack):
    store = stack.ecwid.add_store(STORE, currency="USD")
    mug = store.add_product("Mug", 10)
    connect_and_sync(stack, store)
    store.set_profile(currency="EUR")
    store.update_product(mug, price=12)
    teapot = store.add_product("Teapot", 30)
    stack.tiktok.reset_calls()

    sync_now(stack)

    assert stack.tiktok.calls == []
    assert set(stack.tiktok_catalog(STORE)) == {str(mug)}
    status = stack.status(STORE)
    assert status["notice"]["code"] == "catalog_frozen"
    assert "EUR" in status["notice"]["message"]
    assert "USD" in status["notice"]["message"]

    store.set_profile(currency="USD")
    sync_now(stack)

    assert set(stack.tiktok_catalog(STORE)) == {str(mug), str(teapot)}
    assert stack.tiktok_catalog(STORE)[str(mug)]["price_info"]["price"] == 12
    assert "notice" not in stack.status(STORE)


@pytest.fixture
def small_batches() -> Iterator[AppStack]:
    with app_stack(parameters={"TikTokUploadBatchSize": "50", "TikTokPauseSeconds": "2"}) as running:
        yield running


def test_a_crashed_sync_resumes_where_it_stopped_and_repeats_at_most_one_batch(small_batches: AppStack):
    stack = small_batches
    store = stack.ecwid.add_store(STORE)
    ids = many_products(store, 250)
    assert stack.connect(STORE).status_code == 302
    [message] = receive(stack)
    # Ecwid stops answering for the third page: the invocation fails after committing two pages.
    stack.ecwid.faults.add(FaultRule(kind="drop", path_prefix=PRODUCTS, query_contains="offset=200"))

    answer = invoke_worker(stack, [message])

    assert answer["batchItemFailures"] == [{"itemIdentifier": message["MessageId"]}]
    assert len(stack.tiktok_catalog(STORE)) == 200
    first_uploads = len(stack.tiktok.calls_to("/open_api/v1.3/catalog/product/upload/"))
    stack.ecwid.faults.clear()
    show_again(stack, message)

    stack.run_worker()

    assert set(stack.tiktok_catalog(STORE)) == {str(i) for i in ids}
    uploads = stack.tiktok.calls_to("/open_api/v1.3/catalog/product/upload/")
    assert first_uploads == 4
    assert len(uploads) - first_uploads <= 1 + 1  # the last 50 products, and at most one batch again
    assert stack.store_item(STORE)["sync"]["state"] == "idle"


def test_40100_pauses_every_worker_and_the_message_waits(small_batches: AppStack):
    stack = small_batches
    store = stack.ecwid.add_store(STORE)
    other = stack.ecwid.add_store(OTHER)
    many_products(store, 10)
    many_products(other, 10)
    assert stack.connect(STORE).status_code == 302
    assert stack.connect(OTHER).status_code == 302
    stack.tiktok.faults.add(FaultRule(kind="rate_limit", path_prefix="/open_api/v1.3/catalog/product/upload/", count=1))
    stack.tiktok.reset_calls()

    stack.run_worker()

    # One 40100, then nobody called TikTok again: both stores' jobs wait for the pause. (Before it, the first
    # store's sync bound its catalog to the pixel: a lookup and a bind.)
    calls = [call.path for call in stack.tiktok.calls]
    assert calls[-1] == "/open_api/v1.3/catalog/product/upload/"
    assert calls.count("/open_api/v1.3/catalog/product/upload/") == 1
    pause = boto3.client("dynamodb").get_item(
        TableName=stack.table, Key={"pk": {"S": "RATE#pause"}, "sk": {"S": "PAUSE"}}
    )["Item"]
    assert float(pause["paused_until"]["N"]) > time.time()
    assert stack.queued_messages() == []  # invisible until the pause ends

    time.sleep(2.2)
    stack.run_worker()

    assert len(stack.tiktok_catalog(STORE)) == 10
    assert len(stack.tiktok_catalog(OTHER)) == 10


def test_revoked_tiktok_token_asks_the_merchant_to_reconnect_without_retrying(stack: AppStack):
    store = stack.ecwid.add_store(STORE)
    store.add_product("Mug", 10)
    connect_and_sync(stack, store)
    for token in list(stack.tiktok.tokens):
        stack.tiktok.revoke(token)
    stack.tiktok.reset_calls()

    sync_now(stack)

    status = stack.status(STORE)
    assert status["status"] == "reconnect_needed"
    assert status["notice"]["code"] == "reconnect_needed"
    assert len(stack.tiktok.calls) == 1  # no retry storm
    assert stack.connected_index() == []
    assert stack.queued_messages() == []


def test_lost_ecwid_access_stops_syncing_and_says_so(stack: AppStack):
    store = stack.ecwid.add_store(STORE)
    store.add_product("Mug", 10)
    connect_and_sync(stack, store)
    session = stack.open_session(STORE)
    stack.ecwid.revoke_tokens(STORE)

    sync_now(stack, session=session)

    status = stack.status(STORE, session)
    assert status["status"] == "ecwid_access_lost"
    assert "Reinstall" in status["notice"]["message"]
    assert stack.connected_index() == []
    assert stack.queued_messages() == []


def test_messages_of_an_older_connection_are_dropped(stack: AppStack):
    store = stack.ecwid.add_store(STORE)
    store.add_product("Mug", 10)
    assert stack.connect(STORE).status_code == 302
    [message] = receive(stack)
    old = {**message, "Body": json.dumps({**json.loads(message["Body"]), "epoch": 0})}
    stack.tiktok.reset_calls()

    assert invoke_worker(stack, [old]) == {"batchItemFailures": []}
    assert stack.tiktok.calls == []


def test_one_stores_failure_does_not_fail_another_stores_records(stack: AppStack):
    for store_id in (STORE, OTHER):
        stack.ecwid.add_store(store_id).add_product("Mug", 10)
        assert stack.connect(store_id).status_code == 302
    messages = receive(stack)
    assert len(messages) == 2
    failing = next(m for m in messages if m["Attributes"]["MessageGroupId"] == str(STORE))
    stack.ecwid.faults.add(FaultRule(kind="http_5xx", path_prefix=f"/api/v3/{STORE}/"))

    answer = invoke_worker(stack, messages)

    assert answer["batchItemFailures"] == [{"itemIdentifier": failing["MessageId"]}]
    assert len(stack.tiktok_catalog(OTHER)) == 1
    assert stack.store_item(STORE)["tiktok"]["catalog_id"] not in {
        c for c, cat in stack.tiktok.catalogs.items() if cat.products
    }


def test_a_poison_message_ends_in_the_dead_letter_queue(stack: AppStack):
    sqs = boto3.client("sqs")
    sqs.send_message(
        QueueUrl=stack.resources.queues["CatalogQueue"],
        MessageBody='{"kind": "nonsense"}',
        MessageGroupId="1",
        MessageDeduplicationId="poison",
    )
    for _ in range(20):  # the queue's maxReceiveCount
        [message] = receive(stack)
        assert invoke_worker(stack, [message])["batchItemFailures"] == [{"itemIdentifier": message["MessageId"]}]
        show_again(stack, message)
    assert receive(stack) == []
    assert len(receive(stack, "CatalogDeadLetterQueue")) == 1


def test_the_schedule_queues_one_job_per_connected_store(stack: AppStack):
    for store_id in (STORE, OTHER, 3005):
        stack.ecwid.add_store(store_id).add_product("Mug", 10)
    connect_and_sync(stack, stack.ecwid.store(STORE))
    connect_and_sync(stack, stack.ecwid.store(OTHER))
    assert stack.install(3005).status_code == 302  # installed, never connected

    result = stack.lambdas["ScheduledSyncFunction"].invoke(
        {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}
    )

    assert result == {"queued": 2}
    queued = stack.queued_messages()
    assert sorted(m["attributes"]["MessageGroupId"] for m in queued) == [str(STORE), str(OTHER)]
    assert {m["body"]["mode"] for m in queued} == {"full"}
    assert stack.lambdas["ScheduledSyncFunction"].invoke({}) == {"queued": 0}  # already queued


def test_image_sizes_are_read_once_and_remembered(stack: AppStack):
    store = stack.ecwid.add_store(STORE)
    big = store.add_product("Poster", 10, image=(1200, 1200, "jpg"), media_only_images=True)
    small = store.add_product("Stamp", 2, image=(200, 200, "png"), media_only_images=True)
    connect_and_sync(stack, store)

    assert set(stack.tiktok_catalog(STORE)) == {str(big)}
    assert stack.sku_items(STORE)[str(small)]["status"] == "held_back"
    assert stack.ecwid.calls_to("/images/")
    stack.ecwid.reset_calls()
    sync_now(stack)
    assert stack.ecwid.calls_to("/images/") == []


def test_ecwid_rate_limit_is_waited_out_as_retry_after_says(stack: AppStack):
    stack.ecwid.retry_after_seconds = 1
    store = stack.ecwid.add_store(STORE)
    ids = many_products(store, 5)
    assert stack.connect(STORE).status_code == 302
    stack.ecwid.faults.add(FaultRule(kind="rate_limit", path_prefix=PRODUCTS, count=1))

    stack.run_worker()

    assert set(stack.tiktok_catalog(STORE)) == {str(i) for i in ids}
    refused, retried = stack.ecwid.calls_to(PRODUCTS)[:2]
    assert retried.at - refused.at >= 1.0


def test_ecwids_retry_after_longer_than_the_clients_budget_holds_the_message_and_the_store(stack: AppStack):
    store = stack.ecwid.add_store(STORE)
    mug, cup = many_products(store, 2)
    connect_and_sync(stack, store)
    store.update_product(mug, price=12)
    stack.ecwid.faults.add(
        FaultRule(kind="rate_limit", path_prefix=f"{PRODUCTS}/{mug}", count=1, retry_after_seconds=60)
    )
    stack.ecwid.reset_calls()

    def event(product_id: int, message_id: str, receipt_handle: str) -> dict[str, Any]:
        body = {"kind": "ecwid_event", "store_id": STORE, "epoch": 0, "event_id": message_id}
        body |= {"event_type": "product.updated", "entity_id": str(product_id)}
        attributes = {"ApproximateReceiveCount": "1", "MessageGroupId": str(STORE)}
        return {
            "MessageId": message_id,
            "ReceiptHandle": receipt_handle,
            "Body": json.dumps(body),
            "Attributes": attributes,
        }

    boto3.client("sqs").send_message(
        QueueUrl=stack.resources.queues["CatalogQueue"],
        MessageBody=event(mug, "mug-edited", "")["Body"],
        MessageGroupId=str(STORE),
        MessageDeduplicationId="mug-edited",
    )
    [first] = receive(stack)
    with captured_logs(stack) as logs:
        answer = invoke_worker(stack, [first])

    assert answer["batchItemFailures"] == [{"itemIdentifier": first["MessageId"]}]
    [refused] = stack.ecwid.calls_to(f"/api/v3/{STORE}/")
    asked_until = refused.at + 60
    waits = [float(w) for t in logs.texts if "tried again later" in t for w in re.findall(r"'seconds': ([\d.]+)", t)]
    assert waits == [60.0]  # given back for what Ecwid asked, not the 30 s backoff
    assert receive(stack) == []  # invisible meanwhile, and the store's group with it

    # Any later message of the store this process handles before then (SQS holds the group; this one is handed
    # to the worker directly) makes no call to Ecwid and waits too.
    second = invoke_worker(stack, [event(cup, "cup-edited", "not-from-sqs")])

    assert second["batchItemFailures"] == [{"itemIdentifier": "cup-edited"}]
    assert [c for c in stack.ecwid.calls_to(f"/api/v3/{STORE}/") if c.at < asked_until] == [refused]
    assert stack.tiktok_catalog(STORE)[str(mug)]["price_info"]["price"] == 10


def test_a_sync_that_would_outlive_its_invocation_continues_in_a_next_part(stack: AppStack):
    store = stack.ecwid.add_store(STORE)
    ids = many_products(store, 250)
    assert stack.connect(STORE).status_code == 302
    [message] = receive(stack)
    worker = stack.lambdas["CatalogWorkerFunction"]
    almost_out_of_time = worker.new_context()
    almost_out_of_time.deadline_ms = int(time.time() * 1000) + 59_000  # under the engine's 60 s reserve

    answer = worker.invoke(
        sqs_event([message], stack.resources.queue_arns["CatalogQueue"], "us-east-1"), almost_out_of_time
    )

    assert answer == {"batchItemFailures": []}
    boto3.client("sqs").delete_message(  # as Lambda does with a record that did not fail
        QueueUrl=stack.resources.queues["CatalogQueue"], ReceiptHandle=message["ReceiptHandle"]
    )
    [part] = stack.queued_messages()
    assert (part["body"]["part"], part["body"]["cursor"]) == (1, "100")
    assert part["attributes"]["MessageDeduplicationId"] == f"{part['body']['job_id']}:1"
    assert stack.store_item(STORE)["sync"]["state"] == "running"
    assert stack.store_item(STORE)["sync"]["done"] == 100

    stack.run_worker()

    assert set(stack.tiktok_catalog(STORE)) == {str(i) for i in ids}
    pages = [c.query.get("offset") for c in stack.ecwid.calls_to(PRODUCTS)]
    assert pages == [["0"], ["100"], ["200"]]  # each page read once across the two parts


@pytest.fixture
def quick_retries() -> Iterator[AppStack]:
    with app_stack(parameters={"RetryBaseSeconds": "1"}) as running:
        yield running


def test_a_sync_waiting_on_a_failing_tiktok_says_so_and_keeps_the_last_finished_one(quick_retries: AppStack):
    stack = quick_retries
    store = stack.ecwid.add_store(STORE)
    many_products(store, 12)
    connect_and_sync(stack, store)
    session = stack.open_session(STORE)
    finished = stack.status(STORE, session)["sync"]
    for product_id in list(store.products):
        store.update_product(product_id, price=99.0)  # every product changed: the next sync uploads them all
    stack.tiktok.faults.add(FaultRule(kind="http_5xx", path_prefix="/open_api/v1.3/catalog/product/upload/"))

    sync_now(stack, session=session)  # TikTok answers every upload with a 5xx, after the client's own retries

    status = stack.status(STORE, session)
    assert status["notice"]["code"] == "sync_waiting"
    assert "TikTok is not answering" in status["notice"]["message"]
    sync = status["sync"]
    assert sync["state"] == "running"
    assert sync["waiting_since"] <= sync["retry_at"]
    assert sync["done"] == 0  # nothing TikTok confirmed: no progress claimed
    assert (sync["last_finished_at"], sync["last_result"]) == (finished["last_finished_at"], finished["last_result"])

    stack.tiktok.faults.clear()
    time.sleep(1.5)  # the message comes back after the test stack's short retry wait
    stack.run_worker()
    recovered = stack.status(STORE, session)
    assert "notice" not in recovered
    assert recovered["sync"]["state"] == "idle"
    assert "waiting_since" not in recovered["sync"]
