"""Issue 14, item 2: the sync's health in the store status. Edits waiting to reach TikTok (a count kept per store:
events the worker received and could not apply yet), the oldest one's age, TikTok's fleet-wide pause, and a job
that stopped moving for STALL_MINUTES, marked stalled with what happens next and counted once (SyncStalled)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from aws_lambda_powertools import Metrics

from tests.fakes import FakeServices, SentMessage
from tests.fast.steps import (
    STORE_ID,
    connect_store,
    deliver,
    install_store,
    next_message,
    signature,
    webhook,
    work_on,
)
from tests.fast.test_worker_batch import _Context, _record
from tiktok_channel.errors import PausedError, TikTokUnavailable
from tiktok_channel.services.jobs import request_sync
from tiktok_channel.services.status import store_status
from tiktok_channel.services.sync_health import note_stalls
from tiktok_channel.services.webhooks import receive_webhook
from tiktok_channel.services.worker import CatalogWorker


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


def counted(name: str) -> float:
    return float(sum(Metrics().metric_set.get(name, {}).get("Value", [])))


@pytest.fixture
def shop(services: FakeServices) -> list[int]:
    install_store(services)
    ids = [services.ecwid().add_product(STORE_ID, f"Tee {n}") for n in range(3)]
    connect_store(services)
    deliver(services)
    return ids


def edit(services: FakeServices, product_id: int, *, event_id: str = "") -> dict[str, Any]:
    """The merchant edits a product: Ecwid sends product.updated, the receiver queues it."""
    services.ecwid().update_product(STORE_ID, product_id, name=f"Tee {product_id} v{services.now}")
    body = webhook("product.updated", product_id, event_id=event_id)
    body["eventCreated"] = int(services.now)
    receive_webhook(services, json.dumps(body), signature(body))
    return body


def attempt(services: FakeServices, message: SentMessage) -> str | None:
    """The worker takes the message; a failure gives it back (it comes back later), answering None."""
    try:
        return work_on(services, message)
    except Exception:
        services.queue.waiting.append(message)
        return None


def health(services: FakeServices) -> dict[str, Any]:
    return dict(store_status(services, STORE_ID)["sync"])


def test_a_paused_fleet_shows_when_it_resumes_and_the_edits_it_holds(services: FakeServices, shop: list[int]):
    resume = services.now + 300
    services.health.pause(resume)  # a 40100 met by any worker of the fleet
    services.tiktok().fail("upload_products", PausedError(resume), times=2)
    edit(services, shop[0])
    edit(services, shop[1])

    first_seen = services.now
    assert attempt(services, next_message(services)) is None  # the first held from when the worker met it
    services.advance(20)
    assert attempt(services, next_message(services)) is None

    sync = health(services)
    assert sync["paused_until"] == iso(resume)
    assert sync["waiting_edits"] == 2
    assert sync["oldest_waiting_at"] == iso(first_seen)

    services.advance(300)
    deliver(services)

    sync = health(services)
    assert sync["waiting_edits"] == 0
    assert "oldest_waiting_at" not in sync
    assert "paused_until" not in sync


def test_an_edit_given_back_again_and_again_counts_once(services: FakeServices, shop: list[int]):
    services.tiktok().fail("upload_products", TikTokUnavailable("TikTok answered 503"), times=3)
    body = edit(services, shop[0])
    message = next_message(services)
    attempt(services, message)
    attempt(services, next_message(services))  # the same message back after its wait
    services.advance(600)
    receive_webhook(services, json.dumps(body), signature(body))  # Ecwid sends it again: a second message
    assert len(services.queue.waiting) == 2
    attempt(services, next_message(services))

    assert health(services)["waiting_edits"] == 1
    assert health(services)["oldest_waiting_at"] == iso(services.now - 600)

    # It reaches the dead-letter queue and the operator redrives it: still one edit, until it is applied.
    for message in list(services.queue.waiting):
        services.queue.waiting.remove(message)
        services.queue.to_dead_letters(message)
    assert health(services)["waiting_edits"] == 1
    services.queue.redrive(services.settings.catalog_dlq_url)
    deliver(services)
    assert health(services)["waiting_edits"] == 0


def test_events_skipped_behind_their_stores_failed_one_wait_too(services: FakeServices, shop: list[int]):
    services.tiktok().fail("upload_products", TikTokUnavailable("TikTok answered 503"))
    edit(services, shop[0])
    edit(services, shop[1])
    edit(services, shop[2])
    records = []
    for index in range(3):
        message = next_message(services)
        records.append(
            _record(message, index)
            | {
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "MessageGroupId": message.group_id,
                    "SentTimestamp": "1790000000000",
                }
            }
        )

    answer = CatalogWorker(lambda: services, None).process_batch({"Records": records}, _Context())  # type: ignore[arg-type]

    assert len(answer["batchItemFailures"]) == 3  # the first failed, the others skipped behind it
    sync = health(services)
    assert sync["waiting_edits"] == 3
    assert sync["oldest_waiting_at"] == iso(1_790_000_000)


def test_a_job_that_stops_moving_is_stalled_after_stall_minutes_and_counted_once(
    services: FakeServices, shop: list[int]
):
    job = request_sync(services, STORE_ID)
    assert health(services)["stalled"] is False
    services.advance(29 * 60)
    assert health(services)["stalled"] is False
    assert note_stalls(services) == 0

    services.advance(2 * 60)  # 31 minutes queued, nothing moved (its message lost, say)
    sync = health(services)
    assert sync["stalled"] is True
    assert sync["stalled_since"] == iso(services.now - 31 * 60)
    assert sync["restart_at"] == iso(services.now - 31 * 60 + 3 * 3600)
    assert "Sync Products" in sync["stall_message"]
    before = counted("SyncStalled")

    assert note_stalls(services) == 1
    services.advance(30 * 60)
    assert note_stalls(services) == 0  # the same stall: counted once
    assert counted("SyncStalled") == before + 1

    # Three hours after it was queued, Sync Products takes it as lost and starts it afresh.
    services.advance(2 * 3600)
    assert "Press Sync Products" in health(services)["stall_message"]
    again = request_sync(services, STORE_ID)
    assert (again.created, again.job_id != job.job_id) == (True, True)
    assert health(services)["stalled"] is False
    deliver(services)
    assert health(services)["stalled"] is False
    assert store_status(services, STORE_ID)["sync"]["state"] == "idle"


def test_a_running_job_that_moves_is_not_stalled_and_a_new_stall_counts_again(services: FakeServices, shop: list[int]):
    for n in range(3, 6):
        services.ecwid().add_product(STORE_ID, f"Tee {n}")
    request_sync(services, STORE_ID)
    services.advance(31 * 60)
    assert note_stalls(services) == 1
    # The job runs its first part (progress), then stops again.
    services.tiktok().fail("upload_products", TikTokUnavailable("TikTok answered 503"), times=20)
    attempt(services, next_message(services))
    assert health(services)["stalled"] is False
    services.advance(31 * 60)
    sync = health(services)
    assert sync["stalled"] is True
    assert "tries again" in sync["stall_message"] or "Sync Products" in sync["stall_message"]
    assert note_stalls(services) == 1  # a new stall of the same job
